package catalog

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/gombim/gombim/mbim"
)

// String renders the message as readable multi-line text.
func (d *Decoded) String() string {
	var b strings.Builder
	d.Format(&b)
	return b.String()
}

// Format writes the message as readable multi-line text: a header line,
// then one line per field, named as in the specification tables.
func (d *Decoded) Format(w io.Writer) {
	m := &d.Message
	fmt.Fprintf(w, "%s (transaction %d)\n", m.Type, m.TransactionID)
	switch m.Type {
	case mbim.TypeOpen:
		fmt.Fprintf(w, "  MaxControlTransfer: %d\n", m.MaxControlTransfer)
	case mbim.TypeOpenDone, mbim.TypeCloseDone:
		fmt.Fprintf(w, "  Status: %s\n", m.Status)
	case mbim.TypeHostError, mbim.TypeFunctionError:
		fmt.Fprintf(w, "  ErrorStatusCode: %s\n", m.ErrorCode)
	}
	if _, ok := KindOf(m); !ok {
		return
	}
	fmt.Fprintf(w, "  Service: %s\n", d.serviceText())
	fmt.Fprintf(w, "  CID: %s\n", d.cidText())
	switch m.Type {
	case mbim.TypeCommand:
		fmt.Fprintf(w, "  CommandType: %s\n", m.CommandType)
	case mbim.TypeCommandDone:
		fmt.Fprintf(w, "  Status: %s\n", m.Status)
	}
	if d.Version > mbim.MBIMEx1 && d.Layout != nil && d.Layout.MBIMEx > mbim.MBIMEx1 {
		fmt.Fprintf(w, "  MBIMEx: %s\n", d.Layout.MBIMEx)
	}
	switch {
	case d.Info != nil:
		FormatInfo(w, d.Info, "  ")
	case len(m.InformationBuffer) > 0:
		if d.Err != nil {
			fmt.Fprintf(w, "  Error: %v\n", d.Err)
		} else if d.Layout == nil {
			fmt.Fprintf(w, "  (no layout known for this payload)\n")
		}
		fmt.Fprintf(w, "  InformationBuffer: %s\n", hex.EncodeToString(m.InformationBuffer))
	}
}

func (d *Decoded) serviceText() string {
	if d.Service != nil {
		return d.Service.Name
	}
	return d.Message.Service.String()
}

func (d *Decoded) cidText() string {
	if d.CID != nil {
		return fmt.Sprintf("%s (%d)", d.CID.Name, d.CID.ID)
	}
	return strconv.FormatUint(uint64(d.Message.CID), 10)
}

// FormatInfo writes the fields of a payload, one per line, with the prefix
// before each line.
func FormatInfo(w io.Writer, info any, prefix string) {
	v := reflect.ValueOf(info)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		fmt.Fprintf(w, "%s%s\n", prefix, scalarText(v))
		return
	}
	formatStruct(w, v, prefix)
}

var (
	stringerType = reflect.TypeFor[fmt.Stringer]()
	addrType     = reflect.TypeFor[netip.Addr]()
	tlvType      = reflect.TypeFor[mbim.TLV]()
)

func formatStruct(w io.Writer, v reflect.Value, prefix string) {
	t := v.Type()
	width := 0
	for i := 0; i < t.NumField(); i++ {
		if n := len(fieldName(t.Field(i))); n > width {
			width = n
		}
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := fieldName(sf)
		fv := v.Field(i)
		formatValue(w, name, width, fv, prefix)
	}
}

func fieldName(sf reflect.StructField) string {
	if tag, ok := sf.Tag.Lookup("json"); ok {
		if n, _, _ := strings.Cut(tag, ","); n != "" {
			return n
		}
	}
	return sf.Name
}

func formatValue(w io.Writer, name string, width int, fv reflect.Value, prefix string) {
	label := prefix + name + ":" + strings.Repeat(" ", width-len(name))
	switch {
	case fv.Type() == tlvType:
		fmt.Fprintf(w, "%s %s\n", label, tlvText(fv.Interface().(mbim.TLV)))
		return
	case fv.Kind() == reflect.Pointer:
		if fv.IsNil() {
			fmt.Fprintf(w, "%s (absent)\n", label)
			return
		}
		fmt.Fprintf(w, "%s\n", strings.TrimRight(label, " "))
		formatStruct(w, fv.Elem(), prefix+"  ")
		return
	case fv.Kind() == reflect.Struct && fv.Type() != addrType && !fv.Type().Implements(stringerType):
		fmt.Fprintf(w, "%s\n", strings.TrimRight(label, " "))
		formatStruct(w, fv, prefix+"  ")
		return
	case fv.Kind() == reflect.Slice && fv.Type() != reflect.TypeFor[mbim.Bytes]():
		et := fv.Type().Elem()
		if et.Kind() == reflect.Struct && et != addrType && et != tlvType {
			fmt.Fprintf(w, "%s (%d)\n", strings.TrimRight(label, " "), fv.Len())
			for j := 0; j < fv.Len(); j++ {
				fmt.Fprintf(w, "%s  [%d]\n", prefix, j)
				formatStruct(w, fv.Index(j), prefix+"    ")
			}
			return
		}
		parts := make([]string, fv.Len())
		for j := range parts {
			if et == tlvType {
				parts[j] = tlvText(fv.Index(j).Interface().(mbim.TLV))
			} else {
				parts[j] = scalarText(fv.Index(j))
			}
		}
		fmt.Fprintf(w, "%s [%s]\n", label, strings.Join(parts, ", "))
		return
	}
	fmt.Fprintf(w, "%s %s\n", label, scalarText(fv))
}

func tlvText(t mbim.TLV) string {
	switch t.Type {
	case mbim.TLVWCharStr:
		return fmt.Sprintf("%s %q", t.Type, t.String())
	}
	return fmt.Sprintf("%s %x", t.Type, []byte(t.Data))
}

func scalarText(v reflect.Value) string {
	if v.Type() == addrType {
		a := v.Interface().(netip.Addr)
		if !a.IsValid() {
			return "(none)"
		}
		return a.String()
	}
	if v.Kind() == reflect.String {
		return strconv.Quote(v.String())
	}
	if v.Type().Implements(stringerType) {
		s := v.Interface().(fmt.Stringer).String()
		if v.Kind() == reflect.Uint32 || v.Kind() == reflect.Uint16 || v.Kind() == reflect.Uint8 {
			// Enum or flags: show the number too when it has no name.
			if strings.HasPrefix(s, "0x") {
				return s
			}
		}
		return s
	}
	return fmt.Sprint(v.Interface())
}

// messageJSON is the JSON form of one message.
type messageJSON struct {
	Type               string          `json:"type"`
	TransactionID      uint32          `json:"transaction_id"`
	MaxControlTransfer *uint32         `json:"max_control_transfer,omitempty"`
	ErrorStatusCode    string          `json:"error_status_code,omitempty"`
	Service            string          `json:"service,omitempty"`
	CID                any             `json:"cid,omitempty"`
	CommandType        string          `json:"command_type,omitempty"`
	Status             string          `json:"status,omitempty"`
	MBIMEx             string          `json:"mbimex,omitempty"`
	Fields             json.RawMessage `json:"fields,omitempty"`
	InformationBuffer  string          `json:"information_buffer,omitempty"`
	Error              string          `json:"error,omitempty"`
}

// MarshalJSON gives one object per message: type, transaction_id, service,
// cid, status, and "fields" with the payload named as in the specification;
// payloads without a known layout appear as "information_buffer" in hex.
func (d *Decoded) MarshalJSON() ([]byte, error) {
	m := &d.Message
	j := messageJSON{Type: m.Type.String(), TransactionID: m.TransactionID}
	switch m.Type {
	case mbim.TypeOpen:
		j.MaxControlTransfer = &m.MaxControlTransfer
	case mbim.TypeOpenDone, mbim.TypeCloseDone:
		j.Status = m.Status.String()
	case mbim.TypeHostError, mbim.TypeFunctionError:
		j.ErrorStatusCode = m.ErrorCode.String()
	}
	if _, ok := KindOf(m); ok {
		j.Service = d.serviceText()
		if d.CID != nil {
			j.CID = d.CID.Name
		} else {
			j.CID = m.CID
		}
		switch m.Type {
		case mbim.TypeCommand:
			j.CommandType = m.CommandType.String()
		case mbim.TypeCommandDone:
			j.Status = m.Status.String()
		}
		if d.Layout != nil && d.Layout.MBIMEx > mbim.MBIMEx1 {
			j.MBIMEx = d.Layout.MBIMEx.String()
		}
		switch {
		case d.Info != nil:
			f, err := json.Marshal(d.Info)
			if err != nil {
				return nil, err
			}
			j.Fields = f
		case len(m.InformationBuffer) > 0:
			j.InformationBuffer = hex.EncodeToString(m.InformationBuffer)
		}
		if d.Err != nil {
			j.Error = d.Err.Error()
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

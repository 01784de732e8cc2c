package mbim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Kind says which of the four payloads of a CID a layout describes.
type Kind uint8

// The payload kinds.
const (
	KindSet      Kind = iota // COMMAND with CommandType set
	KindQuery                // COMMAND with CommandType query
	KindResponse             // COMMAND_DONE
	KindNotify               // INDICATE_STATUS
)

var kindNames = [...]string{"set", "query", "response", "notification"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MessageDesc describes one payload layout of one CID.
type MessageDesc struct {
	Kind   Kind
	MBIMEx Version     // the lowest MBIMEx version this layout applies to
	Type   string      // Go type name, e.g. "RegisterStateResponseV2"
	New    func() Info // nil when the payload is empty
}

// CIDDesc describes one command of a service.
type CIDDesc struct {
	ID       uint32
	Name     string // libmbim-style nickname, e.g. "register-state"
	Set      bool
	Query    bool
	Notify   bool
	Messages []MessageDesc
	// Index, precomputed by the generator, speeds Layout up:
	// Index[kind][major-1] is 1 + the index in Messages of the layout of
	// that kind in effect at MBIMEx major.0 (1 to 4), or 0 for none. A
	// CIDDesc built by hand can leave it zero.
	Index [4][4]uint8
}

// ServiceDesc describes one device service and every CID we know of it.
type ServiceDesc struct {
	Name  string // nickname, e.g. "basic-connect"
	Title string // e.g. "Basic Connect"
	UUID  UUID
	CIDs  []CIDDesc
}

// CID returns the description of cid, or nil.
func (s *ServiceDesc) CID(cid uint32) *CIDDesc {
	// CIDs are usually numbered 1, 2, 3... in order.
	if i := int(cid) - 1; i >= 0 && i < len(s.CIDs) && s.CIDs[i].ID == cid {
		return &s.CIDs[i]
	}
	for i := range s.CIDs {
		if s.CIDs[i].ID == cid {
			return &s.CIDs[i]
		}
	}
	return nil
}

// CIDByName returns the description of the named CID, or nil.
func (s *ServiceDesc) CIDByName(name string) *CIDDesc {
	for i := range s.CIDs {
		if s.CIDs[i].Name == name {
			return &s.CIDs[i]
		}
	}
	return nil
}

// Layout returns the layout of kind k in effect at MBIMEx version v: the
// variant with the highest MBIMEx not above v. ok is false when the CID has
// no such payload at all (or only in versions above v).
func (c *CIDDesc) Layout(k Kind, v Version) (m *MessageDesc, ok bool) {
	if major := int(v>>8) - 1; major >= 0 && k < 4 {
		if i := int(c.Index[k][min(major, 3)]); i > 0 && i <= len(c.Messages) {
			return &c.Messages[i-1], true
		}
	}
	for i := range c.Messages {
		d := &c.Messages[i]
		if d.Kind != k || d.MBIMEx > v {
			continue
		}
		if m == nil || d.MBIMEx > m.MBIMEx {
			m = d
		}
	}
	return m, m != nil
}

// EnumValue is one named value of an enumeration or flag set.
type EnumValue struct {
	Value uint32
	Name  string
}

// EnumTable names the values of one enumeration. Generated enum types use it
// for String, text and JSON forms.
type EnumTable struct {
	Type   string
	Values []EnumValue
}

// Name returns the nickname of v, or its number in hex for values the
// definition does not know.
func (t *EnumTable) Name(v uint32) string { return t.Name64(uint64(v)) }

// Name64 is Name for enumerations of 64 bits.
func (t *EnumTable) Name64(v uint64) string {
	for _, e := range t.Values {
		if uint64(e.Value) == v {
			return e.Name
		}
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// Known reports whether v has a name.
func (t *EnumTable) Known(v uint32) bool { return t.Known64(uint64(v)) }

// Known64 is Known for enumerations of 64 bits.
func (t *EnumTable) Known64(v uint64) bool {
	for _, e := range t.Values {
		if uint64(e.Value) == v {
			return true
		}
	}
	return false
}

// Parse accepts a nickname (case-insensitive, '_' for '-') or a number.
func (t *EnumTable) Parse(s string) (uint32, error) {
	v, err := t.parse(s, 32)
	return uint32(v), err
}

// Parse64 is Parse for enumerations of 64 bits.
func (t *EnumTable) Parse64(s string) (uint64, error) { return t.parse(s, 64) }

func (t *EnumTable) parse(s string, bits int) (uint64, error) {
	k := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	for _, e := range t.Values {
		if e.Name == k {
			return uint64(e.Value), nil
		}
	}
	if n, err := strconv.ParseUint(k, 0, bits); err == nil {
		return n, nil
	}
	names := make([]string, len(t.Values))
	for i, e := range t.Values {
		names[i] = e.Name
	}
	return 0, fmt.Errorf("unknown %s %q (known: %s)", t.Type, s, strings.Join(names, ", "))
}

// EncodeJSON gives the nickname as a JSON string, or a JSON number for
// values without one.
func (t *EnumTable) EncodeJSON(v uint32) ([]byte, error) { return t.EncodeJSON64(uint64(v)) }

// EncodeJSON64 is EncodeJSON for enumerations of 64 bits.
func (t *EnumTable) EncodeJSON64(v uint64) ([]byte, error) {
	if t.Known64(v) {
		return json.Marshal(t.Name64(v))
	}
	return []byte(strconv.FormatUint(v, 10)), nil
}

// DecodeJSON accepts a nickname string or a number.
func (t *EnumTable) DecodeJSON(b []byte) (uint32, error) {
	v, err := t.decodeJSON(b, 32)
	return uint32(v), err
}

// DecodeJSON64 is DecodeJSON for enumerations of 64 bits.
func (t *EnumTable) DecodeJSON64(b []byte) (uint64, error) { return t.decodeJSON(b, 64) }

func (t *EnumTable) decodeJSON(b []byte, bits int) (uint64, error) {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return t.parse(s, bits)
	}
	var n uint64
	if err := json.Unmarshal(b, &n); err != nil || bits == 32 && n > math.MaxUint32 {
		return 0, fmt.Errorf("%s: want a name or a number, have %s", t.Type, b)
	}
	return n, nil
}

// FlagNames returns the nicknames of the bits set in v; bits without a name
// are given in hex.
func (t *EnumTable) FlagNames(v uint32) []string { return t.FlagNames64(uint64(v)) }

// FlagNames64 is FlagNames for flag sets of 64 bits.
func (t *EnumTable) FlagNames64(v uint64) []string {
	var out []string
	rest := v
	for _, e := range t.Values {
		if x := uint64(e.Value); x != 0 && v&x == x {
			out = append(out, e.Name)
			rest &^= x
		}
	}
	for rest != 0 {
		b := uint64(1) << bits.TrailingZeros64(rest)
		out = append(out, "0x"+strconv.FormatUint(b, 16))
		rest &^= b
	}
	return out
}

// FlagString joins the flag names with ", " ("none" when no bit is set, or
// the name of the zero value when the definition gives one).
func (t *EnumTable) FlagString(v uint32) string { return t.FlagString64(uint64(v)) }

// FlagString64 is FlagString for flag sets of 64 bits.
func (t *EnumTable) FlagString64(v uint64) string {
	if v == 0 {
		for _, e := range t.Values {
			if e.Value == 0 {
				return e.Name
			}
		}
		return "none"
	}
	return strings.Join(t.FlagNames64(v), ", ")
}

// ParseFlags accepts names separated by '|', ',' or spaces, or a number.
func (t *EnumTable) ParseFlags(s string) (uint32, error) {
	v, err := t.parseFlags(s, 32)
	return uint32(v), err
}

// ParseFlags64 is ParseFlags for flag sets of 64 bits.
func (t *EnumTable) ParseFlags64(s string) (uint64, error) { return t.parseFlags(s, 64) }

func (t *EnumTable) parseFlags(s string, bits int) (uint64, error) {
	var v uint64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' || r == ' ' }) {
		if f == "none" {
			continue
		}
		x, err := t.parse(f, bits)
		if err != nil {
			return 0, err
		}
		v |= x
	}
	return v, nil
}

// MarshalFlagsJSON gives a JSON array of names.
func (t *EnumTable) MarshalFlagsJSON(v uint32) ([]byte, error) {
	return t.MarshalFlagsJSON64(uint64(v))
}

// MarshalFlagsJSON64 is MarshalFlagsJSON for flag sets of 64 bits.
func (t *EnumTable) MarshalFlagsJSON64(v uint64) ([]byte, error) {
	names := t.FlagNames64(v)
	if names == nil {
		names = []string{}
	}
	return json.Marshal(names)
}

// UnmarshalFlagsJSON accepts an array of names, a string or a number.
func (t *EnumTable) UnmarshalFlagsJSON(b []byte) (uint32, error) {
	v, err := t.unmarshalFlagsJSON(b, 32)
	return uint32(v), err
}

// UnmarshalFlagsJSON64 is UnmarshalFlagsJSON for flag sets of 64 bits.
func (t *EnumTable) UnmarshalFlagsJSON64(b []byte) (uint64, error) {
	return t.unmarshalFlagsJSON(b, 64)
}

func (t *EnumTable) unmarshalFlagsJSON(b []byte, bits int) (uint64, error) {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		return t.parseFlags(strings.Join(list, "|"), bits)
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return t.parseFlags(s, bits)
	}
	var n uint64
	if err := json.Unmarshal(b, &n); err != nil || bits == 32 && n > math.MaxUint32 {
		return 0, fmt.Errorf("%s: want a list of names, have %s", t.Type, b)
	}
	return n, nil
}

// Adopt takes over the error of a separate sub-decoder (from Ref, Sub,
// RefArray...), after converting the strings it has pending.
func (d *Decoder) Adopt(sub *Decoder) {
	if sub.nstr > 0 {
		sub.flushStrings()
	}
	if d.err == nil && sub.err != nil {
		d.err = sub.err
	}
}

// Slot reserves n bytes of the fixed part (lists of pairs) and returns
// their absolute position.
func (e *Encoder) Slot(n int) int { at := e.pos; e.pos += n; return at }

// CallSpec describes one generated request helper (QueryRegisterState,
// SetConnectV3, ...): which command it sends, and the MBIMEx versions whose
// request and response layouts it was generated for.
type CallSpec struct {
	Func    string // the helper's qualified name, e.g. "basicconnect.QueryRegisterState"
	Service UUID
	CID     uint32
	CIDName string // e.g. "register-state"
	Type    CommandType
	// The helper applies when Min <= negotiated version < Max (Max 0: no
	// upper bound).
	Min, Max Version
	// Others says which helpers to use outside [Min, Max), for the error.
	Others string
}

// MBIMExError reports a request helper called on a session whose negotiated
// MBIMEx version selects another request or response layout than the one
// the helper encodes and decodes. Nothing was sent.
type MBIMExError struct {
	Func       string
	CIDName    string
	Negotiated Version
	Min, Max   Version
	Others     string // e.g. "use basicconnect.QueryRegisterStateV2 from MBIMEx 2.0"
}

func (e *MBIMExError) Error() string {
	b := make([]byte, 0, 128)
	b = append(b, e.Func...)
	b = append(b, ": the session negotiated MBIMEx "...)
	b = append(b, e.Negotiated.String()...)
	b = append(b, ", but this helper encodes the "...)
	b = append(b, e.CIDName...)
	b = append(b, " layouts of MBIMEx "...)
	b = append(b, e.Min.String()...)
	if e.Max != 0 {
		b = append(b, " up to (not including) "...)
		b = append(b, e.Max.String()...)
	} else {
		b = append(b, " and later"...)
	}
	if e.Others != "" {
		b = append(b, "; "...)
		b = append(b, e.Others...)
	}
	return string(b)
}

// Call is the body of the generated request helpers. It checks that the
// caller's negotiated MBIMEx version selects the layouts of spec, encodes
// req (nil: an empty information buffer), sends the command and decodes the
// response's information buffer into resp (nil: the response's payload is
// empty or ignored).
//
// decoded reports whether resp now holds a decoded response. It does even
// when err is a *StatusError, if the device sent an information buffer with
// its failure status (for example the PIN response's remaining attempts);
// in that case err is the *StatusError. Errors other than a failure status
// (*MBIMExError, encoding errors, the Caller's errors, a response that does
// not decode) come with decoded false.
func Call(ctx context.Context, c Caller, spec *CallSpec, req, resp Info) (decoded bool, err error) {
	v := c.MBIMEx()
	if v == 0 {
		v = MBIMEx1
	}
	if v < spec.Min || (spec.Max != 0 && v >= spec.Max) {
		return false, &MBIMExError{Func: spec.Func, CIDName: spec.CIDName, Negotiated: v,
			Min: spec.Min, Max: spec.Max, Others: spec.Others}
	}
	var info []byte
	if req != nil {
		if info, err = Marshal(req); err != nil {
			return false, fmt.Errorf("%s: %w", spec.Func, err)
		}
	}
	b, err := c.Command(ctx, spec.Service, spec.CID, spec.Type, info)
	if err != nil {
		var se *StatusError
		if resp == nil || len(b) == 0 || !errors.As(err, &se) {
			return false, err
		}
		if resp.UnmarshalMBIM(b) != nil {
			return false, err
		}
		return true, err
	}
	if resp == nil {
		return false, nil
	}
	if err := resp.UnmarshalMBIM(b); err != nil {
		return false, fmt.Errorf("%s: %w", spec.Func, err)
	}
	return true, nil
}

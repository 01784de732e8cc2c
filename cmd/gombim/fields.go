package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gombim/gombim/mbim"
)

// Request payloads from the command line: "Field=Value" arguments and JSON
// objects, applied to the catalog's generated types by reflection. Field
// names are the spec names (the json tags of the generated structs).

// fieldArg is one Field=Value argument.
type fieldArg struct {
	name, value string
}

// payloadArgs is what the command line says about a request payload.
type payloadArgs struct {
	json   []byte // a JSON object with some or all fields, or nil
	fields []fieldArg
}

func (p *payloadArgs) empty() bool { return p.json == nil && len(p.fields) == 0 }

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	addrType            = reflect.TypeFor[netip.Addr]()
	uuidType            = reflect.TypeFor[mbim.UUID]()
	contextTypeType     = reflect.TypeFor[mbim.ContextType]()
	bytesType           = reflect.TypeFor[mbim.Bytes]()
	tlvType             = reflect.TypeFor[mbim.TLV]()
)

// structField is one settable field of a payload type.
type structField struct {
	name  string // spec name
	index int
	typ   reflect.Type
}

// fieldsOf lists the exported fields of a payload struct type.
func fieldsOf(t reflect.Type) []structField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []structField
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := sf.Name
		if tag, ok := sf.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		out = append(out, structField{name, i, sf.Type})
	}
	return out
}

// findField looks a field up by name, exactly or else ignoring case.
func findField(fields []structField, name string) (structField, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return structField{}, false
}

// fieldError is a problem with the fields given; it is a usage error.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// buildPayload makes a payload of layout l from the command line. l nil or
// without a payload (New == nil) takes no fields.
func buildPayload(l *mbim.MessageDesc, p *payloadArgs) (mbim.Info, error) {
	if l == nil || l.New == nil {
		if !p.empty() {
			return nil, &fieldError{"this request takes no fields"}
		}
		return nil, nil
	}
	info := l.New()
	v := reflect.ValueOf(info).Elem()
	fields := fieldsOf(v.Type())
	if p.json != nil {
		dec := json.NewDecoder(bytes.NewReader(p.json))
		dec.DisallowUnknownFields()
		if err := dec.Decode(info); err != nil {
			return nil, &fieldError{fmt.Sprintf("the JSON object does not fit %s: %s\n%s", l.Type, jsonErrText(err), fieldList(fields))}
		}
	}
	for _, a := range p.fields {
		f, ok := findField(fields, a.name)
		if !ok {
			return nil, &fieldError{fmt.Sprintf("unknown field %q\n%s", a.name, fieldList(fields))}
		}
		if err := setValue(v.Field(f.index), a.value); err != nil {
			msg := fmt.Sprintf("%s=%s: %v", f.name, a.value, err)
			if !strings.Contains(msg, "(known: ") {
				msg += fmt.Sprintf("\n  %s: %s", f.name, describeType(f.typ))
			}
			return nil, &fieldError{msg}
		}
	}
	return info, nil
}

func jsonErrText(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	return s
}

// fieldList describes fields for an error message.
func fieldList(fields []structField) string {
	if len(fields) == 0 {
		return "This request takes no fields."
	}
	var b strings.Builder
	b.WriteString("The fields are:\n")
	writeFields(&b, fields, "  ")
	return strings.TrimRight(b.String(), "\n")
}

// writeFields writes one line per field: name and type.
func writeFields(b *strings.Builder, fields []structField, indent string) {
	width := 0
	for _, f := range fields {
		width = max(width, len(f.name))
	}
	for _, f := range fields {
		fmt.Fprintf(b, "%s%-*s  %s\n", indent, width, f.name, describeType(f.typ))
	}
}

// setValue parses s into v according to v's type.
func setValue(v reflect.Value, s string) error {
	t := v.Type()
	ptr := v.Addr().Interface()
	if file, ok := strings.CutPrefix(s, "@"); ok && t.Kind() != reflect.String {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("%v; give the path of a JSON file after @", err)
		}
		if err := json.Unmarshal(data, ptr); err != nil {
			return fmt.Errorf("%s: %s", file, jsonErrText(err))
		}
		return nil
	}
	switch {
	case t == uuidType || t == contextTypeType || t == addrType || t == bytesType:
		return ptr.(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	case reflect.PointerTo(t).Implements(jsonUnmarshalerType) && isScalarKind(t.Kind()):
		// A generated enumeration or flag set: nicknames (a|b for flags)
		// or numbers.
		b, _ := json.Marshal(s)
		err := ptr.(json.Unmarshaler).UnmarshalJSON(b)
		if err != nil {
			return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "mbim: "))
		}
		return nil
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		return ptr.(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		v.SetBool(b)
		return nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, t.Bits())
		if err != nil {
			return fmt.Errorf("want an unsigned %d-bit number (decimal, or hex with 0x)", t.Bits())
		}
		v.SetUint(n)
		return nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, t.Bits())
		if err != nil {
			return fmt.Errorf("want a signed %d-bit number", t.Bits())
		}
		v.SetInt(n)
		return nil
	case reflect.Slice:
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			break
		}
		if et := t.Elem(); isSimple(et) {
			// A comma-separated list of simple values.
			parts := strings.Split(s, ",")
			if s == "" {
				parts = nil
			}
			out := reflect.MakeSlice(t, len(parts), len(parts))
			for i, part := range parts {
				if err := setValue(out.Index(i), strings.TrimSpace(part)); err != nil {
					return fmt.Errorf("item %d: %v", i+1, err)
				}
			}
			v.Set(out)
			return nil
		}
	}
	// Arrays, structures, TLVs: JSON.
	if err := json.Unmarshal([]byte(s), ptr); err != nil {
		return fmt.Errorf("want JSON (%s), or @FILE with JSON in it", jsonErrText(err))
	}
	return nil
}

func isScalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.String:
		return true
	}
	return false
}

// isSimple reports whether values of t are written without JSON.
func isSimple(t reflect.Type) bool {
	switch {
	case t == uuidType || t == contextTypeType || t == addrType || t == bytesType:
		return true
	case t == tlvType:
		return false
	}
	return isScalarKind(t.Kind()) || t.Kind() == reflect.Bool
}

// describeType says how to write a value of t on the command line.
func describeType(t reflect.Type) string {
	switch t {
	case uuidType:
		return "UUID"
	case contextTypeType:
		return "context type: a UUID or " + strings.Join(contextTypeNames(), ", ")
	case addrType:
		return "IP address"
	case bytesType:
		return "bytes, in hex"
	case tlvType:
		return `TLV, JSON {"Type":...,"Data":"hex"}`
	}
	if e := enumOf(t); e != nil {
		if e.flags {
			return fmt.Sprintf("flags %s: any of %s, joined by |", t.Name(), strings.Join(e.names, ", "))
		}
		return fmt.Sprintf("%s: %s", t.Name(), strings.Join(e.names, ", "))
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "true or false"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("uint%d", t.Bits())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("int%d", t.Bits())
	case reflect.Slice:
		if isSimple(t.Elem()) {
			return "list of " + describeElem(t.Elem()) + ", comma-separated or a JSON array"
		}
		return "JSON array of " + describeElem(t.Elem())
	case reflect.Pointer:
		return "optional " + describeElem(t.Elem()) + ", JSON object or null"
	case reflect.Struct:
		return describeElem(t) + ", JSON object"
	}
	return t.String()
}

// describeElem names an element type briefly.
func describeElem(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Struct && t != uuidType && t != addrType && t != contextTypeType:
		names := make([]string, 0, t.NumField())
		for _, f := range fieldsOf(t) {
			names = append(names, f.name)
		}
		return fmt.Sprintf("%s {%s}", t.Name(), strings.Join(names, ", "))
	case enumOf(t) != nil:
		return t.Name()
	}
	return describeType(t)
}

// enumInfo is what the command line knows of a generated enumeration.
type enumInfo struct {
	names []string
	flags bool
}

var enumCache sync.Map // reflect.Type → *enumInfo (nil: not an enum)

// enumOf returns the values of a generated enumeration or flag set type,
// or nil for other types. The generated types expose their names through
// their JSON methods: the error for an unknown name lists the known ones,
// and flag sets marshal as arrays.
func enumOf(t reflect.Type) *enumInfo {
	if v, ok := enumCache.Load(t); ok {
		return v.(*enumInfo)
	}
	var e *enumInfo
	if t.PkgPath() != "" && t.Kind() >= reflect.Uint8 && t.Kind() <= reflect.Uint64 &&
		reflect.PointerTo(t).Implements(jsonUnmarshalerType) && t.Implements(reflect.TypeFor[json.Marshaler]()) {
		zero := reflect.New(t)
		out, _ := zero.Elem().Interface().(json.Marshaler).MarshalJSON()
		err := zero.Interface().(json.Unmarshaler).UnmarshalJSON([]byte(`"?"`))
		if err != nil {
			msg := err.Error()
			if i := strings.LastIndex(msg, "(known: "); i >= 0 {
				list := strings.TrimSuffix(msg[i+len("(known: "):], ")")
				e = &enumInfo{names: strings.Split(list, ", "), flags: bytes.HasPrefix(out, []byte("["))}
			}
		}
	}
	enumCache.Store(t, e)
	return e
}

// contextTypeNames lists the context type nicknames.
func contextTypeNames() []string {
	var names []string
	for _, c := range mbim.ContextTypes() {
		names = append(names, c.Name)
	}
	return names
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The definition file format is documented in docs/definitions.md.

type serviceDef struct {
	Service string      `json:"service"`
	Title   string      `json:"title"`
	UUID    string      `json:"uuid"`
	Package string      `json:"package"`
	Source  string      `json:"source"`
	Doc     string      `json:"doc"`
	Enums   []enumDef   `json:"enums"`
	Structs []structDef `json:"structs"`
	CIDs    []cidDef    `json:"cids"`

	file string
	dir  string
}

type enumDef struct {
	Name   string            `json:"name"`
	Doc    string            `json:"doc"`
	Flags  bool              `json:"flags"`
	Bits   int               `json:"bits"` // 32 (default) or 64
	Values []json.RawMessage `json:"values"`

	vals []enumVal
}

type enumVal struct {
	nick  string
	value uint32
}

type structDef struct {
	Name   string     `json:"name"`
	Doc    string     `json:"doc"`
	Fields []fieldDef `json:"fields"`
}

type fieldDef struct {
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Doc    string          `json:"doc"`
	Enum   string          `json:"enum"`
	Flags  string          `json:"flags"`
	Struct string          `json:"struct"`
	Count  string          `json:"count"`
	Size   json.RawMessage `json:"size"`
	// When makes the field conditional: {"Format": "pdu"} or
	// {"Format": ["pdu", "cdma"]}, on an earlier enumeration field.
	When map[string]json.RawMessage `json:"when"`

	sizeField string
	sizeN     int
}

// msgSpec is one payload: {"fields": [...]}, {"struct": "Name"}, or a string
// naming another kind of the same layer (the CID or one MBIMEx variant),
// before or after it, whose layout it shares.
type msgSpec struct {
	Fields []fieldDef `json:"fields"`
	Struct string     `json:"struct"`
	Doc    string     `json:"doc"`
	Go     string     `json:"go"` // Go type name instead of the derived one
	same   string
	isRef  bool // written as a string: same names the kind
	set    bool
}

func (m *msgSpec) UnmarshalJSON(b []byte) error {
	m.set = true
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		m.isRef = true
		return json.Unmarshal(b, &m.same)
	}
	type plain msgSpec
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	p.set = true
	*m = msgSpec(p)
	return nil
}

type variantDef struct {
	MBIMEx   string   `json:"mbimex"`
	Set      *msgSpec `json:"set"`
	Query    *msgSpec `json:"query"`
	Response *msgSpec `json:"response"`
	Notify   *msgSpec `json:"notify"`
}

type cidDef struct {
	Name     string       `json:"name"`
	ID       uint32       `json:"id"`
	Doc      string       `json:"doc"`
	MBIMEx   string       `json:"mbimex"` // the CID exists only from this version
	Set      *msgSpec     `json:"set"`
	Query    *msgSpec     `json:"query"`
	Response *msgSpec     `json:"response"`
	Notify   *msgSpec     `json:"notify"`
	Variants []variantDef `json:"variants"`
}

func loadService(path string) (*serviceDef, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s serviceDef
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	s.file = path
	for i := range s.Enums {
		e := &s.Enums[i]
		for _, raw := range e.Values {
			var pair []json.RawMessage
			if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
				return nil, fmt.Errorf("%s: enum %s: value %s: want [\"nick\", number]", path, e.Name, raw)
			}
			var nick string
			if err := json.Unmarshal(pair[0], &nick); err != nil {
				return nil, fmt.Errorf("%s: enum %s: %s: nickname must be a string", path, e.Name, raw)
			}
			v, err := parseNumber(pair[1])
			if err != nil {
				return nil, fmt.Errorf("%s: enum %s: %s: %v", path, e.Name, raw, err)
			}
			e.vals = append(e.vals, enumVal{nick, v})
		}
	}
	return &s, nil
}

func parseNumber(raw json.RawMessage) (uint32, error) {
	var n uint64
	if err := json.Unmarshal(raw, &n); err == nil {
		if n > 0xffffffff {
			return 0, fmt.Errorf("%d does not fit in 32 bits", n)
		}
		return uint32(n), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("want a number or a string like \"0x10\"")
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return uint32(v), nil
}

// camel turns "register-state" into "RegisterState".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '-' || r == '_' || r == ' ' || r == '.' || r == '/' || r == '+' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

func exported(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

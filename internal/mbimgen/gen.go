package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

const modulePath = "github.com/gombim/gombim"

// fieldKinds lists every field type the definitions may use.
var fieldKinds = map[string]struct {
	fixed   int  // bytes in the fixed part (per element for inline lists)
	inline  bool // variable-length data written inline, after the fixed part
	needs   string
	varData bool // data in the variable area
}{
	"u8":                       {fixed: 1},
	"u16":                      {fixed: 2},
	"u32":                      {fixed: 4},
	"i32":                      {fixed: 4},
	"u64":                      {fixed: 8},
	"uuid":                     {fixed: 16},
	"context-type":             {fixed: 16},
	"ipv4":                     {fixed: 4},
	"ipv6":                     {fixed: 16},
	"bytes-fixed":              {fixed: -1, needs: "size"},
	"string":                   {fixed: 8, varData: true},
	"string-utf8":              {fixed: 8, varData: true},
	"string-array":             {fixed: 8, needs: "count", varData: true},
	"bytes":                    {fixed: 8, varData: true},
	"bytes-lo":                 {fixed: 8, varData: true},
	"bytes-offset":             {fixed: 4, needs: "size", varData: true},
	"bytes-sized":              {inline: true},
	"bytes-rest":               {inline: true},
	"bytes-inline":             {inline: true, needs: "size"},
	"u32-array":                {fixed: 4, needs: "count"},
	"u16-array":                {fixed: 2, needs: "count"},
	"ipv4-ref":                 {fixed: 4, varData: true},
	"ipv6-ref":                 {fixed: 4, varData: true},
	"ipv4-array":               {fixed: 4, needs: "count", varData: true},
	"ipv6-array":               {fixed: 4, needs: "count", varData: true},
	"struct":                   {fixed: -1, needs: "struct"},
	"struct-ref":               {fixed: 8, needs: "struct", varData: true},
	"struct-optional":          {fixed: 8, needs: "struct", varData: true},
	"struct-array":             {fixed: 4, needs: "struct count", varData: true},
	"struct-array-ref":         {fixed: 8, needs: "struct count", varData: true},
	"struct-array-inline":      {fixed: -1, needs: "struct count"},
	"struct-array-ms":          {fixed: 8, needs: "struct", varData: true},
	"struct-array-ms-embedded": {fixed: 8, needs: "struct", varData: true},
	"struct-embedded":          {inline: true, needs: "struct"},
	"tlv":                      {inline: true},
	"tlv-string":               {inline: true},
	"tlv-u16-array":            {inline: true},
	"tlv-list":                 {inline: true},
}

// universe holds every service, for cross-service references.
type universe struct {
	services []*serviceDef
	byPkg    map[string]*serviceDef
}

type typeRef struct {
	svc   *serviceDef
	enum  *enumDef
	strct *structDef
}

func (u *universe) lookupEnum(from *serviceDef, name string) (*serviceDef, *enumDef, error) {
	svc, local := from, name
	if pkg, n, ok := strings.Cut(name, "."); ok {
		svc = u.byPkg[pkg]
		if svc == nil {
			return nil, nil, fmt.Errorf("no service with package %q (in %q)", pkg, name)
		}
		local = n
	}
	for i := range svc.Enums {
		if svc.Enums[i].Name == local {
			return svc, &svc.Enums[i], nil
		}
	}
	return nil, nil, fmt.Errorf("no enum or flag set %q in %s", local, svc.Service)
}

func (u *universe) lookupStruct(from *serviceDef, name string) (*serviceDef, *structDef, error) {
	svc, local := from, name
	if pkg, n, ok := strings.Cut(name, "."); ok {
		svc = u.byPkg[pkg]
		if svc == nil {
			return nil, nil, fmt.Errorf("no service with package %q (in %q)", pkg, name)
		}
		local = n
	}
	for i := range svc.Structs {
		if svc.Structs[i].Name == local {
			return svc, &svc.Structs[i], nil
		}
	}
	return nil, nil, fmt.Errorf("no struct %q in %s", local, svc.Service)
}

// gen writes one service's Go file.
type gen struct {
	u       *universe
	s       *serviceDef
	buf     bytes.Buffer
	imports map[string]bool
	errs    []string
}

func (g *gen) p(format string, args ...any) {
	fmt.Fprintf(&g.buf, format, args...)
	g.buf.WriteByte('\n')
}

func (g *gen) fail(format string, args ...any) {
	g.errs = append(g.errs, fmt.Sprintf("%s: ", g.s.file)+fmt.Sprintf(format, args...))
}

// qual returns the Go name of a type defined in svc, qualified when it is
// another package.
func (g *gen) qual(svc *serviceDef, name string) string {
	if svc == g.s {
		return name
	}
	g.imports[modulePath+"/catalog/"+svc.Package] = true
	return svc.Package + "." + name
}

// msg is one generated message type.
type msg struct {
	kind     string // set, query, response, notify
	version  string // "" or "2.0"...
	typeName string
	fields   []fieldDef
	alias    string // Go type this one aliases
	empty    bool
	doc      string
	cid      *cidDef
}

var kindTitle = map[string]string{"set": "Set", "query": "Query", "response": "Response", "notify": "Notify"}
var kindConst = map[string]string{"set": "mbim.KindSet", "query": "mbim.KindQuery", "response": "mbim.KindResponse", "notify": "mbim.KindNotify"}

func versionSuffix(v string) string {
	if v == "" || v == "1.0" {
		return ""
	}
	major, _, _ := strings.Cut(v, ".")
	return "V" + major
}

func versionConst(v string) string {
	switch v {
	case "", "1.0":
		return "mbim.MBIMEx1"
	case "2.0":
		return "mbim.MBIMEx2"
	case "3.0":
		return "mbim.MBIMEx3"
	case "4.0":
		return "mbim.MBIMEx4"
	}
	return "0"
}

// messages expands a CID into its message types. Each layer (the CID
// itself, then each MBIMEx variant) is read in two passes: first every
// payload with its own layout, then the payloads that name another kind of
// the same layer, before or after them, which become aliases of the type
// that carries the layout.
func (g *gen) messages(c *cidDef) []*msg {
	var out []*msg
	type layer struct {
		version string
		variant bool
		specs   map[string]*msgSpec
	}
	layers := []layer{{c.MBIMEx, false, map[string]*msgSpec{"set": c.Set, "query": c.Query, "response": c.Response, "notify": c.Notify}}}
	for _, v := range c.Variants {
		switch v.MBIMEx {
		case "2.0", "3.0", "4.0":
		default:
			g.fail("cid %s: variant mbimex %q: want 2.0, 3.0 or 4.0", c.Name, v.MBIMEx)
		}
		layers = append(layers, layer{v.MBIMEx, true, map[string]*msgSpec{"set": v.Set, "query": v.Query, "response": v.Response, "notify": v.Notify}})
	}
	kinds := []string{"set", "query", "response", "notify"}
	for _, l := range layers {
		where := "cid " + c.Name
		if l.variant {
			where += " (MBIMEx " + l.version + " variant)"
		}
		// Pass 1: the payloads with a layout of their own.
		byKind := map[string]*msg{}
		var ms []*msg
		for _, k := range kinds {
			sp := l.specs[k]
			if sp == nil {
				continue
			}
			m := &msg{kind: k, version: l.version, cid: c, doc: sp.Doc}
			m.typeName = camel(c.Name) + kindTitle[k] + versionSuffix(l.version)
			if sp.Go != "" {
				if exported(sp.Go) != sp.Go || strings.ContainsAny(sp.Go, ".- ") {
					g.fail("%s %s: \"go\": %q is not an exported Go identifier", where, k, sp.Go)
				}
				m.typeName = sp.Go
			}
			switch {
			case sp.isRef:
				// Pass 2.
			case sp.Struct != "":
				ssvc, st, err := g.u.lookupStruct(g.s, sp.Struct)
				if err != nil {
					g.fail("%s %s: %v", where, k, err)
					continue
				}
				m.alias = g.qual(ssvc, st.Name)
			case len(sp.Fields) == 0:
				m.empty = true
			default:
				m.fields = sp.Fields
			}
			byKind[k] = m
			ms = append(ms, m)
		}
		// Pass 2: the payloads that name another kind, followed to the
		// one with a layout.
		bad := map[*msg]bool{}
		for _, m := range ms {
			sp := l.specs[m.kind]
			if !sp.isRef {
				continue
			}
			// Each error is reported for the kind it is about, once: a
			// kind whose chain runs into another's error is left out.
			path := []string{m.kind}
			target := sp.same
			var to *msg
			for {
				first := len(path) == 1
				if kindTitle[target] == "" {
					if first {
						g.fail("%s: %s names %q, which is not a kind (set, query, response or notify)", where, m.kind, target)
					}
					break
				}
				if target == path[len(path)-1] {
					if first {
						g.fail("%s: %s names itself", where, m.kind)
					}
					break
				}
				if i := indexOf(path, target); i >= 0 {
					if cyc := path[i:]; i == 0 && m.kind == firstKind(kinds, cyc) {
						g.fail("%s: %s name each other in a cycle (%s -> %s); one of them needs a layout of its own", where, strings.Join(cyc, ", "), strings.Join(cyc, " -> "), target)
					}
					break
				}
				tsp := l.specs[target]
				if tsp == nil {
					if first {
						what := "the CID does not define"
						if l.variant {
							what = "the variant does not define (a variant's payload may name only another of the variant's)"
						}
						g.fail("%s: %s names %q, which %s", where, m.kind, target, what)
					}
					break
				}
				if !tsp.isRef {
					to = byKind[target] // nil when its own definition failed
					break
				}
				path = append(path, target)
				target = tsp.same
			}
			if to == nil {
				bad[m] = true
				continue
			}
			switch {
			case to.alias != "":
				m.alias = to.alias
			case to.empty:
				m.empty = true
			default:
				m.alias = to.typeName
			}
		}
		for _, m := range ms {
			if !bad[m] {
				out = append(out, m)
			}
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// firstKind returns the member of some that comes first in kinds.
func firstKind(kinds, some []string) string {
	for _, k := range kinds {
		if indexOf(some, k) >= 0 {
			return k
		}
	}
	return ""
}

func (g *gen) generate() ([]byte, error) {
	s := g.s
	g.imports = map[string]bool{modulePath + "/mbim": true}
	var body bytes.Buffer
	save := g.buf
	g.buf = body

	g.p("// UUID is the %s service's identifier.", s.Title)
	g.p("var UUID = mbim.MustParseUUID(%q)", strings.ToLower(s.UUID))
	g.p("")
	// CID constants.
	g.p("// CIDs of the %s service.", s.Title)
	g.p("const (")
	for _, c := range s.CIDs {
		g.p("\tCID%s uint32 = %d // %s", camel(c.Name), c.ID, c.Name)
	}
	g.p(")")
	g.p("")

	for i := range s.Enums {
		g.enum(&s.Enums[i])
	}
	for i := range s.Structs {
		st := &s.Structs[i]
		g.structType(st.Name, st.Doc, st.Fields, st.Name)
	}
	var all [][]*msg
	for i := range s.CIDs {
		all = append(all, g.messages(&s.CIDs[i]))
	}
	g.checkNames(all)
	for i := range s.CIDs {
		c := &s.CIDs[i]
		ms := all[i]
		for _, m := range ms {
			name := fmt.Sprintf("%s %s %s", s.Service, c.Name, kindNames(m.kind))
			if m.version != "" && m.version != "1.0" {
				name += " (MBIMEx " + m.version + ")"
			}
			doc := m.doc
			if doc == "" {
				doc = c.Doc
			}
			switch {
			case m.alias != "":
				g.p("// %s is the %s; it has the same layout as %s.", m.typeName, name, m.alias)
				g.p("type %s = %s", m.typeName, m.alias)
				g.p("")
			case m.empty:
			default:
				g.structType(m.typeName, fmt.Sprintf("is the %s.\n%s", name, doc), m.fields, name)
			}
		}
	}
	// Service description.
	g.p("// Service describes the %s service and its CIDs.", s.Title)
	g.p("var Service = mbim.ServiceDesc{")
	g.p("\tName:  %q,", s.Service)
	g.p("\tTitle: %q,", s.Title)
	g.p("\tUUID:  UUID,")
	g.p("\tCIDs: []mbim.CIDDesc{")
	for i, c := range s.CIDs {
		ms := all[i]
		has := map[string]bool{}
		for _, m := range ms {
			has[m.kind] = true
		}
		g.p("\t\t{ID: %d, Name: %q, Set: %v, Query: %v, Notify: %v, Messages: []mbim.MessageDesc{", c.ID, c.Name, has["set"], has["query"], has["notify"])
		for _, m := range ms {
			newf := "nil"
			tn := m.typeName
			if !m.empty {
				newf = fmt.Sprintf("func() mbim.Info { return new(%s) }", m.typeName)
			} else {
				tn = ""
			}
			g.p("\t\t\t{Kind: %s, MBIMEx: %s, Type: %q, New: %s},", kindConst[m.kind], versionConst(m.version), tn, newf)
		}
		// Index[kind][major-1]: 1 + the index in Messages of the layout in
		// effect at MBIMEx major.0, or 0.
		var rows []string
		for _, k := range []string{"set", "query", "response", "notify"} {
			var cells []string
			for major := 1; major <= 4; major++ {
				best, bestRank := 0, 0
				for j, m := range ms {
					if r := versionRank(m.version); m.kind == k && r <= major && r > bestRank {
						best, bestRank = j+1, r
					}
				}
				cells = append(cells, fmt.Sprint(best))
			}
			rows = append(rows, "{"+strings.Join(cells, ", ")+"}")
		}
		g.p("\t\t}, Index: [4][4]uint8{%s}},", strings.Join(rows, ", "))
	}
	g.p("\t},")
	g.p("}")
	g.p("")
	for i := range s.CIDs {
		g.helpers(&s.CIDs[i], all[i])
	}

	body = g.buf
	g.buf = save
	g.p("// Code generated by internal/mbimgen from %s; DO NOT EDIT.", baseName(s.file))
	g.p("")
	doc := s.Doc
	if doc == "" {
		doc = "holds the message definitions of the " + s.Title + " service."
	}
	g.p("// Package %s %s", s.Package, strings.ReplaceAll(doc, "\n", "\n// "))
	if s.Source != "" {
		g.p("//")
		g.p("// Sources: %s", strings.ReplaceAll(s.Source, "\n", "\n// "))
	}
	g.p("package %s", s.Package)
	g.p("")
	g.p("import (")
	var imps []string
	for k := range g.imports {
		imps = append(imps, k)
	}
	sort.Strings(imps)
	for _, k := range imps {
		g.p("\t%q", k)
	}
	g.p(")")
	g.p("")
	g.buf.Write(body.Bytes())
	if len(g.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(g.errs, "\n"))
	}
	return g.buf.Bytes(), nil
}

// checkNames reports two package-level Go names that would collide: the
// types of enumerations, structs and messages, and the request helpers.
func (g *gen) checkNames(all [][]*msg) {
	seen := map[string]string{"UUID": "the service UUID", "Service": "the service description"}
	add := func(name, what string) {
		if other, dup := seen[name]; dup {
			g.fail("Go name %s is used by %s and by %s; rename one (\"go\" on a payload names its message type)", name, other, what)
			return
		}
		seen[name] = what
	}
	for _, c := range g.s.CIDs {
		add("CID"+camel(c.Name), "the constant of CID "+c.Name)
	}
	for _, e := range g.s.Enums {
		add(e.Name, "enumeration "+e.Name)
	}
	for _, st := range g.s.Structs {
		add(st.Name, "struct "+st.Name)
	}
	for i, ms := range all {
		c := &g.s.CIDs[i]
		for _, m := range ms {
			if !m.empty || m.alias != "" {
				add(m.typeName, fmt.Sprintf("the %s %s message", c.Name, kindNames(m.kind)))
			}
		}
		for _, k := range []string{"query", "set"} {
			for _, h := range helperRanges(c, ms, k) {
				add(h.name, "the request helper of "+c.Name)
			}
		}
	}
}

func kindNames(k string) string {
	if k == "notify" {
		return "notification"
	}
	return k
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/catalog/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (g *gen) enum(e *enumDef) {
	if e.Name == "" || exported(e.Name) != e.Name {
		g.fail("enum %q: name must start with a capital letter", e.Name)
	}
	what := "enumeration"
	if e.Flags {
		what = "flag set"
	}
	doc := e.Doc
	if doc == "" {
		doc = "is the " + e.Name + " " + what + "."
	}
	g.p("// %s %s", e.Name, strings.ReplaceAll(doc, "\n", "\n// "))
	bits := enumBits(e)
	if e.Bits != 0 && e.Bits != 32 && e.Bits != 64 {
		g.fail("enum %s: \"bits\" must be 32 or 64", e.Name)
	}
	g.p("type %s uint%d", e.Name, bits)
	// The table's methods for this width: FlagString or FlagString64...
	w, conv := "", "uint32"
	if bits == 64 {
		w, conv = "64", "uint64"
	}
	g.p("")
	if len(e.vals) > 0 {
		g.p("// Values of %s.", e.Name)
		g.p("const (")
		seen := map[string]bool{}
		for _, v := range e.vals {
			if v.nick != strings.ToLower(v.nick) || strings.ContainsAny(v.nick, " _") {
				g.fail("enum %s: nickname %q: use lower-case words joined by '-'", e.Name, v.nick)
			}
			cn := e.Name + camel(v.nick)
			if seen[cn] {
				g.fail("enum %s: duplicate nickname %q", e.Name, v.nick)
				continue
			}
			seen[cn] = true
			g.p("\t%s %s = 0x%x", cn, e.Name, v.value)
		}
		g.p(")")
		g.p("")
	}
	tbl := lowerFirst(e.Name) + "Table"
	g.p("var %s = mbim.EnumTable{Type: %q, Values: []mbim.EnumValue{", tbl, e.Name)
	for _, v := range e.vals {
		g.p("\t{Value: 0x%x, Name: %q},", v.value, v.nick)
	}
	g.p("}}")
	g.p("")
	g.p("// %sValues returns the named values of %s.", e.Name, e.Name)
	g.p("func %sValues() []mbim.EnumValue { return %s.Values }", e.Name, tbl)
	g.p("")
	if e.Flags {
		g.p("// String lists the names of the flags set, separated by \", \".")
		g.p("func (v %s) String() string { return %s.FlagString%s(%s(v)) }", e.Name, tbl, w, conv)
		g.p("")
		g.p("// MarshalJSON gives a JSON array of flag names.")
		g.p("func (v %s) MarshalJSON() ([]byte, error) { return %s.MarshalFlagsJSON%s(%s(v)) }", e.Name, tbl, w, conv)
		g.p("")
		g.p("// UnmarshalJSON accepts an array of names, a \"a|b\" string or a number.")
		g.p("func (v *%s) UnmarshalJSON(b []byte) error {", e.Name)
		g.p("\tx, err := %s.UnmarshalFlagsJSON%s(b)", tbl, w)
		g.p("\t*v = %s(x)", e.Name)
		g.p("\treturn err")
		g.p("}")
		g.p("")
		g.p("// Parse%s parses flag names separated by '|' or ',', or a number.", e.Name)
		g.p("func Parse%s(s string) (%s, error) {", e.Name, e.Name)
		g.p("\tx, err := %s.ParseFlags%s(s)", tbl, w)
		g.p("\treturn %s(x), err", e.Name)
		g.p("}")
	} else {
		g.p("// String returns the value's nickname.")
		g.p("func (v %s) String() string { return %s.Name%s(%s(v)) }", e.Name, tbl, w, conv)
		g.p("")
		g.p("// MarshalJSON gives the nickname, or a number for unnamed values.")
		g.p("func (v %s) MarshalJSON() ([]byte, error) { return %s.EncodeJSON%s(%s(v)) }", e.Name, tbl, w, conv)
		g.p("")
		g.p("// UnmarshalJSON accepts a nickname or a number.")
		g.p("func (v *%s) UnmarshalJSON(b []byte) error {", e.Name)
		g.p("\tx, err := %s.DecodeJSON%s(b)", tbl, w)
		g.p("\t*v = %s(x)", e.Name)
		g.p("\treturn err")
		g.p("}")
		g.p("")
		g.p("// Parse%s parses a nickname or a number.", e.Name)
		g.p("func Parse%s(s string) (%s, error) {", e.Name, e.Name)
		g.p("\tx, err := %s.Parse%s(s)", tbl, w)
		g.p("\treturn %s(x), err", e.Name)
		g.p("}")
	}
	g.p("")
}

// enumBits returns the width of an enumeration's Go type.
func enumBits(e *enumDef) int {
	if e.Bits == 64 {
		return 64
	}
	return 32
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// resolved is a field with its Go facts.
type resolved struct {
	f        fieldDef
	goName   string
	goType   string // Go type of the struct field ("" for derived count fields)
	elemType string // element type for arrays
	scalar   string // "U32", "U16"... decoder method for scalar/enum fields
	conv     string // conversion to apply on decode ("" none)
	enumBits int    // 32 or 64 for enum and flag fields, else 0
	esvc     *serviceDef
	edef     *enumDef // the enumeration of an enum or flags field
	// Conditional fields ("when"): present when field whenField has one
	// of the values whenConsts (Go expressions) / whenNums.
	whenField  *resolved
	whenConsts []string
	whenNums   []uint64
	stSvc      *serviceDef
	st         *structDef
	counts     []string // array fields whose length this field carries
	sizes      []string // byte arrays whose size this field carries
	derived    bool
	fixedSize  int // for fixed-size structs
	minSize    int // size of the struct's fixed part when it has no dynamic lists
}

var scalarMethod = map[string]struct{ method, gotype, wire string }{
	"u8":  {"U8", "uint8", "uint8"},
	"u16": {"U16", "uint16", "uint16"},
	"u32": {"U32", "uint32", "uint32"},
	"i32": {"I32", "int32", "int32"},
	"u64": {"U64", "uint64", "uint64"},
}

// structSize returns the fixed size of a struct made only of fixed fields,
// or -1.
func (g *gen) structSize(svc *serviceDef, st *structDef, depth int) int {
	if depth > 8 {
		return -1
	}
	n := 0
	for _, f := range st.Fields {
		k, ok := fieldKinds[f.Type]
		if !ok || k.varData || k.inline || k.needs == "count" || strings.Contains(k.needs, "count") {
			return -1
		}
		switch f.Type {
		case "bytes-fixed":
			sz, err := parseSize(f.Size)
			if err != nil || sz <= 0 {
				return -1
			}
			n += sz
		case "struct":
			ssvc, sst, err := g.u.lookupStruct(svc, f.Struct)
			if err != nil {
				return -1
			}
			sz := g.structSize(ssvc, sst, depth+1)
			if sz < 0 {
				return -1
			}
			n += sz
		default:
			n += k.fixed
		}
	}
	return n
}

// fixedPartSize returns the size of a struct's fixed part, counting the
// lists whose length varies as empty.
func (g *gen) fixedPartSize(svc *serviceDef, st *structDef) int {
	n := 0
	for _, f := range st.Fields {
		k, ok := fieldKinds[f.Type]
		if !ok || k.inline {
			continue
		}
		switch f.Type {
		case "bytes-fixed":
			sz, _ := parseSize(f.Size)
			n += sz
		case "struct":
			if ssvc, sst, err := g.u.lookupStruct(svc, f.Struct); err == nil {
				n += max(g.structSize(ssvc, sst, 0), 0)
			}
		case "string-array", "struct-array-ref", "u32-array", "u16-array", "struct-array-inline":
		default:
			n += max(k.fixed, 0)
		}
	}
	return n
}

func parseSize(raw json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	return n, nil
}

func (g *gen) resolve(owner string, fields []fieldDef) []*resolved {
	var out []*resolved
	byName := map[string]*resolved{}
	inlineSeen := ""
	for _, f := range fields {
		r := &resolved{f: f, goName: exported(f.Name)}
		k, ok := fieldKinds[f.Type]
		if !ok {
			g.fail("%s.%s: unknown type %q", owner, f.Name, f.Type)
			continue
		}
		if f.Name == "" {
			g.fail("%s: a field has no name", owner)
			continue
		}
		if byName[f.Name] != nil {
			g.fail("%s: duplicate field %s", owner, f.Name)
		}
		if inlineSeen != "" && !k.inline {
			g.fail("%s.%s: only inline variable fields (tlv*, bytes-sized, bytes-rest, bytes-inline, struct-embedded) may follow %s", owner, f.Name, inlineSeen)
		}
		if k.inline {
			inlineSeen = f.Name
		}
		if strings.Contains(k.needs, "struct") {
			if f.Struct == "" {
				g.fail("%s.%s: type %s needs \"struct\"", owner, f.Name, f.Type)
				continue
			}
			ssvc, st, err := g.u.lookupStruct(g.s, f.Struct)
			if err != nil {
				g.fail("%s.%s: %v", owner, f.Name, err)
				continue
			}
			r.stSvc, r.st = ssvc, st
			r.elemType = g.qual(ssvc, st.Name)
			r.fixedSize = g.structSize(ssvc, st, 0)
			r.minSize = g.fixedPartSize(ssvc, st)
			switch f.Type {
			case "struct", "struct-array", "struct-array-inline", "struct-array-ms":
				if r.fixedSize < 0 {
					g.fail("%s.%s: %s needs a struct of fixed size, and %s has variable fields", owner, f.Name, f.Type, st.Name)
				}
			}
		}
		if strings.Contains(k.needs, "count") || (f.Type == "tlv-list" && f.Count != "") {
			if f.Count == "" {
				g.fail("%s.%s: type %s needs \"count\"", owner, f.Name, f.Type)
				continue
			}
			c := byName[f.Count]
			if c == nil {
				g.fail("%s.%s: count field %q must come before it", owner, f.Name, f.Count)
				continue
			}
			if c.f.Type != "u32" && c.f.Type != "u16" && c.f.Type != "u8" {
				g.fail("%s.%s: count field %s must be an integer", owner, f.Name, f.Count)
			}
			c.counts = append(c.counts, r.goName)
			c.derived = true
		}
		if k.needs == "size" {
			if f.Type == "bytes-fixed" {
				n, err := parseSize(f.Size)
				if err != nil || n <= 0 {
					g.fail("%s.%s: bytes-fixed needs \"size\": a positive number", owner, f.Name)
					continue
				}
				r.f.sizeN = n
			} else {
				var name string
				if err := json.Unmarshal(f.Size, &name); err != nil {
					g.fail("%s.%s: %s needs \"size\": the name of the field with the length", owner, f.Name, f.Type)
					continue
				}
				c := byName[name]
				if c == nil {
					g.fail("%s.%s: size field %q must come before it", owner, f.Name, name)
					continue
				}
				r.f.sizeField = name
				c.sizes = append(c.sizes, r.goName)
				c.derived = true
			}
		}
		if (f.Enum != "" || f.Flags != "") && scalarMethod[f.Type].method == "" && f.Type != "u32-array" && f.Type != "u16-array" {
			g.fail("%s.%s: enum/flags only apply to integer fields", owner, f.Name)
		}
		// Go types.
		switch f.Type {
		case "u8", "u16", "u32", "i32", "u64", "u32-array", "u16-array":
			base := f.Type
			if base == "u32-array" {
				base = "u32"
			} else if base == "u16-array" {
				base = "u16"
			}
			sm := scalarMethod[base]
			r.scalar = sm.method
			t := sm.gotype
			if name := f.Enum + f.Flags; name != "" {
				esvc, e, err := g.u.lookupEnum(g.s, name)
				if err != nil {
					g.fail("%s.%s: %v", owner, f.Name, err)
				} else {
					if f.Enum != "" && e.Flags {
						g.fail("%s.%s: %s is a flag set: use \"flags\"", owner, f.Name, name)
					}
					if f.Flags != "" && !e.Flags {
						g.fail("%s.%s: %s is an enumeration: use \"enum\"", owner, f.Name, name)
					}
					t = g.qual(esvc, e.Name)
					r.conv = t
					r.enumBits = enumBits(e)
					r.esvc, r.edef = esvc, e
					switch {
					case r.enumBits == 64 && strings.HasSuffix(f.Type, "-array"):
						g.fail("%s.%s: %s has 64 bits; arrays of 64-bit enumerations are not supported", owner, f.Name, name)
					case r.enumBits == 32 && f.Type == "u64":
						g.fail("%s.%s: a u64 field needs a 64-bit enumeration (\"bits\": 64 on %s)", owner, f.Name, name)
					}
				}
			}
			if strings.HasSuffix(f.Type, "-array") {
				r.elemType = t
				r.goType = "[]" + t
			} else {
				r.goType = t
			}
		case "uuid":
			r.goType = "mbim.UUID"
		case "context-type":
			r.goType = "mbim.ContextType"
		case "ipv4", "ipv6", "ipv4-ref", "ipv6-ref":
			r.goType = "netip.Addr"
			g.imports["net/netip"] = true
		case "ipv4-array", "ipv6-array":
			r.goType = "[]netip.Addr"
			g.imports["net/netip"] = true
		case "string", "string-utf8", "tlv-string":
			r.goType = "string"
		case "string-array":
			r.goType = "[]string"
		case "bytes", "bytes-lo", "bytes-offset", "bytes-sized", "bytes-rest", "bytes-fixed", "bytes-inline":
			r.goType = "mbim.Bytes"
		case "struct", "struct-ref", "struct-embedded":
			r.goType = r.elemType
		case "struct-optional":
			r.goType = "*" + r.elemType
		case "struct-array", "struct-array-ref", "struct-array-inline", "struct-array-ms", "struct-array-ms-embedded":
			r.goType = "[]" + r.elemType
		case "tlv":
			r.goType = "mbim.TLV"
		case "tlv-u16-array":
			r.goType = "[]uint16"
		case "tlv-list":
			r.goType = "[]mbim.TLV"
		}
		if f.When != nil {
			g.resolveWhen(owner, r, byName)
		}
		byName[f.Name] = r
		out = append(out, r)
	}
	for _, r := range out {
		if r.derived && r.whenField != nil {
			g.fail("%s.%s: a count or size field cannot be conditional", owner, r.f.Name)
		}
		if r.derived && (r.f.Enum != "" || r.f.Flags != "") {
			g.fail("%s.%s: a count or size field cannot be an enum", owner, r.f.Name)
		}
	}
	return out
}

func cntVar(r *resolved) string { return "n" + r.goName }

// whenKinds lists the field types that may be conditional: lists whose
// size in the fixed part is their length (so an absent one takes no room)
// and inline variable fields.
var whenKinds = map[string]bool{
	"string-array": true, "struct-array-ref": true, "u32-array": true, "u16-array": true,
	"struct-array-inline": true, "bytes-sized": true, "bytes-rest": true, "bytes-inline": true,
	"struct-embedded": true, "tlv": true, "tlv-string": true, "tlv-u16-array": true, "tlv-list": true,
}

// resolveWhen resolves the condition of field r on an earlier field.
func (g *gen) resolveWhen(owner string, r *resolved, byName map[string]*resolved) {
	f := r.f
	if !whenKinds[f.Type] {
		g.fail("%s.%s: type %s cannot be conditional (only lists sized by their length and inline fields can)", owner, f.Name, f.Type)
		return
	}
	if len(f.When) != 1 {
		g.fail("%s.%s: \"when\" names exactly one field", owner, f.Name)
		return
	}
	for key, raw := range f.When {
		d := byName[key]
		if d == nil || d.derived || d.whenField != nil || scalarMethod[d.f.Type].method == "" || strings.HasSuffix(d.f.Type, "-array") {
			g.fail("%s.%s: \"when\" needs an earlier integer field that is not a count, size or conditional itself, not %q", owner, f.Name, key)
			return
		}
		var vals []json.RawMessage
		if err := json.Unmarshal(raw, &vals); err != nil {
			vals = []json.RawMessage{raw}
		}
		for _, v := range vals {
			var nick string
			if err := json.Unmarshal(v, &nick); err == nil && d.edef != nil {
				found := false
				for _, ev := range d.edef.vals {
					if ev.nick == nick {
						r.whenConsts = append(r.whenConsts, g.qual(d.esvc, d.edef.Name+camel(nick)))
						r.whenNums = append(r.whenNums, uint64(ev.value))
						found = true
					}
				}
				if !found {
					g.fail("%s.%s: \"when\": %s has no value %q", owner, f.Name, d.edef.Name, nick)
				}
				continue
			}
			n, err := parseNumber(v)
			if err != nil {
				g.fail("%s.%s: \"when\": %s: %v", owner, f.Name, v, err)
				continue
			}
			r.whenConsts = append(r.whenConsts, fmt.Sprintf("%s(%d)", d.goType, n))
			r.whenNums = append(r.whenNums, uint64(n))
		}
		r.whenField = d
	}
}

// condition returns the Go condition under which conditional field r is
// present.
func (g *gen) condition(r *resolved) string {
	var parts []string
	for _, c := range r.whenConsts {
		parts = append(parts, fmt.Sprintf("m.%s == %s", r.whenField.goName, c))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// structType emits a struct with its codec methods.
func (g *gen) structType(name, doc string, fields []fieldDef, errName string) {
	rs := g.resolve(name, fields)
	byGo := map[string]*resolved{}
	for _, r := range rs {
		byGo[r.goName] = r
	}
	d := strings.TrimSpace(doc)
	if strings.HasPrefix(d, "is ") {
		d = name + " " + d
	} else if d == "" {
		d = name + " is a structure of the " + g.s.Title + " service."
	} else {
		d = name + ": " + d
	}
	g.p("// %s", strings.ReplaceAll(d, "\n", "\n// "))
	g.p("type %s struct {", name)
	for _, r := range rs {
		if r.derived {
			continue
		}
		wire := r.f.Type
		if r.f.Type == "bytes-fixed" {
			wire += fmt.Sprintf(",%d", r.f.sizeN)
		} else if r.f.Count != "" {
			wire += ",len=" + r.f.Count
		} else if r.f.sizeField != "" {
			wire += ",len=" + r.f.sizeField
		}
		if r.whenField != nil {
			var nums []string
			for _, n := range r.whenNums {
				nums = append(nums, fmt.Sprint(n))
			}
			wire += ",when=" + r.whenField.f.Name + ":" + strings.Join(nums, "|")
		}
		tag := fmt.Sprintf("`json:\"%s\" mbim:\"%s\"`", r.f.Name, wire)
		comment := ""
		if r.f.Doc != "" {
			comment = " // " + strings.ReplaceAll(r.f.Doc, "\n", " ")
		}
		g.p("\t%s %s %s%s", r.goName, r.goType, tag, comment)
	}
	g.p("}")
	g.p("")

	// Fixed length (static + dynamic lists).
	static := 0
	var dyn []string
	for _, r := range rs {
		k := fieldKinds[r.f.Type]
		switch r.f.Type {
		case "bytes-fixed":
			static += r.f.sizeN
		case "struct":
			if r.fixedSize > 0 {
				static += r.fixedSize
			}
		case "string-array", "struct-array-ref":
			dyn = append(dyn, fmt.Sprintf("8*len(m.%s)", r.goName))
		case "u32-array":
			dyn = append(dyn, fmt.Sprintf("4*len(m.%s)", r.goName))
		case "u16-array":
			dyn = append(dyn, fmt.Sprintf("2*len(m.%s)", r.goName))
		case "struct-array-inline":
			if r.fixedSize > 0 {
				dyn = append(dyn, fmt.Sprintf("%d*len(m.%s)", r.fixedSize, r.goName))
			}
		default:
			if !k.inline {
				static += k.fixed
			}
		}
	}
	fixedExpr := fmt.Sprint(static)
	if len(dyn) > 0 {
		fixedExpr += " + " + strings.Join(dyn, " + ")
	}
	// The lists of conditional fields count only when present.
	var condDyn []string
	for _, r := range rs {
		if r.whenField == nil {
			continue
		}
		for i, d := range dyn {
			if strings.HasSuffix(d, "len(m."+r.goName+")") {
				condDyn = append(condDyn, fmt.Sprintf("if %s {\n\t\tn += %s\n\t}", g.condition(r), d))
				dyn[i] = ""
			}
		}
	}
	if len(condDyn) > 0 {
		var keep []string
		for _, d := range dyn {
			if d != "" {
				keep = append(keep, d)
			}
		}
		fixedExpr = fmt.Sprint(static)
		if len(keep) > 0 {
			fixedExpr += " + " + strings.Join(keep, " + ")
		}
	}

	// Decoder.
	g.p("// UnmarshalMBIM decodes %s from an information buffer. It overwrites", name)
	g.p("// every field of m, reusing the storage of its slices (see mbim.Info).")
	g.p("func (m *%s) UnmarshalMBIM(b []byte) error {", name)
	g.p("\tvar d mbim.Decoder")
	g.p("\td.Init(b, %q)", errName)
	g.p("\tm.decodeMBIM(&d)")
	g.p("\treturn d.Finish()")
	g.p("}")
	g.p("")
	g.decoder(name, rs, byGo)

	// Encoder.
	g.p("// AppendMBIM appends %s in its wire form to dst.", name)
	g.p("func (m *%s) AppendMBIM(dst []byte) ([]byte, error) {", name)
	g.p("\te := mbim.NewEncoder(dst, m.fixedLenMBIM())")
	g.p("\tm.encodeMBIM(&e)")
	g.p("\treturn e.Bytes(), e.Err()")
	g.p("}")
	g.p("")
	if len(condDyn) == 0 {
		g.p("func (m *%s) fixedLenMBIM() int { return %s }", name, fixedExpr)
	} else {
		g.p("func (m *%s) fixedLenMBIM() int {", name)
		g.p("\tn := %s", fixedExpr)
		for _, c := range condDyn {
			g.p("\t%s", c)
		}
		g.p("\treturn n")
		g.p("}")
	}
	g.p("")
	g.p("func (m *%s) encodeMBIM(e *mbim.Encoder) {", name)
	// A conditional field is written only when its condition holds.
	cond := func(r *resolved, emit func()) {
		if r.whenField == nil {
			emit()
			return
		}
		mark := g.buf.Len()
		g.p("\tif %s {", g.condition(r))
		body := g.buf.Len()
		emit()
		if g.buf.Len() == body {
			g.buf.Truncate(mark) // nothing to write for this field here
			return
		}
		g.p("\t}")
	}
	// Phase 1: fixed part.
	for _, r := range rs {
		if r.whenField != nil && (r.f.Type == "string-array" || r.f.Type == "struct-array-ref") {
			g.p("\tvar slot%s int", r.goName)
			g.p("\tif %s {", g.condition(r))
			g.p("\t\tslot%s = e.Slot(8 * len(m.%s))", r.goName, r.goName)
			g.p("\t}")
			continue
		}
		cond(r, func() { g.encodeFixed(r, byGo) })
	}
	// Phase 2: inline variable fields.
	for _, r := range rs {
		cond(r, func() { g.encodeInline(r) })
	}
	// Phase 3: variable data.
	for _, r := range rs {
		cond(r, func() { g.encodeVar(r) })
	}
	g.p("}")
	g.p("")

	// Size.
	g.p("// SizeMBIM returns the size of %s in its wire form.", name)
	g.p("func (m *%s) SizeMBIM() int {", name)
	g.p("\tn := m.fixedLenMBIM()")
	for _, r := range rs {
		cond(r, func() { g.sizeField(r) })
	}
	g.p("\treturn n")
	g.p("}")
	g.p("")
}

func (g *gen) encodeFixed(r *resolved, byGo map[string]*resolved) {
	f := r.f
	target := "m." + r.goName
	slot := "slot" + r.goName
	put := func(method, expr string) {
		switch method {
		case "U8":
			g.p("\te.U8(uint8(%s))", expr)
		case "U16":
			g.p("\te.U16(uint16(%s))", expr)
		case "I32":
			g.p("\te.I32(int32(%s))", expr)
		case "U64":
			g.p("\te.U64(uint64(%s))", expr)
		default:
			g.p("\te.U32(uint32(%s))", expr)
		}
	}
	switch f.Type {
	case "u8", "u16", "u32", "i32", "u64":
		if r.derived {
			var src []string
			var conds []*resolved
			for _, c := range append(append([]string(nil), r.counts...), r.sizes...) {
				if x := byGo[c]; x != nil && x.whenField != nil {
					conds = append(conds, x)
					continue
				}
				src = append(src, "len(m."+c+")")
			}
			if len(conds) > 0 {
				// The count of the lists present: the unconditional ones
				// and those whose condition holds must agree.
				v := "n" + r.goName
				g.p("\t%s := -1", v)
				for _, x := range src {
					g.p("\tif %s >= 0 && %s != %s {", v, x, v)
					g.p("\t\te.Fail(%q, \"arrays sharing this count differ in length: %%d and %%d\", %s, %s)", f.Name, v, x)
					g.p("\t}")
					g.p("\t%s = %s", v, x)
				}
				for _, x := range conds {
					g.p("\tif %s {", g.condition(x))
					g.p("\t\tif %s >= 0 && len(m.%s) != %s {", v, x.goName, v)
					g.p("\t\t\te.Fail(%q, \"arrays sharing this count differ in length: %%d and %%d\", %s, len(m.%s))", f.Name, v, x.goName)
					g.p("\t\t}")
					g.p("\t\t%s = len(m.%s)", v, x.goName)
					g.p("\t}")
				}
				g.p("\t%s = max(%s, 0)", v, v)
				put(r.scalar, v)
				return
			}
			for _, other := range src[1:] {
				g.p("\tif %s != %s {", other, src[0])
				g.p("\t\te.Fail(%q, \"arrays sharing this count differ in length: %%d and %%d\", %s, %s)", f.Name, src[0], other)
				g.p("\t}")
			}
			put(r.scalar, src[0])
			return
		}
		if r.conv != "" && (r.scalar == "U16" || r.scalar == "U8" || r.enumBits == 64 && r.scalar != "U64") {
			max := map[string]string{"U8": "0xff", "U16": "0xffff"}[r.scalar]
			if max == "" {
				max = "0xffffffff"
			}
			g.p("\tif uint64(%s) > %s {", target, max)
			g.p("\t\te.Fail(%q, \"value %%d does not fit in the field\", uint64(%s))", f.Name, target)
			g.p("\t}")
		}
		put(r.scalar, target)
	case "uuid":
		g.p("\te.UUID(%s)", target)
	case "context-type":
		g.p("\te.UUID(mbim.UUID(%s))", target)
	case "ipv4":
		g.p("\te.IPv4(%s)", target)
	case "ipv6":
		g.p("\te.IPv6(%s)", target)
	case "bytes-fixed":
		g.p("\tif len(%s) > %d {", target, f.sizeN)
		g.p("\t\te.Fail(%q, \"has %%d bytes, the field holds %d\", len(%s))", f.Name, f.sizeN, target)
		g.p("\t}")
		g.p("\te.FixedBytes(%s, %d)", target, f.sizeN)
	case "string", "string-utf8", "bytes", "bytes-lo", "struct-ref", "struct-optional", "struct-array-ms", "struct-array-ms-embedded":
		g.p("\t%s := e.PairSlot()", slot)
	case "bytes-offset", "ipv4-ref", "ipv6-ref", "ipv4-array", "ipv6-array", "struct-array":
		g.p("\t%s := e.OffsetSlot()", slot)
	case "string-array", "struct-array-ref":
		g.p("\t%s := e.Slot(8 * len(%s))", slot, target)
	case "u32-array", "u16-array":
		g.p("\tfor _, x := range %s {", target)
		if f.Type == "u16-array" {
			g.p("\t\te.U16(uint16(x))")
		} else {
			g.p("\t\te.U32(uint32(x))")
		}
		g.p("\t}")
	case "struct":
		g.p("\t%s.encodeMBIM(e)", target)
	case "struct-array-inline":
		g.p("\tfor i := range %s {", target)
		g.p("\t\t%s[i].encodeMBIM(e)", target)
		g.p("\t}")
	}
}

func (g *gen) encodeInline(r *resolved) {
	target := "m." + r.goName
	switch r.f.Type {
	case "bytes-sized":
		g.p("\te.AppendU32(uint32(len(%s)))", target)
		g.p("\te.Append(%s)", target)
	case "bytes-rest":
		g.p("\te.Append(%s)", target)
	case "bytes-inline":
		g.p("\te.AppendPadded(%s)", target)
	case "struct-embedded":
		g.p("\t{")
		g.p("\t\tc := e.EmbeddedChild(%s.fixedLenMBIM())", target)
		g.p("\t\t%s.encodeMBIM(&c)", target)
		g.p("\t\te.AdoptEmbedded(&c)")
		g.p("\t}")
	case "tlv":
		g.p("\te.TLV(%s)", target)
	case "tlv-string":
		g.p("\te.TLVString(%s)", target)
	case "tlv-u16-array":
		g.p("\te.TLVUint16Table(%s)", target)
	case "tlv-list":
		g.p("\tfor _, t := range %s {", target)
		g.p("\t\te.TLV(t)")
		g.p("\t}")
	}
}

func (g *gen) encodeVar(r *resolved) {
	target := "m." + r.goName
	slot := "slot" + r.goName
	switch r.f.Type {
	case "string":
		g.p("\te.StringData(%s, %s)", slot, target)
	case "string-utf8":
		g.p("\te.StringUTF8Data(%s, %s)", slot, target)
	case "bytes":
		g.p("\te.OLData(%s, %s)", slot, target)
	case "bytes-lo":
		g.p("\te.LOData(%s, %s)", slot, target)
	case "bytes-offset":
		g.p("\te.OffsetData(%s, %s)", slot, target)
	case "ipv4-ref":
		g.p("\te.IPv4Data(%s, %s)", slot, target)
	case "ipv6-ref":
		g.p("\te.IPv6Data(%s, %s)", slot, target)
	case "string-array":
		g.p("\tfor i, s := range %s {", target)
		g.p("\t\te.StringData(%s+8*i, s)", slot)
		g.p("\t}")
	case "ipv4-array", "ipv6-array":
		w, m := 4, "IPv4"
		if r.f.Type == "ipv6-array" {
			w, m = 16, "IPv6"
		}
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(%d * len(%s))", w, target)
		g.p("\t\tfor _, a := range %s {", target)
		g.p("\t\t\tc.%s(a)", m)
		g.p("\t\t}")
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndOffset(%s, start)", slot)
		g.p("\t}")
	case "struct-ref":
		g.p("\t{")
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(%s.fixedLenMBIM())", target)
		g.p("\t\t%s.encodeMBIM(&c)", target)
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndRef(%s, start)", slot)
		g.p("\t}")
	case "struct-optional":
		g.p("\tif %s != nil {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(%s.fixedLenMBIM())", target)
		g.p("\t\t%s.encodeMBIM(&c)", target)
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndRef(%s, start)", slot)
		g.p("\t}")
	case "struct-array":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(%d * len(%s))", r.fixedSize, target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\t%s[i].encodeMBIM(&c)", target)
		g.p("\t\t}")
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndOffset(%s, start)", slot)
		g.p("\t}")
	case "struct-array-ref":
		g.p("\tfor i := range %s {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(%s[i].fixedLenMBIM())", target)
		g.p("\t\t%s[i].encodeMBIM(&c)", target)
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndRef(%s+8*i, start)", slot)
		g.p("\t}")
	case "struct-array-ms-embedded":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\te.AppendU32(uint32(len(%s)))", target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\tc := e.Child(%s[i].fixedLenMBIM())", target)
		g.p("\t\t\t%s[i].encodeMBIM(&c)", target)
		g.p("\t\t\te.Adopt(&c)")
		g.p("\t\t}")
		g.p("\t\te.EndRef(%s, start)", slot)
		g.p("\t}")
	case "struct-array-ms":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tstart := e.Offset()")
		g.p("\t\tc := e.Child(4 + %d*len(%s))", r.fixedSize, target)
		g.p("\t\tc.U32(uint32(len(%s)))", target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\t%s[i].encodeMBIM(&c)", target)
		g.p("\t\t}")
		g.p("\t\te.Adopt(&c)")
		g.p("\t\te.EndRef(%s, start)", slot)
		g.p("\t}")
	}
}

func (g *gen) sizeField(r *resolved) {
	target := "m." + r.goName
	switch r.f.Type {
	case "bytes-sized":
		g.p("\tn += 4 + len(%s)", target)
	case "bytes-rest":
		g.p("\tn += len(%s)", target)
	case "bytes-inline":
		g.p("\tn += mbim.Pad4(len(%s))", target)
	case "struct-embedded":
		g.p("\tn += mbim.Pad4(%s.SizeMBIM())", target)
	case "tlv":
		g.p("\tn += %s.Size()", target)
	case "tlv-string":
		g.p("\tn += mbim.TLVStringSize(%s)", target)
	case "tlv-u16-array":
		g.p("\tn += mbim.TLVHeaderLen + mbim.Pad4(2*len(%s))", target)
	case "tlv-list":
		g.p("\tfor _, t := range %s {", target)
		g.p("\t\tn += t.Size()")
		g.p("\t}")
	}
	// Variable data comes after every inline field; each item starts and
	// ends 4-aligned.
	switch r.f.Type {
	case "string":
		g.p("\tif %s != \"\" {", target)
		g.p("\t\tn = mbim.Pad4(n) + mbim.Pad4(mbim.UTF16Len(%s))", target)
		g.p("\t}")
	case "string-utf8":
		g.p("\tif %s != \"\" {", target)
		g.p("\t\tn = mbim.Pad4(n) + mbim.Pad4(len(%s))", target)
		g.p("\t}")
	case "bytes", "bytes-lo", "bytes-offset":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tn = mbim.Pad4(n) + mbim.Pad4(len(%s))", target)
		g.p("\t}")
	case "ipv4-ref":
		g.p("\tif %s.IsValid() {", target)
		g.p("\t\tn = mbim.Pad4(n) + 4")
		g.p("\t}")
	case "ipv6-ref":
		g.p("\tif %s.IsValid() {", target)
		g.p("\t\tn = mbim.Pad4(n) + 16")
		g.p("\t}")
	case "string-array":
		g.p("\tfor _, s := range %s {", target)
		g.p("\t\tif s != \"\" {")
		g.p("\t\t\tn = mbim.Pad4(n) + mbim.Pad4(mbim.UTF16Len(s))")
		g.p("\t\t}")
		g.p("\t}")
	case "ipv4-array", "ipv6-array":
		w := 4
		if r.f.Type == "ipv6-array" {
			w = 16
		}
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tn = mbim.Pad4(n) + %d*len(%s)", w, target)
		g.p("\t}")
	case "struct-ref":
		g.p("\tif sz := %s.SizeMBIM(); sz > 0 {", target)
		g.p("\t\tn = mbim.Pad4(mbim.Pad4(n) + sz)")
		g.p("\t}")
	case "struct-optional":
		g.p("\tif %s != nil {", target)
		g.p("\t\tif sz := %s.SizeMBIM(); sz > 0 {", target)
		g.p("\t\t\tn = mbim.Pad4(mbim.Pad4(n) + sz)")
		g.p("\t\t}")
		g.p("\t}")
	case "struct-array":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tn = mbim.Pad4(mbim.Pad4(n) + %d*len(%s))", r.fixedSize, target)
		g.p("\t}")
	case "struct-array-ref":
		g.p("\tfor i := range %s {", target)
		g.p("\t\tif sz := %s[i].SizeMBIM(); sz > 0 {", target)
		g.p("\t\t\tn = mbim.Pad4(mbim.Pad4(n) + sz)")
		g.p("\t\t}")
		g.p("\t}")
	case "struct-array-ms":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tn = mbim.Pad4(mbim.Pad4(n) + 4 + %d*len(%s))", r.fixedSize, target)
		g.p("\t}")
	case "struct-array-ms-embedded":
		g.p("\tif len(%s) > 0 {", target)
		g.p("\t\tn = mbim.Pad4(n) + 4")
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\tn = mbim.Pad4(n) + %s[i].SizeMBIM()", target)
		g.p("\t\t}")
		g.p("\t\tn = mbim.Pad4(n)")
		g.p("\t}")
	}
}

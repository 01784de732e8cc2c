package main

import (
	"fmt"
	"strings"
)

// The decoder of a structure reads its fixed part in chunks: runs of fields
// of constant size at constant offsets, checked against the buffer once
// (Decoder.Fixed) and then read with binary.LittleEndian at constant
// offsets. Fields of variable size in the fixed part (inline arrays), nested
// fixed structs, inline variable fields and conditional fields are read
// through the Decoder's checked sequential methods. Every field of the
// receiver is assigned (scalars, strings) or reset (slices to length 0
// keeping their storage, absent structures to zero or nil), so decoding into
// a used value leaves nothing of the old one.

// chunkable reports whether a field has a constant size in the fixed part
// and can be read at a constant offset, and that size.
func chunkable(r *resolved) (int, bool) {
	if r.whenField != nil {
		return 0, false
	}
	switch r.f.Type {
	case "u8", "u16", "u32", "i32", "u64", "uuid", "context-type", "ipv4", "ipv6",
		"string", "string-utf8", "bytes", "bytes-lo", "bytes-offset", "ipv4-ref", "ipv6-ref",
		"ipv4-array", "ipv6-array", "struct-ref", "struct-optional", "struct-array",
		"struct-array-ms", "struct-array-ms-embedded":
		return fieldKinds[r.f.Type].fixed, true
	case "bytes-fixed":
		return r.f.sizeN, true
	}
	return 0, false
}

// needsAt reports whether reading the field needs the position of the field
// (for errors about the data it references).
func needsAt(r *resolved) bool {
	switch r.f.Type {
	case "u8", "u16", "u32", "i32", "u64", "uuid", "context-type", "ipv4", "ipv6", "bytes-fixed":
		return false
	}
	return true
}

type decodeGen struct {
	g      *gen
	owner  string // Go type name
	rs     []*resolved
	byGo   map[string]*resolved
	chunk  []*resolved
	nchunk int
	tables []string // package-level layout tables to emit after the function
}

func (g *gen) decoder(name string, rs []*resolved, byGo map[string]*resolved) {
	dg := &decodeGen{g: g, owner: name, rs: rs, byGo: byGo}
	g.p("func (m *%s) decodeMBIM(d *mbim.Decoder) {", name)
	for _, r := range rs {
		if _, ok := chunkable(r); ok {
			dg.chunk = append(dg.chunk, r)
			continue
		}
		dg.flush()
		dg.sequential(r)
	}
	dg.flush()
	g.p("}")
	g.p("")
	for _, t := range dg.tables {
		g.p("%s", t)
	}
	if len(dg.tables) > 0 {
		g.p("")
	}
}

// countVar returns the local variable holding the count of array field r.
func (dg *decodeGen) countVar(r *resolved) string {
	for _, x := range dg.rs {
		for _, c := range x.counts {
			if c == r.goName {
				return cntVar(x)
			}
		}
	}
	return "0"
}

func (dg *decodeGen) sizeVar(r *resolved) string {
	if x := dg.byGo[exported(r.f.sizeField)]; x != nil {
		return cntVar(x)
	}
	return "0"
}

// le returns the expression reading a little-endian integer of the given
// width at offset o of chunk bytes b.
func (dg *decodeGen) le(b string, width, o int) string {
	dg.g.imports["encoding/binary"] = true
	switch width {
	case 1:
		return fmt.Sprintf("%s[%d]", b, o)
	case 2:
		return fmt.Sprintf("binary.LittleEndian.Uint16(%s[%d:])", b, o)
	case 8:
		return fmt.Sprintf("binary.LittleEndian.Uint64(%s[%d:])", b, o)
	}
	return fmt.Sprintf("binary.LittleEndian.Uint32(%s[%d:])", b, o)
}

var scalarWidth = map[string]int{"u8": 1, "u16": 2, "u32": 4, "i32": 4, "u64": 8}

// flush emits the pending chunk.
func (dg *decodeGen) flush() {
	if len(dg.chunk) == 0 {
		return
	}
	g := dg.g
	i := dg.nchunk
	dg.nchunk++
	b, p := fmt.Sprintf("b%d", i), fmt.Sprintf("p%d", i)
	table := fmt.Sprintf("fixed%sPart%d", dg.owner, i)
	size := 0
	var entries []string
	usesP := false
	for _, r := range dg.chunk {
		n, _ := chunkable(r)
		entries = append(entries, fmt.Sprintf("{Name: %q, Size: %d}", r.f.Name, n))
		size += n
		if needsAt(r) {
			usesP = true
		}
	}
	dg.tables = append(dg.tables, fmt.Sprintf("var %s = [...]mbim.FixedField{%s}", table, strings.Join(entries, ", ")))
	if usesP {
		g.p("\t%s := d.Pos()", p)
	}
	g.p("\t%s := d.Rest()", b)
	g.p("\tif len(%s) < %d {", b, size)
	g.p("\t\td.FailFixed(%s[:])", table)
	g.p("\t\treturn")
	g.p("\t}")
	g.p("\td.Advance(%d)", size)
	if size > 1 {
		g.p("\t_ = %s[%d]", b, size-1)
	}
	o := 0
	for _, r := range dg.chunk {
		n, _ := chunkable(r)
		dg.chunkField(r, b, p, o)
		o += n
	}
	dg.chunk = nil
}

// chunkField reads field r at offset o of chunk b (which starts at
// structure position p).
func (dg *decodeGen) chunkField(r *resolved, b, p string, o int) {
	g := dg.g
	f := r.f
	fn := fmt.Sprintf("%q", f.Name)
	target := "m." + r.goName
	at := fmt.Sprintf("%s+%d", p, o)
	if o == 0 {
		at = p
	}
	u32 := func(off int) string { return dg.le(b, 4, off) }
	switch f.Type {
	case "u8", "u16", "u32", "i32", "u64":
		expr := dg.le(b, scalarWidth[f.Type], o)
		if r.derived {
			if f.Type == "u64" {
				g.p("\t%s := %s", cntVar(r), expr)
			} else {
				g.p("\t%s := uint32(%s)", cntVar(r), expr)
			}
			return
		}
		conv := r.conv
		if conv == "" {
			conv = scalarMethod[f.Type].gotype
		}
		g.p("\t%s = %s(%s)", target, conv, expr)
	case "uuid":
		g.p("\t%s = mbim.UUID(%s[%d:%d])", target, b, o, o+16)
	case "context-type":
		g.p("\t%s = mbim.ContextType(%s[%d:%d])", target, b, o, o+16)
	case "ipv4":
		g.p("\t%s = netip.AddrFrom4([4]byte(%s[%d:%d]))", target, b, o, o+4)
	case "ipv6":
		g.p("\t%s = netip.AddrFrom16([16]byte(%s[%d:%d]))", target, b, o, o+16)
	case "bytes-fixed":
		g.p("\t%s = append(%s[:0], %s[%d:%d]...)", target, target, b, o, o+f.sizeN)
	case "string":
		g.p("\td.StringAt(&%s, %s, %s, %s, %s)", target, fn, at, u32(o), u32(o+4))
	case "string-utf8":
		g.p("\td.StringUTF8At(&%s, %s, %s, %s, %s)", target, fn, at, u32(o), u32(o+4))
	case "bytes":
		g.p("\t%s = d.BytesAt(%s, %s, %s, %s, %s)", target, target, fn, at, u32(o), u32(o+4))
	case "bytes-lo":
		g.p("\t%s = d.BytesAt(%s, %s, %s, %s, %s)", target, target, fn, at, u32(o+4), u32(o))
	case "bytes-offset":
		g.p("\t%s = d.BytesAt(%s, %s, %s, %s, %s)", target, target, fn, at, u32(o), dg.sizeVar(r))
	case "ipv4-ref":
		g.p("\t%s = d.IPv4At(%s, %s, %s)", target, fn, at, u32(o))
	case "ipv6-ref":
		g.p("\t%s = d.IPv6At(%s, %s, %s)", target, fn, at, u32(o))
	case "ipv4-array", "ipv6-array":
		w := 4
		if f.Type == "ipv6-array" {
			w = 16
		}
		g.p("\t%s = d.IPArrayAt(%s, %s, %s, %s, %s, %d)", target, target, fn, at, u32(o), dg.countVar(r), w)
	case "struct-ref", "struct-optional", "struct-array-ms", "struct-array-ms-embedded":
		dg.ref(r, fmt.Sprintf("d.EnterRef(%s, %s, %s, %s)", fn, at, u32(o), u32(o+4)))
	case "struct-array":
		g.p("\tif f, n := d.EnterArray(%s, %s, %s, %s, %d); n > 0 {", fn, at, u32(o), dg.countVar(r), r.fixedSize)
		g.p("\t\t%s = mbim.Resize(%s, n)", target, target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t}")
		g.p("\t\td.Leave(f)")
		g.p("\t} else {")
		g.p("\t\t%s = %s[:0]", target, target)
		g.p("\t}")
	default:
		g.fail("%s.%s: no chunked decoder for %s", dg.owner, f.Name, f.Type)
	}
}

// ref emits the decoding of a structure (or MS array) referenced by an OL
// pair, entered with the given expression.
func (dg *decodeGen) ref(r *resolved, enter string) {
	g := dg.g
	f := r.f
	fn := fmt.Sprintf("%q", f.Name)
	target := "m." + r.goName
	g.p("\tif f, ok := %s; ok {", enter)
	switch f.Type {
	case "struct-ref":
		g.p("\t\t%s.decodeMBIM(d)", target)
	case "struct-optional":
		g.p("\t\tif %s == nil {", target)
		g.p("\t\t\t%s = new(%s)", target, r.elemType)
		g.p("\t\t}")
		g.p("\t\t%s.decodeMBIM(d)", target)
	case "struct-array-ms":
		g.p("\t\t%s = mbim.Resize(%s, d.CheckCount(%s, d.U32(%s), 4, %d))", target, target, fn, fn, r.fixedSize)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t}")
	case "struct-array-ms-embedded":
		g.p("\t\t%s = mbim.Resize(%s, d.CheckCount(%s, d.U32(%s), 4, %d))", target, target, fn, fn, max(r.minSize, 1))
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\tif e, ok := d.EnterEmbedded(%s); ok {", fn)
		g.p("\t\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t\t\td.LeaveEmbedded(e)")
		g.p("\t\t\t}")
		g.p("\t\t}")
	}
	g.p("\t\td.Leave(f)")
	g.p("\t} else {")
	dg.reset(r, "\t\t")
	g.p("\t}")
}

// reset emits the statement that empties field r.
func (dg *decodeGen) reset(r *resolved, indent string) {
	g := dg.g
	target := "m." + r.goName
	switch {
	case r.derived:
	case strings.HasPrefix(r.goType, "[]") || r.goType == "mbim.Bytes":
		g.p("%s%s = %s[:0]", indent, target, target)
	case strings.HasPrefix(r.goType, "*"):
		g.p("%s%s = nil", indent, target)
	case r.goType == "string":
		g.p("%s%s = \"\"", indent, target)
	case r.goType == "mbim.TLV":
		g.p("%s%s = mbim.TLV{Data: %s.Data[:0]}", indent, target, target)
	case r.goType == "netip.Addr":
		g.p("%s%s = netip.Addr{}", indent, target)
	default:
		g.p("%s%s = %s{}", indent, target, r.goType)
	}
}

// sequential emits a field read through the checked Decoder methods, at
// the read position.
func (dg *decodeGen) sequential(r *resolved) {
	if r.whenField == nil {
		dg.sequentialField(r)
		return
	}
	g := dg.g
	g.p("\tif %s {", g.condition(r))
	dg.sequentialField(r)
	g.p("\t} else {")
	dg.reset(r, "\t\t")
	g.p("\t}")
}

func (dg *decodeGen) sequentialField(r *resolved) {
	g := dg.g
	f := r.f
	fn := fmt.Sprintf("%q", f.Name)
	target := "m." + r.goName
	switch f.Type {
	case "u8", "u16", "u32", "i32", "u64":
		if r.derived {
			if f.Type == "u64" {
				g.p("\t%s := d.U64(%s)", cntVar(r), fn)
			} else {
				g.p("\t%s := uint32(d.%s(%s))", cntVar(r), r.scalar, fn)
			}
			return
		}
		if r.conv != "" {
			g.p("\t%s = %s(d.%s(%s))", target, r.conv, r.scalar, fn)
		} else {
			g.p("\t%s = d.%s(%s)", target, r.scalar, fn)
		}
	case "uuid":
		g.p("\t%s = d.UUID(%s)", target, fn)
	case "context-type":
		g.p("\t%s = mbim.ContextType(d.UUID(%s))", target, fn)
	case "ipv4":
		g.p("\t%s = d.IPv4(%s)", target, fn)
	case "ipv6":
		g.p("\t%s = d.IPv6(%s)", target, fn)
	case "ipv4-ref":
		g.p("\t%s = d.IPv4Ref(%s)", target, fn)
	case "ipv6-ref":
		g.p("\t%s = d.IPv6Ref(%s)", target, fn)
	case "bytes-fixed":
		g.p("\t%s = d.FixedBytesTo(%s, %s, %d)", target, target, fn, f.sizeN)
	case "string":
		g.p("\td.StringTo(&%s, %s)", target, fn)
	case "string-utf8":
		g.p("\td.StringUTF8To(&%s, %s)", target, fn)
	case "bytes":
		g.p("\t%s = d.BytesTo(%s, %s)", target, target, fn)
	case "bytes-lo":
		g.p("\t%s = d.BytesLOTo(%s, %s)", target, target, fn)
	case "bytes-offset":
		g.p("\t{")
		g.p("\t\tat := d.Pos()")
		g.p("\t\t%s = d.BytesAt(%s, %s, at, d.U32(%s), %s)", target, target, fn, fn, dg.sizeVar(r))
		g.p("\t}")
	case "bytes-sized":
		g.p("\t%s = d.SizedBytesTo(%s, %s)", target, target, fn)
	case "bytes-rest":
		g.p("\t%s = d.RestBytesTo(%s, %s)", target, target, fn)
	case "bytes-inline":
		g.p("\t%s = d.InlineBytesTo(%s, %s, %s)", target, target, fn, dg.sizeVar(r))
	case "string-array":
		g.p("\tif n := d.CheckCount(%s, %s, d.Pos(), 8); n > 0 {", fn, dg.countVar(r))
		g.p("\t\t%s = mbim.Resize(%s, n)", target, target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\td.StringTo(&%s[i], %s)", target, fn)
		g.p("\t\t}")
		g.p("\t} else {")
		g.p("\t\t%s = %s[:0]", target, target)
		g.p("\t}")
	case "u32-array":
		g.p("\t%s = mbim.U32Array(d, %s, %s, %s)", target, target, fn, dg.countVar(r))
	case "u16-array":
		g.p("\t%s = mbim.U16Array(d, %s, %s, %s)", target, target, fn, dg.countVar(r))
	case "ipv4-array", "ipv6-array":
		w := 4
		if f.Type == "ipv6-array" {
			w = 16
		}
		g.p("\t{")
		g.p("\t\tat := d.Pos()")
		g.p("\t\t%s = d.IPArrayAt(%s, %s, at, d.U32(%s), %s, %d)", target, target, fn, fn, dg.countVar(r), w)
		g.p("\t}")
	case "struct":
		g.p("\t%s.decodeMBIM(d)", target)
	case "struct-ref", "struct-optional", "struct-array-ms", "struct-array-ms-embedded":
		dg.ref(r, fmt.Sprintf("d.EnterPair(%s)", fn))
	case "struct-array":
		g.p("\t{")
		g.p("\t\tat := d.Pos()")
		g.p("\t\tif f, n := d.EnterArray(%s, at, d.U32(%s), %s, %d); n > 0 {", fn, fn, dg.countVar(r), r.fixedSize)
		g.p("\t\t\t%s = mbim.Resize(%s, n)", target, target)
		g.p("\t\t\tfor i := range %s {", target)
		g.p("\t\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t\t}")
		g.p("\t\t\td.Leave(f)")
		g.p("\t\t} else {")
		g.p("\t\t\t%s = %s[:0]", target, target)
		g.p("\t\t}")
		g.p("\t}")
	case "struct-array-ref":
		g.p("\tif n := d.CheckCount(%s, %s, d.Pos(), 8); n > 0 {", fn, dg.countVar(r))
		g.p("\t\t%s = mbim.Resize(%s, n)", target, target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\tif f, ok := d.EnterPair(%s); ok {", fn)
		g.p("\t\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t\t\td.Leave(f)")
		g.p("\t\t\t} else {")
		g.p("\t\t\t\t%s[i] = %s{}", target, r.elemType)
		g.p("\t\t\t}")
		g.p("\t\t}")
		g.p("\t} else {")
		g.p("\t\t%s = %s[:0]", target, target)
		g.p("\t}")
	case "struct-array-inline":
		g.p("\tif n := d.CheckCount(%s, %s, d.Pos(), %d); n > 0 {", fn, dg.countVar(r), r.fixedSize)
		g.p("\t\t%s = mbim.Resize(%s, n)", target, target)
		g.p("\t\tfor i := range %s {", target)
		g.p("\t\t\t%s[i].decodeMBIM(d)", target)
		g.p("\t\t}")
		g.p("\t} else {")
		g.p("\t\t%s = %s[:0]", target, target)
		g.p("\t}")
	case "struct-embedded":
		g.p("\tif e, ok := d.EnterEmbedded(%s); ok {", fn)
		g.p("\t\t%s.decodeMBIM(d)", target)
		g.p("\t\td.LeaveEmbedded(e)")
		g.p("\t}")
	case "tlv":
		g.p("\td.TLVTo(&%s, %s)", target, fn)
	case "tlv-string":
		g.p("\td.TLVStringTo(&%s, %s)", target, fn)
	case "tlv-u16-array":
		g.p("\t%s = d.TLVUint16TableTo(%s, %s)", target, target, fn)
	case "tlv-list":
		if f.Count != "" {
			g.p("\t%s = d.TLVListTo(%s, %s, int(%s))", target, target, fn, dg.countVar(r))
		} else {
			g.p("\t%s = d.TLVListTo(%s, %s, -1)", target, target, fn)
		}
	default:
		g.fail("%s.%s: no decoder for %s", dg.owner, f.Name, f.Type)
	}
}

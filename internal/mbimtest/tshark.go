package mbimtest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/gombim/gombim/mbim"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
)

// LinkTypeUser0 is DLT_USER0, which the tshark invocation below maps to
// Wireshark's MBIM control dissector ("mbim.control").
const LinkTypeUser0 = 147

// WritePcap writes packets as a classic pcap file (microsecond timestamps,
// little-endian) with the given link type, one record per packet.
func WritePcap(w io.Writer, linkType uint32, packets [][]byte) error {
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // magic
	binary.LittleEndian.PutUint16(hdr[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	// hdr[8:16]: thiszone and sigfigs, 0
	binary.LittleEndian.PutUint32(hdr[16:], 1<<18) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], linkType)
	buf := bytes.NewBuffer(hdr[:])
	for i, p := range packets {
		var rec [16]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(1_700_000_000+i/1_000_000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i%1_000_000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(p)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(p)))
		buf.Write(rec[:])
		buf.Write(p)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ErrNoTshark is returned when tshark is not installed.
var ErrNoTshark = errors.New("tshark is not installed (apt-get install tshark)")

// PDMLField is one node of Wireshark's dissection tree as tshark prints it
// with -T pdml. Show is the value without its label (numbers in decimal
// for integer fields, even those with value strings), Value the raw bytes
// in hex, Pos and Size the place in the frame.
type PDMLField struct {
	Name     string       `xml:"name,attr"`
	ShowName string       `xml:"showname,attr"`
	Show     string       `xml:"show,attr"`
	Value    string       `xml:"value,attr"`
	Pos      int          `xml:"pos,attr"`
	Size     int          `xml:"size,attr"`
	Hide     string       `xml:"hide,attr"`
	Fields   []*PDMLField `xml:"field"`
	Protos   []*PDMLField `xml:"proto"`
}

// PDMLPacket is one packet of tshark's PDML output: its protocol layers.
type PDMLPacket struct {
	Protos []*PDMLField `xml:"proto"`
}

// Proto returns the layer with that name, or nil.
func (p *PDMLPacket) Proto(name string) *PDMLField {
	for _, pr := range p.Protos {
		if pr.Name == name {
			return pr
		}
	}
	return nil
}

// Walk calls fn for f and every field below it, depth first, in the order
// Wireshark added them; fn returns false to skip a node's children.
func (f *PDMLField) Walk(fn func(f *PDMLField) bool) {
	if !fn(f) {
		return
	}
	for _, c := range f.Fields {
		c.Walk(fn)
	}
	for _, c := range f.Protos {
		c.Walk(fn)
	}
}

// TsharkMBIM has tshark dissect pcapFile (written by WritePcap with
// LinkTypeUser0) with the MBIM control dissector at the given MBIMEx
// version ("1.0" ... "4.0"), and returns the packets in file order.
func TsharkMBIM(pcapFile, mbimex string) ([]PDMLPacket, error) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return nil, ErrNoTshark
	}
	cmd := exec.Command(bin, "-n", "-r", pcapFile, "-T", "pdml",
		// The user DLT table is a UAT: entries are the DLT's name, the
		// payload dissector, then header/trailer sizes and dissectors.
		"-o", `uat:user_dlts:"User 0 (DLT=147)","mbim.control","0","","0",""`,
		"-o", "mbim.extended_version:"+mbimex,
		// SMS PDUs are 3GPP ones (not chosen by the cellular class of the
		// last device-caps message).
		"-o", "mbim.sms_pdu_format:3GPP",
	)
	// Keep the user's profile and preferences out of the result.
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+os.TempDir()+"/gombim-tshark-empty-profile")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v\n%s", err, stderr.String())
	}
	var doc struct {
		Packets []PDMLPacket `xml:"packet"`
	}
	// tshark copies undecodable bytes of some strings into its XML as is.
	out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	if err := xml.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("tshark's PDML: %v", err)
	}
	if s := strings.TrimSpace(stripRootWarning(stderr.String())); s != "" {
		return doc.Packets, fmt.Errorf("tshark warned: %s", s)
	}
	return doc.Packets, nil
}

// stripRootWarning drops the warning tshark prints when run as root.
func stripRootWarning(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "Running as user \"root\"") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// WSLeaf is one value Wireshark shows inside an information buffer: a
// named field (its subtree, such as the bits of a flag set, is not
// walked), or an MBIMEx information element taken as a whole.
type WSLeaf struct {
	Keys  []string // normalised names: the field's last name component and its label
	Field string   // Wireshark's field name ("" for an information element)
	Label string
	Show  string // the value as Wireshark reads it
	Value string // the raw bytes in hex
	Pos   int

	TLV     bool   // an information element: TLVType, TLVData (hex), TLVStr
	TLVType uint64 // for wchar-str elements, TLVStr is the text
	TLVData string
	TLVStr  string
}

// NormName normalises a field name or label for matching: lower case,
// letters and digits only.
func NormName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// label is the part of a showname before its value.
func label(f *PDMLField) string {
	if f.ShowName == "" {
		return f.Show
	}
	l, _, _ := strings.Cut(f.ShowName, ": ")
	return l
}

// InfoBuffer returns the "Information Buffer" node of an MBIM packet, or
// nil when the message has none.
func InfoBuffer(p *PDMLPacket) *PDMLField {
	mb := p.Proto("mbim")
	if mb == nil {
		return nil
	}
	for _, f := range mb.Fields {
		if f.Name == "" && f.Show == "Information Buffer" {
			return f
		}
	}
	return nil
}

// WSLeaves flattens the dissection of an information buffer into leaves,
// in Wireshark's order.
func WSLeaves(ib *PDMLField) []WSLeaf {
	var out []WSLeaf
	var walk func(f *PDMLField)
	walk = func(f *PDMLField) {
		if strings.HasPrefix(f.Name, "_ws.") {
			return // expert infos: see Expert
		}
		if f.Name != "" {
			last := f.Name[strings.LastIndexByte(f.Name, '.')+1:]
			out = append(out, WSLeaf{
				Keys: []string{NormName(last), NormName(label(f))}, Field: f.Name,
				Label: label(f), Show: f.Show, Value: f.Value, Pos: f.Pos,
			})
			return
		}
		if len(f.Fields) > 0 && f.Fields[0].Name == "mbim.control.tlv_ie.type" {
			l := WSLeaf{Keys: []string{NormName(f.Show)}, Label: f.Show, Pos: f.Pos, TLV: true}
			for _, c := range f.Fields {
				switch c.Name {
				case "mbim.control.tlv_ie.type":
					l.TLVType, _ = strconv.ParseUint(c.Show, 0, 64)
				case "mbim.control.tlv_ie.reserved", "mbim.control.tlv_ie.padding_length",
					"mbim.control.tlv_ie.data_length", "mbim.control.tlv_ie.padding":
				case "mbim.control.tlv_ie.wchar_str_data":
					l.TLVStr, l.TLVData = c.Show, c.Value
				case "mbim.control.tlv_ie.unnamed_data":
					l.TLVData = c.Value
				default:
					// The element's data dissected as a structure.
					l.TLVData += "?"
				}
			}
			out = append(out, l)
			return
		}
		for _, c := range f.Fields {
			walk(c)
		}
		for _, c := range f.Protos {
			walk(c)
		}
	}
	for _, c := range ib.Fields {
		walk(c)
	}
	return out
}

// ExpertInfo is one of Wireshark's expert infos on a packet.
type ExpertInfo struct {
	Name    string // as registered, e.g. "mbim.oversized_string", "_ws.malformed.expert"
	Message string
	Field   string // the field it is attached to, if any
}

// Expert returns the expert infos of a packet (Wireshark's warnings and
// errors, "Malformed Packet" included).
func Expert(p *PDMLPacket) []ExpertInfo {
	var out []ExpertInfo
	var walk func(f, parent *PDMLField)
	walk = func(f, parent *PDMLField) {
		if f.Name == "_ws.expert" {
			e := ExpertInfo{Message: f.ShowName}
			if parent != nil {
				e.Field = parent.Name
			}
			for _, c := range f.Fields {
				switch {
				case c.Name == "_ws.expert.message":
					e.Message = c.Show
				case !strings.HasPrefix(c.Name, "_ws.expert."):
					e.Name = c.Name
				}
			}
			out = append(out, e)
			return
		}
		for _, c := range f.Fields {
			walk(c, f)
		}
		for _, c := range f.Protos {
			walk(c, f)
		}
	}
	for _, pr := range p.Protos {
		walk(pr, nil)
	}
	return out
}

// TsharkFieldTypes returns the type (FT_UINT32, FT_BOOLEAN...) of every
// field tshark knows, by field name.
func TsharkFieldTypes() (map[string]string, error) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return nil, ErrNoTshark
	}
	cmd := exec.Command(bin, "-G", "fields")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+os.TempDir()+"/gombim-tshark-empty-profile")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark -G fields: %v", err)
	}
	types := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, "\t")
		if len(f) >= 4 && f[0] == "F" {
			types[f[2]] = f[3]
		}
	}
	return types, nil
}

// Leaf is one value of a decoded payload, named as in the definitions.
type Leaf struct {
	Name string // NormName of the field name
	Path string // e.g. "Providers[1].ProviderId"
	Wire string // the field's wire type
	Bits int    // integers: the wire width
	Uint uint64 // integers (signed ones as their wire bits)
	Str  string // strings, UUIDs, addresses; bytes and TLV data in hex
	Type uint64 // TLVs: the element type
}

// Leaves flattens a generated payload value (a pointer to a struct) into
// its leaves, in field order; array elements each give a leaf named as the
// array. Empty strings and byte arrays and absent addresses are left out
// when empty: the wire has no place for them.
func Leaves(p any) []Leaf {
	var out []Leaf
	leavesOf(reflect.ValueOf(p).Elem(), "", &out)
	return out
}

func leavesOf(v reflect.Value, prefix string, out *[]Leaf) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		wire, _, _ := strings.Cut(sf.Tag.Get("mbim"), ",")
		leafOf(v.Field(i), wire, sf.Name, prefix+sf.Name, out)
	}
}

var bitsOf = map[string]int{"u8": 8, "u16": 16, "u16-array": 16, "u32": 32, "i32": 32, "u32-array": 32, "u64": 64}

func leafOf(f reflect.Value, wire, name, path string, out *[]Leaf) {
	l := Leaf{Name: NormName(name), Path: path, Wire: wire}
	switch wire {
	case "u8", "u16", "u32", "i32", "u64":
		l.Bits = bitsOf[wire]
		if f.CanInt() {
			l.Uint = uint64(f.Int()) & (1<<l.Bits - 1)
		} else {
			l.Uint = f.Uint()
		}
	case "u32-array", "u16-array":
		for i := 0; i < f.Len(); i++ {
			leafOf(f.Index(i), strings.TrimSuffix(wire, "-array"), name, fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	case "uuid", "context-type":
		var u mbim.UUID
		reflect.ValueOf(&u).Elem().Set(f.Convert(reflect.TypeOf(u)))
		l.Str = u.String()
	case "ipv4", "ipv6", "ipv4-ref", "ipv6-ref":
		a := f.Interface().(netip.Addr)
		if !a.IsValid() {
			return
		}
		l.Str = a.String()
	case "ipv4-array", "ipv6-array":
		for i := 0; i < f.Len(); i++ {
			leafOf(f.Index(i), strings.TrimSuffix(wire, "-array"), name, fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	case "string", "string-utf8":
		if f.Len() == 0 {
			return
		}
		l.Str = f.String()
	case "string-array":
		for i := 0; i < f.Len(); i++ {
			leafOf(f.Index(i), "string", name, fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	case "bytes", "bytes-lo", "bytes-offset", "bytes-sized", "bytes-rest", "bytes-fixed", "bytes-inline":
		if f.Len() == 0 {
			return
		}
		l.Str = hex.EncodeToString(f.Bytes())
	case "struct", "struct-ref", "struct-embedded":
		leavesOf(f, path+".", out)
		return
	case "struct-optional":
		if !f.IsNil() {
			leavesOf(f.Elem(), path+".", out)
		}
		return
	case "struct-array", "struct-array-ref", "struct-array-inline", "struct-array-ms", "struct-array-ms-embedded":
		for i := 0; i < f.Len(); i++ {
			leavesOf(f.Index(i), fmt.Sprintf("%s[%d].", path, i), out)
		}
		return
	case "tlv":
		t := f.Interface().(mbim.TLV)
		l.Type, l.Str = uint64(t.Type), hex.EncodeToString(t.Data)
	case "tlv-string":
		l.Type, l.Str = uint64(mbim.TLVWCharStr), f.String()
	case "tlv-u16-array":
		l.Type = uint64(mbim.TLVUint16Tbl)
		var b []byte
		for i := 0; i < f.Len(); i++ {
			b = binary.LittleEndian.AppendUint16(b, uint16(f.Index(i).Uint()))
		}
		l.Str = hex.EncodeToString(b)
	case "tlv-list":
		for i := 0; i < f.Len(); i++ {
			leafOf(f.Index(i), "tlv", name, fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	default:
		panic("mbimtest: no leaves for wire type " + wire)
	}
	*out = append(*out, l)
}

package mbim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodeError reports malformed data inside an information buffer: which
// message, which field, and at which offset of the information buffer.
type DecodeError struct {
	Message string // e.g. "basic-connect register-state response"
	Field   string // e.g. "ProviderId"
	Offset  int    // offset in the information buffer where the problem is
	Reason  string
}

func (e *DecodeError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("mbim: field %s at offset %d: %s", e.Field, e.Offset, e.Reason)
	}
	return fmt.Sprintf("mbim: %s: field %s at offset %d: %s", e.Message, e.Field, e.Offset, e.Reason)
}

// maxPendingStrings is how many strings a Decoder collects before it
// converts them (see Decoder).
const maxPendingStrings = 16

// pendingString is a string field waiting for its text: n bytes at off in
// the outermost buffer.
type pendingString struct {
	dst    *string
	off, n uint32
}

// Decoder reads the fields of one MBIM information buffer. It is a cursor
// over the current structure (the information buffer, or a structure
// referenced from it: offsets in OL pairs are relative to the start of the
// structure that contains them, which is b[0] of the current structure).
// Generated code enters referenced structures with EnterRef or EnterArray
// and returns with Leave, so one Decoder, on the caller's stack, decodes a
// whole message.
//
// The decoder is sticky: after the first error, reads return zero values
// and Err (or Finish) reports that first error. Generated code reads all
// fields and checks once.
//
// Strings are not converted as they are met: StringAt records where the
// text is and which string field receives it, and Finish (or a full batch
// of maxPendingStrings) converts all recorded strings into one allocation
// sized to their total, so a message's strings cost one allocation, not one
// each. The strings do not keep the input buffer alive.
//
// A Decoder never allocates except for the error, that string buffer, and
// the slices of the caller's value (which the ...To methods reuse when their
// capacity suffices).
type Decoder struct {
	// The current structure is root[abs:end]. It is kept as two offsets
	// rather than a slice so that entering and leaving structures stores
	// no pointer (no write barrier while the garbage collector runs).
	root []byte
	abs  int // start of the current structure in root
	end  int // its end
	pos  int // read position, relative to abs
	ext  int // end of the furthest data referenced from the structure (see EnterEmbedded)
	err  error
	name string

	nstr int
	utf8 uint32 // bit i: strs[i] is UTF-8 rather than UTF-16LE
	strs [maxPendingStrings]pendingString
}

// NewDecoder starts decoding the structure at b. name names the message in
// errors ("basic-connect register-state response").
func NewDecoder(b []byte, name string) Decoder {
	return Decoder{root: b, end: len(b), name: name}
}

// Init starts decoding b with a zero Decoder, as NewDecoder does, but in
// place: a Decoder is large, and copying one out of NewDecoder costs more
// than decoding a small message.
//
//	var d mbim.Decoder
//	d.Init(b, "basic-connect signal-state response")
func (d *Decoder) Init(b []byte, name string) {
	d.root, d.end, d.name = b, len(b), name
}

// cur returns the current structure.
func (d *Decoder) cur() []byte { return d.root[d.abs:d.end:d.end] }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Finish converts the strings still pending and returns the first error.
// On error the pending string fields are set to "" instead.
func (d *Decoder) Finish() error {
	if d.nstr > 0 {
		d.flushStrings()
	}
	return d.err
}

// Pos returns the current read position within the structure.
func (d *Decoder) Pos() int { return d.pos }

// Len returns the size of the structure's buffer.
func (d *Decoder) Len() int { return d.end - d.abs }

// Remaining returns the bytes from the read position to the end.
func (d *Decoder) Remaining() int {
	if d.pos >= d.Len() {
		return 0
	}
	return d.Len() - d.pos
}

// Fail records an error at the given structure offset unless one is recorded.
func (d *Decoder) Fail(field string, off int, format string, args ...any) {
	if d.err != nil {
		return
	}
	d.err = &DecodeError{Message: d.name, Field: field, Offset: d.abs + off, Reason: fmt.Sprintf(format, args...)}
}

func (d *Decoder) need(field string, n int) bool {
	if d.err != nil {
		return false
	}
	if d.pos+n > (d.end-d.abs) || d.pos+n < d.pos {
		d.failShort(field, d.pos, n)
		return false
	}
	return true
}

func (d *Decoder) failShort(field string, at, n int) {
	left := d.Len() - at
	if left < 0 {
		left = 0
	}
	d.Fail(field, at, "need %d bytes, only %d left in %d-byte buffer", n, left, d.Len())
}

// FixedField names one field of a structure's fixed part, for the error
// that Fixed reports when the buffer is too short.
type FixedField struct {
	Name string
	Size int
}

// Fixed checks that the next n bytes of the structure (a fixed part whose
// fields are listed in layout, in order) are there, advances past them, and
// returns them. When fewer than n bytes are left it records an error naming
// the first field that does not fit, at its offset, and returns nil.
func (d *Decoder) Fixed(n int, layout []FixedField) []byte {
	if b := d.Rest(); n <= len(b) {
		d.pos += n
		return b[:n:n]
	}
	d.FailFixed(layout)
	return nil
}

// Rest returns the structure from the read position on. Generated code
// reads a fixed part with
//
//	b := d.Rest()
//	if len(b) < 48 {
//		d.FailFixed(layout)
//		return
//	}
//	d.Advance(48)
//
// (Fixed, with every step inlined), then reads b at constant offsets.
func (d *Decoder) Rest() []byte { return d.cur()[d.pos:] }

// Advance moves the read position n bytes on; the caller has checked that
// they are there.
func (d *Decoder) Advance(n int) { d.pos += n }

// FailFixed records an error naming the first field of the fixed part
// listed in layout (starting at the read position) that does not fit in the
// structure, at its offset.
func (d *Decoder) FailFixed(layout []FixedField) {
	if d.err != nil {
		return
	}
	p := d.pos
	off := p
	for _, f := range layout {
		if off+f.Size > d.Len() {
			d.failShort(f.Name, off, f.Size)
			return
		}
		off += f.Size
	}
	d.failShort("fixed part", p, off-p)
}

// U8 reads one byte.
func (d *Decoder) U8(field string) uint8 {
	if p := d.pos; d.err == nil && uint(p) < uint(d.Len()) {
		d.pos = p + 1
		return d.cur()[p]
	}
	d.need(field, 1)
	return 0
}

// U16 reads a little-endian uint16 (MBIMEx fields need not be aligned).
func (d *Decoder) U16(field string) uint16 {
	if p := d.pos; d.err == nil && uint(p)+2 <= uint(d.Len()) {
		d.pos = p + 2
		return binary.LittleEndian.Uint16(d.cur()[p:])
	}
	d.need(field, 2)
	return 0
}

// U32 reads a little-endian uint32.
func (d *Decoder) U32(field string) uint32 {
	if p := d.pos; d.err == nil && uint(p)+4 <= uint(d.Len()) {
		d.pos = p + 4
		return binary.LittleEndian.Uint32(d.cur()[p:])
	}
	d.need(field, 4)
	return 0
}

// I32 reads a little-endian int32.
func (d *Decoder) I32(field string) int32 { return int32(d.U32(field)) }

// U64 reads a little-endian uint64.
func (d *Decoder) U64(field string) uint64 {
	if p := d.pos; d.err == nil && uint(p)+8 <= uint(d.Len()) {
		d.pos = p + 8
		return binary.LittleEndian.Uint64(d.cur()[p:])
	}
	d.need(field, 8)
	return 0
}

// UUID reads a 16-byte UUID.
func (d *Decoder) UUID(field string) UUID {
	if p := d.pos; d.err == nil && uint(p)+16 <= uint(d.Len()) {
		d.pos = p + 16
		return UUID(d.cur()[p : p+16])
	}
	d.need(field, 16)
	return UUID{}
}

// IPv4 reads an inline IPv4 address.
func (d *Decoder) IPv4(field string) netip.Addr {
	if p := d.pos; d.err == nil && uint(p)+4 <= uint(d.Len()) {
		d.pos = p + 4
		return netip.AddrFrom4([4]byte(d.cur()[p : p+4]))
	}
	d.need(field, 4)
	return netip.Addr{}
}

// IPv6 reads an inline IPv6 address.
func (d *Decoder) IPv6(field string) netip.Addr {
	if p := d.pos; d.err == nil && uint(p)+16 <= uint(d.Len()) {
		d.pos = p + 16
		return netip.AddrFrom16([16]byte(d.cur()[p : p+16]))
	}
	d.need(field, 16)
	return netip.Addr{}
}

// Take returns the next n bytes (aliasing the input) and advances past them.
func (d *Decoder) Take(field string, n int) []byte {
	if p := d.pos; d.err == nil && n >= 0 && uint(p)+uint(n) <= uint(d.Len()) {
		d.pos = p + n
		return d.cur()[p : p+n : p+n]
	}
	d.need(field, n)
	return nil
}

// FixedBytes reads n inline bytes, copied.
func (d *Decoder) FixedBytes(field string, n int) Bytes {
	return d.FixedBytesTo(nil, field, n)
}

// FixedBytesTo reads n inline bytes into dst's storage when it is large
// enough.
func (d *Decoder) FixedBytesTo(dst Bytes, field string, n int) Bytes {
	b := d.Take(field, n)
	if b == nil {
		return dst[:0]
	}
	return append(dst[:0], b...)
}

// span checks that [off, off+n) lies within the structure, notes how far
// the structure's referenced data reaches, and returns the bytes. at is the
// position of the field that holds off, for the error.
func (d *Decoder) span(field string, at int, off, n uint32, what string) ([]byte, bool) {
	if d.err != nil {
		return nil, false
	}
	end := uint64(off) + uint64(n)
	if end > uint64(d.Len()) {
		d.Fail(field, at, "%s at offset %d with length %d lies beyond the %d-byte buffer", what, off, n, d.Len())
		return nil, false
	}
	if int(end) > d.ext {
		d.ext = int(end)
	}
	return d.cur()[off:end:end], true
}

// Pair reads an offset/length pair at the read position: at is where the
// pair starts.
func (d *Decoder) Pair(field string) (at int, off, n uint32) {
	if p, b := d.pos, d.cur(); d.err == nil && p+8 <= len(b) {
		d.pos = p + 8
		return p, binary.LittleEndian.Uint32(b[p:]), binary.LittleEndian.Uint32(b[p+4:])
	}
	d.need(field, 8)
	return d.pos, 0, 0
}

// OL reads an offset/length pair and returns the referenced bytes (aliasing
// the input). A zero length yields nil whatever the offset says.
func (d *Decoder) OL(field string) []byte {
	at, off, n := d.Pair(field)
	if n == 0 {
		return nil
	}
	b, _ := d.span(field, at, off, n, "data")
	return b
}

// LO reads a length/offset pair (the order used by the UICC low-level access
// service) and returns the referenced bytes.
func (d *Decoder) LO(field string) []byte {
	at, n, off := d.Pair(field)
	if n == 0 {
		return nil
	}
	b, _ := d.span(field, at, off, n, "data")
	return b
}

// BytesAt copies the n bytes at off (read from the field at position at)
// into dst's storage when it is large enough; n == 0 gives dst[:0] (nil for
// a nil dst).
func (d *Decoder) BytesAt(dst Bytes, field string, at int, off, n uint32) Bytes {
	if n == 0 {
		return dst[:0]
	}
	b, ok := d.span(field, at, off, n, "data")
	if !ok {
		return dst[:0]
	}
	return append(dst[:0], b...)
}

// BytesTo reads an OL pair at the read position and copies the data as
// BytesAt does.
func (d *Decoder) BytesTo(dst Bytes, field string) Bytes {
	at, off, n := d.Pair(field)
	return d.BytesAt(dst, field, at, off, n)
}

// BytesLOTo reads an LO pair at the read position and copies the data as
// BytesAt does.
func (d *Decoder) BytesLOTo(dst Bytes, field string) Bytes {
	at, n, off := d.Pair(field)
	return d.BytesAt(dst, field, at, off, n)
}

// OffsetBytes reads a lone offset whose length n was given by another field.
func (d *Decoder) OffsetBytes(field string, n uint32) Bytes {
	at := d.pos
	return d.BytesAt(nil, field, at, d.U32(field), n)
}

// Bytes reads an OL pair and copies the referenced bytes.
func (d *Decoder) Bytes(field string) Bytes { return d.BytesTo(nil, field) }

// BytesLO reads an LO pair and copies the referenced bytes.
func (d *Decoder) BytesLO(field string) Bytes { return d.BytesLOTo(nil, field) }

// SizedBytes reads a uint32 length followed directly by that many bytes.
func (d *Decoder) SizedBytes(field string) Bytes { return d.SizedBytesTo(nil, field) }

// SizedBytesTo is SizedBytes reusing dst's storage.
func (d *Decoder) SizedBytesTo(dst Bytes, field string) Bytes {
	n := d.U32(field)
	if n == 0 || d.err != nil {
		return dst[:0]
	}
	if uint64(n) > uint64(d.Remaining()) {
		d.failShort(field, d.pos, int(min(uint64(n), 1<<31)))
		return dst[:0]
	}
	return append(dst[:0], d.Take(field, int(n))...)
}

// InlineBytesTo reads n bytes in place (their length given by an earlier
// field) followed by padding to a multiple of 4; padding missing at the
// very end of the buffer is tolerated.
func (d *Decoder) InlineBytesTo(dst Bytes, field string, n uint32) Bytes {
	if d.err != nil {
		return dst[:0]
	}
	if uint64(n) > uint64(d.Remaining()) {
		d.failShort(field, d.pos, int(min(uint64(n), 1<<31)))
		return dst[:0]
	}
	b := d.Take(field, int(n))
	d.pos = min(d.pos+(Pad4(int(n))-int(n)), d.Len())
	if n == 0 {
		return dst[:0]
	}
	return append(dst[:0], b...)
}

// RestBytes returns every byte from the read position to the end.
func (d *Decoder) RestBytes(field string) Bytes { return d.RestBytesTo(nil, field) }

// RestBytesTo is RestBytes reusing dst's storage.
func (d *Decoder) RestBytesTo(dst Bytes, field string) Bytes {
	if d.err != nil || d.pos >= (d.end-d.abs) {
		return dst[:0]
	}
	v := append(dst[:0], d.cur()[d.pos:]...)
	d.pos = d.Len()
	return v
}

// StringAt sets *dst to the UTF-16LE text of n bytes at off (read from the
// OL pair at position at), dropping an odd trailing byte and trailing NUL
// characters. The conversion happens in Finish (see Decoder); until then
// *dst keeps its old value.
func (d *Decoder) StringAt(dst *string, field string, at int, off, n uint32) {
	if n == 0 {
		*dst = ""
		return
	}
	end := uint64(off) + uint64(n)
	if end > uint64((d.end-d.abs)) || d.err != nil {
		d.span(field, at, off, n, "string")
		return
	}
	if int(end) > d.ext {
		d.ext = int(end)
	}
	i := d.nstr
	if i == maxPendingStrings {
		d.flushStrings()
		i = 0
	}
	d.strs[i] = pendingString{dst: dst, off: uint32(d.abs) + off, n: n}
	d.nstr = i + 1
}

// StringUTF8At is StringAt for UTF-8 text (trailing NULs dropped).
func (d *Decoder) StringUTF8At(dst *string, field string, at int, off, n uint32) {
	if n == 0 {
		*dst = ""
		return
	}
	if _, ok := d.span(field, at, off, n, "string"); ok {
		d.pend(dst, off, n, true)
	}
}

// StringTo reads an OL pair at the read position and sets *dst as StringAt.
func (d *Decoder) StringTo(dst *string, field string) {
	at, off, n := d.Pair(field)
	d.StringAt(dst, field, at, off, n)
}

// StringUTF8To reads an OL pair at the read position and sets *dst as
// StringUTF8At.
func (d *Decoder) StringUTF8To(dst *string, field string) {
	at, off, n := d.Pair(field)
	d.StringUTF8At(dst, field, at, off, n)
}

func (d *Decoder) pend(dst *string, off, n uint32, isUTF8 bool) {
	if d.nstr == maxPendingStrings {
		d.flushStrings()
	}
	i := d.nstr
	d.strs[i] = pendingString{dst: dst, off: uint32(d.abs) + off, n: n}
	if isUTF8 {
		d.utf8 |= 1 << i
	}
	d.nstr = i + 1
}

// flushStrings converts the pending strings into one new buffer (or, after
// an error, clears them).
func (d *Decoder) flushStrings() {
	n := d.nstr
	d.nstr = 0
	mask := d.utf8
	d.utf8 = 0
	if d.err != nil {
		for i := range n {
			*d.strs[i].dst = ""
		}
		return
	}
	var sizes [maxPendingStrings]int32 // negative: UTF-16 that is not ASCII
	total := 0
	for i := range n {
		p := &d.strs[i]
		src := d.root[p.off : p.off+p.n]
		var sz int
		if mask&(1<<i) != 0 {
			src = trimNULs(src)
			sz = len(src)
			p.n = uint32(sz)
		} else {
			src = trimNULs16(src)
			p.n = uint32(len(src))
			if isASCII16(src) {
				sz = len(src) / 2
			} else {
				sz = utf8Len16(src)
				mask |= 1 << (16 + i) // not ASCII
			}
		}
		sizes[i] = int32(sz)
		total += sz
	}
	var buf []byte
	if total > 0 {
		buf = make([]byte, total)
	}
	at := 0
	for i := range n {
		p := &d.strs[i]
		sz := int(sizes[i])
		if sz == 0 {
			*p.dst = ""
			continue
		}
		src := d.root[p.off : p.off+p.n]
		out := buf[at : at+sz : at+sz]
		switch {
		case mask&(1<<i) != 0:
			copy(out, src)
		case mask&(1<<(16+i)) != 0:
			writeUTF8From16(out, src)
		default:
			narrowASCII16(out, src)
		}
		*p.dst = unsafe.String(&out[0], sz)
		at += sz
	}
}

// String reads an OL pair referencing UTF-16LE text and converts it now (one
// allocation). Generated code uses StringTo, which shares one allocation
// among all the strings of a message.
func (d *Decoder) String(field string) string {
	return decodeUTF16(d.OL(field))
}

// StringUTF8 reads an OL pair referencing UTF-8 text.
func (d *Decoder) StringUTF8(field string) string {
	return string(trimNULs(d.OL(field)))
}

// Frame is a saved decoder position, returned by the Enter methods and
// given back to Leave. It is four integers, so that it travels in
// registers.
type Frame struct {
	abs, end, pos, ext int
}

func (d *Decoder) enter(off, n int) Frame {
	f := Frame{abs: d.abs, end: d.end, pos: d.pos, ext: d.ext}
	d.abs += off
	d.end = d.abs + n
	d.pos = 0
	d.ext = 0
	return f
}

// Leave returns to the structure that was current before the matching
// Enter call.
func (d *Decoder) Leave(f Frame) {
	d.abs, d.end, d.pos, d.ext = f.abs, f.end, f.pos, f.ext
}

// EnterRef makes the n bytes at off (read from the OL pair at position at)
// the current structure, until Leave. ok is false, and nothing changes,
// when n is 0 (an absent structure) or on error.
func (d *Decoder) EnterRef(field string, at int, off, n uint32) (f Frame, ok bool) {
	end := uint64(off) + uint64(n)
	if n == 0 || end > uint64(d.end-d.abs) || d.err != nil {
		if n != 0 {
			d.span(field, at, off, n, "structure") // records the error
		}
		return Frame{}, false
	}
	if int(end) > d.ext {
		d.ext = int(end)
	}
	f = Frame{abs: d.abs, end: d.end, pos: d.pos, ext: d.ext}
	d.abs += int(off)
	d.end = d.abs + int(n)
	d.pos = 0
	d.ext = 0
	return f, true
}

// EnterPair reads an OL pair at the read position and enters the structure
// it references, as EnterRef.
func (d *Decoder) EnterPair(field string) (f Frame, ok bool) {
	p, b := d.pos, d.cur()
	if p+8 > len(b) || d.err != nil {
		d.need(field, 8)
		return Frame{}, false
	}
	d.pos = p + 8
	return d.EnterRef(field, p, binary.LittleEndian.Uint32(b[p:]), binary.LittleEndian.Uint32(b[p+4:]))
}

// EnterArray makes the count packed elements of elemSize bytes at off (read
// from the offset field at position at) the current structure, until Leave,
// and returns count as an int. Nothing changes when count is 0 or on error.
// The size check is done in 64 bits, before any allocation.
func (d *Decoder) EnterArray(field string, at int, off, count uint32, elemSize int) (Frame, int) {
	if count == 0 || d.err != nil {
		return Frame{}, 0
	}
	total := uint64(count) * uint64(elemSize)
	if total > uint64(d.Len()) {
		d.Fail(field, at, "array of %d %d-byte elements at offset %d lies beyond the %d-byte buffer", count, elemSize, off, d.Len())
		return Frame{}, 0
	}
	if _, ok := d.span(field, at, off, uint32(total), "array"); !ok {
		return Frame{}, 0
	}
	return d.enter(int(off), int(total)), int(count)
}

// EnterEmbedded makes the rest of the structure, from the read position,
// the current structure: an embedded structure whose variable data follows
// its fixed part, with offsets relative to its own start. Decode it, then
// call LeaveEmbedded. ok is false on error.
func (d *Decoder) EnterEmbedded(field string) (f Frame, ok bool) {
	if d.err != nil {
		return Frame{}, false
	}
	if d.pos > d.Len() {
		d.failShort(field, d.pos, 1)
		return Frame{}, false
	}
	f = d.enter(d.pos, (d.end-d.abs)-d.pos)
	return f, true
}

// LeaveEmbedded returns from an embedded structure and advances past it:
// past its fixed part and every byte its data references, padded to 4.
func (d *Decoder) LeaveEmbedded(f Frame) {
	size := Pad4(max(d.pos, d.ext))
	inner := d.Len()
	d.Leave(f)
	d.pos += min(size, inner)
	if d.pos > d.ext {
		d.ext = d.pos
	}
}

// Resize returns s with length n, reusing its storage when its capacity
// suffices (the elements are then stale and must be overwritten).
func Resize[S ~[]E, E any](s S, n int) S {
	if n <= cap(s) {
		return s[:n]
	}
	return make(S, n)
}

// U32Array reads count little-endian uint32 values in place into dst's
// storage when it is large enough.
func U32Array[T ~uint32](d *Decoder, dst []T, field string, count uint32) []T {
	n := d.CheckCount(field, count, d.pos, 4)
	if n == 0 {
		return dst[:0]
	}
	b := d.Take(field, 4*n)
	dst = Resize(dst, n)
	for i := range dst {
		dst[i] = T(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return dst
}

// U16Array reads count little-endian uint16 values in place into dst's
// storage when it is large enough.
func U16Array[T ~uint16 | ~uint32](d *Decoder, dst []T, field string, count uint32) []T {
	n := d.CheckCount(field, count, d.pos, 2)
	if n == 0 {
		return dst[:0]
	}
	b := d.Take(field, 2*n)
	dst = Resize(dst, n)
	for i := range dst {
		dst[i] = T(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return dst
}

// IPv4At returns the IPv4 address at off (read from the field at position
// at); offset 0 means absent.
func (d *Decoder) IPv4At(field string, at int, off uint32) netip.Addr {
	if off == 0 {
		return netip.Addr{}
	}
	b, ok := d.span(field, at, off, 4, "IPv4 address")
	if !ok {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

// IPv6At returns the IPv6 address at off; offset 0 means absent.
func (d *Decoder) IPv6At(field string, at int, off uint32) netip.Addr {
	if off == 0 {
		return netip.Addr{}
	}
	b, ok := d.span(field, at, off, 16, "IPv6 address")
	if !ok {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

// IPv4Ref reads an offset to an IPv4 address; offset 0 means absent.
func (d *Decoder) IPv4Ref(field string) netip.Addr {
	at := d.pos
	return d.IPv4At(field, at, d.U32(field))
}

// IPv6Ref reads an offset to an IPv6 address; offset 0 means absent.
func (d *Decoder) IPv6Ref(field string) netip.Addr {
	at := d.pos
	return d.IPv6At(field, at, d.U32(field))
}

// IPArrayAt reads count packed addresses of size bytes each (4 or 16) at
// off (read from the field at position at) into dst's storage when it is
// large enough.
func (d *Decoder) IPArrayAt(dst []netip.Addr, field string, at int, off, count uint32, size int) []netip.Addr {
	f, n := d.EnterArray(field, at, off, count, size)
	if n == 0 {
		return dst[:0]
	}
	dst = Resize(dst, n)
	for i := range dst {
		if size == 4 {
			dst[i] = netip.AddrFrom4([4]byte(d.cur()[4*i : 4*i+4]))
		} else {
			dst[i] = netip.AddrFrom16([16]byte(d.cur()[16*i : 16*i+16]))
		}
	}
	d.Leave(f)
	return dst
}

// Ref reads an OL pair and returns a separate decoder for the referenced
// structure (merge its error back with Adopt). present is false when the
// pair is {0, 0} (or the length is 0): an absent optional structure.
// Generated code uses EnterPair instead.
func (d *Decoder) Ref(field string) (sub Decoder, present bool) {
	at, off, n := d.Pair(field)
	if d.err != nil || n == 0 {
		return Decoder{}, false
	}
	b, ok := d.span(field, at, off, n, "structure")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{root: d.root, abs: d.abs + int(off), end: d.abs + int(off) + len(b), name: d.name}, true
}

// RefOffset reads a lone offset (no length) and returns a separate decoder
// for size bytes there.
func (d *Decoder) RefOffset(field string, size int) (sub Decoder, present bool) {
	at := d.pos
	off := d.U32(field)
	if d.err != nil || size == 0 {
		return Decoder{}, false
	}
	b, ok := d.span(field, at, off, uint32(size), "array")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{root: d.root, abs: d.abs + int(off), end: d.abs + int(off) + len(b), name: d.name}, true
}

// RefArray reads a lone offset to count packed elements of elemSize bytes
// (the count was given by another field) and returns a separate decoder
// over them and the count. The size check is done in 64 bits, before any
// allocation.
func (d *Decoder) RefArray(field string, count uint32, elemSize int) (Decoder, int) {
	at := d.pos
	off := d.U32(field)
	f, n := d.EnterArray(field, at, off, count, elemSize)
	if n == 0 {
		return Decoder{}, 0
	}
	sub := Decoder{root: d.root, abs: d.abs, end: d.end, name: d.name}
	d.Leave(f)
	return sub, n
}

// CheckCount verifies that count elements of at least minSize bytes each can
// fit in the bytes left after off, so that no allocation is made on a count
// the buffer cannot justify. It returns count as an int, or 0 on error.
func (d *Decoder) CheckCount(field string, count uint32, off, minSize int) int {
	if d.err != nil || count == 0 {
		return 0
	}
	left := d.Len() - off
	if left < 0 {
		left = 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(count)*uint64(minSize) > uint64(left) {
		d.Fail(field, off, "count %d of %d-byte elements exceeds the %d bytes left", count, minSize, left)
		return 0
	}
	return int(count)
}

// Sub returns a separate decoder for the structure at [off, off+n) of this
// one, without reading anything.
func (d *Decoder) Sub(field string, off, n int) (Decoder, bool) {
	if off < 0 || n < 0 {
		d.Fail(field, off, "structure at offset %d with length %d lies beyond the %d-byte buffer", off, n, d.Len())
		return Decoder{}, false
	}
	b, ok := d.span(field, off, uint32(off), uint32(n), "structure")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{root: d.root, abs: d.abs + off, end: d.abs + off + len(b), name: d.name}, true
}

// Skip advances the read position by n bytes.
func (d *Decoder) Skip(field string, n int) {
	if d.need(field, n) {
		d.pos += n
	}
}

// Seek moves the read position (used after packed inline arrays), within
// the structure.
func (d *Decoder) Seek(pos int) { d.pos = min(max(pos, 0), d.Len()) }

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	v := make([]byte, len(b))
	copy(v, b)
	return v
}

func trimNULs(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// trimNULs16 drops an odd trailing byte and trailing NUL characters.
func trimNULs16(b []byte) []byte {
	n := len(b) &^ 1
	for n >= 2 && b[n-2] == 0 && b[n-1] == 0 {
		n -= 2
	}
	return b[:n]
}

// isASCII16 reports whether UTF-16LE b (even length) holds only ASCII.
func isASCII16(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0xff80ff80ff80ff80 != 0 {
			return false
		}
	}
	for ; i+2 <= len(b); i += 2 {
		if b[i] >= 0x80 || b[i+1] != 0 {
			return false
		}
	}
	return true
}

// narrowASCII16 writes the low bytes of ASCII UTF-16LE src into out
// (len(src) >= 2*len(out)); the high bytes are known to be zero.
func narrowASCII16(out, src []byte) {
	n := len(out)
	src = src[:2*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		x := binary.LittleEndian.Uint64(src[2*j:])
		x = (x | x>>8) & 0x0000ffff0000ffff
		x = (x | x>>16) & 0x00000000ffffffff
		binary.LittleEndian.PutUint32(out[j:], uint32(x))
	}
	for ; j < n; j++ {
		out[j] = src[2*j]
	}
}

// utf8Len16 returns the UTF-8 size of UTF-16LE b (even length).
func utf8Len16(b []byte) int {
	size := 0
	for i := 0; i < len(b); {
		r, w := utf16At(b, i)
		size += utf8.RuneLen(r)
		i += w
	}
	return size
}

// writeUTF8From16 converts UTF-16LE src into out, sized by utf8Len16.
func writeUTF8From16(out, src []byte) {
	j := 0
	for i := 0; i < len(src); {
		r, w := utf16At(src, i)
		j += utf8.EncodeRune(out[j:], r)
		i += w
	}
}

// decodeUTF16 converts UTF-16LE bytes to a Go string with one allocation.
// An odd trailing byte is ignored, unpaired surrogates become U+FFFD, and
// trailing NUL characters are dropped.
func decodeUTF16(b []byte) string {
	b = trimNULs16(b)
	if len(b) == 0 {
		return ""
	}
	var out []byte
	if isASCII16(b) {
		out = make([]byte, len(b)/2)
		narrowASCII16(out, b)
	} else {
		out = make([]byte, utf8Len16(b))
		writeUTF8From16(out, b)
	}
	return unsafe.String(&out[0], len(out))
}

func utf16At(b []byte, i int) (rune, int) {
	c := rune(binary.LittleEndian.Uint16(b[i:]))
	if utf16.IsSurrogate(c) {
		if c < 0xdc00 && i+4 <= len(b) {
			c2 := rune(binary.LittleEndian.Uint16(b[i+2:]))
			if r := utf16.DecodeRune(c, c2); r != utf8.RuneError {
				return r, 4
			}
		}
		return utf8.RuneError, 2
	}
	return c, 2
}

// UTF16Len returns the number of bytes s takes in UTF-16LE.
func UTF16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n += 2
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// Pad4 rounds n up to a multiple of 4.
func Pad4(n int) int { return (n + 3) &^ 3 }

// Encoder writes one MBIM structure: a fixed part reserved up front, with
// variable data (strings, referenced arrays and structures) appended after it
// and referenced by offsets relative to the structure's start.
type Encoder struct {
	buf  []byte
	base int // where the structure starts in buf
	pos  int // next fixed-part write position (absolute in buf)
	err  error
}

// NewEncoder appends a structure whose fixed part is fixedLen bytes to dst.
func NewEncoder(dst []byte, fixedLen int) Encoder {
	base := len(dst)
	if fixedLen <= cap(dst)-base {
		// Extend in place explicitly: append(dst, make(...)...) only avoids
		// the temporary in optimized builds without -race.
		dst = dst[:base+fixedLen]
		clear(dst[base:])
	} else {
		dst = append(dst, make([]byte, fixedLen)...)
	}
	return Encoder{buf: dst, base: base, pos: base}
}

// Bytes returns the buffer with the structure appended.
func (e *Encoder) Bytes() []byte { return e.buf }

// Err returns the first encoding error.
func (e *Encoder) Err() error { return e.err }

// Fail records an encoding error.
func (e *Encoder) Fail(field string, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("mbim: encoding field %s: %s", field, fmt.Sprintf(format, args...))
	}
}

// U8 writes one byte in the fixed part.
func (e *Encoder) U8(v uint8) { e.buf[e.pos] = v; e.pos++ }

// U16 writes a uint16 in the fixed part.
func (e *Encoder) U16(v uint16) { binary.LittleEndian.PutUint16(e.buf[e.pos:], v); e.pos += 2 }

// U32 writes a uint32 in the fixed part.
func (e *Encoder) U32(v uint32) { binary.LittleEndian.PutUint32(e.buf[e.pos:], v); e.pos += 4 }

// I32 writes an int32 in the fixed part.
func (e *Encoder) I32(v int32) { e.U32(uint32(v)) }

// U64 writes a uint64 in the fixed part.
func (e *Encoder) U64(v uint64) { binary.LittleEndian.PutUint64(e.buf[e.pos:], v); e.pos += 8 }

// UUID writes a UUID in the fixed part.
func (e *Encoder) UUID(u UUID) { copy(e.buf[e.pos:], u[:]); e.pos += 16 }

// IPv4 writes an inline IPv4 address (zero if a is not IPv4).
func (e *Encoder) IPv4(a netip.Addr) {
	if a.Is4() || a.Is4In6() {
		v := a.Unmap().As4()
		copy(e.buf[e.pos:], v[:])
	}
	e.pos += 4
}

// IPv6 writes an inline IPv6 address.
func (e *Encoder) IPv6(a netip.Addr) {
	if a.IsValid() {
		v := a.As16()
		copy(e.buf[e.pos:], v[:])
	}
	e.pos += 16
}

// FixedBytes writes exactly n bytes in the fixed part (v is truncated or
// zero-padded to n).
func (e *Encoder) FixedBytes(v []byte, n int) {
	copy(e.buf[e.pos:e.pos+n], v)
	e.pos += n
}

// Skip leaves n zero bytes in the fixed part (reserved fields).
func (e *Encoder) Skip(n int) { e.pos += n }

// FixedPos returns the next fixed-part write position, relative to the
// structure's start.
func (e *Encoder) FixedPos() int { return e.pos - e.base }

// SetFixedPos moves the fixed-part write position (relative).
func (e *Encoder) SetFixedPos(p int) { e.pos = e.base + p }

// padVar pads the variable area to a multiple of 4 relative to the start.
func (e *Encoder) padVar() {
	for (len(e.buf)-e.base)%4 != 0 {
		e.buf = append(e.buf, 0)
	}
}

// Offset returns the current end of the structure relative to its start,
// after padding: where the next variable item goes.
func (e *Encoder) Offset() int {
	e.padVar()
	return len(e.buf) - e.base
}

// putOL writes an offset/length pair at fixed position at (absolute).
func (e *Encoder) putPair(at int, a, b uint32) {
	binary.LittleEndian.PutUint32(e.buf[at:], a)
	binary.LittleEndian.PutUint32(e.buf[at+4:], b)
}

// PairSlot reserves an 8-byte pair in the fixed part and returns its
// absolute position, for data appended later with OLData.
func (e *Encoder) PairSlot() int { at := e.pos; e.pos += 8; return at }

// OffsetSlot reserves a 4-byte offset in the fixed part.
func (e *Encoder) OffsetSlot() int { at := e.pos; e.pos += 4; return at }

// OLData appends data to the variable area and fills the pair at slot.
// Empty data gives the pair {0, 0}.
func (e *Encoder) OLData(slot int, data []byte) {
	if len(data) == 0 {
		return
	}
	off := e.Offset()
	e.buf = append(e.buf, data...)
	e.putPair(slot, uint32(off), uint32(len(data)))
	e.padVar()
}

// LOData is OLData with the pair written length first.
func (e *Encoder) LOData(slot int, data []byte) {
	if len(data) == 0 {
		return
	}
	off := e.Offset()
	e.buf = append(e.buf, data...)
	e.putPair(slot, uint32(len(data)), uint32(off))
	e.padVar()
}

// OffsetData appends data and writes its offset at slot (no length).
func (e *Encoder) OffsetData(slot int, data []byte) {
	if len(data) == 0 {
		return
	}
	off := e.Offset()
	e.buf = append(e.buf, data...)
	binary.LittleEndian.PutUint32(e.buf[slot:], uint32(off))
	e.padVar()
}

// StringData appends s as UTF-16LE and fills the OL pair at slot.
func (e *Encoder) StringData(slot int, s string) {
	if s == "" {
		return
	}
	off := e.Offset()
	start := len(e.buf)
	e.buf = AppendUTF16(e.buf, s)
	e.putPair(slot, uint32(off), uint32(len(e.buf)-start))
	e.padVar()
}

// StringUTF8Data appends s as UTF-8 and fills the OL pair at slot.
func (e *Encoder) StringUTF8Data(slot int, s string) {
	if s == "" {
		return
	}
	off := e.Offset()
	e.buf = append(e.buf, s...)
	e.putPair(slot, uint32(off), uint32(len(s)))
	e.padVar()
}

// IPv4Data appends an address and writes its offset at slot; an invalid
// address leaves the offset 0 (absent).
func (e *Encoder) IPv4Data(slot int, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	v := a.Unmap().As4()
	e.OffsetData(slot, v[:])
}

// IPv6Data appends an address and writes its offset at slot.
func (e *Encoder) IPv6Data(slot int, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	v := a.As16()
	e.OffsetData(slot, v[:])
}

// BeginRef starts a referenced structure in the variable area and returns
// its start (relative to this structure) for EndRef.
func (e *Encoder) BeginRef() int { return e.Offset() }

// Child returns an encoder for a structure appended at the end of this one,
// with a fixed part of fixedLen bytes. After filling it, pass it to Adopt.
func (e *Encoder) Child(fixedLen int) Encoder {
	e.padVar()
	c := NewEncoder(e.buf, fixedLen)
	e.buf = nil
	return c
}

// EmbeddedChild returns an encoder for a structure appended right at the
// end of this one (no alignment first), whose offsets are relative to its
// own start: an embedded structure. After filling it, pass it to
// AdoptEmbedded.
func (e *Encoder) EmbeddedChild(fixedLen int) Encoder {
	c := NewEncoder(e.buf, fixedLen)
	e.buf = nil
	return c
}

// AdoptEmbedded takes back the buffer from an embedded child encoder and
// pads the embedded structure to a multiple of 4 bytes.
func (e *Encoder) AdoptEmbedded(c *Encoder) {
	e.Adopt(c)
	for (len(e.buf)-c.base)%4 != 0 {
		e.buf = append(e.buf, 0)
	}
}

// Adopt takes back the buffer from a child encoder.
func (e *Encoder) Adopt(c *Encoder) {
	e.buf = c.buf
	if c.err != nil && e.err == nil {
		e.err = c.err
	}
}

// EndRef fills the pair at slot with the region [start, end) just written.
func (e *Encoder) EndRef(slot, start int) {
	n := len(e.buf) - e.base - start
	if n == 0 {
		return
	}
	e.putPair(slot, uint32(start), uint32(n))
	e.padVar()
}

// EndOffset fills the offset at slot with start if anything was written.
func (e *Encoder) EndOffset(slot, start int) {
	if len(e.buf)-e.base-start == 0 {
		return
	}
	binary.LittleEndian.PutUint32(e.buf[slot:], uint32(start))
	e.padVar()
}

// Append appends raw bytes at the end (inline variable data: TLVs, sized and
// trailing byte arrays).
func (e *Encoder) Append(b []byte) { e.buf = append(e.buf, b...) }

// AppendPadded appends b at the end followed by zeros up to a multiple of 4
// bytes of b (an in-place byte array whose length is given elsewhere).
func (e *Encoder) AppendPadded(b []byte) {
	e.buf = append(e.buf, b...)
	for i := len(b); i%4 != 0; i++ {
		e.buf = append(e.buf, 0)
	}
}

// AppendU32 appends a uint32 at the end.
func (e *Encoder) AppendU32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }

// AppendUTF16 appends s encoded as UTF-16LE.
func AppendUTF16(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c, 0)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = append(dst, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
		} else {
			dst = append(dst, byte(r), byte(r>>8))
		}
	}
	return dst
}

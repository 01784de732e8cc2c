package mbim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
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

// Decoder reads the fields of one MBIM structure: an information buffer, or
// a structure referenced from one. Offsets in OL pairs are relative to the
// start of the structure that contains them, which is b[0] of the decoder.
//
// The decoder is sticky: after the first error every read returns a zero
// value and Err reports that first error. Generated code reads all fields and
// checks Err once. A Decoder is a small value; it never allocates except to
// build the error, strings and arrays of the caller.
type Decoder struct {
	b    []byte
	pos  int
	abs  int // offset of b[0] within the outermost buffer, for error messages
	err  error
	name string
}

// NewDecoder starts decoding the structure at b. name names the message in
// errors ("basic-connect register-state response").
func NewDecoder(b []byte, name string) Decoder {
	return Decoder{b: b, name: name}
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Pos returns the current read position within the structure.
func (d *Decoder) Pos() int { return d.pos }

// Len returns the size of the structure's buffer.
func (d *Decoder) Len() int { return len(d.b) }

// Remaining returns the bytes from the read position to the end.
func (d *Decoder) Remaining() int {
	if d.pos >= len(d.b) {
		return 0
	}
	return len(d.b) - d.pos
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
	if d.pos+n > len(d.b) || d.pos+n < d.pos {
		d.Fail(field, d.pos, "need %d bytes, only %d left in %d-byte buffer", n, d.Remaining(), len(d.b))
		return false
	}
	return true
}

// U8 reads one byte.
func (d *Decoder) U8(field string) uint8 {
	if !d.need(field, 1) {
		return 0
	}
	v := d.b[d.pos]
	d.pos++
	return v
}

// U16 reads a little-endian uint16 (MBIMEx fields need not be aligned).
func (d *Decoder) U16(field string) uint16 {
	if !d.need(field, 2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.pos:])
	d.pos += 2
	return v
}

// U32 reads a little-endian uint32.
func (d *Decoder) U32(field string) uint32 {
	if !d.need(field, 4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.pos:])
	d.pos += 4
	return v
}

// I32 reads a little-endian int32.
func (d *Decoder) I32(field string) int32 { return int32(d.U32(field)) }

// U64 reads a little-endian uint64.
func (d *Decoder) U64(field string) uint64 {
	if !d.need(field, 8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.pos:])
	d.pos += 8
	return v
}

// UUID reads a 16-byte UUID.
func (d *Decoder) UUID(field string) UUID {
	var u UUID
	if !d.need(field, 16) {
		return u
	}
	copy(u[:], d.b[d.pos:])
	d.pos += 16
	return u
}

// IPv4 reads an inline IPv4 address.
func (d *Decoder) IPv4(field string) netip.Addr {
	if !d.need(field, 4) {
		return netip.Addr{}
	}
	a := netip.AddrFrom4([4]byte(d.b[d.pos : d.pos+4]))
	d.pos += 4
	return a
}

// IPv6 reads an inline IPv6 address.
func (d *Decoder) IPv6(field string) netip.Addr {
	if !d.need(field, 16) {
		return netip.Addr{}
	}
	a := netip.AddrFrom16([16]byte(d.b[d.pos : d.pos+16]))
	d.pos += 16
	return a
}

// FixedBytes reads n inline bytes, copied.
func (d *Decoder) FixedBytes(field string, n int) Bytes {
	if !d.need(field, n) {
		return nil
	}
	v := make(Bytes, n)
	copy(v, d.b[d.pos:])
	d.pos += n
	return v
}

// span checks that [off, off+n) lies within the structure and returns it.
func (d *Decoder) span(field string, at, off, n int, what string) ([]byte, bool) {
	if d.err != nil {
		return nil, false
	}
	if off < 0 || n < 0 || off > len(d.b) || n > len(d.b)-off {
		d.Fail(field, at, "%s at offset %d with length %d lies beyond the %d-byte buffer", what, off, n, len(d.b))
		return nil, false
	}
	return d.b[off : off+n], true
}

// OL reads an offset/length pair and returns the referenced bytes (aliasing
// the input). A zero length yields nil whatever the offset says.
func (d *Decoder) OL(field string) []byte {
	at := d.pos
	off := d.U32(field)
	n := d.U32(field)
	if n == 0 || d.err != nil {
		return nil
	}
	b, _ := d.span(field, at, int(off), int(n), "data")
	return b
}

// LO reads a length/offset pair (the order used by the UICC low-level access
// service) and returns the referenced bytes.
func (d *Decoder) LO(field string) []byte {
	at := d.pos
	n := d.U32(field)
	off := d.U32(field)
	if n == 0 || d.err != nil {
		return nil
	}
	b, _ := d.span(field, at, int(off), int(n), "data")
	return b
}

// OffsetBytes reads a lone offset whose length n was given by another field.
func (d *Decoder) OffsetBytes(field string, n uint32) Bytes {
	at := d.pos
	off := d.U32(field)
	if n == 0 || d.err != nil {
		return nil
	}
	b, ok := d.span(field, at, int(off), int(n), "data")
	if !ok {
		return nil
	}
	return Bytes(clone(b))
}

// Bytes reads an OL pair and copies the referenced bytes.
func (d *Decoder) Bytes(field string) Bytes {
	b := d.OL(field)
	if b == nil {
		return nil
	}
	return Bytes(clone(b))
}

// BytesLO reads an LO pair and copies the referenced bytes.
func (d *Decoder) BytesLO(field string) Bytes {
	b := d.LO(field)
	if b == nil {
		return nil
	}
	return Bytes(clone(b))
}

// SizedBytes reads a uint32 length followed directly by that many bytes.
func (d *Decoder) SizedBytes(field string) Bytes {
	n := d.U32(field)
	if n == 0 || d.err != nil {
		return nil
	}
	if !d.need(field, int(n)) {
		return nil
	}
	v := Bytes(clone(d.b[d.pos : d.pos+int(n)]))
	d.pos += int(n)
	return v
}

// RestBytes returns every byte from the read position to the end.
func (d *Decoder) RestBytes(field string) Bytes {
	if d.err != nil || d.pos >= len(d.b) {
		return nil
	}
	v := Bytes(clone(d.b[d.pos:]))
	d.pos = len(d.b)
	return v
}

// String reads an OL pair referencing UTF-16LE text. Trailing NULs that some
// devices include are dropped.
func (d *Decoder) String(field string) string {
	return decodeUTF16(d.OL(field))
}

// StringUTF8 reads an OL pair referencing UTF-8 text.
func (d *Decoder) StringUTF8(field string) string {
	b := d.OL(field)
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

// Ref reads an OL pair and returns a decoder for the referenced structure.
// present is false when the pair is {0, 0} (or the length is 0): an absent
// optional structure.
func (d *Decoder) Ref(field string) (sub Decoder, present bool) {
	at := d.pos
	off := d.U32(field)
	n := d.U32(field)
	if d.err != nil || n == 0 {
		return Decoder{}, false
	}
	b, ok := d.span(field, at, int(off), int(n), "structure")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{b: b, abs: d.abs + int(off), name: d.name}, true
}

// RefOffset reads a lone offset (no length) and returns a decoder starting
// there and running to the end of the structure; used for arrays of
// fixed-size elements whose count is given by another field. size is the
// total number of bytes the caller will read, checked here.
func (d *Decoder) RefOffset(field string, size int) (sub Decoder, present bool) {
	at := d.pos
	off := d.U32(field)
	if d.err != nil || size == 0 {
		return Decoder{}, false
	}
	b, ok := d.span(field, at, int(off), size, "array")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{b: b, abs: d.abs + int(off), name: d.name}, true
}

// RefArray reads a lone offset to count packed elements of elemSize bytes
// (the count was given by another field) and returns a decoder over them and
// the count. The size check is done in 64 bits, before any allocation.
func (d *Decoder) RefArray(field string, count uint32, elemSize int) (Decoder, int) {
	at := d.pos
	off := d.U32(field)
	if d.err != nil || count == 0 {
		return Decoder{}, 0
	}
	total := uint64(count) * uint64(elemSize)
	if uint64(off) > uint64(len(d.b)) || total > uint64(len(d.b))-uint64(off) {
		d.Fail(field, at, "array of %d %d-byte elements at offset %d lies beyond the %d-byte buffer", count, elemSize, off, len(d.b))
		return Decoder{}, 0
	}
	return Decoder{b: d.b[off : uint64(off)+total], abs: d.abs + int(off), name: d.name}, int(count)
}

// IPv4Ref reads an offset to an IPv4 address; offset 0 means absent.
func (d *Decoder) IPv4Ref(field string) netip.Addr {
	at := d.pos
	off := d.U32(field)
	if off == 0 || d.err != nil {
		return netip.Addr{}
	}
	b, ok := d.span(field, at, int(off), 4, "IPv4 address")
	if !ok {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

// IPv6Ref reads an offset to an IPv6 address; offset 0 means absent.
func (d *Decoder) IPv6Ref(field string) netip.Addr {
	at := d.pos
	off := d.U32(field)
	if off == 0 || d.err != nil {
		return netip.Addr{}
	}
	b, ok := d.span(field, at, int(off), 16, "IPv6 address")
	if !ok {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

// CheckCount verifies that count elements of at least minSize bytes each can
// fit in the bytes left after off, so that no allocation is made on a count
// the buffer cannot justify. It returns count as an int, or 0 on error.
func (d *Decoder) CheckCount(field string, count uint32, off, minSize int) int {
	if d.err != nil {
		return 0
	}
	left := len(d.b) - off
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

// Sub returns a decoder for the structure at [off, off+n) of this one,
// without reading anything; used for packed arrays.
func (d *Decoder) Sub(field string, off, n int) (Decoder, bool) {
	b, ok := d.span(field, off, off, n, "structure")
	if !ok {
		return Decoder{}, false
	}
	return Decoder{b: b, abs: d.abs + off, name: d.name}, true
}

// Skip advances the read position by n bytes.
func (d *Decoder) Skip(field string, n int) {
	if d.need(field, n) {
		d.pos += n
	}
}

// Seek moves the read position (used after packed inline arrays).
func (d *Decoder) Seek(pos int) { d.pos = pos }

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	v := make([]byte, len(b))
	copy(v, b)
	return v
}

// decodeUTF16 converts UTF-16LE bytes to a Go string with one allocation.
// An odd trailing byte is ignored, unpaired surrogates become U+FFFD, and
// trailing NUL characters are dropped.
func decodeUTF16(b []byte) string {
	n := len(b) &^ 1
	for n >= 2 && b[n-2] == 0 && b[n-1] == 0 {
		n -= 2
	}
	if n == 0 {
		return ""
	}
	b = b[:n]
	ascii := true
	for i := 1; i < n; i += 2 {
		if b[i] != 0 || b[i-1] >= 0x80 {
			ascii = false
			break
		}
	}
	var sb strings.Builder
	if ascii {
		sb.Grow(n / 2)
		for i := 0; i < n; i += 2 {
			sb.WriteByte(b[i])
		}
		return sb.String()
	}
	size := 0
	for i := 0; i < n; i += 2 {
		r, w := utf16At(b, i)
		size += utf8.RuneLen(r)
		i += w - 2
	}
	sb.Grow(size)
	for i := 0; i < n; i += 2 {
		r, w := utf16At(b, i)
		sb.WriteRune(r)
		i += w - 2
	}
	return sb.String()
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
	dst = append(dst, make([]byte, fixedLen)...)
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

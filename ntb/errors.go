package ntb

import (
	"errors"
	"strconv"
)

// Sentinel error kinds. Every *Error wraps exactly one of them, so callers
// can classify a failure with errors.Is without parsing text.
var (
	// ErrTruncated: the buffer (or the stream) ends before a structure
	// or before the block length announced in the header.
	ErrTruncated = errors.New("truncated")
	// ErrSignature: a header or NDP signature is not the expected one.
	ErrSignature = errors.New("bad signature")
	// ErrMalformed: a field has a value the format does not allow (header
	// length, NDP length, alignment, missing terminator, ...).
	ErrMalformed = errors.New("malformed")
	// ErrBounds: an index or index+length points outside the block or into
	// the transfer header.
	ErrBounds = errors.New("out of bounds")
	// ErrLoop: the NDP chain revisits an NDP or is longer than allowed.
	ErrLoop = errors.New("NDP chain loop")
	// ErrTooLarge: a block is bigger than the configured maximum, or a
	// datagram can never fit in an empty block.
	ErrTooLarge = errors.New("too large")
	// ErrFull: Builder.Add did not add the datagram because the block has
	// no room left for it; send the block, Reset and add it again.
	ErrFull = errors.New("NTB full")
	// ErrConfig: a Builder, Reader or Parameters setting is invalid.
	ErrConfig = errors.New("invalid configuration")
)

// Error describes what is wrong in an NTB and where.
type Error struct {
	Struct string // "NTH16", "NTH32", "NDP16", "NDP32", "NTB", "Builder", ...
	Offset int    // byte offset of Struct inside the block (or stream), -1 if none
	Entry  int    // datagram pointer entry number inside an NDP, -1 if none
	Field  string // field name as spelled in the specification, "" if none
	Reason string // what is wrong, with the values involved
	Err    error  // sentinel kind: ErrTruncated, ErrSignature, ...
}

// Error formats the error as
// "ntb: NDP16 at offset 12: datagram 3 wDatagramIndex: 4000+1500 beyond block length 2048".
func (e *Error) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "ntb: "...)
	b = append(b, e.Struct...)
	if e.Offset >= 0 {
		b = append(b, " at offset "...)
		b = strconv.AppendInt(b, int64(e.Offset), 10)
	}
	b = append(b, ": "...)
	if e.Entry >= 0 {
		b = append(b, "datagram "...)
		b = strconv.AppendInt(b, int64(e.Entry), 10)
		if e.Field == "" {
			b = append(b, ": "...)
		} else {
			b = append(b, ' ')
		}
	}
	if e.Field != "" {
		b = append(b, e.Field...)
		b = append(b, ": "...)
	}
	b = append(b, e.Reason...)
	return string(b)
}

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Err }

// newError builds an *Error. It is only ever called on failure paths, so
// its allocations do not affect the cost of parsing valid blocks.
func newError(kind error, st string, off, entry int, field, reason string) *Error {
	return &Error{Struct: st, Offset: off, Entry: entry, Field: field, Reason: reason, Err: kind}
}

// itoa is a short helper for building reasons.
func itoa(v int) string { return strconv.Itoa(v) }

func hex32(v uint32) string {
	s := strconv.FormatUint(uint64(v), 16)
	for len(s) < 8 {
		s = "0" + s
	}
	return "0x" + s
}

// quoteSig renders a signature as its four ASCII bytes when they are
// printable, e.g. "IPS\x00" -> `"IPS\x00"`, alongside the hex value.
func quoteSig(v uint32) string {
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	return hex32(v) + " (" + strconv.Quote(string(b)) + ")"
}

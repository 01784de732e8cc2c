package pco

import (
	"bytes"
	"errors"
	"fmt"
)

// Size limits of TS 24.008: the IE is 3 to 253 octets long including the
// IEI and length octets, so its length octet is at most 251; a container's
// contents are at most 255 octets (one length octet).
const (
	MaxIELength       = 253
	MaxValueLength    = MaxIELength - 2
	MaxContentsLength = 255
)

// PCO is a decoded Protocol Configuration Options information element.
type PCO struct {
	// HasIEI is true when the buffer started with the IEI (0x27) and the
	// length octet, false when it held only the value part.
	HasIEI bool `json:"has_iei"`
	// ConfigurationProtocol is bits 1-3 of the configuration octet;
	// ConfigurationProtocolPPP (0) is the only defined value.
	ConfigurationProtocol uint8 `json:"configuration_protocol"`
	// Extension is bit 8 of the configuration octet, which must be 1.
	Extension bool `json:"extension"`
	// Entries are the protocol entries and containers in wire order.
	Entries []Entry `json:"entries"`
}

// Entry is one protocol entry or container: an identifier and its raw
// contents.
type Entry struct {
	ID       uint16
	Contents []byte
}

// New returns a PCO holding entries, with the IEI, the extension bit set
// and configuration protocol PPP: what MBIM_CID_PCO carries.
func New(entries ...Entry) *PCO {
	return &PCO{HasIEI: true, Extension: true, ConfigurationProtocol: ConfigurationProtocolPPP, Entries: entries}
}

// Sentinel errors wrapped by *ParseError, for use with errors.Is.
var (
	ErrEmpty        = errors.New("pco: empty buffer")
	ErrTruncated    = errors.New("pco: truncated")
	ErrIEILength    = errors.New("pco: IE length mismatch")
	ErrTooLong      = errors.New("pco: too long")
	ErrExtensionBit = errors.New("pco: extension bit not set")
)

// ParseError describes one problem found by Parse.
type ParseError struct {
	// Field names what was being decoded: "buffer", "IEI length",
	// "configuration octet" or "container".
	Field string
	// Offset is the byte offset of the field in the buffer given to Parse.
	Offset int
	// Index is the 1-based position of the container for Field
	// "container", 0 otherwise.
	Index int
	// ID is the container or protocol identifier when it could be read.
	ID    uint16
	HasID bool
	// Detail says what is wrong.
	Detail string
	// Err is one of the sentinel errors above.
	Err error
}

func (e *ParseError) Error() string {
	if e.Field == "container" {
		if e.HasID {
			return fmt.Sprintf("pco: container %d (id 0x%04x) at offset %d: %s", e.Index, e.ID, e.Offset, e.Detail)
		}
		return fmt.Sprintf("pco: container %d at offset %d: %s", e.Index, e.Offset, e.Detail)
	}
	return fmt.Sprintf("pco: %s at offset %d: %s", e.Field, e.Offset, e.Detail)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes b, which is either the complete IE (IEI 0x27, length
// octet, value) or only its value part (configuration octet, entries).
// A buffer starting with 0x27 is taken as the complete IE: 0x27 is never a
// valid configuration octet, whose bit 8 must be set.
//
// Parse never panics. It always returns a non-nil *PCO: on malformed input
// it holds everything that could be decoded (the header and the entries
// before the first broken one) and the error, a *ParseError or several
// joined with errors.Join, names the field and its offset. A missing
// extension bit and an IE length octet that disagrees with the buffer size
// are reported but decoding goes on.
func Parse(b []byte) (*PCO, error) {
	p := &PCO{}
	if len(b) == 0 {
		return p, &ParseError{Field: "buffer", Detail: "empty, need at least the configuration octet", Err: ErrEmpty}
	}
	var errs []error
	start, end := 0, len(b)
	if b[0] == IEI {
		p.HasIEI = true
		if len(b) < 2 {
			return p, &ParseError{Field: "IEI length", Offset: 1, Detail: "missing (buffer ends after the IEI 0x27)", Err: ErrTruncated}
		}
		n := int(b[1])
		start = 2
		switch {
		case n > len(b)-2:
			errs = append(errs, &ParseError{Field: "IEI length", Offset: 1,
				Detail: fmt.Sprintf("says %d octets follow but only %d do", n, len(b)-2), Err: ErrIEILength})
		case n < len(b)-2:
			errs = append(errs, &ParseError{Field: "IEI length", Offset: 1,
				Detail: fmt.Sprintf("says %d octets follow but %d do (%d trailing bytes ignored)", n, len(b)-2, len(b)-2-n), Err: ErrIEILength})
			end = 2 + n
		}
		if n > MaxValueLength {
			errs = append(errs, &ParseError{Field: "IEI length", Offset: 1,
				Detail: fmt.Sprintf("%d exceeds the maximum of %d", n, MaxValueLength), Err: ErrTooLong})
		}
		if start >= end {
			errs = append(errs, &ParseError{Field: "configuration octet", Offset: start, Detail: "missing", Err: ErrTruncated})
			return p, errors.Join(errs...)
		}
	}

	conf := b[start]
	p.Extension = conf&0x80 != 0
	p.ConfigurationProtocol = conf & 0x07
	if !p.Extension {
		errs = append(errs, &ParseError{Field: "configuration octet", Offset: start,
			Detail: fmt.Sprintf("extension bit (bit 8) not set in 0x%02x", conf), Err: ErrExtensionBit})
	}

	off := start + 1
	for index := 1; off < end; index++ {
		left := end - off
		if left < 3 {
			pe := &ParseError{Field: "container", Offset: off, Index: index, Err: ErrTruncated}
			if left == 2 {
				pe.ID, pe.HasID = uint16(b[off])<<8|uint16(b[off+1]), true
				pe.Detail = "length octet missing (buffer ends after the identifier)"
			} else {
				pe.Detail = fmt.Sprintf("truncated identifier (%d byte left, need 3 for identifier and length)", left)
			}
			errs = append(errs, pe)
			break
		}
		id := uint16(b[off])<<8 | uint16(b[off+1])
		n := int(b[off+2])
		if rest := left - 3; n > rest {
			errs = append(errs, &ParseError{Field: "container", Offset: off, Index: index, ID: id, HasID: true,
				Detail: fmt.Sprintf("length %d beyond end of buffer (%d bytes left)", n, rest), Err: ErrTruncated})
			break
		}
		p.Entries = append(p.Entries, Entry{ID: id, Contents: bytes.Clone(b[off+3 : off+3+n])})
		off += 3 + n
	}
	return p, errors.Join(errs...)
}

// Marshal encodes p, with the IEI and length octets when withIEI is true
// (the form MBIM_CID_PCO carries) or as the bare value part otherwise.
//
// It fails when the extension bit is clear or the configuration protocol
// does not fit in 3 bits (Parse would reject or lose them), when a
// container's contents exceed 255 octets, or, with the IEI, when the IE
// would exceed 253 octets.
func (p *PCO) Marshal(withIEI bool) ([]byte, error) {
	if !p.Extension {
		return nil, errors.New("pco: marshal: extension bit must be set (TS 24.008 requires 1)")
	}
	if p.ConfigurationProtocol > 7 {
		return nil, fmt.Errorf("pco: marshal: configuration protocol %d does not fit in 3 bits", p.ConfigurationProtocol)
	}
	size := 1
	for i, e := range p.Entries {
		if len(e.Contents) > MaxContentsLength {
			return nil, fmt.Errorf("pco: marshal: container %d (id 0x%04x): contents are %d bytes, maximum is %d",
				i+1, e.ID, len(e.Contents), MaxContentsLength)
		}
		size += 3 + len(e.Contents)
	}
	if withIEI && size > MaxValueLength {
		return nil, fmt.Errorf("pco: marshal: IE would be %d octets, maximum with IEI and length is %d", size+2, MaxIELength)
	}
	out := make([]byte, 0, size+2)
	if withIEI {
		out = append(out, IEI, byte(size))
	}
	out = append(out, 0x80|p.ConfigurationProtocol)
	for _, e := range p.Entries {
		out = append(out, byte(e.ID>>8), byte(e.ID), byte(len(e.Contents)))
		out = append(out, e.Contents...)
	}
	return out, nil
}

// Find returns the first entry with the given identifier.
func (p *PCO) Find(id uint16) (Entry, bool) {
	for _, e := range p.Entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// Name returns the short name of the entry's identifier; see IDName.
func (e Entry) Name() string { return IDName(e.ID) }

// Description returns the TS 24.008 title of the entry's identifier in the
// given direction; see IDDescription.
func (e Entry) Description(dir Direction) string { return IDDescription(e.ID, dir) }

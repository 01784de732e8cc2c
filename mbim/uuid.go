package mbim

import (
	"encoding/hex"
	"fmt"
)

// UUID is a 16-byte MBIM UUID in wire (network) byte order. MBIM transmits
// UUIDs exactly in the order of their canonical text form, so
// a289cc33-bcbb-8b4f-b6b0-133ec2aae6df is sent as a2 89 cc 33 bc bb ...
type UUID [16]byte

// ParseUUID parses the canonical 8-4-4-4-12 form (case-insensitive). It also
// accepts 32 hex digits without dashes.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	var digits [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			switch i {
			case 8, 13, 18, 23:
				continue
			}
			return u, fmt.Errorf("mbim: invalid UUID %q: unexpected '-' at position %d", s, i)
		}
		if n == 32 {
			return u, fmt.Errorf("mbim: invalid UUID %q: too long", s)
		}
		digits[n] = c
		n++
	}
	if n != 32 {
		return u, fmt.Errorf("mbim: invalid UUID %q: want 32 hex digits, have %d", s, n)
	}
	if _, err := hex.Decode(u[:], digits[:]); err != nil {
		return u, fmt.Errorf("mbim: invalid UUID %q: %v", s, err)
	}
	return u, nil
}

// MustParseUUID is ParseUUID for constants; it panics on a malformed string.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// String returns the canonical lower-case form.
func (u UUID) String() string {
	var b [36]byte
	u.appendText(b[:0])
	return string(b[:])
}

func (u UUID) appendText(dst []byte) []byte {
	const hexd = "0123456789abcdef"
	for i, c := range u {
		switch i {
		case 4, 6, 8, 10:
			dst = append(dst, '-')
		}
		dst = append(dst, hexd[c>>4], hexd[c&15])
	}
	return dst
}

// IsZero reports whether u is the all-zero UUID.
func (u UUID) IsZero() bool { return u == UUID{} }

// MarshalText implements encoding.TextMarshaler (canonical lower-case form).
func (u UUID) MarshalText() ([]byte, error) { return u.appendText(make([]byte, 0, 36)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

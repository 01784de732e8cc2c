package mbim

import "fmt"

// ContextType is a UUID field that names the purpose of a packet data
// context (internet, ims, ...). It prints and marshals as libmbim's nickname
// when the UUID is a known context type, and in canonical form otherwise.
type ContextType UUID

// String returns the nickname, or the canonical UUID.
func (c ContextType) String() string {
	if n, ok := LookupContextType(UUID(c)); ok {
		return n
	}
	return UUID(c).String()
}

// MarshalText implements encoding.TextMarshaler.
func (c ContextType) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText accepts a nickname or a UUID.
func (c *ContextType) UnmarshalText(b []byte) error {
	if u, ok := ContextTypeByName(string(b)); ok {
		*c = ContextType(u)
		return nil
	}
	u, err := ParseUUID(string(b))
	if err != nil {
		return fmt.Errorf("mbim: unknown context type %q: use a name such as internet, ims, mms, or a UUID", b)
	}
	*c = ContextType(u)
	return nil
}

// ParseContextType parses a nickname or a UUID.
func ParseContextType(s string) (ContextType, error) {
	var c ContextType
	err := c.UnmarshalText([]byte(s))
	return c, err
}

package pco

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

type entryJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Contents    string `json:"contents"`
	Value       any    `json:"value,omitempty"`
	Malformed   string `json:"malformed,omitempty"`
}

// MarshalJSON encodes the entry as
//
//	{"id":"0xff00","name":"operator-specific","description":"...",
//	 "contents":"13018405","value":{...}}
//
// with contents as a hex string and value as returned by Value (omitted
// when nil). Contents that do not have the expected shape add a
// "malformed" member explaining why.
func (e Entry) MarshalJSON() ([]byte, error) {
	v, err := e.Decode()
	j := entryJSON{
		ID:          fmt.Sprintf("0x%04x", e.ID),
		Name:        e.Name(),
		Description: e.Description(NetworkToMS),
		Contents:    hex.EncodeToString(e.Contents),
		Value:       v,
	}
	if err != nil {
		j.Malformed = err.Error()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the form MarshalJSON writes. Only "id" and
// "contents" are used: id as a JSON number or a string ("0xff00", "65280"),
// contents as hex, where spaces and colons between bytes are allowed.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j struct {
		ID       json.RawMessage `json:"id"`
		Contents string          `json:"contents"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("pco: entry: %w", err)
	}
	if len(j.ID) == 0 {
		return fmt.Errorf("pco: entry: missing id")
	}
	raw := string(bytes.TrimSpace(j.ID))
	if s, err := strconv.Unquote(raw); err == nil {
		raw = s
	}
	id, err := strconv.ParseUint(raw, 0, 16)
	if err != nil {
		return fmt.Errorf("pco: entry: id %s: want a 16-bit number", j.ID)
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', ':', '\t', '\n', '\r':
			return -1
		}
		return r
	}, j.Contents)
	contents, err := hex.DecodeString(clean)
	if err != nil {
		return fmt.Errorf("pco: entry 0x%04x: contents: %w", id, err)
	}
	if len(contents) == 0 {
		contents = nil
	}
	e.ID, e.Contents = uint16(id), contents
	return nil
}

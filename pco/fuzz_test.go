package pco

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzParse.
	f.Add([]byte{0x27, 0x08, 0x80, 0xFF, 0x00, 0x04, 0x13, 0x01, 0x84, 0x05})
	f.Add([]byte{0x80, 0x00, 0x0D, 0x04, 0x08, 0x08, 0x08, 0x08, 0x00, 0x10, 0x02, 0x05, 0xDC})
	f.Add([]byte{0x27})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, b []byte) {
		// A PCO IE is at most 253 octets; longer inputs add no coverage
		// and only slow down minimization.
		if len(b) > 600 {
			return
		}
		p, err := Parse(b)
		if p == nil {
			t.Fatal("Parse returned a nil PCO")
		}
		// Everything that renders a PCO must cope with partial results.
		_ = p.String()
		if _, jerr := json.Marshal(p); jerr != nil {
			t.Fatalf("json.Marshal: %v", jerr)
		}
		for _, e := range p.Entries {
			if len(e.Contents) > MaxContentsLength {
				t.Fatalf("entry 0x%04x has %d bytes", e.ID, len(e.Contents))
			}
			v, derr := e.Decode()
			if derr != nil && v != nil {
				t.Fatalf("Decode returned both %v and %v", v, derr)
			}
		}
		if err != nil {
			return
		}

		// A clean parse must re-encode, and Parse∘Marshal must be stable.
		m, err := p.Marshal(p.HasIEI)
		if err != nil {
			t.Fatalf("Marshal of a cleanly parsed PCO: %v\ninput % x", err, b)
		}
		q, err := Parse(m)
		if err != nil {
			t.Fatalf("Parse(Marshal(p)): %v\ninput % x\nencoded % x", err, b, m)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("Parse(Marshal(p)) != p\n p %v\n q %v", p, q)
		}
		m2, err := q.Marshal(q.HasIEI)
		if err != nil || !bytes.Equal(m, m2) {
			t.Fatalf("second Marshal differs: % x vs % x (%v)", m, m2, err)
		}

		// JSON round trip keeps identifiers and contents.
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var r PCO
		if err := json.Unmarshal(j, &r); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", j, err)
		}
		if r.HasIEI != p.HasIEI || r.Extension != p.Extension || r.ConfigurationProtocol != p.ConfigurationProtocol || len(r.Entries) != len(p.Entries) {
			t.Fatalf("JSON round trip header: %+v vs %+v", r, p)
		}
		for i := range r.Entries {
			if r.Entries[i].ID != p.Entries[i].ID || !bytes.Equal(r.Entries[i].Contents, p.Entries[i].Contents) {
				t.Fatalf("JSON round trip entry %d: %v vs %v", i, r.Entries[i], p.Entries[i])
			}
		}
	})
}

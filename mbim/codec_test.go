package mbim

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"
)

// refUTF16 is the plain conversion decodeUTF16 must match: drop an odd
// trailing byte and trailing NULs, decode with unicode/utf16.
func refUTF16(b []byte) string {
	n := len(b) / 2
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}

func TestDecodeUTF16(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	units := []uint16{'a', 'Z', '0', ' ', 0, 0x7f, 0x80, 0xe9, 0x20ac, 0xd83d, 0xde00, 0xdc00, 0xd800, 0xffff}
	for i := 0; i < 20000; i++ {
		n := r.IntN(40)
		b := make([]byte, 0, 2*n+1)
		ascii := r.IntN(2) == 0
		for j := 0; j < n; j++ {
			var u uint16
			if ascii {
				u = uint16(0x20 + r.IntN(0x5f))
			} else {
				u = units[r.IntN(len(units))]
			}
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		if r.IntN(4) == 0 {
			b = append(b, byte(r.IntN(256)))
		}
		want := refUTF16(b)
		if got := decodeUTF16(b); got != want {
			t.Fatalf("decodeUTF16(%x) = %q, want %q", b, got, want)
		}
		// The same through the Decoder's shared string buffer.
		var d Decoder
		d.Init(b, "test")
		var s string
		d.StringAt(&s, "S", 0, 0, uint32(len(b)))
		if err := d.Finish(); err != nil || s != want {
			t.Fatalf("StringAt(%x) = %q, %v; want %q", b, s, err, want)
		}
	}
}

// TestDecoderStrings decodes more strings than one buffer batch holds,
// mixing UTF-16 and UTF-8, and checks that an error clears the pending ones.
func TestDecoderStrings(t *testing.T) {
	var buf []byte
	var want []string
	type ref struct{ off, n uint32 }
	var refs []ref
	for i := 0; i < 3*maxPendingStrings+5; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), i%7)
		if i%5 == 0 {
			s += "é😀"
		}
		off := uint32(len(buf))
		if i%3 == 0 {
			buf = append(buf, s...)
		} else {
			buf = AppendUTF16(buf, s)
		}
		refs = append(refs, ref{off, uint32(len(buf)) - off})
		want = append(want, s)
	}
	got := make([]string, len(want))
	for i := range got {
		got[i] = "old"
	}
	var d Decoder
	d.Init(buf, "test")
	for i, r := range refs {
		if i%3 == 0 {
			d.StringUTF8At(&got[i], "S", 0, r.off, r.n)
		} else {
			d.StringAt(&got[i], "S", 0, r.off, r.n)
		}
	}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("string %d: %q, want %q", i, got[i], want[i])
		}
	}

	// An error after some strings were recorded: they end up "".
	for i := range got {
		got[i] = "old"
	}
	d = Decoder{}
	d.Init(buf, "test")
	d.StringAt(&got[1], "S", 0, refs[1].off, refs[1].n)
	d.StringAt(&got[2], "T", 4, uint32(len(buf)), 2) // beyond the buffer
	err := d.Finish()
	if de, ok := err.(*DecodeError); !ok || de.Field != "T" || de.Offset != 4 {
		t.Fatalf("error %v, want a DecodeError for T at 4", err)
	}
	if got[1] != "" {
		t.Errorf("pending string after an error: %q, want \"\"", got[1])
	}
}

func TestFixedError(t *testing.T) {
	layout := []FixedField{{"A", 4}, {"B", 8}, {"C", 4}}
	var d Decoder
	d.Init(make([]byte, 10), "msg")
	if b := d.Fixed(16, layout); b != nil {
		t.Fatal("Fixed succeeded on a short buffer")
	}
	de, ok := d.Err().(*DecodeError)
	if !ok || de.Field != "B" || de.Offset != 4 || de.Message != "msg" {
		t.Fatalf("error %#v, want field B at offset 4", d.Err())
	}
}

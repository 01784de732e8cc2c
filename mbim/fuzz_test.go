package mbim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzSeeds returns named seed inputs shared by the fuzz targets and the
// committed corpus.
func fuzzSeeds(t testing.TB) map[string]map[string][]byte {
	parse := map[string][]byte{}
	for _, v := range messageVectors {
		parse[v.name] = unhex(t, v.wire)
	}
	parse["trailing bytes"] = unhex(t, "01000080 14000000 01000000 00000000 aabbccdd")
	parse["unknown type"] = unhex(t, "05000080 0c000000 09000000")
	parse["buffer overflow"] = unhex(t, "03000080 3c000000 03000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 01000000 00000000 90010000 000000000000000000000000")
	parse["fragment"] = unhex(t, "03000000 30000000 03000000 02000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 01000000 00000000 00000000")
	parse["short"] = unhex(t, "030000")

	stream := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	frags := func(typ MessageType, tid uint32, n, max int) [][]byte {
		f, err := Fragment(nil, testMessage(t, typ, tid, n), max)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := frags(TypeCommandDone, 1, 300, 64)
	b := frags(TypeIndicateStatus, 2, 150, 100)
	c := frags(TypeCommandDone, 3, 120, 64)
	re := map[string][]byte{
		"one message":    stream(a...),
		"two messages":   stream(append(append([][]byte{}, a...), b...)...),
		"interleaved":    stream(a[0], b[0], a[1], b[1], a[2], a[3], a[4], a[5], a[6], b[2]),
		"out of order":   stream(c[0], c[2], c[1]),
		"duplicate":      stream(c[0], c[1], c[1], c[2]),
		"superseded":     stream(a[0], a[1], c[0], c[1], c[2]),
		"with singles":   stream(unhex(t, messageVectors[5].wire), c[0], unhex(t, messageVectors[9].wire), c[1], c[2]),
		"orphan":         stream(c[1], c[2]),
		"truncated tail": stream(c[0], c[1][:30]),
	}
	return map[string]map[string][]byte{"FuzzParseMessage": parse, "FuzzReassemble": re}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/<target>/ from fuzzSeeds
// when GOMBIM_WRITE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("GOMBIM_WRITE_FUZZ_CORPUS") != "1" {
		t.Skip("set GOMBIM_WRITE_FUZZ_CORPUS=1 to rewrite the seed corpus")
	}
	for target, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seeds {
			file := filepath.Join(dir, "seed-"+sanitize(name))
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

func FuzzParseMessage(f *testing.F) {
	for _, data := range fuzzSeeds(f)["FuzzParseMessage"] {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMessage(data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FormatError: %v", err, err)
			}
			if len(data) >= HeaderLen {
				h, _ := ParseHeader(data)
				if m.Type != h.Type || m.TransactionID != h.TransactionID {
					t.Fatalf("header not reported on error: %+v vs %+v", m, h)
				}
			}
			if m.InformationBuffer != nil {
				t.Fatal("information buffer set on error")
			}
			_ = err.Error()
			return
		}
		enc, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("AppendBinary of a parsed message: %v", err)
		}
		if len(enc) != m.Len() || len(enc) > len(data) {
			t.Fatalf("encoded %d bytes, Len %d, input %d", len(enc), m.Len(), len(data))
		}
		// Everything but the length field survives; trailing bytes are dropped.
		if !bytes.Equal(enc[:4], data[:4]) || !bytes.Equal(enc[8:], data[8:len(enc)]) {
			t.Fatalf("re-encoding differs\n in %x\nout %x", data, enc)
		}
		if len(enc) == len(data) && !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding of an exact message differs")
		}
		m2, err := ParseMessage(enc)
		if err != nil || !equalMessages(m, m2) {
			t.Fatalf("re-parse: %+v, %v", m2, err)
		}
		_ = m.String()
		_ = m.Err()

		// Fragment and reassemble it again.
		max := MinControlTransfer + len(data)%200
		frags, err := Fragment(nil, enc, max)
		if err != nil {
			if m.Type.Fragmentable() || len(enc) <= max {
				t.Fatalf("Fragment(%d bytes, %d): %v", len(enc), max, err)
			}
			return
		}
		r := NewReassembler(len(enc), time.Second)
		var out []byte
		for i, fr := range frags {
			if len(fr) > max {
				t.Fatalf("fragment %d is %d bytes", i, len(fr))
			}
			out, err = r.Add(fr, t0)
			if err != nil {
				t.Fatalf("Add fragment %d/%d: %v", i, len(frags), err)
			}
		}
		if !bytes.Equal(out, enc) {
			t.Fatalf("reassembly differs")
		}
	})
}

func FuzzReassemble(f *testing.F) {
	for _, data := range fuzzSeeds(f)["FuzzReassemble"] {
		f.Add(data)
	}
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReassembler(limit, time.Second)
		now := t0
		rest := data
		for len(rest) > 0 {
			n := len(rest)
			if len(rest) >= HeaderLen {
				if l := int(binary.LittleEndian.Uint32(rest[4:])); l >= HeaderLen && l <= len(rest) {
					n = l
				}
			}
			frag := rest[:n:n]
			rest = rest[n:]
			now = now.Add(time.Duration(frag[n-1]%4) * 400 * time.Millisecond)

			out, err := r.Add(frag, now)
			checkReassemblyErrors(t, err)
			if r.Pending() > MaxPendingMessages {
				t.Fatalf("%d messages pending", r.Pending())
			}
			if out != nil {
				if &out[0] == &frag[0] {
					if len(out) != len(frag) {
						t.Fatal("pass-through changed the length")
					}
				} else {
					checkReassembled(t, out)
				}
			}
			if frag[0]&1 == 0 {
				for _, e := range r.Expire(now) {
					if e.Code != ErrTimeoutFragment {
						t.Fatalf("Expire returned %v", e)
					}
				}
			}
			if d, ok := r.Deadline(); ok && r.Expire(d) != nil {
				t.Fatal("Expire at Deadline dropped a message")
			}
		}
	})
}

func checkReassemblyErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	_ = err.Error()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isRE := err.(*ReassemblyError); !isRE {
			errs = j.Unwrap()
		}
	}
	for _, e := range errs {
		var re *ReassemblyError
		var fe *FormatError
		switch {
		case errors.As(e, &re):
			if re.Code < ErrTimeoutFragment || re.Code > ErrMaxTransfer || !errors.Is(e, re.Code) {
				t.Fatalf("bad code in %v", e)
			}
		case errors.As(e, &fe):
		default:
			t.Fatalf("unexpected error %T: %v", e, e)
		}
	}
}

func checkReassembled(t *testing.T, out []byte) {
	t.Helper()
	if len(out) > 4096 {
		t.Fatalf("reassembled %d bytes above the limit", len(out))
	}
	h, err := ParseHeader(out)
	if err != nil || !h.Type.Fragmentable() || int(h.Length) != len(out) {
		t.Fatalf("reassembled header %+v, %v", h, err)
	}
	m, err := ParseMessage(out)
	if err != nil {
		var fe *FormatError
		// Reassembly checks lengths; field values are ParseMessage's job.
		if !errors.As(err, &fe) || fe.Field != "command type" {
			t.Fatalf("reassembled message does not parse: %v", err)
		}
		return
	}
	if m.Len() != len(out) {
		t.Fatalf("reassembled message has %d trailing bytes", len(out)-m.Len())
	}
}

package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// FuzzInfo feeds arbitrary information buffers to the decoder of every
// layout (sel picks the layout). Decoding must not panic and must fail only
// with a DecodeError; whatever decodes must re-encode, and re-decoding that
// encoding must give the same encoding again.
func FuzzInfo(f *testing.F) {
	layouts := allLayouts()
	for i, l := range layouts {
		x := l.desc.New()
		mbimtest.Fill(rand.New(rand.NewPCG(uint64(i), 9)), x, 2)
		b, _ := mbim.Marshal(x)
		f.Add(uint16(i), b)
	}
	f.Fuzz(func(t *testing.T, sel uint16, b []byte) {
		l := layouts[int(sel)%len(layouts)]
		x := l.desc.New()
		if err := x.UnmarshalMBIM(b); err != nil {
			if _, ok := err.(*mbim.DecodeError); !ok {
				t.Fatalf("%s: error of type %T: %v", l.name(), err, err)
			}
			return
		}
		out, err := mbim.Marshal(x)
		if err != nil {
			return // e.g. arrays sharing a count decoded with different lengths is impossible; other encode errors are fine
		}
		y := l.desc.New()
		if err := y.UnmarshalMBIM(out); err != nil {
			t.Fatalf("%s: re-decoding our own encoding %x: %v", l.name(), out, err)
		}
		out2, err := mbim.Marshal(y)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%s: encoding not stable: %x then %x (%v)", l.name(), out, out2, err)
		}
		if _, err := json.Marshal(x); err != nil {
			t.Fatalf("%s: json: %v", l.name(), err)
		}
	})
}

// FuzzDecodeMessage decodes whole messages with every MBIMEx version and
// renders them; nothing may panic.
func FuzzDecodeMessage(f *testing.F) {
	for i, l := range allLayouts() {
		if i%7 != 0 {
			continue
		}
		x := l.desc.New()
		mbimtest.Fill(rand.New(rand.NewPCG(uint64(i), 4)), x, 2)
		msg, err := buildFor(l, x)
		if err == nil {
			f.Add(msg)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []mbim.Version{mbim.MBIMEx1, mbim.MBIMEx2, mbim.MBIMEx3, mbim.MBIMEx4} {
			d, err := DecodeBytes(b, v)
			if err != nil {
				return
			}
			_ = d.String()
			if _, err := json.Marshal(d); err != nil {
				t.Fatalf("json: %v", err)
			}
		}
	})
}

// TestWriteFuzzCorpus regenerates the committed seed corpora when
// GOMBIM_WRITE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("GOMBIM_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set GOMBIM_WRITE_FUZZ_CORPUS=1 to regenerate testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzInfo")
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	for i, l := range allLayouts() {
		x := l.desc.New()
		mbimtest.Fill(rand.New(rand.NewPCG(uint64(i), 5)), x, 2)
		b, _ := mbim.Marshal(x)
		name := fmt.Sprintf("%03d-%s", i, sanitize(l.name()))
		data := fmt.Sprintf("go test fuzz v1\nuint16(%d)\n[]byte(%q)\n", i, b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join("testdata", "fuzz", "FuzzDecodeMessage")
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	for i, l := range allLayouts() {
		x := l.desc.New()
		mbimtest.Fill(rand.New(rand.NewPCG(uint64(i), 6)), x, 1)
		msg, err := buildFor(l, x)
		if err != nil {
			continue
		}
		name := fmt.Sprintf("%03d-%s", i, sanitize(l.name()))
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", msg)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The committed seeds name the layout FuzzInfo picks with their index:
// every layout must have its seed, under its current index, or the seeds
// exercise the wrong layouts.
func TestFuzzCorpusCoversEveryLayout(t *testing.T) {
	have := map[string]bool{}
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzInfo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		have[e.Name()] = true
	}
	missing := 0
	for i, l := range allLayouts() {
		name := fmt.Sprintf("%03d-%s", i, sanitize(l.name()))
		if !have[name] {
			if missing++; missing <= 5 {
				t.Errorf("no FuzzInfo seed %s", name)
			}
		}
		delete(have, name)
	}
	for name := range have {
		t.Errorf("FuzzInfo seed %s matches no layout", name)
	}
	if t.Failed() {
		t.Logf("%d layouts lack their seed; regenerate: GOMBIM_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./catalog/", missing)
	}
}

func sanitize(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r == '/' || r == '.' {
			return '_'
		}
		return r
	}, []byte(s)))
}

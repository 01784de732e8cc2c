package ntb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// parseSeeds returns named NTBs, valid and invalid, used both as f.Add
// seeds and to (re)write the committed corpus in testdata/fuzz.
func parseSeeds() []struct {
	name string
	data []byte
} {
	type seed = struct {
		name string
		data []byte
	}
	var seeds []seed
	add := func(name string, b []byte) { seeds = append(seeds, seed{name, b}) }

	b := make([]byte, 64)
	nth16(b, 1, 64, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 5}, [2]int{40, 20})
	add("valid-ntb16-ips", b)

	b = make([]byte, 200)
	nth32(b, 2, 200, 160)
	ndp32(b, 160, dss32(7), 0, 16, [2]int{100, 50})
	ndp32(b, 16, ips32(1), 0, 0, [2]int{60, 40})
	add("valid-ntb32-chain-dss-ips", b)

	b = make([]byte, 100)
	nth16(b, 0, 100, 12)
	ndp16(b, 12, SignatureNCM16, 0, 28, [2]int{60, 14})
	ndp16(b, 28, SignatureNCM16CRC, 0, 0, [2]int{80, 20})
	add("valid-ntb16-ncm", b)

	b = make([]byte, 50)
	nth16(b, 0, 0, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{40, 10})
	add("valid-zero-block-length", b)

	bld := &Builder{Divisor: 8, Remainder: 2, NdpAlignment: 16, MaxSize: 4096}
	r := rand.New(rand.NewPCG(11, 12))
	for range 6 {
		a := randomDatagram(r, 2)
		_ = bld.Add(a.kind, a.session, a.data[:1+len(a.data)%300])
	}
	add("valid-built-ntb16-mixed", bytes.Clone(bld.Bytes()))
	bld = &Builder{Format: NTB32, Divisor: 4, MaxSize: 4096}
	for range 4 {
		a := randomDatagram(r, 3)
		_ = bld.Add(a.kind, a.session, a.data[:1+len(a.data)%200])
	}
	add("valid-built-ntb32-mixed", bytes.Clone(bld.Bytes()))

	b = make([]byte, 64)
	nth16(b, 0, 64, 12)
	ndp16(b, 12, ips16(0), 0, 12, [2]int{48, 4})
	add("invalid-ndp-self-loop", b)

	b = make([]byte, 64)
	nth16(b, 0, 64, 12)
	ndp16(b, 12, ips16(0), 0, 28, [2]int{48, 4})
	ndp16(b, 28, ips16(1), 0, 12, [2]int{52, 4})
	add("invalid-ndp-two-cycle", b)

	b = make([]byte, 64)
	nth16(b, 0, 64, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 16}, [2]int{60, 100})
	add("invalid-datagram-beyond-block", b)

	b = make([]byte, 96)
	nth32(b, 0, 96, 16)
	ndp32(b, 16, ips32(0), 0, 0, [2]int{64, 16})
	p16(b, 20, 26)
	add("invalid-ndp32-length", b)

	add("invalid-truncated-nth", []byte("NCMH\x0c\x00"))
	add("invalid-signature", []byte("HTTP/1.1 200 OK\r\n\r\n"))
	return seeds
}

func readerSeeds() []struct {
	name  string
	chunk uint8
	data  []byte
} {
	type seed = struct {
		name  string
		chunk uint8
		data  []byte
	}
	v1, v2 := validBlock16(1), validBlock16(2)
	bad := validBlock16(3)
	p16(bad, 20, 44)
	b32 := make([]byte, 96)
	nth32(b32, 0, 96, 16)
	ndp32(b32, 16, ips32(0), 0, 0, [2]int{64, 16})
	return []seed{
		{"stream-three-blocks", 255, concat(v1, b32, v2)},
		{"stream-bad-block-in-middle", 7, concat(v1, bad, v2)},
		{"stream-truncated", 3, concat(v1, v2[:30])},
		{"stream-garbage-after-block", 16, concat(v1, []byte("garbage!"))},
	}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzParse and
// testdata/fuzz/FuzzReader when NTB_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("NTB_WRITE_CORPUS") != "1" {
		t.Skip("set NTB_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	write := func(dir, name, body string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range parseSeeds() {
		write("testdata/fuzz/FuzzParse", s.name, "[]byte("+strconv.Quote(string(s.data))+")\n")
	}
	for _, s := range readerSeeds() {
		write("testdata/fuzz/FuzzReader", s.name,
			fmt.Sprintf("uint8(%d)\n[]byte(%s)\n", s.chunk, strconv.Quote(string(s.data))))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []Parser{{}, {AllowUnknown: true, MaxNDPs: 8}} {
			checkParse(t, &p, data)
		}
	})
}

func checkParse(t *testing.T, p *Parser, data []byte) {
	blk, err := p.Parse(data)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Err == nil || e.Struct == "" {
			t.Fatalf("error %v is not a complete *Error", err)
		}
		if blk.Bytes() != nil || blk.Count != 0 {
			t.Fatal("failed Parse returned a block")
		}
		return
	}
	if blk.Len() > len(data) || blk.Len() < NTH16Length {
		t.Fatalf("block length %d, input %d", blk.Len(), len(data))
	}
	if &blk.Bytes()[0] != &data[0] {
		t.Fatal("block does not alias the input")
	}
	hdr := NTH16Length
	if blk.Format == NTB32 {
		hdr = NTH32Length
	}
	type key struct {
		k Kind
		s uint8
	}
	perKey := map[key][][]byte{}
	known := true
	n := 0
	it := blk.Iter()
	for it.Next() {
		d := it.Datagram()
		n++
		if len(d.Data) == 0 || d.Offset < hdr || d.Offset+len(d.Data) > blk.Len() {
			t.Fatalf("datagram at %d+%d outside block of %d", d.Offset, len(d.Data), blk.Len())
		}
		if &d.Data[0] != &data[d.Offset] || cap(d.Data) != len(d.Data) {
			t.Fatal("datagram is not a capped sub-slice of the input")
		}
		k, s, _, ok := ParseSignature(d.Signature)
		if k != d.Kind || (ok && s != d.Session) {
			t.Fatalf("datagram kind %v/%d does not match signature %#x", d.Kind, d.Session, d.Signature)
		}
		if !ok {
			known = false
		}
		perKey[key{d.Kind, d.Session}] = append(perKey[key{d.Kind, d.Session}], d.Data)
	}
	if it.Err() != nil {
		t.Fatalf("iterating a parsed block: %v", it.Err())
	}
	if n != blk.Count {
		t.Fatalf("iterated %d datagrams, Count %d", n, blk.Count)
	}
	if !known || n == 0 {
		return // a block of empty NDPs rebuilds to nothing
	}

	// Rebuilding the datagrams gives a block with the same datagrams per
	// (kind, session), in the same order.
	// Room for every datagram once more (a hostile block may point at the
	// same bytes many times) plus the NDPs.
	size := NTH32Length + 8*n
	for _, ds := range perKey {
		size += 3 + NDP32MinLength
		for _, d := range ds {
			size += len(d)
		}
	}
	bld := &Builder{Format: blk.Format, MaxSize: size, Divisor: 1}
	full := false
	it = blk.Iter()
	for it.Next() {
		d := it.Datagram()
		if err := bld.Add(d.Kind, d.Session, d.Data); err != nil {
			if !errors.Is(err, ErrFull) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("rebuilding: %v", err)
			}
			full = true
			break
		}
	}
	if full {
		return
	}
	var rp Parser
	rb, err := rp.Parse(bld.Bytes())
	if err != nil {
		t.Fatalf("rebuilt block does not parse: %v", err)
	}
	got := map[key][][]byte{}
	_ = rb.Walk(func(d Datagram) error {
		got[key{d.Kind, d.Session}] = append(got[key{d.Kind, d.Session}], d.Data)
		return nil
	})
	if len(got) != len(perKey) {
		t.Fatalf("rebuilt block has %d streams, want %d", len(got), len(perKey))
	}
	for k, want := range perKey {
		g := got[k]
		if len(g) != len(want) {
			t.Fatalf("%v: %d datagrams after rebuild, want %d", k, len(g), len(want))
		}
		for i := range want {
			if !bytes.Equal(g[i], want[i]) {
				t.Fatalf("%v datagram %d differs after rebuild", k, i)
			}
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add(s.chunk, s.data)
	}
	f.Fuzz(func(t *testing.T, chunk uint8, data []byte) {
		rd := NewReaderSize(&chunkReader{bytes.NewReader(data), int(chunk) + 1}, 4096)
		off := 0
		// Every successful or skipped block consumes at least a header,
		// so this bound is never reached by a correct Reader.
		for range len(data)/NTH16Length + 2 {
			blk, err := rd.Next()
			if err == io.EOF {
				if off != len(data) {
					t.Fatalf("io.EOF at %d of %d", off, len(data))
				}
				return
			}
			if rd.Err() != nil {
				if err != rd.Err() {
					t.Fatalf("Next = %v, Err = %v", err, rd.Err())
				}
				if _, err2 := rd.Next(); err2 != err {
					t.Fatal("permanent error not repeated")
				}
				return
			}
			if rd.Offset() != int64(off) {
				t.Fatalf("Offset %d, want %d", rd.Offset(), off)
			}
			// The header at off states the block length in both cases.
			var n int
			if le.Uint32(data[off:]) == SignatureNTH16 {
				n = int(le.Uint16(data[off+8:]))
			} else {
				n = int(le.Uint32(data[off+8:]))
			}
			if off+n > len(data) || n > 4096 {
				t.Fatalf("block %d+%d beyond input %d", off, n, len(data))
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("content error %v is not *Error", err)
				}
			} else {
				if blk.Len() != n || !bytes.Equal(blk.Bytes(), data[off:off+n]) {
					t.Fatalf("block bytes differ from input at %d", off)
				}
				_ = blk.Walk(func(d Datagram) error {
					if d.Offset+len(d.Data) > n {
						t.Fatalf("datagram beyond block")
					}
					return nil
				})
				checkParse(t, &Parser{}, data[off:off+n])
			}
			off += n
		}
		t.Fatal("Reader did not terminate")
	})
}

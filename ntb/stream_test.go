package ntb

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// buildStream returns n random blocks (NTB16 and NTB32 mixed) and their
// concatenation.
func buildStream(t *testing.T, r *rand.Rand, n int) ([][]byte, []byte) {
	t.Helper()
	var blocks [][]byte
	var stream []byte
	for range n {
		bld := randomBuilder(r)
		if bld.MaxSize > 60000 {
			bld.MaxSize = 60000
		}
		k := 1 + r.IntN(8)
		for range k {
			a := randomDatagram(r, 3)
			if err := bld.Add(a.kind, a.session, a.data); err != nil {
				break
			}
		}
		blk := bytes.Clone(bld.Bytes())
		if blk == nil {
			continue
		}
		blocks = append(blocks, blk)
		stream = append(stream, blk...)
	}
	return blocks, stream
}

func TestReaderStream(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	blocks, stream := buildStream(t, r, 40)
	wrappers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"onebyte":  iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"dataerr":  iotest.DataErrReader,
		"timeout":  func(r io.Reader) io.Reader { return &retryReader{iotest.TimeoutReader(r)} },
		"chunked7": func(r io.Reader) io.Reader { return &chunkReader{r, 7} },
	}
	for name, wrap := range wrappers {
		t.Run(name, func(t *testing.T) {
			rd := NewReader(wrap(bytes.NewReader(stream)))
			var off int64
			for i, want := range blocks {
				blk, err := rd.Next()
				if err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
				if !bytes.Equal(blk.Bytes(), want) {
					t.Fatalf("block %d differs", i)
				}
				if rd.Offset() != off {
					t.Fatalf("block %d: Offset %d, want %d", i, rd.Offset(), off)
				}
				off += int64(len(want))
				want, _ := Parse(want)
				if blk.Count != want.Count {
					t.Fatalf("block %d: %d datagrams, want %d", i, blk.Count, want.Count)
				}
			}
			for range 2 {
				if _, err := rd.Next(); err != io.EOF {
					t.Fatalf("at end: %v, want io.EOF", err)
				}
			}
		})
	}
}

// retryReader turns iotest.ErrTimeout into a zero-byte read, as a
// non-blocking source would report "nothing yet".
type retryReader struct{ r io.Reader }

func (r *retryReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err == iotest.ErrTimeout {
		err = nil
	}
	return n, err
}

type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

func validBlock16(seq int) []byte {
	b := make([]byte, 48)
	nth16(b, seq, 48, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{40, 8})
	fill(b, 40, 8, byte(seq))
	return b
}

func TestReaderErrors(t *testing.T) {
	v1, v2 := validBlock16(1), validBlock16(2)
	bad := validBlock16(3)
	p16(bad, 20, 44) // datagram 44+8 beyond 48: content error

	t.Run("content error skips one block", func(t *testing.T) {
		rd := NewReader(bytes.NewReader(concat(v1, bad, v2)))
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
		_, err := rd.Next()
		if !errors.Is(err, ErrBounds) || rd.Err() != nil {
			t.Fatalf("bad block: %v (Err %v)", err, rd.Err())
		}
		if rd.Offset() != 48 {
			t.Errorf("Offset = %d", rd.Offset())
		}
		blk, err := rd.Next()
		if err != nil || blk.Sequence != 2 {
			t.Fatalf("after bad block: %v seq %d", err, blk.Sequence)
		}
		if _, err := rd.Next(); err != io.EOF {
			t.Fatal(err)
		}
	})

	permanent := []struct {
		name   string
		stream []byte
		kind   error
		text   string
	}{
		{"bad signature", concat(v1, []byte("GARBAGE GARBAGE GARBAGE")), ErrSignature,
			"ntb: NTH at offset 48: dwSignature"},
		{"zero block length", concat(v1, func() []byte { b := validBlock16(4); p16(b, 8, 0); return b }()), ErrMalformed,
			"ntb: NTH16 at offset 48: wBlockLength: 0"},
		{"block length below header", concat(func() []byte { b := validBlock16(4); p16(b, 8, 8); return b }()), ErrMalformed,
			"wBlockLength: 8 is smaller than the 12-byte header"},
		{"too large", func() []byte {
			b := make([]byte, 100)
			nth32(b, 0, 70000, 16)
			return b
		}(), ErrTooLarge, "ntb: NTH32 at offset 0: dwBlockLength: 70000 exceeds the reader limit of 65536 bytes"},
		{"truncated block", concat(v1, v2[:30]), io.ErrUnexpectedEOF, ""},
		{"truncated header", concat(v1, v2[:6]), io.ErrUnexpectedEOF, ""},
		{"truncated signature", concat(v1, v2[:2]), io.ErrUnexpectedEOF, ""},
	}
	for _, tc := range permanent {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader(iotest.HalfReader(bytes.NewReader(tc.stream)))
			var err error
			for range 10 {
				if _, err = rd.Next(); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.kind) || (tc.text != "" && !bytes.Contains([]byte(err.Error()), []byte(tc.text))) {
				t.Fatalf("error %v, want %v containing %q", err, tc.kind, tc.text)
			}
			if rd.Err() != err {
				t.Errorf("Err() = %v", rd.Err())
			}
			if _, err2 := rd.Next(); err2 != err {
				t.Errorf("error not sticky: %v", err2)
			}
		})
	}

	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		rd := NewReader(io.MultiReader(bytes.NewReader(v1), iotest.ErrReader(boom)))
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.Next(); err != boom {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		rd := NewReader(zeroReader{})
		if _, err := rd.Next(); err != io.ErrNoProgress {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("limit", func(t *testing.T) {
		b := make([]byte, 64)
		nth16(b, 0, 64, 12)
		ndp16(b, 12, ips16(0), 0, 0, [2]int{40, 24})
		rd := NewReaderSize(bytes.NewReader(b), 63)
		if _, err := rd.Next(); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
		rd = NewReaderSize(bytes.NewReader(b), 64)
		if _, err := rd.Next(); err != nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("parser settings apply", func(t *testing.T) {
		rd := NewReader(bytes.NewReader(v1))
		rd.Parser.Format = NTB32
		if _, err := rd.Next(); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v", err)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func concat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	blocks, stream := buildStream(t, r, 20)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, b := range blocks {
		if err := w.WriteBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(buf.Bytes(), stream) || w.Written() != int64(len(stream)) {
		t.Fatal("written stream differs")
	}

	v := validBlock16(1)
	bad := bytes.Clone(v)
	p32(bad, 12, 0x58585858)
	zero := bytes.Clone(v)
	p16(zero, 8, 0)
	cases := []struct {
		name string
		blk  []byte
		kind error
	}{
		{"invalid", bad, ErrSignature},
		{"trailing bytes", append(bytes.Clone(v), 0), ErrMalformed},
		{"zero block length", zero, ErrMalformed},
	}
	for _, tc := range cases {
		buf.Reset()
		if err := w.WriteBlock(tc.blk); !errors.Is(err, tc.kind) || buf.Len() != 0 {
			t.Errorf("%s: %v, %d bytes written", tc.name, err, buf.Len())
		}
	}
	sw := NewWriter(shortWriter{})
	if err := sw.WriteBlock(v); err != io.ErrShortWrite {
		t.Errorf("short write: %v", err)
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

// loopReader replays the same bytes forever.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.b[l.off:])
		n += c
		l.off = (l.off + c) % len(l.b)
	}
	return n, nil
}

func TestReaderNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	_, stream := buildStream(t, r, 10)
	rd := NewReader(&loopReader{b: stream})
	if _, err := rd.Next(); err != nil { // allocates the buffer
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(200, func() {
		blk, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		_ = blk.Walk(func(Datagram) error { return nil })
	})
	if n != 0 {
		t.Errorf("%v allocations per block, want 0", n)
	}
}

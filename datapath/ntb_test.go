package datapath

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/ntb"
)

// payload returns datagram i of a test stream: a length between 1 and max
// and contents derived from i, so that reordering or corruption shows.
func payload(rng *rand.Rand, i, max int) []byte {
	n := 1 + rng.IntN(max)
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*131 + j*7 + j>>8)
	}
	return b
}

func readAll(t *testing.T, src Source) []Datagram {
	t.Helper()
	var out []Datagram
	for {
		d, err := src.ReadDatagram(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadDatagram after %d datagrams: %v", len(out), err)
		}
		d.Data = bytes.Clone(d.Data)
		out = append(out, d)
	}
}

func TestNTBStreamRoundTrip(t *testing.T) {
	for _, f := range []ntb.Format{ntb.NTB16, ntb.NTB32} {
		t.Run(f.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(f)))
			var buf bytes.Buffer
			p, err := NewNTBStreamProducer(&buf, NTBProducerOptions{Format: f, MaxSize: 8192, Divisor: 8, Remainder: 2, Desc: "buffer"})
			if err != nil {
				t.Fatal(err)
			}
			var want1 [][]byte
			var wantAll []Datagram
			for i := 0; i < 500; i++ {
				sess := uint8(rng.IntN(3)) // sessions 0, 1, 2 interleaved
				d := payload(rng, i, 3000)
				if err := p.WriteDatagram(sess, d); err != nil {
					t.Fatal(err)
				}
				if sess == 1 {
					want1 = append(want1, d)
				}
				wantAll = append(wantAll, Datagram{Session: sess, Data: d, Length: len(d)})
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			stream := buf.Bytes()

			src := NewNTBSource(bytes.NewReader(stream), "test buffer", NTBOptions{Session: 1, Why: "testing"})
			got := readAll(t, src)
			if len(got) != len(want1) {
				t.Fatalf("got %d datagrams of session 1, want %d", len(got), len(want1))
			}
			for i := range got {
				if got[i].Session != 1 || !bytes.Equal(got[i].Data, want1[i]) || got[i].Truncated() {
					t.Fatalf("datagram %d differs", i)
				}
			}
			st := src.Stats()
			if st.Datagrams != int64(len(want1)) || st.Skipped != int64(len(wantAll)-len(want1)) || st.Blocks == 0 || st.BadBlocks != 0 {
				t.Errorf("stats %+v", st)
			}
			if d := src.Describe(); !strings.Contains(d, "raw NTB stream from test buffer") || !strings.Contains(d, "DSS session 1") || !strings.Contains(d, "testing") {
				t.Errorf("Describe() = %q", d)
			}

			// AnySession: every session's datagrams, each session in order.
			// (Within one NTB datagrams are grouped by NDP, so the order
			// across sessions is not kept.)
			all := readAll(t, NewNTBSource(bytes.NewReader(stream), "x", NTBOptions{AnySession: true}))
			if len(all) != len(wantAll) {
				t.Fatalf("AnySession: got %d datagrams, want %d", len(all), len(wantAll))
			}
			per := func(ds []Datagram) map[uint8][][]byte {
				m := map[uint8][][]byte{}
				for _, d := range ds {
					m[d.Session] = append(m[d.Session], d.Data)
				}
				return m
			}
			gotPer, wantPer := per(all), per(wantAll)
			for sess, w := range wantPer {
				g := gotPer[sess]
				if len(g) != len(w) {
					t.Fatalf("AnySession: session %d: %d datagrams, want %d", sess, len(g), len(w))
				}
				for i := range w {
					if !bytes.Equal(g[i], w[i]) {
						t.Fatalf("AnySession: session %d datagram %d differs", sess, i)
					}
				}
			}

			// Every block is a valid NTB of the format asked for.
			r := ntb.NewReader(bytes.NewReader(stream))
			for {
				b, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if b.Format != f || b.Len() > 8192 {
					t.Fatalf("block format %v len %d", b.Format, b.Len())
				}
			}
		})
	}
}

// The source keeps only DSS datagrams: IP (IPS) datagrams of the same
// session number are not log data.
func TestNTBSourceSkipsIPS(t *testing.T) {
	b := &ntb.Builder{}
	b.Add(ntb.IPS, 1, []byte("ip packet"))
	b.Add(ntb.DSS, 1, []byte("log"))
	b.Add(ntb.IPS, 0, []byte("ip 0"))
	got := readAll(t, NewNTBSource(bytes.NewReader(b.Bytes()), "x", NTBOptions{Session: 1}))
	if len(got) != 1 || string(got[0].Data) != "log" {
		t.Fatalf("got %+v", got)
	}
}

func TestNTBSourceBadBlock(t *testing.T) {
	var stream []byte
	b := &ntb.Builder{}
	b.Add(ntb.DSS, 0, []byte("first"))
	stream = append(stream, b.Bytes()...)
	b.Reset()
	b.Add(ntb.DSS, 0, []byte("lost"))
	bad := bytes.Clone(b.Bytes())
	bad[10] = 0xff // wNdpIndex beyond the block: framing intact, contents invalid
	stream = append(stream, bad...)
	b.Reset()
	b.Add(ntb.DSS, 0, []byte("second"))
	stream = append(stream, b.Bytes()...)

	src := NewNTBSource(bytes.NewReader(stream), "x", NTBOptions{})
	ctx := context.Background()
	d, err := src.ReadDatagram(ctx)
	if err != nil || string(d.Data) != "first" {
		t.Fatalf("first: %q %v", d.Data, err)
	}
	_, err = src.ReadDatagram(ctx)
	var le *LossError
	if !errors.As(err, &le) || le.Count != 1 || le.Offset != int64(len(stream)-len(bad)-len(b.Bytes())) {
		t.Fatalf("want a LossError for the bad block, got %v", err)
	}
	var ne *ntb.Error
	if !errors.As(err, &ne) {
		t.Errorf("LossError does not wrap the ntb error: %v", err)
	}
	d, err = src.ReadDatagram(ctx)
	if err != nil || string(d.Data) != "second" {
		t.Fatalf("second: %q %v", d.Data, err)
	}
	if _, err := src.ReadDatagram(ctx); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if st := src.Stats(); st.BadBlocks != 1 || st.Datagrams != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestNTBSourceStreamErrors(t *testing.T) {
	b := &ntb.Builder{}
	b.Add(ntb.DSS, 0, bytes.Repeat([]byte("x"), 100))
	blk := b.Bytes()

	// Ends inside a block.
	src := NewNTBSource(bytes.NewReader(blk[:len(blk)-10]), "x", NTBOptions{})
	_, err := src.ReadDatagram(context.Background())
	if !errors.Is(err, io.EOF) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated stream: %v", err)
	}

	// Garbage instead of a transfer header: framing lost, fatal.
	src = NewNTBSource(bytes.NewReader(append([]byte("garbage!garbage!"), blk...)), "x", NTBOptions{})
	_, err = src.ReadDatagram(context.Background())
	var le *LossError
	if err == nil || errors.As(err, &le) || !strings.Contains(err.Error(), "framing lost") {
		t.Fatalf("garbage: %v", err)
	}
	if _, err2 := src.ReadDatagram(context.Background()); err2 == nil {
		t.Fatal("reading on after a framing error succeeded")
	}

	// A block larger than the limit.
	big := &ntb.Builder{Format: ntb.NTB32, MaxSize: 200000}
	big.Add(ntb.DSS, 0, make([]byte, 100000))
	src = NewNTBSource(bytes.NewReader(big.Bytes()), "x", NTBOptions{})
	if _, err := src.ReadDatagram(context.Background()); !errors.Is(err, ntb.ErrTooLarge) {
		t.Fatalf("large block: %v", err)
	}
	src = NewNTBSource(bytes.NewReader(big.Bytes()), "x", NTBOptions{MaxBlockSize: 200000})
	if d, err := src.ReadDatagram(context.Background()); err != nil || len(d.Data) != 100000 {
		t.Fatalf("large block with MaxBlockSize: %d %v", len(d.Data), err)
	}

	// Format restriction.
	src = NewNTBSource(bytes.NewReader(big.Bytes()), "x", NTBOptions{MaxBlockSize: 200000, Format: ntb.NTB16})
	if _, err := src.ReadDatagram(context.Background()); err == nil {
		t.Fatal("NTB32 block accepted by an NTB16-only source")
	}
}

func TestNTBSourceCancelAndClose(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	src := NewNTBSource(a, "pipe", NTBOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := src.ReadDatagram(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled read: %v", err)
	}
	if time.Since(start) > waitTimeout {
		t.Fatal("cancellation took too long")
	}
	// The stream position is lost: later reads say so.
	_, err = src.ReadDatagram(context.Background())
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("read after cancellation: %v", err)
	}
	src.Close()

	// Close unblocks a pending read.
	a, b = net.Pipe()
	defer b.Close()
	src = NewNTBSource(a, "pipe", NTBOptions{})
	done := make(chan error, 1)
	go func() {
		_, err := src.ReadDatagram(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	src.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("read after Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not unblock ReadDatagram")
	}
	if _, err := src.ReadDatagram(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("read on closed source: %v", err)
	}
}

// A block that arrives before a cancellation takes effect is delivered
// and the source stays usable.
func TestNTBSourceContextNotCancelled(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	src := NewNTBSource(a, "pipe", NTBOptions{})
	defer src.Close()
	p, _ := NewNTBStreamProducer(b, NTBProducerOptions{})
	go func() {
		for i := 0; i < 3; i++ {
			p.WriteDatagram(0, []byte{byte(i)})
			p.Flush()
		}
	}()
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		d, err := src.ReadDatagram(ctx)
		cancel()
		if err != nil || len(d.Data) != 1 || d.Data[0] != byte(i) {
			t.Fatalf("datagram %d: %v %v", i, d.Data, err)
		}
	}
}

func TestNTBProducer(t *testing.T) {
	if _, err := NewNTBStreamProducer(io.Discard, NTBProducerOptions{Divisor: 4, Remainder: 4}); err == nil {
		t.Error("invalid alignment accepted")
	}
	var buf lockedBuffer
	p, err := NewNTBStreamProducer(&buf, NTBProducerOptions{MaxSize: 2048, FlushDelay: 20 * time.Millisecond, Desc: "buf"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteDatagram(0, make([]byte, 4000)); !errors.Is(err, ntb.ErrTooLarge) {
		t.Errorf("oversized datagram: %v", err)
	}
	// NTH16 (12) + NDP16 with one entry (16): 2020 bytes fit in 2048.
	if m := p.MaxDatagram(); m != 2048-12-16 {
		t.Errorf("MaxDatagram() = %d", m)
	}
	for _, o := range []NTBProducerOptions{{}, {Format: ntb.NTB32, MaxSize: 100000}, {Divisor: 16, Remainder: 3, NdpAlignment: 16}} {
		q, err := NewNTBStreamProducer(io.Discard, o)
		if err != nil {
			t.Fatal(err)
		}
		m := q.MaxDatagram()
		if err := q.WriteDatagram(1, make([]byte, m)); err != nil {
			t.Errorf("%+v: MaxDatagram %d does not fit: %v", o, m, err)
		}
		if err := q.WriteDatagram(1, make([]byte, m+1)); !errors.Is(err, ntb.ErrTooLarge) {
			t.Errorf("%+v: MaxDatagram+1 = %d: %v", o, m+1, err)
		}
	}
	if err := p.WriteDatagram(0, nil); err == nil {
		t.Error("empty datagram accepted")
	}
	p.WriteDatagram(3, []byte("hello"))
	if buf.Len() != 0 {
		t.Fatal("block sent before it was full or flushed")
	}
	deadline := time.Now().Add(waitTimeout)
	for buf.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := readAll(t, NewNTBSource(bytes.NewReader(buf.Bytes()), "x", NTBOptions{Session: 3}))
	if len(got) != 1 || string(got[0].Data) != "hello" {
		t.Fatalf("FlushDelay: got %+v", got)
	}
	if p.Written() != int64(buf.Len()) {
		t.Errorf("Written %d, buffer %d", p.Written(), buf.Len())
	}
	if !strings.Contains(p.Describe(), "NTB16 blocks of up to 2048 bytes to buf") {
		t.Errorf("Describe() = %q", p.Describe())
	}
	p.Close()
	if err := p.WriteDatagram(0, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}

	// A write error sticks.
	p, _ = NewNTBStreamProducer(errWriter{}, NTBProducerOptions{})
	p.WriteDatagram(0, []byte("x"))
	if err := p.Flush(); err == nil {
		t.Fatal("write error lost")
	}
	if err := p.WriteDatagram(0, []byte("y")); err == nil {
		t.Fatal("write error not sticky")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

func TestNTBOverUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ntb.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	var want [][]byte
	for i := 0; i < 2000; i++ {
		want = append(want, payload(rng, i, 4000))
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		p, _ := NewNTBStreamProducer(c, NTBProducerOptions{Format: ntb.NTB32, MaxSize: 32768})
		for _, d := range want {
			if p.WriteDatagram(7, d) != nil {
				return
			}
		}
		p.Close()
	}()
	src, err := DialNTB(context.Background(), path, NTBOptions{Session: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !strings.Contains(src.Describe(), "unix socket "+path) {
		t.Errorf("Describe() = %q", src.Describe())
	}
	got := readAll(t, src)
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Fatalf("datagram %d differs", i)
		}
	}
}

func TestOpenNTBFile(t *testing.T) {
	b := &ntb.Builder{}
	b.Add(ntb.DSS, 2, []byte("from a capture file"))
	path := filepath.Join(t.TempDir(), "capture.ntb")
	if err := writeFile(path, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	src, err := OpenNTBFile(path, NTBOptions{Session: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := readAll(t, src)
	if len(got) != 1 || string(got[0].Data) != "from a capture file" {
		t.Fatalf("got %+v", got)
	}
	if _, err := OpenNTBFile(filepath.Join(t.TempDir(), "missing"), NTBOptions{}); err == nil {
		t.Fatal("missing file opened")
	}
}

func TestSessionOfVLAN(t *testing.T) {
	cases := []struct {
		vid  uint16
		m    Mapping
		sess uint8
	}{
		{0, MapIPS, 0}, {1, MapIPS, 1}, {255, MapIPS, 255},
		{256, MapDSS, 0}, {257, MapDSS, 1}, {511, MapDSS, 255},
		{512, MapDrop, 0}, {4093, MapDrop, 0}, {4094, MapIPS, 0}, {4095, MapDrop, 0},
		{0x2101, MapDSS, 1}, // priority bits are ignored
	}
	for _, c := range cases {
		if m, s := SessionOfVLAN(c.vid); m != c.m || s != c.sess {
			t.Errorf("SessionOfVLAN(%d) = %v, %d; want %v, %d", c.vid, m, s, c.m, c.sess)
		}
	}
	for s := 0; s < 256; s++ {
		if m, got := SessionOfVLAN(DSSVLAN(uint8(s))); m != MapDSS || got != uint8(s) {
			t.Fatalf("round trip of DSS session %d", s)
		}
	}
}

func TestLossErrorText(t *testing.T) {
	e := &LossError{What: "malformed NTB skipped", Count: 1, Bytes: -1, Offset: 42, Err: errors.New("bad")}
	if got := e.Error(); got != "datapath: malformed NTB skipped: 1 lost at stream offset 42: bad" {
		t.Errorf("Error() = %q", got)
	}
	e = &LossError{What: "frames dropped", Count: 3, Bytes: 300, Offset: -1}
	if got := e.Error(); got != "datapath: frames dropped: 3 lost (300 bytes)" {
		t.Errorf("Error() = %q", got)
	}
}

// deadlineReader is an io.Reader with SetReadDeadline that hands out
// everything it has in one Read, like a socket whose data has all
// arrived.
type deadlineReader struct {
	r        io.Reader
	deadline time.Time
	reads    int
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if !d.deadline.IsZero() && time.Now().After(d.deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	d.reads++
	return d.r.Read(p)
}

func (d *deadlineReader) SetReadDeadline(t time.Time) error { d.deadline = t; return nil }

// After cancellation, blocks already received are still delivered, but
// nothing more is read.
func TestNTBSourceDrainsAfterCancel(t *testing.T) {
	var stream []byte
	b := &ntb.Builder{}
	for i := 0; i < 3; i++ {
		b.Reset()
		b.Add(ntb.DSS, 0, []byte{byte(i), 'a'})
		b.Add(ntb.DSS, 0, []byte{byte(i), 'b'})
		stream = append(stream, b.Bytes()...)
	}
	partial := bytes.Clone(stream[:20]) // the start of a 4th block
	dr := &deadlineReader{r: io.MultiReader(bytes.NewReader(append(stream, partial...)))}
	src := NewNTBSource(dr, "x", NTBOptions{})
	d, err := src.ReadDatagram(context.Background())
	if err != nil || d.Data[0] != 0 || d.Data[1] != 'a' {
		t.Fatalf("first: %v %v", d.Data, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got []string
	for {
		d, err := src.ReadDatagram(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("end of drain: %v", err)
			}
			break
		}
		got = append(got, fmt.Sprintf("%d%c", d.Data[0], d.Data[1]))
	}
	if strings.Join(got, " ") != "0b 1a 1b 2a 2b" {
		t.Fatalf("drained %v", got)
	}
	if _, err := src.ReadDatagram(context.Background()); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("after the drain: %v", err)
	}
}

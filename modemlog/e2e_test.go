package modemlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/ntb"
)

// logStream is the simulated modem's log: datagram i has a size from a
// fixed cycle between min and max bytes and contents derived from i, so a
// test can regenerate any prefix of it.
type logStream struct{ min, max int }

func (l logStream) size(i int) int {
	span := l.max - l.min + 1
	return l.min + (i*7919)%span
}

func (l logStream) fill(buf []byte, i int) []byte {
	n := l.size(i)
	b := buf[:n]
	x := uint32(i)*2654435761 + 1
	for j := 0; j+4 <= n; j += 4 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[j], b[j+1], b[j+2], b[j+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	}
	for j := n &^ 3; j < n; j++ {
		b[j] = byte(i + j)
	}
	return b
}

// digest returns the length and SHA-256 of datagrams 0..n-1.
func (l logStream) digest(n int) (int64, []byte) {
	h := sha256.New()
	buf := make([]byte, l.max)
	var total int64
	for i := 0; i < n; i++ {
		d := l.fill(buf, i)
		h.Write(d)
		total += int64(len(d))
	}
	return total, h.Sum(nil)
}

// filesDigest concatenates the data files of dir in index order and
// returns the length and SHA-256, checking that no segment is truncated
// and that the index accounts for every byte.
func filesDigest(t testing.TB, dir string) (int64, []byte, *Index) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var total, indexed int64
	for _, fs := range ix.Files() {
		if fs.Deleted {
			t.Fatalf("%s was deleted", fs.Name)
		}
		data, err := os.ReadFile(filepath.Join(dir, fs.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if !fs.Closed || fs.Size != int64(len(data)) || fs.SHA256 != fmt.Sprintf("%x", sum) {
			t.Fatalf("%s: close record %+v does not match the file (%d bytes)", fs.Name, fs, len(data))
		}
		h.Write(data)
		total += int64(len(data))
	}
	for _, s := range ix.Segments() {
		if s.Truncated {
			t.Fatalf("segment %+v truncated", s)
		}
		indexed += s.Size
	}
	if indexed != total {
		t.Fatalf("index covers %d bytes, files hold %d", indexed, total)
	}
	return total, h.Sum(nil), ix
}

// serveNTB listens on a Unix socket and, for the first connection,
// writes datagrams 0..n-1 of ls (n < 0: until the connection breaks) for
// session 1, with a few session 2 datagrams mixed in that must not be
// logged. It returns the socket path and a channel with the number of
// session-1 datagrams written.
func serveNTB(t testing.TB, ls logStream, n int, opts datapath.NTBProducerOptions) (string, <-chan int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sim-data.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			done <- 0
			return
		}
		defer c.Close()
		opts.Desc = "unix socket " + path
		p, err := datapath.NewNTBStreamProducer(c, opts)
		if err != nil {
			done <- 0
			return
		}
		buf := make([]byte, ls.max)
		i := 0
		for ; n < 0 || i < n; i++ {
			if i%97 == 0 {
				if p.WriteDatagram(2, []byte("another DSS session")) != nil {
					break
				}
			}
			if p.WriteDatagram(1, ls.fill(buf, i)) != nil {
				break
			}
		}
		p.Close()
		done <- i
	}()
	return path, done
}

// The NTB stream path end to end: producer -> Unix socket -> NTBSource ->
// Writer -> files, across several rotations.
func TestNTBSocketToFiles(t *testing.T) {
	ls := logStream{min: 100, max: 16 << 10}
	const n = 3000 // about 24 MiB
	path, sent := serveNTB(t, ls, n, datapath.NTBProducerOptions{MaxSize: 32 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := datapath.DialNTB(ctx, path, datapath.NTBOptions{Session: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir, MaxFileBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Capture(ctx, src); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-sent; got != n {
		t.Fatalf("producer wrote %d datagrams", got)
	}
	wantLen, wantSum := ls.digest(n)
	gotLen, gotSum, ix := filesDigest(t, dir)
	if gotLen != wantLen || !bytes.Equal(gotSum, wantSum) {
		t.Fatalf("on disk: %d bytes sha256 %x; sent: %d bytes sha256 %x", gotLen, gotSum, wantLen, wantSum)
	}
	segs := ix.Segments()
	if len(segs) != n || st.Segments != n || st.Files < 5 {
		t.Fatalf("%d segments indexed, stats %+v", len(segs), st)
	}
	for i, s := range segs {
		if s.Size != int64(ls.size(i)) || s.Session != 1 {
			t.Fatalf("segment %d: %+v, want size %d", i, s, ls.size(i))
		}
	}
	if ss := src.Stats(); ss.Skipped == 0 || ss.Datagrams != n {
		t.Errorf("source stats %+v", ss)
	}
	if ix.Records[0].Type != RecSource || ix.Records[0].Source != src.Describe() {
		t.Errorf("first record %+v", ix.Records[0])
	}
	t.Logf("%d bytes in %d segments, %d files, sha256 %x: equal to what was sent", gotLen, len(segs), st.Files, gotSum)
}

// hashWriter hashes what passes through it.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}

// The log stream as an io.Reader, over the same socket path.
func TestReaderOverNTBSocket(t *testing.T) {
	ls := logStream{min: 1, max: 4000}
	const n = 2000
	path, _ := serveNTB(t, ls, n, datapath.NTBProducerOptions{Format: ntb.NTB32})
	src, err := datapath.DialNTB(context.Background(), path, datapath.NTBOptions{Session: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	hw := &hashWriter{h: sha256.New()}
	if _, err := io.Copy(hw, NewReader(context.Background(), src)); err != nil {
		t.Fatal(err)
	}
	wantLen, wantSum := ls.digest(n)
	if hw.n != wantLen || !bytes.Equal(hw.h.Sum(nil), wantSum) {
		t.Fatalf("read %d bytes, want %d (or checksum differs)", hw.n, wantLen)
	}
}

// BenchmarkNTBSocketToDisk measures the whole NTB stream path: the
// producer writing NTBs into a Unix socket, NTBSource parsing them,
// Writer writing the segments to files (on the test's temporary
// directory, rotating every 64 MiB) with the index. It checks that
// nothing was lost (length and SHA-256 of the files) and reports Gbit/s
// of log data.
func BenchmarkNTBSocketToDisk(b *testing.B) {
	for _, c := range []struct {
		name   string
		seg    int
		ntbMax int
		format ntb.Format
	}{
		{"seg=16KiB/NTB16-64KiB", 16 << 10, 65535, ntb.NTB16},
		{"seg=4KiB/NTB16-16KiB", 4 << 10, 16 << 10, ntb.NTB16},
		{"seg=1500B/NTB16-16KiB", 1500, 16 << 10, ntb.NTB16},
		{"seg=32KiB/NTB32-128KiB", 32 << 10, 128 << 10, ntb.NTB32},
	} {
		b.Run(c.name, func(b *testing.B) {
			ls := logStream{min: c.seg, max: c.seg}
			n := max(b.N, 8)
			path, sent := serveNTB(b, ls, n, datapath.NTBProducerOptions{MaxSize: c.ntbMax, Format: c.format})
			src, err := datapath.DialNTB(context.Background(), path, datapath.NTBOptions{Session: 1, MaxBlockSize: max(c.ntbMax, ntb.DefaultReaderMaxSize)})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			dir := b.TempDir()
			w, err := Create(Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(c.seg))
			b.ResetTimer()
			start := time.Now()
			if err := w.Capture(context.Background(), src); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			<-sent
			wantLen, wantSum := ls.digest(n)
			gotLen, gotSum, _ := filesDigest(b, dir)
			if gotLen != wantLen || !bytes.Equal(gotSum, wantSum) {
				b.Fatalf("lost data: %d bytes on disk, %d sent", gotLen, wantLen)
			}
			b.ReportMetric(float64(wantLen)*8/elapsed.Seconds()/1e9, "Gbit/s")
		})
	}
}

// A modem reset breaks the data connection; the command reconnects and
// keeps writing to the same files and index.
func TestCaptureAcrossReconnect(t *testing.T) {
	ls := logStream{min: 1, max: 3000}
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir, MaxFileBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		path, sent := serveNTB(t, ls, 500, datapath.NTBProducerOptions{})
		src, err := datapath.DialNTB(context.Background(), path, datapath.NTBOptions{Session: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Capture(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		<-sent
	}
	w.Close()
	_, wantSum := ls.digest(500)
	gotLen, _, ix := filesDigest(t, dir)
	wantLen, _ := ls.digest(500)
	if gotLen != 3*wantLen || len(ix.Segments()) != 1500 {
		t.Fatalf("%d bytes, %d segments", gotLen, len(ix.Segments()))
	}
	// Each round's 500 segments are the same stream, in order.
	var all []byte
	for _, f := range ix.Files() {
		b, _ := os.ReadFile(filepath.Join(dir, f.Name))
		all = append(all, b...)
	}
	for r := 0; r < 3; r++ {
		part := all[int64(r)*wantLen : int64(r+1)*wantLen]
		if sum := sha256.Sum256(part); !bytes.Equal(sum[:], wantSum) {
			t.Fatalf("round %d differs", r)
		}
	}
	sources := 0
	for _, r := range ix.Records {
		if r.Type == RecSource {
			sources++
		}
	}
	if sources != 3 {
		t.Fatalf("%d source records", sources)
	}
}

package modemlog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/modemlog"
)

// How a modem-log command uses the package: a source, a Writer with
// rotation and progress, Capture until SIGINT/SIGTERM or the end of the
// stream, then Close (which fsyncs).
func Example() {
	// A raw NTB stream with three log segments of DSS session 1 (a real
	// command would use datapath.OpenNetdev or datapath.DialNTB).
	var stream bytes.Buffer
	p, _ := datapath.NewNTBStreamProducer(&stream, datapath.NTBProducerOptions{})
	for _, seg := range []string{"first segment ", "second segment ", "third"} {
		p.WriteDatagram(1, []byte(seg))
	}
	p.Close()
	src := datapath.NewNTBSource(&stream, "a buffer", datapath.NTBOptions{Session: 1})
	defer src.Close()

	dir, _ := os.MkdirTemp("", "modem-log")
	defer os.RemoveAll(dir)
	w, err := modemlog.Create(modemlog.Options{
		Dir:          dir,
		MaxFileBytes: 64 << 20, // --max-file-mib 64
		MaxFiles:     8,        // --max-files 8
		// A command prints this on stderr, e.g. "\r%v".
		Progress: func(s modemlog.Stats) { fmt.Fprintf(io.Discard, "\r%v", s) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Capture(ctx, src); err != nil && err != context.Canceled {
		fmt.Println(err)
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	st := w.Stats()
	fmt.Printf("%d bytes in %d segments, %d file\n", st.Bytes, st.Segments, st.Files)

	f, _ := os.Open(dir + "/" + modemlog.IndexName)
	defer f.Close()
	ix, _ := modemlog.ReadIndex(f)
	for _, s := range ix.Segments() {
		fmt.Printf("segment %d: offset %d, size %d, session %d, truncated %v\n", s.Seq, s.Offset, s.Size, s.Session, s.Truncated)
	}
	// Output:
	// 34 bytes in 3 segments, 1 file
	// segment 1: offset 0, size 14, session 1, truncated false
	// segment 2: offset 14, size 15, session 1, truncated false
	// segment 3: offset 29, size 5, session 1, truncated false
}

// The log stream as an io.Reader.
func ExampleNewReader() {
	var stream bytes.Buffer
	p, _ := datapath.NewNTBStreamProducer(&stream, datapath.NTBProducerOptions{})
	p.WriteDatagram(0, []byte("modem "))
	p.WriteDatagram(0, []byte("log"))
	p.Close()
	src := datapath.NewNTBSource(&stream, "a buffer", datapath.NTBOptions{})
	b, err := io.ReadAll(modemlog.NewReader(context.Background(), src))
	fmt.Printf("%q %v\n", b, err)
	// Output: "modem log" <nil>
}

//go:build unix

package modemlog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/gombim/gombim/datapath"
)

// SIGTERM in the middle of a stream: the capture stops, Close flushes,
// and the files hold exactly what was received, in order.
func TestSIGTERMMidStream(t *testing.T) {
	ls := logStream{min: 500, max: 8 << 10}
	path, sent := serveNTB(t, ls, -1, datapath.NTBProducerOptions{MaxSize: 16 << 10})
	src, err := datapath.DialNTB(context.Background(), path, datapath.NTBOptions{Session: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir, MaxFileBytes: 2 << 20, IndexFlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- w.Capture(ctx, src) }()
	deadline := time.Now().Add(waitTimeout)
	for w.Stats().Bytes < 20<<20 {
		if time.Now().After(deadline) {
			t.Fatal("too slow")
		}
		time.Sleep(5 * time.Millisecond)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Capture after SIGTERM: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Capture did not stop on SIGTERM")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	received := int(src.Stats().Datagrams)
	src.Close()
	<-sent
	wantLen, wantSum := ls.digest(received)
	gotLen, gotSum, ix := filesDigest(t, dir)
	if gotLen != wantLen || !bytes.Equal(gotSum, wantSum) || len(ix.Segments()) != received {
		t.Fatalf("on disk: %d bytes, %d segments; received: %d datagrams, %d bytes", gotLen, len(ix.Segments()), received, wantLen)
	}
	t.Logf("stopped after %d datagrams (%d bytes); all of them are on disk and indexed", received, gotLen)
}

package modemlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gombim/gombim/datapath"
)

// scripted is a datapath.Source that returns a fixed sequence of
// datagrams and errors, then io.EOF (or blocks until ctx ends if hang).
type scripted struct {
	items []any // []byte, datapath.Datagram or error
	hang  bool
	buf   []byte
}

func (s *scripted) ReadDatagram(ctx context.Context) (datapath.Datagram, error) {
	if len(s.items) == 0 {
		if s.hang {
			<-ctx.Done()
			return datapath.Datagram{}, ctx.Err()
		}
		return datapath.Datagram{}, io.EOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	switch v := it.(type) {
	case []byte:
		// Reuse one buffer, as real sources do.
		s.buf = append(s.buf[:0], v...)
		return datapath.Datagram{Session: 1, Data: s.buf, Length: len(v)}, nil
	case datapath.Datagram:
		return v, nil
	case error:
		return datapath.Datagram{}, v
	}
	panic("bad item")
}
func (s *scripted) Describe() string            { return "scripted test source" }
func (s *scripted) Stats() datapath.SourceStats { return datapath.SourceStats{} }
func (s *scripted) Close() error                { return nil }
func lossErr(n int64) *datapath.LossError {
	return &datapath.LossError{What: "test loss", Count: n, Bytes: -1, Offset: -1}
}
func linkDown() error { return fmt.Errorf("x: %w", datapath.ErrLinkDown) }

var _ datapath.Source = (*scripted)(nil)

func TestCaptureFunc(t *testing.T) {
	src := &scripted{items: []any{[]byte("one"), []byte("two"), lossErr(1), []byte("three")}}
	var got []string
	err := Capture(context.Background(), src, func(s Segment) error {
		got = append(got, string(s.Data))
		if s.Session != 1 || s.Time.IsZero() || s.Truncated() {
			t.Errorf("segment %+v", s)
		}
		return nil
	})
	var le *datapath.LossError
	if !errors.As(err, &le) || strings.Join(got, ",") != "one,two" {
		t.Fatalf("got %v, %v", got, err)
	}
	// The source stays usable after a loss.
	err = Capture(context.Background(), src, func(s Segment) error { got = append(got, string(s.Data)); return nil })
	if err != nil || strings.Join(got, ",") != "one,two,three" {
		t.Fatalf("got %v, %v", got, err)
	}
	// fn's error stops the capture.
	stop := errors.New("stop")
	src = &scripted{items: []any{[]byte("a"), []byte("b")}}
	if err := Capture(context.Background(), src, func(Segment) error { return stop }); err != stop {
		t.Fatalf("fn error: %v", err)
	}
	// Cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Capture(ctx, &scripted{hang: true}, func(Segment) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestWriterCapture(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	src := &scripted{items: []any{
		[]byte("one"), lossErr(2), linkDown(), []byte("two"),
		datapath.Datagram{Session: 1, Data: []byte("par"), Length: 10},
	}}
	if err := w.Capture(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	fatal := errors.New("socket exploded")
	if err := w.Capture(context.Background(), &scripted{items: []any{fatal}}); err != fatal {
		t.Fatalf("fatal source error: %v", err)
	}
	st := w.Stats()
	w.Close()
	if st.Segments != 3 || st.Losses != 1 || st.Truncated != 1 {
		t.Fatalf("stats %+v", st)
	}
	ix := checkDir(t, dir, map[uint64][]byte{1: []byte("one"), 2: []byte("two"), 3: []byte("partial...")})
	var types []string
	for _, r := range ix.Records {
		types = append(types, r.Type)
		switch r.Type {
		case RecSource:
			if r.Source != "scripted test source" {
				t.Errorf("source record %+v", r)
			}
		case RecLoss:
			if r.Count != 2 || r.Bytes != -1 || !strings.Contains(r.Reason, "test loss") {
				t.Errorf("loss record %+v", r)
			}
		case RecLink:
			if !strings.Contains(r.Reason, "down") {
				t.Errorf("link record %+v", r)
			}
		}
	}
	if got := strings.Join(types, " "); got != "source file segment loss link segment segment source close" {
		t.Fatalf("record types: %s", got)
	}
}

func TestReader(t *testing.T) {
	src := &scripted{items: []any{[]byte("hello "), lossErr(1), linkDown(), []byte("modem "), []byte("log")}}
	r := NewReader(context.Background(), src)
	losses, segs := 0, 0
	r.OnLoss = func(*datapath.LossError) { losses++ }
	r.OnSegment = func(Segment) { segs++ }
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello modem log" || losses != 1 || segs != 3 {
		t.Fatalf("ReadAll: %q %v, %d losses, %d segments", b, err, losses, segs)
	}
	// Small reads across segment boundaries.
	r = NewReader(context.Background(), &scripted{items: []any{[]byte("abc"), []byte("defg")}})
	var out []byte
	p := make([]byte, 2)
	for {
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(out) != "abcdefg" {
		t.Fatalf("got %q", out)
	}
	// io.Copy uses WriteTo: each segment straight from the source.
	var dst bytes.Buffer
	n, err := io.Copy(&dst, NewReader(context.Background(), &scripted{items: []any{[]byte("x"), []byte("yz")}}))
	if err != nil || n != 3 || dst.String() != "xyz" {
		t.Fatalf("Copy: %d %v %q", n, err, dst.String())
	}
	// A fatal error is returned; cancellation gives ctx.Err().
	fatal := errors.New("boom")
	if _, err := io.ReadAll(NewReader(context.Background(), &scripted{items: []any{[]byte("a"), fatal}})); err != fatal {
		t.Fatalf("fatal: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := io.Copy(io.Discard, NewReader(ctx, &scripted{hang: true})); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// endless is a source that reports a loss on every read (a link whose
// frames the kernel keeps dropping) until ctx ends.
type endless struct{ reads int }

func (s *endless) ReadDatagram(ctx context.Context) (datapath.Datagram, error) {
	s.reads++
	if err := ctx.Err(); err != nil {
		return datapath.Datagram{}, err
	}
	return datapath.Datagram{}, lossErr(1)
}
func (s *endless) Describe() string            { return "endless losses" }
func (s *endless) Stats() datapath.SourceStats { return datapath.SourceStats{} }
func (s *endless) Close() error                { return nil }

// Once the index could not be written, Capture stops with that error at
// the next loss report, even if the index file would accept writes again:
// it used to record the losses in the index for ever.
func TestWriterCaptureStopsWhenIndexFailed(t *testing.T) {
	w, err := Create(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src := &endless{}
	if err := w.RecordEvent(RecSource, src.Describe(), ""); err != nil {
		t.Fatal(err)
	}
	// What a failed background index flush leaves behind.
	indexErr := errors.New("modemlog: writing the index: no space left on device")
	w.mu.Lock()
	w.err = indexErr
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := w.Capture(ctx, src); err != indexErr {
		t.Fatalf("Capture: %v after %d reads, want the index error", err, src.reads)
	}
	if src.reads > 1 {
		t.Errorf("%d reads after the index failed", src.reads)
	}
	if err := w.RecordLoss(1, -1, "x"); err != indexErr {
		t.Errorf("RecordLoss: %v", err)
	}
}

// A write error that wraps a *datapath.LossError is still a write error:
// Capture returns it rather than recording a loss and reading on.
func TestWriterCaptureWriteErrorIsNotALoss(t *testing.T) {
	dir := t.TempDir()
	le := lossErr(1)
	w, err := create(Options{Dir: dir}, func(path string) (dataFile, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		return &failingFile{File: f, limit: 2, err: fmt.Errorf("disk: %w", le)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	items := []any{[]byte("abcdef")}
	for i := 0; i < 1000; i++ {
		items = append(items, []byte("more"))
	}
	src := &scripted{items: items}
	err = w.Capture(context.Background(), src)
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "writing segment 1") {
		t.Fatalf("Capture: %v", err)
	}
	if len(src.items) != 1000 || w.Stats().Losses != 0 {
		t.Fatalf("read on after the write error: %d items left, stats %+v", len(src.items), w.Stats())
	}
}

// A loss reported while the source drains after ctx ended is recorded,
// and the data after it still written.
func TestWriterCaptureLossWhileDraining(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &scripted{items: []any{[]byte("a"), lossErr(1), []byte("b")}, hang: true}
	if err := w.Capture(ctx, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("Capture: %v", err)
	}
	st := w.Stats()
	w.Close()
	if st.Segments != 2 || st.Losses != 1 {
		t.Fatalf("stats %+v", st)
	}
}

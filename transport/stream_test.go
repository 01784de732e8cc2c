//go:build linux

package transport

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketpair returns both ends of a real AF_UNIX stream socketpair as
// pollable files.
func socketpair(t testing.TB) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "sp0"), os.NewFile(uintptr(fds[1]), "sp1")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// countingRWC counts the Read calls that returned data.
type countingRWC struct {
	*os.File
	reads atomic.Int64
}

func (c *countingRWC) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

// byteStreams yields, for each real byte-stream kind, a writer end (raw
// file) and a Conn framing the other end.
func byteStreams(t *testing.T) map[string]func(t *testing.T) (raw *os.File, c Conn, reads func() int64) {
	return map[string]func(t *testing.T) (*os.File, Conn, func() int64){
		"socketpair": func(t *testing.T) (*os.File, Conn, func() int64) {
			a, b := socketpair(t)
			cr := &countingRWC{File: b}
			c := NewStreamConn(cr, Options{Name: "socketpair"})
			t.Cleanup(func() { c.Close() })
			return a, c, cr.reads.Load
		},
		"pty": func(t *testing.T) (*os.File, Conn, func() int64) {
			p, err := NewPTY()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			cl := openClient(t, p.SlavePath())
			return cl, p, func() int64 { return 0 }
		},
	}
}

func TestFramingCoalescedAndSplit(t *testing.T) {
	for name, mk := range byteStreams(t) {
		t.Run(name, func(t *testing.T) {
			raw, c, reads := mk(t)

			// Three messages in one write.
			var all []byte
			sizes := []int{12, 48, 1500}
			for i, n := range sizes {
				all = append(all, mkMsg(tCommand, uint32(i+1), n)...)
			}
			if _, err := raw.Write(all); err != nil {
				t.Fatal(err)
			}
			for i, n := range sizes {
				b, err := readWithin(t, c, waitTimeout)
				if err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				checkMsg(t, b, tCommand, uint32(i+1), n)
			}

			// One message byte by byte, with pauses so that the reader
			// really sees it in pieces.
			msg := mkMsg(tCommandDone, 77, 100)
			before := reads()
			done := make(chan error, 1)
			go func() {
				for i := range msg {
					if _, err := raw.Write(msg[i : i+1]); err != nil {
						done <- err
						return
					}
					if i%10 == 0 {
						time.Sleep(2 * time.Millisecond)
					}
				}
				done <- nil
			}()
			b, err := readWithin(t, c, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			checkMsg(t, b, tCommandDone, 77, 100)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if name == "socketpair" {
				if r := reads() - before; r < 5 {
					t.Fatalf("message arrived in %d reads; the test did not split it", r)
				}
			}
		})
	}
}

func TestFramingBadLengthThenValid(t *testing.T) {
	huge := make([]byte, HeaderSize)
	copy(huge, mkMsg(tCommandDone, 1, 12))
	putLen(huge, 0xFFFFFFFF)
	small := mkMsg(tCommandDone, 2, 12)
	putLen(small, 4)

	for name, mk := range byteStreams(t) {
		t.Run(name, func(t *testing.T) {
			raw, c, _ := mk(t)

			// Bad header alone, valid message written separately.
			if _, err := raw.Write(huge); err != nil {
				t.Fatal(err)
			}
			_, err := readWithin(t, c, waitTimeout)
			var fe *FramingError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want *FramingError", err)
			}
			if want := "transport: message at stream offset 0 claims length 4294967295, above the limit 65536"; err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if _, err := raw.Write(mkMsg(tOpenDone, 10, 16)); err != nil {
				t.Fatal(err)
			}
			b, err := readWithin(t, c, waitTimeout)
			if err != nil {
				t.Fatalf("after resync: %v", err)
			}
			checkMsg(t, b, tOpenDone, 10, 16)

			// Undersized header, garbage and two valid messages, all in
			// one write: the valid ones must survive the resync.
			var w []byte
			w = append(w, small...)
			w = append(w, bytes.Repeat([]byte{0xEE}, 37)...)
			w = append(w, mkMsg(tCommandDone, 11, 64)...)
			w = append(w, mkMsg(tIndicate, 12, 80)...)
			if _, err := raw.Write(w); err != nil {
				t.Fatal(err)
			}
			_, err = readWithin(t, c, waitTimeout)
			if !errors.As(err, &fe) || fe.Length != 4 || fe.Offset != 12+16 {
				t.Fatalf("got %v, want FramingError for length 4 at offset 28", err)
			}
			if !strings.Contains(err.Error(), "claims length 4, below the minimum 12") {
				t.Fatalf("unexpected text: %v", err)
			}
			b, err = readWithin(t, c, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			checkMsg(t, b, tCommandDone, 11, 64)
			b, err = readWithin(t, c, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			checkMsg(t, b, tIndicate, 12, 80)
		})
	}
}

func TestFramingEOFMidMessage(t *testing.T) {
	a, b := socketpair(t)
	c := NewStreamConn(b, Options{})
	defer c.Close()
	m := mkMsg(tCommandDone, 5, 200)
	full := mkMsg(tCommandDone, 4, 20)
	if _, err := a.Write(append(full, m[:150]...)); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, err := readWithin(t, c, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, got, tCommandDone, 4, 20)
	_, err = readWithin(t, c, waitTimeout)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
	if !strings.Contains(err.Error(), "150 bytes into a 200-byte message at stream offset 20") {
		t.Fatalf("unexpected text: %v", err)
	}
	if _, err = c.ReadMessage(); err != io.EOF {
		t.Fatalf("then got %v, want io.EOF", err)
	}
}

func TestFramingCleanEOF(t *testing.T) {
	a, b := socketpair(t)
	c := NewStreamConn(b, Options{})
	defer c.Close()
	a.Write(mkMsg(tOpenDone, 1, 16))
	a.Close()
	if _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestStreamWriteChecks(t *testing.T) {
	a, b := socketpair(t)
	c := NewStreamConn(a, Options{MaxMessageSize: 1024})
	defer c.Close()
	for _, bad := range [][]byte{
		nil,
		make([]byte, 11),
		mkMsg(tCommand, 1, 20)[:19],       // header says 20
		append(mkMsg(tCommand, 1, 20), 0), // header says 20, 21 given
		mkMsg(tCommand, 1, 1025),          // above the limit
	} {
		if err := c.WriteMessage(bad); !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("WriteMessage(%d bytes) = %v, want ErrInvalidMessage", len(bad), err)
		}
	}
	if err := c.WriteMessage(mkMsg(tCommand, 2, 1024)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2048)
	b.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := io.ReadAtLeast(b, got, 1024)
	if err != nil || n != 1024 {
		t.Fatalf("peer read %d bytes, %v; only the valid message should have been written", n, err)
	}
	if err := c.(RawWriter).WriteRaw([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
}

// Concurrent writers on a real socket never interleave their messages.
func TestStreamConcurrentWriters(t *testing.T) {
	a, b := socketpair(t)
	w := NewStreamConn(a, Options{})
	r := NewStreamConn(b, Options{})
	defer w.Close()
	defer r.Close()
	const writers, per = 8, 200
	errc := make(chan error, writers)
	for g := 0; g < writers; g++ {
		go func() {
			for i := 0; i < per; i++ {
				tid := uint32(g*per + i)
				if err := w.WriteMessage(mkMsg(tCommand, tid, 20+int(tid)%3000)); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	seen := make(map[uint32]bool)
	for len(seen) < writers*per {
		m, err := readWithin(t, r, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		tid := tidOf(m)
		checkMsg(t, m, tCommand, tid, 20+int(tid)%3000)
		if seen[tid] {
			t.Fatalf("duplicate tid %d", tid)
		}
		seen[tid] = true
	}
	for g := 0; g < writers; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func TestStreamDeadline(t *testing.T) {
	_, b := socketpair(t)
	c := NewStreamConn(b, Options{})
	defer c.Close()
	d := c.(Deadliner)
	d.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := readWithin(t, c, waitTimeout)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
}

func TestStreamMaxControl(t *testing.T) {
	a, _ := socketpair(t)
	c := NewStreamConn(a, Options{MaxControlTransfer: 1024, Name: "x"})
	defer c.Close()
	if c.MaxControlTransfer() != 1024 || c.String() != "stream x (max 1024)" {
		t.Fatalf("got %d %q", c.MaxControlTransfer(), c.String())
	}
	c2 := NewStreamConn(a, Options{})
	if c2.MaxControlTransfer() != DefaultMaxControlTransfer {
		t.Fatal(c2.MaxControlTransfer())
	}
}

// Buffered tells a reader whether the next message is already in hand:
// true while whole messages from one burst remain, false when only part of
// one (or nothing) is buffered.
func TestStreamBuffered(t *testing.T) {
	a, b := socketpair(t)
	c := NewStreamConn(b, Options{})
	t.Cleanup(func() { c.Close(); a.Close() })
	bf, ok := c.(Bufferer)
	if !ok {
		t.Fatalf("%T does not implement Bufferer", c)
	}
	if bf.Buffered() {
		t.Fatal("Buffered before anything was read")
	}
	third := mkMsg(tCommand, 3, 64)
	burst := append(append(mkMsg(tCommand, 1, 48), mkMsg(tCommand, 2, 100)...), third[:30]...)
	if _, err := a.Write(burst); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		tid      uint32
		n        int
		buffered bool
	}{{1, 48, true}, {2, 100, false}} {
		m, err := readWithin(t, c, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, m, tCommand, step.tid, step.n)
		if got := bf.Buffered(); got != step.buffered {
			t.Fatalf("after message %d: Buffered = %v, want %v", step.tid, got, step.buffered)
		}
	}
	if _, err := a.Write(third[30:]); err != nil {
		t.Fatal(err)
	}
	m, err := readWithin(t, c, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, m, tCommand, 3, 64)
	if bf.Buffered() {
		t.Fatal("Buffered after the last message")
	}
}

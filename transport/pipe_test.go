package transport

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// Many writers, one reader, under -race: every message arrives intact,
// exactly once, and each writer's messages keep their order.
func TestPipeConcurrentWriters(t *testing.T) {
	host, dev := Pipe()
	defer host.Close()
	defer dev.Close()
	const writers, per = 16, 500
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 2048)
			for i := 0; i < per; i++ {
				tid := uint32(g<<16 | i)
				m := mkMsg(tIndicate, tid, 12+(g*31+i)%1500)
				buf = append(buf[:0], m...)
				if err := dev.WriteMessage(buf); err != nil {
					errc <- err
					return
				}
				// The writer reuses its buffer: the pipe must have copied.
				for j := range buf {
					buf[j] = 0xAA
				}
			}
		}()
	}
	next := make([]int, writers)
	for n := 0; n < writers*per; n++ {
		b, err := readWithin(t, host, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		tid := tidOf(b)
		g, i := int(tid>>16), int(tid&0xFFFF)
		if g >= writers || i != next[g] {
			t.Fatalf("writer %d: got message %d, want %d", g, i, next[g])
		}
		next[g]++
		checkMsg(t, b, tIndicate, tid, 12+(g*31+i)%1500)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func TestPipeCloseSemantics(t *testing.T) {
	host, dev := Pipe()
	for i := 0; i < 3; i++ {
		if err := dev.WriteMessage(mkMsg(tIndicate, uint32(i), 20)); err != nil {
			t.Fatal(err)
		}
	}
	dev.Close()
	// Queued messages are still delivered, then io.EOF.
	for i := 0; i < 3; i++ {
		b, err := host.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, b, tIndicate, uint32(i), 20)
	}
	if _, err := host.ReadMessage(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
	if err := host.WriteMessage(mkMsg(tOpen, 1, 16)); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write to closed peer: %v", err)
	}
	if _, err := dev.ReadMessage(); err != ErrClosed {
		t.Fatalf("read after own Close: %v", err)
	}
	if err := dev.WriteMessage(mkMsg(tOpen, 1, 16)); err != ErrClosed {
		t.Fatalf("write after own Close: %v", err)
	}
	if err := host.WriteMessage([]byte{1, 2, 3}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("invalid message: %v", err)
	}
	host.Close()
}

// A full queue blocks the writer until the reader catches up.
func TestPipeBackpressure(t *testing.T) {
	host, dev := Pipe()
	defer host.Close()
	defer dev.Close()
	for i := 0; i < PipeQueue; i++ {
		if err := host.WriteMessage(mkMsg(tCommand, uint32(i), 12)); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() { blocked <- host.WriteMessage(mkMsg(tCommand, 999, 12)) }()
	select {
	case err := <-blocked:
		t.Fatalf("write beyond the queue did not block (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := dev.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("writer still blocked after a read")
	}
}

func TestPipeSteadyStateNoAlloc(t *testing.T) {
	host, dev := Pipe()
	defer host.Close()
	defer dev.Close()
	m := mkMsg(tCommand, 1, 200)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := host.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
		if _, err := dev.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%.1f allocations per message", allocs)
	}
}

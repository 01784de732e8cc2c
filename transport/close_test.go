//go:build linux

package transport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// For every transport kind, Close unblocks a ReadMessage blocked on an
// idle connection within a second, and leaves no goroutine behind.
func TestCloseUnblocksRead(t *testing.T) {
	kinds := []struct {
		name string
		mk   func(t *testing.T) (c Conn, cleanup func())
	}{
		{"stream-socketpair", func(t *testing.T) (Conn, func()) {
			a, b := socketpair(t)
			return NewStreamConn(b, Options{}), func() { a.Close() }
		}},
		{"unix-dialled", func(t *testing.T) (Conn, func()) {
			l, err := Listen(filepath.Join(t.TempDir(), "c.sock"), false)
			if err != nil {
				t.Fatal(err)
			}
			c, err := DialUnix(l.l.Addr().String(), false)
			if err != nil {
				t.Fatal(err)
			}
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			return c, func() { s.Close(); l.Close() }
		}},
		{"unix-accepted-abstract", func(t *testing.T) (Conn, func()) {
			name := fmt.Sprintf("gombim-close-%d-%d", os.Getpid(), time.Now().UnixNano())
			l, err := Listen(name, true)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Open("@"+name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			return s, func() { c.Close(); l.Close() }
		}},
		{"pipe", func(t *testing.T) (Conn, func()) {
			h, d := Pipe()
			return h, func() { d.Close() }
		}},
		{"pty-master", func(t *testing.T) (Conn, func()) {
			p, err := NewPTY()
			if err != nil {
				t.Fatal(err)
			}
			return p, func() {}
		}},
		{"pty-master-with-client", func(t *testing.T) (Conn, func()) {
			p, err := NewPTY()
			if err != nil {
				t.Fatal(err)
			}
			cl := openClient(t, p.SlavePath())
			return p, func() { cl.Close() }
		}},
		{"tty-client", func(t *testing.T) (Conn, func()) {
			p, err := NewPTY()
			if err != nil {
				t.Fatal(err)
			}
			c, err := Open(p.SlavePath(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return c, func() { p.Close() }
		}},
		{"chardev-stream", func(t *testing.T) (Conn, func()) {
			// A FIFO opened read-write is a pollable byte stream that
			// never reaches EOF: stands in for a character device.
			path := filepath.Join(t.TempDir(), "fifo")
			if err := mkfifo(path); err != nil {
				t.Skip(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR|oNonblock, 0)
			if err != nil {
				t.Fatal(err)
			}
			return NewStreamConn(f, Options{Name: "fifo"}), func() {}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			runtime.GC()
			base := runtime.NumGoroutine()
			c, cleanup := k.mk(t)
			done := make(chan error, 1)
			go func() {
				_, err := c.ReadMessage()
				done <- err
			}()
			time.Sleep(50 * time.Millisecond) // let it block
			select {
			case err := <-done:
				t.Fatalf("ReadMessage returned early: %v", err)
			default:
			}
			start := time.Now()
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("ReadMessage after Close: %v, want ErrClosed", err)
				}
				t.Logf("ReadMessage returned %v after Close", time.Since(start))
			case <-time.After(waitTimeout):
				t.Fatalf("Close did not unblock ReadMessage within %v", waitTimeout)
			}
			if _, err := c.ReadMessage(); !errors.Is(err, ErrClosed) {
				t.Fatalf("second ReadMessage: %v", err)
			}
			if err := c.WriteMessage(mkMsg(tOpen, 1, 16)); !errors.Is(err, ErrClosed) {
				t.Fatalf("WriteMessage after Close: %v", err)
			}
			c.Close() // idempotent
			cleanup()
			settleGoroutines(t, base)
		})
	}
}

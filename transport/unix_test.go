//go:build linux

package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUnixSockets(t *testing.T) {
	abs := fmt.Sprintf("gombim-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	cases := []struct {
		name     string
		listen   string
		abstract bool
		dial     []string // names for Open
	}{
		{"path", filepath.Join(t.TempDir(), "mbim.sock"), false, nil},
		{"abstract", abs, true, []string{"@" + abs, "unix-abstract:" + abs}},
	}
	cases[0].dial = []string{cases[0].listen, "unix:" + cases[0].listen}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Listen(tc.listen, tc.abstract)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()

			dials := []func() (Conn, error){
				func() (Conn, error) { return DialUnix(tc.listen, tc.abstract) },
			}
			for _, name := range tc.dial {
				dials = append(dials, func() (Conn, error) { return Open(name, Options{}) })
			}
			for i, dial := range dials {
				c, err := dial()
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				s, err := l.Accept()
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(c.String(), "unix ") {
					t.Fatalf("String() = %q", c.String())
				}

				// Messages both ways, including several coalesced.
				for j := 0; j < 3; j++ {
					if err := c.WriteMessage(mkMsg(tCommand, uint32(j), 48+j)); err != nil {
						t.Fatal(err)
					}
				}
				for j := 0; j < 3; j++ {
					b, err := readWithin(t, s, waitTimeout)
					if err != nil {
						t.Fatal(err)
					}
					checkMsg(t, b, tCommand, uint32(j), 48+j)
				}
				if err := s.WriteMessage(mkMsg(tCommandDone, 9, 4096)); err != nil {
					t.Fatal(err)
				}
				b, err := readWithin(t, c, waitTimeout)
				if err != nil {
					t.Fatal(err)
				}
				checkMsg(t, b, tCommandDone, 9, 4096)

				// Both ends see this process as the peer.
				for _, conn := range []Conn{s, c} {
					pc, ok := conn.(PeerCreder)
					if !ok {
						t.Fatalf("%v does not implement PeerCreder", conn)
					}
					cred, err := pc.PeerCred()
					if err != nil {
						t.Fatal(err)
					}
					if want := (Cred{PID: int32(os.Getpid()), UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}); cred != want {
						t.Fatalf("PeerCred = %+v, want %+v", cred, want)
					}
				}

				// Peer hang-up is io.EOF.
				c.Close()
				if _, err := readWithin(t, s, waitTimeout); err == nil || !errors.Is(err, io.EOF) {
					t.Fatalf("after peer close: %v, want io.EOF", err)
				}
				s.Close()
			}
		})
	}
}

func TestUnixListenStaleAndLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	// A stale socket file: bound, never listened on... simulate a crashed
	// server by creating the socket and closing it without unlinking.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}
	l, err := Listen(path, false)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	// A live one must not be stolen.
	if _, err := Listen(path, false); err == nil {
		t.Fatal("second Listen on a live socket succeeded")
	}
	// Not a socket: left alone.
	reg := filepath.Join(t.TempDir(), "file")
	os.WriteFile(reg, []byte("x"), 0o600)
	if _, err := Listen(reg, false); err == nil {
		t.Fatal("Listen over a regular file succeeded")
	}
	if b, _ := os.ReadFile(reg); string(b) != "x" {
		t.Fatal("regular file clobbered")
	}
	l.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file left after Close: %v", err)
	}
	if _, err := DialUnix(path, false); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}

func TestListenerCloseUnblocksAccept(t *testing.T) {
	l, err := Listen(fmt.Sprintf("gombim-accept-%d", os.Getpid()), true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Accept after Close: %v, want ErrClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not unblock Accept")
	}
}

package proxy

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
	"golang.org/x/sys/unix"
)

// dialAs connects to the proxy from a thread whose credentials are uid
// and gid (Linux credentials are per thread, and SO_PEERCRED records the
// connecting thread's). Needs root.
func dialAs(t *testing.T, socket string, uid, gid int) (transport.Conn, error) {
	t.Helper()
	type res struct {
		c   transport.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine, so
		// its credentials cannot leak to other goroutines.
		runtime.LockOSThread()
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			ch <- res{nil, e}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), 0); e != 0 {
			ch <- res{nil, e}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), 0); e != 0 {
			ch <- res{nil, e}
			return
		}
		c, err := transport.DialUnix(socket, true)
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the access control test needs root in CI")
		}
		t.Skip("needs root")
	}
}

// accepted reports whether the proxy serves the connection: a
// configuration query gets an answer rather than a hang-up.
func accepted(t *testing.T, c transport.Conn) bool {
	t.Helper()
	defer c.Close()
	if err := c.WriteMessage(buildCommand(1, uuidProxyControl, cidProxyConfiguration, mbim.CommandQuery, nil)); err != nil {
		return false
	}
	if d, ok := c.(transport.Deadliner); ok {
		d.SetReadDeadline(time.Now().Add(5 * time.Second))
	}
	b, err := c.ReadMessage()
	if err != nil {
		return false
	}
	return msgType(b) == mbim.TypeCommandDone && le32(b, offCmdType) == uint32(mbim.StatusInvalidParameters)
}

func TestAccessControl(t *testing.T) {
	needRoot(t)
	leakCheck(t)
	for _, tc := range []struct {
		name     string
		cfg      Config
		uid, gid int
		want     bool
	}{
		{"root", Config{}, 0, 0, true},
		{"stranger", Config{}, 65534, 65534, false},
		{"allowed user", Config{AllowUIDs: []uint32{1000, 65534}}, 65534, 65534, true},
		{"other user", Config{AllowUIDs: []uint32{1000}}, 65534, 65534, false},
		{"allowed group", Config{AllowGIDs: []uint32{4242}}, 65534, 4242, true},
		{"other group", Config{AllowGIDs: []uint32{4242}}, 65534, 4243, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := startProxy(t, tc.cfg)
			c, err := dialAs(t, s.cfg.Socket, tc.uid, tc.gid)
			if err != nil {
				t.Fatal(err)
			}
			if got := accepted(t, c); got != tc.want {
				t.Fatalf("accepted = %v, want %v\n%s", got, tc.want, logs)
			}
			m := s.Metrics()
			if tc.want {
				if m.Accepted != 1 || m.Refused != 0 {
					t.Fatalf("metrics %+v", m)
				}
				return
			}
			if m.Refused != 1 || m.Accepted != 0 {
				t.Fatalf("metrics %+v", m)
			}
			if !strings.Contains(logs.String(), `msg="client refused"`) || !strings.Contains(logs.String(), "uid=65534") {
				t.Fatalf("no log line for the refusal:\n%s", logs)
			}
		})
	}
}

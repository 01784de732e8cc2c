package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// sockAddr returns the net package's name for a Unix stream socket: the
// net package maps a leading '@' to the abstract namespace.
func sockAddr(name string, abstract bool) string {
	if abstract {
		return "@" + strings.TrimPrefix(name, "@")
	}
	return name
}

func sockDesc(name string, abstract bool) string {
	if abstract {
		return "unix @" + strings.TrimPrefix(name, "@")
	}
	return "unix " + name
}

// DialUnix connects to a Unix stream socket: a filesystem path, or a name
// in Linux's abstract namespace when abstract is true (a leading '@' in
// name is then optional).
func DialUnix(name string, abstract bool) (Conn, error) {
	return DialUnixContext(context.Background(), name, abstract)
}

// DialUnixContext is DialUnix with a context for the connect.
func DialUnixContext(ctx context.Context, name string, abstract bool) (Conn, error) {
	return dialUnix(ctx, name, abstract, Options{})
}

func dialUnix(ctx context.Context, name string, abstract bool, opts Options) (Conn, error) {
	if name == "" || name == "@" {
		return nil, errors.New("transport: empty Unix socket name")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sockAddr(name, abstract))
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return newUnixConn(c.(*net.UnixConn), sockDesc(name, abstract), opts), nil
}

// UnixConn is a Conn over a Unix stream socket. It implements PeerCreder,
// Deadliner and RawWriter.
type UnixConn struct {
	*streamConn
	uc *net.UnixConn
}

func newUnixConn(uc *net.UnixConn, desc string, opts Options) *UnixConn {
	return &UnixConn{
		streamConn: newStreamConn(uc, fmt.Sprintf("%s (max %d)", desc, opts.maxControl()), opts, nil),
		uc:         uc,
	}
}

// PeerCred returns the credentials of the peer process (SO_PEERCRED).
func (c *UnixConn) PeerCred() (Cred, error) {
	rc, err := c.uc.SyscallConn()
	if err != nil {
		return Cred{}, fmt.Errorf("transport: peer credentials: %w", err)
	}
	return peerCred(rc)
}

// Listener accepts MBIM connections on a Unix stream socket, for proxies
// and simulators.
type Listener struct {
	l    *net.UnixListener
	desc string
	opts Options
}

// Listen listens on a Unix stream socket: a filesystem path, or a name in
// the abstract namespace when abstract is true. A stale socket file left by
// a dead server (nothing accepts on it) is replaced; a live one is an
// error. Close removes the socket file.
func Listen(name string, abstract bool) (*Listener, error) {
	return ListenOptions(name, abstract, Options{})
}

// ListenOptions is Listen with options for the accepted Conns.
func ListenOptions(name string, abstract bool, opts Options) (*Listener, error) {
	if name == "" || name == "@" {
		return nil, errors.New("transport: empty Unix socket name")
	}
	addr := &net.UnixAddr{Name: sockAddr(name, abstract), Net: "unix"}
	l, err := net.ListenUnix("unix", addr)
	if err != nil && !abstract && errors.Is(err, syscall.EADDRINUSE) && staleSocket(name) {
		if rerr := os.Remove(name); rerr == nil {
			l, err = net.ListenUnix("unix", addr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return &Listener{l: l, desc: sockDesc(name, abstract), opts: opts}, nil
}

// staleSocket reports whether path is a socket file that nothing accepts on.
func staleSocket(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return false
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// Accept waits for the next connection. Close unblocks it.
func (l *Listener) Accept() (Conn, error) {
	c, err := l.l.AcceptUnix()
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("transport: %w", err)
	}
	return newUnixConn(c, l.desc+", accepted", l.opts), nil
}

// Close stops listening and removes the socket file, if any.
func (l *Listener) Close() error { return l.l.Close() }

// Addr returns the listening address ("@name" for abstract sockets).
func (l *Listener) Addr() net.Addr { return l.l.Addr() }

func (l *Listener) String() string { return l.desc }

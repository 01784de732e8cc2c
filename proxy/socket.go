package proxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gombim/gombim/transport"
	"golang.org/x/sys/unix"
)

// The client side uses net.UnixConn directly rather than transport's
// socket Conn: reading goes through transport's framer, but writing needs
// a non-blocking attempt (see client.send), which needs the descriptor.

// listen listens on an abstract socket name, or on a socket file for a
// name starting with '/' (replacing a stale file nothing accepts on).
func listen(name string) (*net.UnixListener, error) {
	abstract := !strings.HasPrefix(name, "/")
	addr := &net.UnixAddr{Net: "unix", Name: name}
	if abstract {
		addr.Name = "@" + strings.TrimPrefix(name, "@")
	}
	l, err := net.ListenUnix("unix", addr)
	if err != nil && !abstract && errors.Is(err, syscall.EADDRINUSE) && staleSocket(name) {
		if os.Remove(name) == nil {
			l, err = net.ListenUnix("unix", addr)
		}
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func staleSocket(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket {
		return false
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// clientConn is an accepted client connection.
type clientConn struct {
	uc *net.UnixConn
	rc syscall.RawConn
	r  transport.Conn // framed reading over uc

	// tryWrite's state, kept here so that its callback is allocated once;
	// tryWrite is only called with the client's wmu held.
	wbuf []byte
	wn   int
	werr error
	wfn  func(fd uintptr) bool
}

func newClientConn(uc *net.UnixConn, id uint64) (*clientConn, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &clientConn{
		uc: uc,
		rc: rc,
		r:  transport.NewStreamConn(uc, transport.Options{Name: fmt.Sprintf("client %d", id)}),
	}
	c.wfn = c.writeSome
	return c, nil
}

// writeSome writes wbuf until done or the socket is full; it runs inside
// RawConn.Write and never asks to wait.
func (c *clientConn) writeSome(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		m, err := unix.Write(int(fd), c.wbuf[c.wn:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			c.werr = err
			break
		}
		c.wn += m
	}
	return true
}

// peerCred returns the peer's SO_PEERCRED credentials.
func (c *clientConn) peerCred() (transport.Cred, error) {
	var cr *unix.Ucred
	var serr error
	err := c.rc.Control(func(fd uintptr) {
		cr, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return transport.Cred{}, err
	}
	return transport.Cred{PID: cr.Pid, UID: cr.Uid, GID: cr.Gid}, nil
}

// tryWrite writes as much of b as the socket takes without waiting.
func (c *clientConn) tryWrite(b []byte) (int, error) {
	c.wbuf, c.wn, c.werr = b, 0, nil
	err := c.rc.Write(c.wfn)
	if err == nil {
		err = c.werr
	}
	n := c.wn
	c.wbuf = nil
	return n, err
}

// write writes all of b, waiting as needed.
func (c *clientConn) write(b []byte) error {
	_, err := c.uc.Write(b)
	return err
}

func (c *clientConn) close() error { return c.r.Close() }

package transport

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// streamConn frames MBIM messages over a byte stream: sockets, character
// devices, ttys, or any io.ReadWriteCloser.
type streamConn struct {
	rwc    io.ReadWriteCloser
	fr     *framer
	desc   string
	maxMsg int
	maxCtl int
	// strictCtl refuses writes above maxCtl: cdc-wdm silently truncates a
	// write to its wMaxCommand.
	strictCtl bool

	rmu       sync.Mutex
	wmu       sync.Mutex
	wbroken   error // set when a write was cut off part-way
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// errReader adapts the underlying reader: it reports ErrClosed after Close
// and lets a device-specific function turn hang-up errors into io.EOF.
type errReader struct {
	c      *streamConn
	mapErr func(error) error
}

func (r *errReader) Read(p []byte) (int, error) {
	n, err := r.c.rwc.Read(p)
	if err != nil {
		if r.c.closed.Load() {
			return n, ErrClosed
		}
		if r.mapErr != nil {
			err = r.mapErr(err)
		}
	}
	return n, err
}

// NewStreamConn frames MBIM messages over any byte stream (a socket, a
// pipe, a serial line, a TCP connection, ...). Messages may arrive split
// or coalesced in any way. Close closes rw; whether that unblocks a pending
// Read depends on rw (it does for *os.File with a pollable descriptor and
// for net.Conn).
func NewStreamConn(rw io.ReadWriteCloser, opts Options) Conn {
	name := opts.Name
	if name == "" {
		name = fmt.Sprintf("%T", rw)
	}
	return newStreamConn(rw, fmt.Sprintf("stream %s (max %d)", name, opts.maxControl()), opts, nil)
}

func newStreamConn(rw io.ReadWriteCloser, desc string, opts Options, mapErr func(error) error) *streamConn {
	c := &streamConn{
		rwc:    rw,
		desc:   desc,
		maxMsg: opts.maxMessage(),
		maxCtl: opts.maxControl(),
	}
	c.fr = newFramer(&errReader{c: c, mapErr: mapErr}, c.maxMsg)
	return c
}

func (c *streamConn) ReadMessage() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.closed.Load() {
		return nil, ErrClosed
	}
	b, err := c.fr.next()
	if err != nil && c.closed.Load() {
		return nil, ErrClosed
	}
	return b, err
}

// Buffered reports whether a whole message has already been read from the
// stream, so that the next ReadMessage returns without waiting. A reader
// that batches its output uses it to know when a burst of messages ends.
func (c *streamConn) Buffered() bool {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.fr.whole()
}

func (c *streamConn) WriteMessage(b []byte) error {
	if err := checkMessage(b, c.maxMsg); err != nil {
		return err
	}
	if c.strictCtl && len(b) > c.maxCtl {
		return fmt.Errorf("%w: %d bytes is above the device's maximum control transfer %d (fragment it)", ErrInvalidMessage, len(b), c.maxCtl)
	}
	return c.WriteRaw(b)
}

func (c *streamConn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	if c.wbroken != nil {
		return c.wbroken
	}
	n, err := c.rwc.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if n > 0 && n < len(b) {
		c.wbroken = fmt.Errorf("transport: %s: an earlier write was cut off after %d of %d bytes, so the stream is out of step: %w", c.desc, n, len(b), err)
	}
	return fmt.Errorf("transport: write to %s: %w", c.desc, err)
}

func (c *streamConn) MaxControlTransfer() int { return c.maxCtl }

func (c *streamConn) String() string { return c.desc }

func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.rwc.Close()
	})
	return c.closeErr
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (c *streamConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.rwc.(readDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return os.ErrNoDeadline
}

func (c *streamConn) SetWriteDeadline(t time.Time) error {
	if d, ok := c.rwc.(writeDeadliner); ok {
		return d.SetWriteDeadline(t)
	}
	return os.ErrNoDeadline
}

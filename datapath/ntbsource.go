package datapath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gombim/gombim/ntb"
)

// NTBOptions configures a byte-stream source. The zero value reads DSS
// session 0 from NTB16 or NTB32 blocks of up to 64 KiB.
type NTBOptions struct {
	// Session is the DSS session whose datagrams are delivered.
	Session uint8
	// AnySession delivers the datagrams of every DSS session (Session is
	// then ignored; Datagram.Session tells them apart).
	AnySession bool
	// MaxBlockSize is the largest NTB accepted (the dwNtbInMaxSize in
	// effect); 0 means ntb.DefaultReaderMaxSize (64 KiB, every NTB16).
	MaxBlockSize int
	// Format, if set, is the only NTB format accepted.
	Format ntb.Format
	// Why is appended to Describe, e.g. "the simulator's data endpoint".
	Why string
}

// NTBSource reads DSS datagrams from a byte stream of back-to-back NTBs, as
// a USB bulk IN pipe delivers them: a Unix socket speaking raw NTBs, a
// userspace bulk pipe, a capture file. Datagrams are handed out without
// copying: Data points into the block just read.
type NTBSource struct {
	r      *ntb.Reader
	closer io.Closer
	dl     interface{ SetReadDeadline(time.Time) error }
	opts   NTBOptions
	desc   string
	st     stats

	blk     ntb.Block
	it      ntb.Iterator
	inBlock bool

	pastDeadline bool // drain set a deadline in the past

	mu     sync.Mutex
	closed bool
	broken error // the cancellation that interrupted a read
}

// NewNTBSource returns a source reading NTBs from r. desc names r in
// Describe ("unix /run/sim.sock", "capture file x.ntb"). If r is an
// io.Closer, Close closes it. If r has SetReadDeadline (a net.Conn, a
// pipe's *os.File), a context cancellation interrupts a blocked read;
// otherwise the context is only checked between reads.
func NewNTBSource(r io.Reader, desc string, opts NTBOptions) *NTBSource {
	max := opts.MaxBlockSize
	if max <= 0 {
		max = ntb.DefaultReaderMaxSize
	}
	s := &NTBSource{r: ntb.NewReaderSize(r, max), opts: opts}
	s.r.Parser.Format = opts.Format
	// Vendor NDPs are skipped, not fatal to the whole block.
	s.r.Parser.AllowUnknown = true
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
		s.dl = d
	}
	which := "DSS session " + strconv.Itoa(int(opts.Session))
	if opts.AnySession {
		which = "every DSS session"
	}
	s.desc = "raw NTB stream from " + desc + ", parsed with ntb.Reader (" + which + ")"
	if opts.Why != "" {
		s.desc += ": " + opts.Why
	}
	return s
}

// DialNTB connects to a Unix stream socket that speaks raw NTBs (the
// simulator's data endpoint, a userspace USB driver) and reads from it. A
// name starting with '@' is in the abstract namespace.
func DialNTB(ctx context.Context, name string, opts NTBOptions) (*NTBSource, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", name)
	if err != nil {
		return nil, fmt.Errorf("datapath: %w", err)
	}
	return NewNTBSource(c, "unix socket "+name, opts), nil
}

// OpenNTBFile reads a capture file (or FIFO) of concatenated NTBs.
func OpenNTBFile(path string, opts NTBOptions) (*NTBSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datapath: %w", err)
	}
	return NewNTBSource(f, "file "+path, opts), nil
}

// Describe says which source this is.
func (s *NTBSource) Describe() string { return s.desc }

// Stats returns the source's counters.
func (s *NTBSource) Stats() SourceStats { return s.st.snapshot() }

// Offset returns the stream offset of the block being read.
func (s *NTBSource) Offset() int64 { return s.r.Offset() }

// ReadDatagram returns the next datagram of the requested session(s).
func (s *NTBSource) ReadDatagram(ctx context.Context) (Datagram, error) {
	for {
		if s.inBlock {
			for s.it.Next() {
				d := s.it.Datagram()
				if d.Kind != ntb.DSS || (!s.opts.AnySession && d.Session != s.opts.Session) {
					s.st.skipped.Add(1)
					continue
				}
				dg := Datagram{Session: d.Session, Data: d.Data, Length: len(d.Data)}
				s.st.delivered(dg)
				return dg, nil
			}
			s.inBlock = false
			// The block was validated as a whole by the Reader, so the
			// iterator cannot fail here unless the buffer changed.
			if err := s.it.Err(); err != nil {
				return Datagram{}, s.loss(err)
			}
		}
		if err := s.next(ctx); err != nil {
			return Datagram{}, err
		}
	}
}

// next reads the next block into s.blk.
func (s *NTBSource) next(ctx context.Context) error {
	s.mu.Lock()
	closed, broken := s.closed, s.broken
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if broken != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("datapath: %s: an earlier read was interrupted (%w); the stream position is lost, reopen the source", s.desc, broken)
	}
	if err := ctx.Err(); err != nil {
		return s.drain(err)
	}
	if s.pastDeadline {
		s.dl.SetReadDeadline(time.Time{})
		s.pastDeadline = false
	}
	var stop func() bool
	var fired chan struct{}
	if s.dl != nil && ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			s.dl.SetReadDeadline(time.Unix(1, 0))
			close(fired)
		})
	}
	blk, err := s.r.Next()
	if stop != nil && !stop() {
		<-fired
		if err != nil {
			s.mu.Lock()
			s.broken = ctx.Err()
			s.mu.Unlock()
			return ctx.Err()
		}
		// The block arrived before the deadline took effect: undo it.
		s.dl.SetReadDeadline(time.Time{})
	}
	if err == nil {
		s.blk = blk
		s.it = s.blk.Iter()
		s.inBlock = true
		s.st.blocks.Add(1)
		return nil
	}
	s.mu.Lock()
	closed = s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case s.r.Err() == nil:
		// A well-framed block with invalid contents: the Reader skips it.
		return s.loss(err)
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("datapath: %s: stream ended inside a block at offset %d: %w (%w)", s.desc, s.r.Offset(), err, io.EOF)
	}
	var ne *ntb.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("datapath: %s: NTB framing lost, cannot resynchronise: %w", s.desc, err)
	}
	return fmt.Errorf("datapath: %s: %w", s.desc, err)
}

// drain is next for a context that has ended: blocks already received
// (whole in the Reader's buffer) are still delivered, without reading from
// the stream; then ctx's error is returned.
func (s *NTBSource) drain(ctxErr error) error {
	if s.dl == nil {
		return ctxErr
	}
	if !s.pastDeadline {
		s.dl.SetReadDeadline(time.Unix(1, 0))
		s.pastDeadline = true
	}
	blk, err := s.r.Next()
	switch {
	case err == nil:
		s.blk = blk
		s.it = s.blk.Iter()
		s.inBlock = true
		s.st.blocks.Add(1)
		return nil
	case s.r.Err() == nil:
		return s.loss(err)
	}
	// The Reader needed more bytes and hit the deadline: it is done for.
	s.mu.Lock()
	s.broken = ctxErr
	s.mu.Unlock()
	return ctxErr
}

func (s *NTBSource) loss(err error) error {
	s.st.badBlocks.Add(1)
	return &LossError{Source: s.desc, What: "malformed NTB skipped", Count: 1, Bytes: -1, Offset: s.r.Offset(), Err: err}
}

// Close closes the underlying reader if it is an io.Closer.
func (s *NTBSource) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

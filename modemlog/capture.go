package modemlog

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/gombim/gombim/datapath"
)

// Segment is one log fragment as the modem sent it: one DSS datagram (one
// DataServiceSessionRead packet, at most MaxSegmentSize KiB).
type Segment struct {
	Session uint8
	// Data aliases the source's buffer: valid only until the callback
	// returns (or the next Read).
	Data []byte
	// Length is the segment's length as sent; larger than len(Data) only
	// if the source truncated it.
	Length int
	// Time is when it was received.
	Time time.Time
}

// Truncated reports whether Data holds less than the whole segment.
func (s Segment) Truncated() bool { return s.Length > len(s.Data) }

// Capture reads segments from src and calls fn for each, until ctx ends,
// the source ends or fn fails. It returns nil when the source ends
// (io.EOF), ctx.Err() when ctx ends, fn's error, or the source's error. A
// *datapath.LossError or an error wrapping datapath.ErrLinkDown is returned
// too, but the source stays usable: record it and call Capture again
// (Writer.Capture does).
func Capture(ctx context.Context, src datapath.Source, fn func(Segment) error) error {
	for {
		d, err := src.ReadDatagram(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return err
		}
		if err := fn(Segment{Session: d.Session, Data: d.Data, Length: d.Length, Time: time.Now()}); err != nil {
			return err
		}
	}
}

// Capture writes the segments read from src until ctx ends or the source
// ends, recording in the index which source is read, data the source
// reports lost, and the interface going down. It returns nil when the
// source ends, ctx.Err() when ctx ends (for SIGINT/SIGTERM: then Close
// the Writer, which flushes and fsyncs everything received), or the first
// fatal error. It may be called again with a new source (after a modem
// reset): the same files and index continue.
//
// Only errors from the source itself are taken as losses or link events:
// a failure to write a segment or the index is fatal and returned, even
// when it wraps a *datapath.LossError, and once the index could not be
// written Capture stops at the next loss or link event too instead of
// recording them in an index that is known to be incomplete.
func (w *Writer) Capture(ctx context.Context, src datapath.Source) error {
	if err := w.RecordEvent(RecSource, src.Describe(), ""); err != nil {
		return err
	}
	for {
		d, err := src.ReadDatagram(ctx)
		if err == nil {
			if err := w.WriteSegment(Segment{Session: d.Session, Data: d.Data, Length: d.Length, Time: time.Now()}); err != nil {
				return err
			}
			continue
		}
		var le *datapath.LossError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &le):
			// Also after ctx ended: the source is still delivering what
			// it had received.
			if err := w.RecordLoss(le.Count, le.Bytes, le.Error()); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, datapath.ErrLinkDown):
			if err := w.RecordEvent(RecLink, "", err.Error()+"; waiting for it to come back"); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// Reader is the log stream as an io.Reader: the segments' bytes, one
// after the other, as they arrive from a source.
type Reader struct {
	ctx context.Context
	src datapath.Source
	cur []byte
	err error
	// OnLoss, if set, is called for each *datapath.LossError (data lost
	// before it reached the source); reading goes on either way.
	OnLoss func(*datapath.LossError)
	// OnSegment, if set, is called for each segment before its bytes are
	// read, e.g. to note truncated segments.
	OnSegment func(Segment)
}

// NewReader returns a Reader of src's log stream. Read returns io.EOF
// when the source ends and ctx.Err() when ctx ends.
func NewReader(ctx context.Context, src datapath.Source) *Reader {
	return &Reader{ctx: ctx, src: src}
}

func (r *Reader) next() bool {
	for len(r.cur) == 0 && r.err == nil {
		d, err := r.src.ReadDatagram(r.ctx)
		var le *datapath.LossError
		switch {
		case err == nil:
			r.cur = d.Data
			if r.OnSegment != nil {
				r.OnSegment(Segment{Session: d.Session, Data: d.Data, Length: d.Length, Time: time.Now()})
			}
		case errors.As(err, &le):
			if r.OnLoss != nil {
				r.OnLoss(le)
			}
		case errors.Is(err, datapath.ErrLinkDown):
		case errors.Is(err, io.EOF):
			r.err = io.EOF
		default:
			if cerr := r.ctx.Err(); cerr != nil {
				err = cerr
			}
			r.err = err
		}
	}
	return len(r.cur) > 0
}

// Read reads log bytes.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !r.next() {
		return 0, r.err
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// WriteTo writes the log stream to dst until the source ends (returning
// nil) or fails, each segment straight from the source's buffer (io.Copy
// uses it, so no intermediate copy is made).
func (r *Reader) WriteTo(dst io.Writer) (int64, error) {
	var total int64
	for r.next() {
		n, err := dst.Write(r.cur)
		total += int64(n)
		r.cur = r.cur[n:]
		if err != nil {
			return total, err
		}
	}
	if r.err == io.EOF {
		return total, nil
	}
	return total, r.err
}

package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MBIM message types, used only to judge whether a header found while
// resynchronising is plausible. Values are from the MBIM 1.0 specification
// (table 9-3 and 9-9); later versions added none.
var plausibleMin = map[uint32]uint32{
	0x00000001: 16, // MBIM_OPEN_MSG
	0x00000002: 12, // MBIM_CLOSE_MSG
	0x00000003: 20, // MBIM_COMMAND_MSG (a continuation fragment has no UUID/CID)
	0x00000004: 16, // MBIM_HOST_ERROR_MSG
	0x80000001: 16, // MBIM_OPEN_DONE
	0x80000002: 16, // MBIM_CLOSE_DONE
	0x80000003: 20, // MBIM_COMMAND_DONE
	0x80000004: 16, // MBIM_FUNCTION_ERROR_MSG
	0x80000007: 20, // MBIM_INDICATE_STATUS_MSG
}

// epochSource is implemented by readers whose byte stream can restart (the
// master side of a pty, when its client changes). epoch reports the epoch
// of the bytes returned by the last Read; a change means that bytes
// buffered earlier belong to a stream that has ended.
type epochSource interface {
	epoch() uint64
}

// framer splits a byte stream into MBIM messages using one buffer of
// exactly limit bytes, allocated once.
//
// Invariants: buf[start:end] holds bytes read but not yet consumed; off is
// the stream offset of buf[start]. A returned message aliases buf and stays
// valid until the next call, because buf is only compacted or refilled at
// the start of a later call.
type framer struct {
	r      io.Reader
	ep     epochSource // nil unless r is an epochSource
	buf    []byte
	start  int
	end    int
	off    int64
	resync bool   // scanning for a plausible header after a FramingError
	epoch  uint64 // epoch of the buffered bytes (ep != nil)
	err    error  // terminal error (end of stream); returned forever
	msgEp  uint64 // epoch of the last message returned
}

func newFramer(r io.Reader, limit int) *framer {
	f := &framer{r: r, buf: make([]byte, limit)}
	f.ep, _ = r.(epochSource)
	return f
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// reset drops all buffered bytes and starts a new stream at offset 0.
func (f *framer) reset() {
	f.start, f.end, f.off = 0, 0, 0
	f.resync = false
	f.err = nil
}

func (f *framer) advance(n int) {
	f.start += n
	f.off += int64(n)
	if f.start == f.end {
		f.start, f.end = 0, 0
	}
}

// next returns the next message, a *FramingError, or a read error. Read
// errors other than end-of-stream leave the state intact so the caller may
// try again (after a deadline, say).
func (f *framer) next() ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	limit := len(f.buf)
	for stalls := 0; ; {
		need := HeaderSize
		if f.resync {
			if f.scan(); !f.resync {
				continue
			}
		} else if f.end-f.start >= HeaderSize {
			h := f.buf[f.start:f.end]
			n := le32(h[4:])
			if n < HeaderSize || n > uint32(limit) {
				err := &FramingError{Offset: f.off, Type: le32(h), Length: n, Limit: limit}
				f.resync = true
				f.advance(1)
				return nil, err
			}
			if f.end-f.start >= int(n) {
				msg := f.buf[f.start : f.start+int(n) : f.start+int(n)]
				f.advance(int(n))
				f.msgEp = f.epoch
				return msg, nil
			}
			need = int(n)
		}

		// Make room for the rest of the current message (or header).
		if f.start > 0 && (f.start+need > limit || f.end == limit) {
			copy(f.buf, f.buf[f.start:f.end])
			f.end -= f.start
			f.start = 0
		}
		n, err := f.r.Read(f.buf[f.end:])
		if n > 0 {
			f.end += n
			stalls = 0
			if f.ep != nil {
				if e := f.ep.epoch(); e != f.epoch {
					// The stream restarted: what was buffered before this
					// chunk belongs to the previous stream.
					f.start, f.off, f.resync, f.epoch = f.end-n, 0, false, e
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, f.eof(err)
			}
			return nil, err
		}
		if n == 0 {
			if stalls++; stalls > 100 {
				return nil, io.ErrNoProgress
			}
		}
	}
}

// whole reports whether a complete message is buffered, so that next
// returns it without reading.
func (f *framer) whole() bool {
	if f.err != nil || f.resync || f.end-f.start < HeaderSize {
		return false
	}
	n := le32(f.buf[f.start+4:])
	return n >= HeaderSize && n <= uint32(len(f.buf)) && f.end-f.start >= int(n)
}

// eof ends the stream. Bytes of an incomplete message make it an
// unexpected EOF; leftover garbage being skipped after a FramingError
// was already reported and is dropped silently.
func (f *framer) eof(err error) error {
	f.err = err
	left := f.end - f.start
	if left == 0 || f.resync {
		return err
	}
	what := "a header"
	if left >= HeaderSize {
		what = fmt.Sprintf("a %d-byte message", le32(f.buf[f.start+4:]))
	}
	return fmt.Errorf("transport: stream ended %d bytes into %s at stream offset %d: %w", left, what, f.off, io.ErrUnexpectedEOF)
}

// scan skips bytes until buf[start:] begins with a plausible header: a
// known MessageType whose MessageLength is within that type's minimum and
// the limit. On success it leaves resync mode; otherwise it keeps at most
// HeaderSize-1 bytes (a header may straddle the next read).
func (f *framer) scan() {
	limit := uint32(len(f.buf))
	for f.end-f.start >= HeaderSize {
		h := f.buf[f.start:]
		if min, ok := plausibleMin[le32(h)]; ok {
			if n := le32(h[4:]); n >= min && n <= limit {
				f.resync = false
				return
			}
		}
		f.advance(1)
	}
}

package ntb

import (
	"encoding/binary"
	"errors"
	"io"
)

// Reader splits a byte stream of back-to-back NTBs (a bulk IN pipe read
// through a userspace driver, a stream socket, a capture file) into
// blocks, using the block length in each transfer header.
//
// Reader buffers its input: one buffer of MaxSize bytes is allocated on the
// first call and reused, so reading blocks does not allocate.
type Reader struct {
	// Parser validates each block. Its MaxSize is ignored; the Reader's
	// own limit applies.
	Parser Parser

	r        io.Reader
	max      int
	buf      []byte
	start    int   // first unconsumed byte in buf
	end      int   // end of buffered data in buf
	cur      int   // length of the block returned last, consumed by the next call
	off      int64 // stream offset of buf[start]
	blockOff int64 // stream offset of the block returned last
	rerr     error // read error not yet reported
	err      error // permanent error
}

// NewReader returns a Reader accepting blocks of up to DefaultReaderMaxSize
// bytes.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, DefaultReaderMaxSize)
}

// NewReaderSize returns a Reader accepting blocks of up to maxSize bytes
// (at least NTH32Length+NDP32MinLength; smaller values are raised to that).
// A header announcing a bigger block makes Next fail with ErrTooLarge.
// Note that every NTB16 is at most 65535 bytes long.
func NewReaderSize(r io.Reader, maxSize int) *Reader {
	if min := NTH32Length + NDP32MinLength; maxSize < min {
		maxSize = min
	}
	return &Reader{r: r, max: maxSize}
}

// Next reads the next block and returns it after validation. The block
// refers to the Reader's buffer and is valid until the next call to Next.
//
// At the clean end of the stream Next returns io.EOF; a stream that ends
// inside a block gives io.ErrUnexpectedEOF.
//
// A block with a well-formed header but invalid contents is skipped: Next
// returns its validation error and the following call continues with the
// next block. Errors that lose the block framing (a bad transfer header, a
// block larger than the limit, a zero block length, I/O errors) are
// permanent: Err reports them and every later call returns them again.
// For those, Error.Offset is the header's offset in the stream; for
// content errors it is relative to the block, which starts at Offset().
func (r *Reader) Next() (Block, error) {
	if r.err != nil {
		return Block{}, r.err
	}
	r.start += r.cur
	r.off += int64(r.cur)
	r.cur = 0
	if r.buf == nil {
		r.buf = make([]byte, r.max)
	}

	if err := r.fill(4); err != nil {
		return Block{}, r.fail(err)
	}
	hdrLen, st := NTH16Length, "NTH16"
	switch sig := binary.LittleEndian.Uint32(r.buf[r.start:]); sig {
	case SignatureNTH16:
	case SignatureNTH32:
		hdrLen, st = NTH32Length, "NTH32"
	default:
		return Block{}, r.fail(r.streamError(ErrSignature, "NTH", "dwSignature",
			quoteSig(sig)+" is neither \"NCMH\" nor \"ncmh\""))
	}
	if err := r.fill(hdrLen); err != nil {
		return Block{}, r.fail(err)
	}
	h := r.buf[r.start:]
	var blockLen uint64
	field := "wBlockLength"
	if hdrLen == NTH16Length {
		blockLen = uint64(binary.LittleEndian.Uint16(h[8:]))
	} else {
		blockLen = uint64(binary.LittleEndian.Uint32(h[8:]))
		field = "dwBlockLength"
	}
	switch {
	case blockLen == 0:
		return Block{}, r.fail(r.streamError(ErrMalformed, st, field,
			"0 (block ended by a short packet) cannot be delimited in a byte stream"))
	case blockLen < uint64(hdrLen):
		return Block{}, r.fail(r.streamError(ErrMalformed, st, field,
			u64toa(blockLen)+" is smaller than the "+itoa(hdrLen)+"-byte header"))
	case blockLen > uint64(r.max):
		return Block{}, r.fail(r.streamError(ErrTooLarge, st, field,
			u64toa(blockLen)+" exceeds the reader limit of "+itoa(r.max)+" bytes"))
	}
	n := int(blockLen)
	if err := r.fill(n); err != nil {
		return Block{}, r.fail(err)
	}
	r.cur = n
	r.blockOff = r.off
	p := r.Parser
	p.MaxSize = 0
	return p.Parse(r.buf[r.start : r.start+n])
}

// Offset returns the stream offset of the block returned by the last call
// to Next (or where the failing header started).
func (r *Reader) Offset() int64 { return r.blockOff }

// Err returns the permanent error, if any, that stops the Reader.
func (r *Reader) Err() error { return r.err }

func (r *Reader) fail(err error) error {
	r.err = err
	r.blockOff = r.off
	return err
}

func (r *Reader) streamError(kind error, st, field, reason string) error {
	off := int(r.off)
	if int64(off) != r.off || off < 0 {
		off = -1
	}
	return newError(kind, st, off, -1, field, reason)
}

// fill makes at least n bytes available at buf[start:].
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if r.start+n > len(r.buf) {
		copy(r.buf, r.buf[r.start:r.end])
		r.end -= r.start
		r.start = 0
	}
	empty := 0
	for r.end-r.start < n {
		if r.rerr != nil {
			err := r.rerr
			r.rerr = nil
			if err == io.EOF {
				if r.end == r.start {
					return io.EOF
				}
				return io.ErrUnexpectedEOF
			}
			return err
		}
		m, err := r.r.Read(r.buf[r.end:])
		if m < 0 || m > len(r.buf)-r.end {
			return errors.New("ntb: reader returned an invalid byte count")
		}
		r.end += m
		r.rerr = err
		if m == 0 && err == nil {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// Writer writes NTBs to a byte stream or a bulk OUT pipe, one Write call
// per block.
type Writer struct {
	// Parser validates each block before it is written; a block that fails
	// is not written. Set Parser.AllowUnknown to pass vendor NDPs through.
	Parser Parser

	w io.Writer
	n int64
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteBlock checks that blk is exactly one valid NTB whose header states
// its length (so that a reader can delimit it) and writes it with a single
// Write call.
func (w *Writer) WriteBlock(blk []byte) error {
	b, err := w.Parser.Parse(blk)
	if err != nil {
		return err
	}
	if b.Len() != len(blk) {
		st, field := "NTH16", "wBlockLength"
		if b.Format == NTB32 {
			st, field = "NTH32", "dwBlockLength"
		}
		return newError(ErrMalformed, st, 0, -1, field,
			itoa(b.Len())+" but "+itoa(len(blk))+" bytes were given to write")
	}
	if b.Format == NTB16 && binary.LittleEndian.Uint16(blk[8:]) == 0 {
		return newError(ErrMalformed, "NTH16", 0, -1, "wBlockLength",
			"0 (block ended by a short packet) cannot be delimited in a byte stream")
	}
	if b.Format == NTB32 && binary.LittleEndian.Uint32(blk[8:]) == 0 {
		return newError(ErrMalformed, "NTH32", 0, -1, "dwBlockLength",
			"0 (block ended by a short packet) cannot be delimited in a byte stream")
	}
	n, err := w.w.Write(blk)
	w.n += int64(n)
	if err == nil && n != len(blk) {
		err = io.ErrShortWrite
	}
	return err
}

// Written returns the number of bytes written so far.
func (w *Writer) Written() int64 { return w.n }

package ntb

import (
	"encoding/binary"
	"iter"
	"strconv"
)

// DefaultMaxNDPs is the longest NDP chain a zero Parser accepts. A real
// device puts one NDP per active session (and DSS stream) in a block, so a
// few are normal; the limit only bounds the work done on hostile input.
const DefaultMaxNDPs = 64

// Parser validates NTBs. The zero value is ready to use: it accepts both
// formats, any block size that fits the buffer, up to DefaultMaxNDPs chained
// NDPs, and only IPS, DSS and NCM NDP signatures.
//
// A Parser holds no state between calls and may be shared by goroutines.
type Parser struct {
	// Format, if not zero, is the only layout accepted (the one selected
	// with SET_NTB_FORMAT). Zero accepts NTB16 and NTB32.
	Format Format
	// MaxSize, if positive, is the largest block length accepted (for
	// received blocks, the dwNtbInMaxSize in effect).
	MaxSize int
	// MaxNDPs, if positive, replaces DefaultMaxNDPs.
	MaxNDPs int
	// AllowUnknown makes NDPs with an unrecognised signature acceptable;
	// their datagrams are reported with Kind Unknown and the raw Signature.
	// Otherwise such an NDP makes the whole block invalid.
	AllowUnknown bool
}

// Block is a validated NTB. It refers to the buffer it was parsed from (no
// copy is made); it is only meaningful while that buffer is unchanged.
type Block struct {
	Format   Format // NTB16 or NTB32
	Sequence uint16 // wSequence
	NDPIndex int    // offset of the first NDP
	NDPs     int    // number of NDPs in the chain
	Count    int    // number of datagrams in all NDPs

	buf          []byte
	maxNDPs      int
	allowUnknown bool
}

// Datagram is one payload of an NTB.
type Datagram struct {
	// Data is the payload: a sub-slice of the parsed buffer (not a copy),
	// with its capacity limited to its length so that appending to it
	// cannot overwrite the rest of the block.
	Data []byte
	// Offset is the datagram's index inside the block.
	Offset int
	// NDP is the offset of the NDP that points at the datagram.
	NDP int
	// Signature is the raw dwSignature of the NDP that points at it.
	Signature uint32
	// Kind and Session are decoded from Signature.
	Kind    Kind
	Session uint8
}

// Len returns the block length (wBlockLength/dwBlockLength, or the buffer
// length when that field is zero). A buffer holding several back-to-back
// blocks can be walked by advancing Len bytes at a time.
func (b *Block) Len() int { return len(b.buf) }

// Bytes returns the block's bytes: the start of the parsed buffer, Len bytes
// long.
func (b *Block) Bytes() []byte { return b.buf }

// Parse validates the NTB at the start of buf with a zero Parser.
func Parse(buf []byte) (Block, error) {
	var p Parser
	return p.Parse(buf)
}

// Parse validates the NTB at the start of buf: the header, every NDP of the
// chain and every datagram pointer. It does not allocate unless it fails.
// buf may be longer than the block; see Block.Len.
//
// NDP lengths must be at least 16 (NDP16) or 32 (NDP32) bytes and a
// multiple of 4; a pointer entry with a zero index or a zero length ends an
// NDP's table, and an NDP whose table has no such entry is rejected.
//
// A block whose header says its length is zero (allowed by CDC NCM when the
// transfer ends with a short packet) is taken to span all of buf.
func (p *Parser) Parse(buf []byte) (Block, error) {
	blk, err := p.header(buf)
	if err != nil {
		return Block{}, err
	}
	it := blk.Iter()
	n := 0
	for it.Next() {
		n++
	}
	if it.err != nil {
		return Block{}, it.err
	}
	blk.Count = n
	blk.NDPs = it.ndps
	return blk, nil
}

func (p *Parser) header(b []byte) (Block, error) {
	if len(b) < 4 {
		return Block{}, newError(ErrTruncated, "NTB", 0, -1, "",
			"buffer of "+itoa(len(b))+" bytes cannot hold a transfer header")
	}
	var (
		f      Format
		st     string
		hdrLen int
	)
	sig := binary.LittleEndian.Uint32(b)
	switch sig {
	case SignatureNTH16:
		f, st, hdrLen = NTB16, "NTH16", NTH16Length
	case SignatureNTH32:
		f, st, hdrLen = NTB32, "NTH32", NTH32Length
	default:
		return Block{}, newError(ErrSignature, "NTH", 0, -1, "dwSignature",
			quoteSig(sig)+" is neither \"NCMH\" nor \"ncmh\"")
	}
	if p.Format != 0 && f != p.Format {
		return Block{}, newError(ErrSignature, st, 0, -1, "dwSignature",
			f.String()+" header but "+p.Format.String()+" is expected")
	}
	if len(b) < hdrLen {
		return Block{}, newError(ErrTruncated, st, 0, -1, "",
			"buffer of "+itoa(len(b))+" bytes is shorter than the "+itoa(hdrLen)+"-byte header")
	}
	if hl := int(binary.LittleEndian.Uint16(b[4:])); hl != hdrLen {
		return Block{}, newError(ErrMalformed, st, 0, -1, "wHeaderLength",
			itoa(hl)+", want "+itoa(hdrLen))
	}
	blk := Block{Format: f, Sequence: binary.LittleEndian.Uint16(b[6:])}
	var blockLen, ndp uint64
	lenField, ndpField, ndpHdr := "wBlockLength", "wNdpIndex", NDP16HeaderLen
	if f == NTB16 {
		blockLen = uint64(binary.LittleEndian.Uint16(b[8:]))
		ndp = uint64(binary.LittleEndian.Uint16(b[10:]))
	} else {
		blockLen = uint64(binary.LittleEndian.Uint32(b[8:]))
		ndp = uint64(binary.LittleEndian.Uint32(b[12:]))
		lenField, ndpField, ndpHdr = "dwBlockLength", "dwNdpIndex", NDP32HeaderLen
	}
	switch {
	case blockLen == 0:
		blockLen = uint64(len(b))
	case blockLen < uint64(hdrLen):
		return Block{}, newError(ErrMalformed, st, 0, -1, lenField,
			u64toa(blockLen)+" is smaller than the "+itoa(hdrLen)+"-byte header")
	case blockLen > uint64(len(b)):
		return Block{}, newError(ErrTruncated, st, 0, -1, lenField,
			u64toa(blockLen)+" beyond buffer length "+itoa(len(b)))
	}
	if p.MaxSize > 0 && blockLen > uint64(p.MaxSize) {
		return Block{}, newError(ErrTooLarge, st, 0, -1, lenField,
			u64toa(blockLen)+" exceeds the maximum NTB size "+itoa(p.MaxSize))
	}
	bl := int(blockLen)
	if ndp == 0 {
		return Block{}, newError(ErrMalformed, st, 0, -1, ndpField, "0: the block has no NDP")
	}
	if err := checkNDPIndex(st, 0, ndpField, ndp, hdrLen, bl, ndpHdr); err != nil {
		return Block{}, err
	}
	blk.NDPIndex = int(ndp)
	blk.buf = b[:bl:bl]
	blk.maxNDPs = p.MaxNDPs
	if blk.maxNDPs <= 0 {
		blk.maxNDPs = DefaultMaxNDPs
	}
	blk.allowUnknown = p.AllowUnknown
	return blk, nil
}

// checkNDPIndex validates a non-zero offset at which an NDP should start.
func checkNDPIndex(st string, off int, field string, ndp uint64, hdrLen, blockLen, ndpHdr int) error {
	switch {
	case ndp < uint64(hdrLen):
		return newError(ErrBounds, st, off, -1, field,
			u64toa(ndp)+" points into the "+itoa(hdrLen)+"-byte transfer header")
	case ndp%4 != 0:
		return newError(ErrMalformed, st, off, -1, field,
			u64toa(ndp)+" is not a multiple of 4")
	case ndp+uint64(ndpHdr) > uint64(blockLen):
		return newError(ErrBounds, st, off, -1, field,
			u64toa(ndp)+"+"+itoa(ndpHdr)+" beyond block length "+itoa(blockLen))
	}
	return nil
}

func u64toa(v uint64) string { return strconv.FormatUint(v, 10) }

// Iter returns an iterator over the block's datagrams, in NDP chain order
// and, within an NDP, in table order.
func (b *Block) Iter() Iterator {
	it := Iterator{
		b:            b.buf,
		hdrLen:       NTH16Length,
		maxNDPs:      b.maxNDPs,
		allowUnknown: b.allowUnknown,
		next:         b.NDPIndex,
	}
	if b.Format == NTB32 {
		it.is32 = true
		it.hdrLen = NTH32Length
	}
	if it.maxNDPs <= 0 {
		it.maxNDPs = DefaultMaxNDPs
	}
	return it
}

// Walk calls fn for each datagram of the block and stops at the first
// error fn returns, which Walk then returns.
func (b *Block) Walk(fn func(Datagram) error) error {
	it := b.Iter()
	for it.Next() {
		if err := fn(it.d); err != nil {
			return err
		}
	}
	return it.err
}

// All returns a range-over-func iterator over the block's datagrams.
func (b *Block) All() iter.Seq[Datagram] {
	return func(yield func(Datagram) bool) {
		it := b.Iter()
		for it.Next() {
			if !yield(it.d) {
				return
			}
		}
	}
}

// Walk validates the NTB at the start of buf and then calls fn for each
// datagram. Because the whole block is validated first, fn is never called
// for a block that turns out to be malformed. It does not allocate on
// valid input (provided fn itself does not).
func Walk(buf []byte, fn func(Datagram) error) error {
	var p Parser
	blk, err := p.Parse(buf)
	if err != nil {
		return err
	}
	return blk.Walk(fn)
}

// Datagrams validates the NTB at the start of buf and yields its datagrams.
// If the block is invalid it yields a single zero Datagram with the error.
func Datagrams(buf []byte) iter.Seq2[Datagram, error] {
	return func(yield func(Datagram, error) bool) {
		var p Parser
		blk, err := p.Parse(buf)
		if err != nil {
			yield(Datagram{}, err)
			return
		}
		it := blk.Iter()
		for it.Next() {
			if !yield(it.d, nil) {
				return
			}
		}
		if it.err != nil {
			yield(Datagram{}, it.err)
		}
	}
}

// Iterator walks the datagrams of a Block, checking every structure as it
// goes, so it stays memory safe even if the buffer was modified after Parse.
// Use it like bufio.Scanner:
//
//	it := blk.Iter()
//	for it.Next() {
//		d := it.Datagram()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	b            []byte
	hdrLen       int
	is32         bool
	allowUnknown bool
	inNDP        bool
	kind         Kind
	session      uint8
	sig          uint32
	maxNDPs      int
	ndps         int // NDPs loaded so far
	next         int // offset of the next NDP to load; 0 ends the chain
	ndp          int // offset of the current NDP
	pos, end     int // next pointer entry and end of the current table
	entry        int // number of the next pointer entry in the current NDP

	// Brent's cycle detection over the chain of NDP offsets: mark is a
	// remembered offset, compared with every later one; it is moved forward
	// after limit steps and limit doubles each time.
	mark, steps, limit int

	d   Datagram
	err error
}

// Next advances to the next datagram and reports whether there is one. It
// returns false at the end of the block or on error (see Err).
func (it *Iterator) Next() bool {
	b := it.b
	for {
		if !it.inNDP {
			if it.next == 0 || it.err != nil {
				return false
			}
			if !it.load() {
				return false
			}
		}
		n := it.entry
		var idx, ln uint64
		if it.is32 {
			if it.end-it.pos < 8 {
				return it.fail(newError(ErrMalformed, "NDP32", it.ndp, -1, "wLength",
					itoa(it.end-it.ndp)+" leaves no room for a terminating null entry after "+itoa(n)+" entries"))
			}
			e := b[it.pos : it.pos+8]
			idx = uint64(binary.LittleEndian.Uint32(e))
			ln = uint64(binary.LittleEndian.Uint32(e[4:]))
			it.pos += 8
		} else {
			if it.end-it.pos < 4 {
				return it.fail(newError(ErrMalformed, "NDP16", it.ndp, -1, "wLength",
					itoa(it.end-it.ndp)+" leaves no room for a terminating null entry after "+itoa(n)+" entries"))
			}
			e := b[it.pos : it.pos+4]
			idx = uint64(binary.LittleEndian.Uint16(e))
			ln = uint64(binary.LittleEndian.Uint16(e[2:]))
			it.pos += 4
		}
		it.entry++
		// A pointer with a zero index or a zero length ends the table;
		// anything after it is ignored.
		if idx == 0 || ln == 0 {
			it.inNDP = false
			continue
		}
		if idx < uint64(it.hdrLen) {
			return it.fail(newError(ErrBounds, it.ndpName(), it.ndp, n, it.idxField(),
				u64toa(idx)+" points into the "+itoa(it.hdrLen)+"-byte transfer header"))
		}
		if idx+ln > uint64(len(b)) {
			return it.fail(newError(ErrBounds, it.ndpName(), it.ndp, n, it.idxField(),
				u64toa(idx)+"+"+u64toa(ln)+" beyond block length "+itoa(len(b))))
		}
		i, j := int(idx), int(idx+ln)
		it.d = Datagram{
			Data:      b[i:j:j],
			Offset:    i,
			NDP:       it.ndp,
			Signature: it.sig,
			Kind:      it.kind,
			Session:   it.session,
		}
		return true
	}
}

// Datagram returns the datagram found by the last successful Next.
func (it *Iterator) Datagram() Datagram { return it.d }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.inNDP = false
	it.next = 0
	it.d = Datagram{}
	return false
}

func (it *Iterator) ndpName() string {
	if it.is32 {
		return "NDP32"
	}
	return "NDP16"
}

func (it *Iterator) idxField() string {
	if it.is32 {
		return "dwDatagramIndex"
	}
	return "wDatagramIndex"
}

// load reads and checks the NDP at it.next, which has already been checked
// to lie inside the block with room for its fixed header.
func (it *Iterator) load() bool {
	b, o := it.b, it.next
	st := it.ndpName()
	if it.ndps == 0 {
		it.mark, it.steps, it.limit = o, 0, 1
	} else {
		if o == it.mark {
			return it.fail(newError(ErrLoop, st, it.ndp, -1, it.nextField(),
				itoa(o)+" points back to an NDP already in the chain"))
		}
		if it.steps++; it.steps == it.limit {
			it.mark, it.steps, it.limit = o, 0, it.limit*2
		}
	}
	if it.ndps >= it.maxNDPs {
		return it.fail(newError(ErrLoop, st, o, -1, "",
			"chain holds more than "+itoa(it.maxNDPs)+" NDPs"))
	}
	it.ndps++
	hdr, minLen := NDP16HeaderLen, NDP16MinLength
	if it.is32 {
		hdr, minLen = NDP32HeaderLen, NDP32MinLength
	}
	// Offsets reaching here were checked by checkNDPIndex; this guards
	// against a Block whose exported NDPIndex was changed by hand.
	if o < it.hdrLen || o > len(b)-hdr {
		return it.fail(newError(ErrBounds, st, o, -1, "",
			"NDP header does not fit between the transfer header and block length "+itoa(len(b))))
	}

	sig := binary.LittleEndian.Uint32(b[o:])
	kind, session, is32, ok := ParseSignature(sig)
	if !ok {
		if !it.allowUnknown {
			return it.fail(newError(ErrSignature, st, o, -1, "dwSignature",
				quoteSig(sig)+" is not an IPS, DSS or NCM signature"))
		}
	} else if is32 != it.is32 {
		other, want := "NDP16", "NTB32"
		if is32 {
			other, want = "NDP32", "NTB16"
		}
		return it.fail(newError(ErrSignature, st, o, -1, "dwSignature",
			quoteSig(sig)+" is an "+other+" signature inside an "+want+" block"))
	}

	var next uint64
	if it.is32 {
		next = uint64(binary.LittleEndian.Uint32(b[o+8:]))
	} else {
		next = uint64(binary.LittleEndian.Uint16(b[o+6:]))
	}
	wl := int(binary.LittleEndian.Uint16(b[o+4:]))
	switch {
	case wl < minLen:
		return it.fail(newError(ErrMalformed, st, o, -1, "wLength",
			itoa(wl)+" is less than the minimum "+itoa(minLen)))
	case wl%4 != 0:
		return it.fail(newError(ErrMalformed, st, o, -1, "wLength",
			itoa(wl)+" is not a multiple of 4"))
	case o+wl > len(b):
		return it.fail(newError(ErrBounds, st, o, -1, "wLength",
			itoa(o)+"+"+itoa(wl)+" beyond block length "+itoa(len(b))))
	}
	if next != 0 {
		if err := checkNDPIndex(st, o, it.nextField(), next, it.hdrLen, len(b), hdr); err != nil {
			return it.fail(err)
		}
	}

	it.ndp = o
	it.next = int(next)
	it.pos = o + hdr
	it.end = o + wl
	it.entry = 0
	it.sig, it.kind, it.session = sig, kind, session
	it.inNDP = true
	return true
}

func (it *Iterator) nextField() string {
	if it.is32 {
		return "dwNextNdpIndex"
	}
	return "wNextNdpIndex"
}

package ntb

import "encoding/binary"

// Builder assembles one NTB at a time from datagrams.
//
// Datagrams are copied one after the other behind the transfer header, each
// starting at an offset o with o % Divisor == Remainder. When the block is
// finished (Bytes), one NDP per (kind, session) pair, in order of first
// use, is written after the payload, each aligned to NdpAlignment, and the
// NDPs are chained with their next-index fields.
//
// The exported fields configure the builder; change them only while it is
// empty (after Reset). Zero values select the defaults noted below. The
// internal buffers are kept across Reset, so once they have grown to their
// working size, building blocks does not allocate.
//
// A typical host transmit loop:
//
//	b := &ntb.Builder{MaxSize: outMax}
//	for pkt := range packets {
//		err := b.Add(ntb.IPS, 0, pkt)
//		if errors.Is(err, ntb.ErrFull) {
//			send(b.Bytes())
//			b.Reset()
//			err = b.Add(ntb.IPS, 0, pkt)
//		}
//		...
//	}
type Builder struct {
	// Format is NTB16 (also used when zero) or NTB32.
	Format Format
	// MaxSize is the largest block to build (dwNtbOutMaxSize). Zero means
	// DefaultNTBOutSize. For NTB16 it is capped at 65535.
	MaxSize int
	// Divisor and Remainder place each datagram at an offset o with
	// o % Divisor == Remainder (wNdpOutDivisor, wNdpOutPayloadRemainder).
	// Divisor zero means DefaultDivisor; Remainder must be below Divisor.
	Divisor   int
	Remainder int
	// NdpAlignment is the alignment of every NDP (wNdpOutAlignment): a
	// power of two, at least 4. Zero means DefaultNdpAlignment.
	NdpAlignment int
	// MaxDatagrams, if positive, limits the datagrams per block
	// (wNtbOutMaxDatagrams).
	MaxDatagrams int
	// Sequence is the wSequence value of the block being built. Reset
	// increments it when the previous block was finished with Bytes.
	Sequence uint16

	buf      []byte // header and payload; NDPs are appended by Bytes
	entries  []entry
	groups   []group
	last     int  // index of the most recently used group
	finished bool // Bytes was called since the last Reset
	cfg      config
}

type entry struct {
	off, n int
	group  int
}

type group struct {
	sig    uint32
	count  int
	ndpOff int // set by Bytes
	cursor int // set by Bytes
}

// config is the resolved form of the exported settings.
type config struct {
	is32                bool
	hdrLen, ndpHdr, esz int
	maxSize             int
	div, rem, ndpAlign  int
	maxDatagrams        int
}

// Reset discards the block being built, keeping the buffers for reuse.
// If the previous block was finished with Bytes, Sequence is incremented.
func (b *Builder) Reset() {
	if b.finished {
		b.Sequence++
		b.finished = false
	}
	b.buf = b.buf[:0]
	b.entries = b.entries[:0]
	b.groups = b.groups[:0]
	b.last = 0
}

// Count returns the number of datagrams added since the last Reset.
func (b *Builder) Count() int { return len(b.entries) }

// Len returns the size the block would have if Bytes were called now; 0
// when no datagram has been added.
func (b *Builder) Len() int {
	if len(b.entries) == 0 {
		return 0
	}
	return b.ndpEnd(len(b.buf), -1, 0)
}

func (b *Builder) resolve() (config, error) {
	c := config{hdrLen: NTH16Length, ndpHdr: NDP16HeaderLen, esz: 4}
	switch b.Format {
	case 0, NTB16:
	case NTB32:
		c = config{is32: true, hdrLen: NTH32Length, ndpHdr: NDP32HeaderLen, esz: 8}
	default:
		return c, b.cfgError("Format", b.Format.String()+" is neither NTB16 nor NTB32")
	}
	c.maxSize = b.MaxSize
	if c.maxSize == 0 {
		c.maxSize = DefaultNTBOutSize
	}
	if !c.is32 && c.maxSize > 0xFFFF {
		c.maxSize = 0xFFFF
	}
	if c.maxSize < 0 || (c.is32 && uint64(c.maxSize) > 0xFFFFFFFF) {
		return c, b.cfgError("MaxSize", itoa(b.MaxSize)+" is out of range")
	}
	c.div = b.Divisor
	if c.div == 0 {
		c.div = DefaultDivisor
	}
	if c.div < 0 || c.div > c.maxSize {
		return c, b.cfgError("Divisor", itoa(b.Divisor)+" is out of range")
	}
	c.rem = b.Remainder
	if c.rem < 0 || c.rem >= c.div {
		return c, b.cfgError("Remainder", itoa(b.Remainder)+" is not below Divisor "+itoa(c.div))
	}
	c.ndpAlign = b.NdpAlignment
	if c.ndpAlign == 0 {
		c.ndpAlign = DefaultNdpAlignment
	}
	if c.ndpAlign < 4 || c.ndpAlign&(c.ndpAlign-1) != 0 || c.ndpAlign > c.maxSize {
		return c, b.cfgError("NdpAlignment", itoa(b.NdpAlignment)+" is not a power of two of at least 4")
	}
	c.maxDatagrams = b.MaxDatagrams
	return c, nil
}

func (b *Builder) cfgError(field, reason string) error {
	return newError(ErrConfig, "Builder", -1, -1, field, reason)
}

func alignUp(o, a int) int { return (o + a - 1) &^ (a - 1) }

func ndpLen(c *config, n int) int { return c.ndpHdr + (n+1)*c.esz }

// ndpEnd returns where the NDP area would end if the payload ended at
// payloadEnd, with extra more entries in group g (g == len(groups) means a
// new group).
func (b *Builder) ndpEnd(payloadEnd, g, extra int) int {
	c := &b.cfg
	o := payloadEnd
	for i := range b.groups {
		n := b.groups[i].count
		if i == g {
			n += extra
		}
		o = alignUp(o, c.ndpAlign) + ndpLen(c, n)
	}
	if g == len(b.groups) {
		o = alignUp(o, c.ndpAlign) + ndpLen(c, extra)
	}
	return o
}

// Add copies datagram into the block under the NDP for (kind, session).
// It returns an error wrapping ErrFull if the block has no room left (the
// builder is unchanged; finish the block and add it to the next one), or
// ErrTooLarge if the datagram could not fit even in an empty block.
func (b *Builder) Add(kind Kind, session uint8, datagram []byte) error {
	c := &b.cfg
	if len(b.entries) == 0 {
		cfg, err := b.resolve()
		if err != nil {
			return err
		}
		b.cfg = cfg
		if cap(b.buf) < cfg.maxSize {
			b.buf = make([]byte, 0, cfg.maxSize)
		}
		b.buf = b.buf[:cfg.hdrLen]
		clear(b.buf)
		b.groups = b.groups[:0]
	}
	if len(datagram) == 0 {
		return newError(ErrConfig, "Builder", -1, len(b.entries), "", "empty datagram cannot be encoded")
	}
	sig := Signature(kind, session, c.is32)
	if sig == 0 {
		return newError(ErrConfig, "Builder", -1, len(b.entries), "",
			"no NDP signature for kind "+kind.String()+" session "+itoa(int(session)))
	}
	if c.maxDatagrams > 0 && len(b.entries) >= c.maxDatagrams {
		return newError(ErrFull, "Builder", -1, len(b.entries), "",
			"block already holds the maximum of "+itoa(c.maxDatagrams)+" datagrams")
	}

	g := b.last
	if g >= len(b.groups) || b.groups[g].sig != sig {
		g = len(b.groups)
		for i := range b.groups {
			if b.groups[i].sig == sig {
				g = i
				break
			}
		}
	}
	n := 1
	if g < len(b.groups) {
		n += b.groups[g].count
	} else if len(b.groups) >= DefaultMaxNDPs {
		return newError(ErrFull, "Builder", -1, len(b.entries), "",
			"block already holds the maximum of "+itoa(DefaultMaxNDPs)+" NDPs")
	}

	start := len(b.buf)
	start += (c.rem - start%c.div + c.div) % c.div
	end := start + len(datagram)
	if end > c.maxSize || ndpLen(c, n) > 0xFFFF || b.ndpEnd(end, g, 1) > c.maxSize {
		if len(b.entries) == 0 {
			return newError(ErrTooLarge, "Builder", -1, 0, "",
				"datagram of "+itoa(len(datagram))+" bytes does not fit in an NTB of at most "+itoa(c.maxSize)+" bytes")
		}
		return newError(ErrFull, "Builder", -1, len(b.entries), "",
			"no room for "+itoa(len(datagram))+" more bytes in an NTB of at most "+itoa(c.maxSize)+" bytes")
	}

	old := len(b.buf)
	b.buf = b.buf[:end]
	clear(b.buf[old:start])
	copy(b.buf[start:], datagram)
	if g == len(b.groups) {
		b.groups = append(b.groups, group{sig: sig})
	}
	b.groups[g].count++
	b.last = g
	b.entries = append(b.entries, entry{off: start, n: len(datagram), group: g})
	return nil
}

// Bytes finishes the block and returns it, or nil if no datagram was
// added. The slice aliases the builder's buffer: it is valid until the next
// call to Add, Bytes or Reset. Calling Bytes again without changes returns
// the same block.
func (b *Builder) Bytes() []byte {
	if len(b.entries) == 0 {
		return nil
	}
	c := &b.cfg
	payloadEnd := len(b.buf)
	total := b.ndpEnd(payloadEnd, -1, 0)
	out := b.buf[:total:total]
	clear(out[payloadEnd:])
	le := binary.LittleEndian

	o := payloadEnd
	for i := range b.groups {
		gr := &b.groups[i]
		o = alignUp(o, c.ndpAlign)
		gr.ndpOff = o
		gr.cursor = o + c.ndpHdr
		o += ndpLen(c, gr.count)
	}
	for i := range b.groups {
		gr := &b.groups[i]
		next := 0
		if i+1 < len(b.groups) {
			next = b.groups[i+1].ndpOff
		}
		h := out[gr.ndpOff:]
		le.PutUint32(h, gr.sig)
		le.PutUint16(h[4:], uint16(ndpLen(c, gr.count)))
		if c.is32 {
			le.PutUint32(h[8:], uint32(next))
		} else {
			le.PutUint16(h[6:], uint16(next))
		}
	}
	for _, e := range b.entries {
		gr := &b.groups[e.group]
		if c.is32 {
			le.PutUint32(out[gr.cursor:], uint32(e.off))
			le.PutUint32(out[gr.cursor+4:], uint32(e.n))
		} else {
			le.PutUint16(out[gr.cursor:], uint16(e.off))
			le.PutUint16(out[gr.cursor+2:], uint16(e.n))
		}
		gr.cursor += c.esz
	}
	// The terminating null entries are already zero (cleared above).

	if c.is32 {
		le.PutUint32(out, SignatureNTH32)
		le.PutUint16(out[4:], NTH32Length)
		le.PutUint16(out[6:], b.Sequence)
		le.PutUint32(out[8:], uint32(total))
		le.PutUint32(out[12:], uint32(b.groups[0].ndpOff))
	} else {
		le.PutUint32(out, SignatureNTH16)
		le.PutUint16(out[4:], NTH16Length)
		le.PutUint16(out[6:], b.Sequence)
		le.PutUint16(out[8:], uint16(total))
		le.PutUint16(out[10:], uint16(b.groups[0].ndpOff))
	}
	b.finished = true
	return out
}

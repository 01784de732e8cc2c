package datapath

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gombim/gombim/ntb"
)

// NTBProducerOptions configures an NTBStreamProducer. The zero value
// builds NTB16 blocks of up to ntb.DefaultNTBInSize (16 KiB) bytes with the
// default alignment, sent when full or on Flush.
type NTBProducerOptions struct {
	// Format is ntb.NTB16 (default) or ntb.NTB32.
	Format ntb.Format
	// MaxSize is the largest block (the device's dwNtbInMaxSize); 0 means
	// ntb.DefaultNTBInSize.
	MaxSize int
	// Divisor, Remainder and NdpAlignment are the device-to-host alignment
	// (wNdpInDivisor, wNdpInPayloadRemainder, wNdpInAlignment); zero
	// values take the ntb.Builder defaults.
	Divisor, Remainder, NdpAlignment int
	// FlushDelay, if positive, sends a partly filled block at the latest
	// this long after its first datagram was added, as a device does not
	// hold data back indefinitely.
	FlushDelay time.Duration
	// Desc names the writer in Describe ("unix socket /run/sim-data.sock").
	Desc string
}

// NTBStreamProducer packs DSS datagrams into NTBs (ntb.Builder) and writes
// them, one Write call per block, to a byte stream: what a modem's bulk IN
// pipe carries, for a host reading raw NTBs (NTBSource). It is safe for
// concurrent use.
type NTBStreamProducer struct {
	mu     sync.Mutex
	b      *ntb.Builder
	w      *ntb.Writer
	desc   string
	delay  time.Duration
	timer  *time.Timer
	err    error // sticky write error
	closed bool
	maxDG  int
}

// NewNTBStreamProducer returns a producer writing to w. It does not close w.
func NewNTBStreamProducer(w io.Writer, opts NTBProducerOptions) (*NTBStreamProducer, error) {
	b := &ntb.Builder{
		Format:       opts.Format,
		MaxSize:      opts.MaxSize,
		Divisor:      opts.Divisor,
		Remainder:    opts.Remainder,
		NdpAlignment: opts.NdpAlignment,
	}
	if b.MaxSize == 0 {
		b.MaxSize = ntb.DefaultNTBInSize
	}
	// Validate the settings now rather than at the first datagram.
	probe := *b
	if err := probe.Add(ntb.DSS, 0, []byte{0}); err != nil && !errors.Is(err, ntb.ErrTooLarge) {
		return nil, fmt.Errorf("datapath: NTB producer: %w", err)
	}
	// The largest datagram that fits in an empty block, found by trying:
	// it depends on the header, NDP and alignment settings. One probe
	// builder and one datagram buffer serve every try.
	lo, hi := 0, b.MaxSize
	scratch := make([]byte, hi)
	probe = *b
	for lo < hi {
		mid := (lo + hi + 1) / 2
		probe.Reset()
		if probe.Add(ntb.DSS, 0, scratch[:mid]) == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return nil, fmt.Errorf("datapath: NTB producer: no datagram fits in a block of %d bytes", b.MaxSize)
	}
	desc := opts.Desc
	if desc == "" {
		desc = fmt.Sprintf("%T", w)
	}
	f := b.Format
	if f == 0 {
		f = ntb.NTB16
	}
	return &NTBStreamProducer{
		maxDG: lo,
		b:     b,
		w:     ntb.NewWriter(w),
		delay: opts.FlushDelay,
		desc:  fmt.Sprintf("DSS datagrams in %v blocks of up to %d bytes to %s", f, b.MaxSize, desc),
	}, nil
}

// Describe says where the datagrams go.
func (p *NTBStreamProducer) Describe() string { return p.desc }

// MaxDatagram returns the largest datagram that fits in one block.
func (p *NTBStreamProducer) MaxDatagram() int { return p.maxDG }

// Written returns the number of NTB bytes written so far.
func (p *NTBStreamProducer) Written() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Written()
}

// WriteDatagram adds one DSS datagram to the current block, sending the
// block first if the datagram does not fit. A datagram too large for any
// block is refused (ntb.ErrTooLarge).
func (p *NTBStreamProducer) WriteDatagram(session uint8, d []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.err != nil {
		return p.err
	}
	err := p.b.Add(ntb.DSS, session, d)
	if errors.Is(err, ntb.ErrFull) {
		if err := p.flushLocked(); err != nil {
			return err
		}
		err = p.b.Add(ntb.DSS, session, d)
	}
	if err != nil {
		return fmt.Errorf("datapath: %w", err)
	}
	if p.delay > 0 && p.b.Count() == 1 {
		if p.timer == nil {
			p.timer = time.AfterFunc(p.delay, p.timedFlush)
		} else {
			p.timer.Reset(p.delay)
		}
	}
	return nil
}

func (p *NTBStreamProducer) timedFlush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed && p.err == nil {
		p.flushLocked()
	}
}

// Flush sends the current block, if it holds any datagram.
func (p *NTBStreamProducer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.err != nil {
		return p.err
	}
	return p.flushLocked()
}

func (p *NTBStreamProducer) flushLocked() error {
	if p.b.Count() == 0 {
		return nil
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	err := p.w.WriteBlock(p.b.Bytes())
	p.b.Reset()
	if err != nil {
		p.err = fmt.Errorf("datapath: writing NTB to %s: %w", p.desc, err)
		return p.err
	}
	return nil
}

// Close sends the current block and stops the producer. It does not close
// the writer.
func (p *NTBStreamProducer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	var err error
	if p.err == nil {
		err = p.flushLocked()
	}
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	return err
}

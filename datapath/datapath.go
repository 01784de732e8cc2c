package datapath

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
)

// Datagram is one DSS datagram: the payload of one entry of a DSS<n> NDP,
// which for modem logging is one log fragment (one segment).
type Datagram struct {
	// Session is the DSS session id (the 4th byte of the NDP signature;
	// VLAN id minus 256 on a cdc_mbim network interface).
	Session uint8
	// Data is the payload. It aliases the source's buffer and is valid
	// until the next ReadDatagram or Close; copy it to keep it.
	Data []byte
	// Length is the datagram's length as it arrived. It is larger than
	// len(Data) only when the source had to truncate it (a packet socket
	// read buffer smaller than the frame); see Truncated.
	Length int
}

// Truncated reports whether Data holds less than the whole datagram.
func (d Datagram) Truncated() bool { return d.Length > len(d.Data) }

// Source delivers the DSS datagrams of one session (or of every session,
// if so configured) from wherever the host receives them.
//
// ReadDatagram must be called from one goroutine at a time. Stats and
// Describe may be called concurrently with it; Close may be called at any
// time and unblocks a pending ReadDatagram.
type Source interface {
	// ReadDatagram blocks until the next datagram arrives. Errors:
	//   - a *LossError: data reached the source but could not be delivered
	//     (a malformed NTB, frames the kernel dropped); not fatal, call
	//     again to go on;
	//   - an error wrapping io.EOF: the stream ended or the network
	//     interface went away; the source is finished (reopen it, e.g.
	//     after a modem reset);
	//   - an error wrapping ErrLinkDown: the interface went down; reading
	//     resumes when it is up again;
	//   - ctx.Err() if ctx ends first. Once ctx has ended, datagrams the
	//     host has already received (whole NTBs in the stream source's
	//     buffer, frames queued on the packet socket, up to its buffer
	//     size) are still delivered, without waiting for more, so that a
	//     capture stopped by SIGTERM writes everything received. Packet
	//     sources can be read again afterwards; byte-stream sources cannot
	//     (the stream position is lost in the middle of a block), so
	//     cancel them only to stop;
	//   - ErrClosed after Close.
	// Any other error is fatal for the source.
	ReadDatagram(ctx context.Context) (Datagram, error)
	// Describe says which source is in use and why, e.g. "VLAN wwan0.dss1
	// (id 257 = DSS session 1) on wwan0, created by gombim over
	// rtnetlink; reading it with an AF_PACKET socket".
	Describe() string
	// Stats returns counters since the source was opened.
	Stats() SourceStats
	// Close releases the source and undoes what opening it changed (a VLAN
	// link it created is deleted). It is safe to call more than once.
	Close() error
}

// SourceStats counts what a Source saw.
type SourceStats struct {
	Datagrams int64 // datagrams delivered
	Bytes     int64 // payload bytes delivered
	Truncated int64 // datagrams delivered truncated (see Datagram.Truncated)
	Skipped   int64 // datagrams of other sessions or kinds, ignored
	Blocks    int64 // NTBs read (byte-stream sources)
	BadBlocks int64 // NTBs skipped as malformed (byte-stream sources)
	Drops     int64 // frames the kernel dropped before we could read them (packet sources)
}

// stats is the concurrency-safe form of SourceStats.
type stats struct {
	datagrams, bytes, truncated, skipped, blocks, badBlocks, drops atomic.Int64
}

func (s *stats) snapshot() SourceStats {
	return SourceStats{
		Datagrams: s.datagrams.Load(),
		Bytes:     s.bytes.Load(),
		Truncated: s.truncated.Load(),
		Skipped:   s.skipped.Load(),
		Blocks:    s.blocks.Load(),
		BadBlocks: s.badBlocks.Load(),
		Drops:     s.drops.Load(),
	}
}

func (s *stats) delivered(d Datagram) {
	s.datagrams.Add(1)
	s.bytes.Add(int64(len(d.Data)))
	if d.Truncated() {
		s.truncated.Add(1)
	}
}

// ErrClosed is returned by operations on a closed Source or Producer.
var ErrClosed = errors.New("datapath: closed")

// LossError reports data that reached a source but cannot be delivered as
// datagrams. It is not fatal: the source stays usable.
type LossError struct {
	// Source is the source's Describe text.
	Source string
	// What was lost: "malformed NTB" or "frames dropped by the kernel".
	What string
	// Count is the number of blocks or frames lost.
	Count int64
	// Bytes is the number of bytes lost, or -1 if unknown.
	Bytes int64
	// Offset is the stream offset of a lost block, -1 if not applicable.
	Offset int64
	// Err is the underlying cause, if any (an *ntb.Error).
	Err error
}

func (e *LossError) Error() string {
	s := "datapath: " + e.What + ": " + strconv.FormatInt(e.Count, 10) + " lost"
	if e.Bytes >= 0 {
		s += " (" + strconv.FormatInt(e.Bytes, 10) + " bytes)"
	}
	if e.Offset >= 0 {
		s += " at stream offset " + strconv.FormatInt(e.Offset, 10)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LossError) Unwrap() error { return e.Err }

// Producer is the device side: it emits DSS datagrams the way a modem
// (through the host's driver) would present them. The simulated modem uses
// it. Methods are safe for concurrent use.
type Producer interface {
	// WriteDatagram sends one DSS datagram of the given session. Datagrams
	// are never split or merged: one call is one segment at the host.
	WriteDatagram(session uint8, p []byte) error
	// MaxDatagram is the largest datagram WriteDatagram accepts: what fits
	// in one NTB, or the interface MTU. A modem's log segments must not
	// be larger (cap MaxSegmentSize to it).
	MaxDatagram() int
	// Flush pushes out anything batched (a partly filled NTB).
	Flush() error
	// Describe says where the datagrams go.
	Describe() string
	// Close flushes and releases the producer (not an io.Writer it was
	// given).
	Close() error
}

// VLAN ids of the cdc_mbim mapping (Linux Documentation/networking/cdc_mbim.rst,
// "VLAN mapping"; drivers/net/usb/cdc_mbim.c).
const (
	// FirstDSSVLAN is the VLAN id of DSS session 0; DSS session n is
	// FirstDSSVLAN+n, up to 511 for session 255.
	FirstDSSVLAN = 256
	// IPS0VLAN is the VLAN id that, once a link with it exists, carries IP
	// session 0 instead of untagged frames (MBIM_IPS0_VID).
	IPS0VLAN = 4094
)

// DSSVLAN returns the VLAN id cdc_mbim uses for DSS session n: 256+n.
func DSSVLAN(session uint8) uint16 { return FirstDSSVLAN + uint16(session) }

// Mapping is what a VLAN id on a cdc_mbim interface stands for.
type Mapping int

const (
	MapDrop Mapping = iota // 512-4093 and 4095: not mapped, dropped by the driver
	MapIPS                 // IP session: untagged/4094 = session 0, 1-255 = that session
	MapDSS                 // device service stream: 256-511 = session vid-256
)

// SessionOfVLAN maps a VLAN id (the low 12 bits of the TCI; 0 for an
// untagged frame) to the MBIM session cdc_mbim associates with it.
// Untagged frames and VLAN 4094 both map to IP session 0: which of the two
// the driver uses depends on whether a VLAN 4094 link exists.
func SessionOfVLAN(vid uint16) (Mapping, uint8) {
	vid &= 0x0fff
	switch {
	case vid < 256:
		return MapIPS, uint8(vid)
	case vid < 512:
		return MapDSS, uint8(vid - FirstDSSVLAN)
	case vid == IPS0VLAN:
		return MapIPS, 0
	}
	return MapDrop, 0
}

var (
	_ Source   = (*NTBSource)(nil)
	_ Source   = (*NetdevSource)(nil)
	_ Producer = (*NTBStreamProducer)(nil)
	_ Producer = (*EthernetProducer)(nil)
)

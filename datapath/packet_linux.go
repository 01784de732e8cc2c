package datapath

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Classic BPF ancillary loads (include/uapi/linux/filter.h): a load from
// SKF_AD_OFF+x reads packet metadata instead of packet bytes.
const (
	skfAdOff             = 0xfffff000 // SKF_AD_OFF (-0x1000) as the k field
	skfAdPktType         = 4          // SKF_AD_PKTTYPE
	skfAdVLANTag         = 44         // SKF_AD_VLAN_TAG (the whole TCI)
	skfAdVLANTagPresent  = 48         // SKF_AD_VLAN_TAG_PRESENT
	bpfAccept            = 0x7fffffff // snap length: the whole frame
	defaultSocketBuffer  = 8 << 20
	defaultFrameBuffer   = 65536 + VLANEthHeaderLen
	statsEvery           = 1024
	statsInterval        = 200 * time.Millisecond
	packetOutgoing       = unix.PACKET_OUTGOING
	ethPAll              = unix.ETH_P_ALL
	minAuxdataLen        = 20 // struct tpacket_auxdata
	tpStatusVLANValid    = unix.TP_STATUS_VLAN_VALID
	solPacket            = unix.SOL_PACKET
	packetAuxdata        = unix.PACKET_AUXDATA
	cmsgHdrLen           = unix.SizeofCmsghdr
	sizeofSockaddrLL     = unix.SizeofSockaddrLinklayer
	maxControlBufferSize = 64
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func bpfStmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func bpfJump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// dssFilter accepts incoming frames (not our own outgoing ones) whose VLAN
// id, taken from the out-of-band tag or else from an in-frame 802.1Q tag,
// is vid, or any DSS id (256-511) when vid is 0. With vid < 0 it only
// drops outgoing frames (for a socket on the VLAN link itself).
func dssFilter(vid int) []unix.SockFilter {
	const (
		ldH   = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
		ldW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ja    = unix.BPF_JMP | unix.BPF_JA
		and   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
		retK  = unix.BPF_RET | unix.BPF_K
		accep = bpfAccept
	)
	if vid < 0 {
		return []unix.SockFilter{
			/* 0 */ bpfStmt(ldW, skfAdOff+skfAdPktType),
			/* 1 */ bpfJump(jeq, packetOutgoing, 1, 0),
			/* 2 */ bpfStmt(retK, accep),
			/* 3 */ bpfStmt(retK, 0),
		}
	}
	p := []unix.SockFilter{
		/* 0 */ bpfStmt(ldW, skfAdOff+skfAdPktType),
		/* 1 */ bpfJump(jeq, packetOutgoing, 10, 0), // -> drop (12)
		/* 2 */ bpfStmt(ldW, skfAdOff+skfAdVLANTagPresent),
		/* 3 */ bpfJump(jeq, 0, 2, 0), // untagged in metadata -> 6
		/* 4 */ bpfStmt(ldW, skfAdOff+skfAdVLANTag),
		/* 5 */ {Code: ja, K: 3}, // -> 9
		/* 6 */ bpfStmt(ldH, 12),
		/* 7 */ bpfJump(jeq, EtherTypeVLAN, 0, 4), // not 802.1Q -> drop (12)
		/* 8 */ bpfStmt(ldH, 14),
		/* 9 */ bpfStmt(and, 0x0fff),
	}
	if vid > 0 {
		p = append(p,
			/* 10 */ bpfJump(jeq, uint32(vid), 0, 1), // -> accept (11) or drop (12)
		)
	} else {
		// 256 <= id < 512: the DSS range.
		p[1].Jt++
		p[7].Jf++
		p = append(p,
			/* 10 */ bpfJump(jge, FirstDSSVLAN, 0, 2), // below -> drop (13)
			/* 11 */ bpfJump(jge, FirstDSSVLAN+256, 1, 0), // above -> drop (13)
		)
	}
	p = append(p, bpfStmt(retK, accep), bpfStmt(retK, 0))
	return p
}

// packetConn is an AF_PACKET SOCK_RAW socket bound to one interface,
// read through the runtime poller.
type packetConn struct {
	f      *os.File
	rc     syscall.RawConn
	ifname string

	// Receive state, reused for every read (no allocation per frame).
	buf []byte
	oob []byte
	sa  unix.RawSockaddrLinklayer
	iov unix.Iovec
	msg unix.Msghdr

	drained    int // bytes returned since the context ended
	drainLimit int

	reads     atomic.Uint64
	statsMu   sync.Mutex
	lastStats time.Time

	mu          sync.Mutex
	interrupted bool // a context cancellation set a past deadline
}

// openPacket opens a packet socket on ifindex. recv selects a receiving
// socket (with the filter, auxdata and a large buffer); a sending socket
// is bound with protocol 0 so that it receives nothing.
func openPacket(ifindex int, ifname string, recv bool, filter []unix.SockFilter, sockBuf, frameBuf int) (*packetConn, error) {
	// Protocol 0: no frame is queued before the filter is attached and
	// the socket bound to its interface.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket(AF_PACKET)", err)
	}
	fail := func(op string, err error) (*packetConn, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(op, err)
	}
	proto := uint16(0)
	if recv {
		if err := unix.SetsockoptInt(fd, solPacket, packetAuxdata, 1); err != nil {
			return fail("setsockopt(PACKET_AUXDATA)", err)
		}
		if len(filter) > 0 {
			prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
			if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
				return fail("setsockopt(SO_ATTACH_FILTER)", err)
			}
		}
		if sockBuf <= 0 {
			sockBuf = defaultSocketBuffer
		}
		// SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by
		// net.core.rmem_max.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockBuf) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuf)
		}
		proto = htons(ethPAll)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex}); err != nil {
		return fail("bind(AF_PACKET "+ifname+")", err)
	}
	f := os.NewFile(uintptr(fd), "packet:"+ifname)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &packetConn{f: f, rc: rc, ifname: ifname, lastStats: time.Now()}
	if recv {
		if frameBuf <= 0 {
			frameBuf = defaultFrameBuffer
		}
		c.buf = make([]byte, frameBuf)
		c.drainLimit = sockBuf
		c.oob = make([]byte, maxControlBufferSize)
	}
	return c, nil
}

// frame is one frame read from a packet socket.
type frame struct {
	data     []byte // the bytes read (at most len(buf))
	length   int    // the frame's real length (larger if truncated)
	tci      uint16
	tciValid bool
	pktType  uint8
}

// recv reads one frame. ctx cancellation interrupts it (with a deadline),
// after which the socket can be read again. Once ctx has ended, frames
// already queued on the socket are still returned, without waiting, up to
// drainLimit bytes; then ctx's error.
func (c *packetConn) recv(ctx context.Context) (frame, error) {
	c.mu.Lock()
	if c.interrupted {
		c.interrupted = false
		c.f.SetReadDeadline(time.Time{})
	}
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return c.recvQueued(err)
	}
	c.drained = 0
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() {
			c.mu.Lock()
			c.interrupted = true
			c.mu.Unlock()
			c.f.SetReadDeadline(time.Unix(1, 0))
		})
	}
	var fr frame
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		var ok bool
		fr, ok, rerr = c.recvmsg(fd, unix.MSG_TRUNC)
		return ok
	})
	if stop != nil {
		stop()
	}
	if err == nil {
		err = rerr
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if cerr := ctx.Err(); cerr != nil {
				return c.recvQueued(cerr)
			}
		}
		if errors.Is(err, os.ErrClosed) {
			return frame{}, ErrClosed
		}
		return frame{}, err
	}
	c.reads.Add(1)
	return fr, nil
}

// recvQueued returns a frame that is already queued, or ctxErr.
func (c *packetConn) recvQueued(ctxErr error) (frame, error) {
	if c.drained >= c.drainLimit {
		return frame{}, ctxErr
	}
	var fr frame
	var rerr error
	var ok bool
	if err := c.rc.Control(func(fd uintptr) {
		fr, ok, rerr = c.recvmsg(fd, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
	}); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return frame{}, ErrClosed
		}
		return frame{}, err
	}
	if !ok {
		return frame{}, ctxErr // nothing queued
	}
	if rerr != nil {
		return frame{}, rerr
	}
	c.drained += fr.length
	c.reads.Add(1)
	return fr, nil
}

// recvmsg makes one recvmsg call into the connection's buffers. ok is
// false if nothing was queued (EAGAIN).
func (c *packetConn) recvmsg(fd uintptr, flags int) (fr frame, ok bool, err error) {
	c.iov.Base = &c.buf[0]
	c.iov.SetLen(len(c.buf))
	c.msg.Name = (*byte)(unsafe.Pointer(&c.sa))
	c.msg.Namelen = sizeofSockaddrLL
	c.msg.Iov = &c.iov
	c.msg.Iovlen = 1
	c.msg.Control = &c.oob[0]
	c.msg.SetControllen(len(c.oob))
	c.msg.Flags = 0
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&c.msg)), uintptr(flags))
	if e == unix.EAGAIN {
		return frame{}, false, nil
	}
	if e != 0 {
		return frame{}, true, e
	}
	fr.length = int(n)
	fr.data = c.buf[:min(int(n), len(c.buf))]
	fr.pktType = c.sa.Pkttype
	fr.tci, fr.tciValid = parseAuxdata(c.oob[:c.msg.Controllen])
	return fr, true, nil
}

// parseAuxdata finds the PACKET_AUXDATA control message in oob and
// returns the VLAN TCI it reports, if valid.
func parseAuxdata(oob []byte) (tci uint16, valid bool) {
	align := func(n int) int {
		return (n + int(unsafe.Sizeof(uintptr(0))) - 1) &^ (int(unsafe.Sizeof(uintptr(0))) - 1)
	}
	for len(oob) >= cmsgHdrLen {
		var l int
		if unsafe.Sizeof(uintptr(0)) == 8 {
			l = int(min(ne.Uint64(oob), uint64(len(oob))))
		} else {
			l = int(ne.Uint32(oob))
		}
		if l < cmsgHdrLen || l > len(oob) {
			return 0, false
		}
		level := int32(ne.Uint32(oob[cmsgHdrLen-8:]))
		typ := int32(ne.Uint32(oob[cmsgHdrLen-4:]))
		data := oob[align(cmsgHdrLen):max(l, align(cmsgHdrLen))]
		if level == solPacket && typ == packetAuxdata && len(data) >= minAuxdataLen {
			status := ne.Uint32(data)
			return ne.Uint16(data[16:]), status&tpStatusVLANValid != 0
		}
		next := align(l)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return 0, false
}

// drops returns (and resets) the kernel's count of frames dropped on this
// socket, at most every statsEvery reads or statsInterval, unless force.
func (c *packetConn) drops(force bool) int64 {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	now := time.Now()
	if !force && c.reads.Load()%statsEvery != 0 && now.Sub(c.lastStats) < statsInterval {
		return 0
	}
	c.lastStats = now
	var st *unix.TpacketStats
	c.rc.Control(func(fd uintptr) {
		st, _ = unix.GetsockoptTpacketStats(int(fd), solPacket, unix.PACKET_STATISTICS)
	})
	if st == nil {
		return 0
	}
	return int64(st.Drops)
}

// send writes one frame made of hdr and payload, without copying them.
func (c *packetConn) send(hdr, payload []byte) error {
	bufs := [][]byte{hdr, payload}
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgBuffers(int(fd), bufs, nil, nil, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if errors.Is(err, os.ErrClosed) {
		return ErrClosed
	}
	return err
}

func (c *packetConn) close() error { return c.f.Close() }

//go:build linux

package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is the device side of a pseudo-terminal, for simulators: clients
// open the slave (SlavePath, or a symlink made with Link) as if it were a
// modem's control port, and the PTY reads and writes MBIM messages on the
// master. It implements Conn, Deadliner and RawWriter.
//
// Clients may open and close the slave any number of times. The PTY keeps
// a slave descriptor of its own open for its whole life, so the master
// never sees the EIO/HUP that a pty master gets while no slave is open, and
// the slave's termios (raw mode) survive between clients. It watches the
// slave with inotify (IN_OPEN, IN_CLOSE) to know when a client comes and
// goes:
//
//   - While a client is connected the pty is locked (TIOCSPTLCK) and in
//     exclusive mode (TIOCEXCL), so a second open fails with EIO (EBUSY for
//     non-root callers) instead of two programs sharing one port.
//   - When the last client closes, the PTY discards everything that
//     belonged to it: bytes it wrote that the PTY has not read (TCFLSH on
//     the master), bytes the PTY wrote that it did not read (TCFLSH on the
//     slave), and any partial message in the read buffer; it re-applies raw
//     mode, starts a new client epoch and only then unlocks. A new client
//     therefore never reads stale bytes; opens in the short window between
//     the close and the cleanup fail with EIO and must be retried (Open
//     does so for up to two seconds, OpenContext until the context's
//     deadline if it has one).
//
// Pending inotify events are applied before every read and write on the
// master (and by a watcher goroutine when idle), so a client's open is
// always applied, and the pty locked for it, before the PTY writes it a
// single byte. The next client can open only after the cleanup, hence
// never reads bytes meant for its predecessor.
//
// Limit: if a client opens, writes and closes, and the next one opens and
// writes, all before the PTY has noticed the first open (tens of
// microseconds, when the PTY is idle), the two clients' bytes are
// indistinguishable in the master's queue; the PTY drops them together
// rather than deliver a mix or a stale request. The new client's first
// message then goes unanswered and must be retried, as MBIM hosts retry
// MBIM_OPEN.
//
// Caveat of the lock: a failed open of a locked pty makes the kernel flag
// the slave with TTY_IO_ERROR until the next successful open, so a second
// client attempting to open while one is connected breaks the connected
// client's I/O (it sees EIO, i.e. a hang-up). Sharing a control port is an
// error either way.
//
// Each client connection is identified by an epoch number (its client id).
// ReadMessageFrom reports which client a message came from, and
// WriteMessageTo drops a reply whose client has gone; WriteMessage writes
// to whichever client is connected now. Writes while no client is
// connected return ErrNoClient. If inotify is unavailable, the PTY works
// without client tracking: no locking, no cleanup, writes always go out.
type PTY struct {
	master *os.File
	mfd    int
	mrc    syscall.RawConn
	sfd    int // our own slave descriptor
	slave  string
	ino    *os.File // nil without client tracking
	ifd    int      // ino's descriptor, read only under smu while !inoClosed
	ibuf   []byte
	maxCtl int
	maxMsg int
	desc   string

	rmu sync.Mutex
	fr  *framer
	rd  ptyReader

	wmu     sync.Mutex
	wbuf    []byte
	woff    int
	wep     uint64
	werr    error
	writeFn func(uintptr) bool

	// smu guards the client state and is held around every read and
	// write system call on the master, so that a cleanup (flush + new
	// epoch) is atomic with respect to them.
	smu       sync.Mutex
	epoch     uint64
	opens     int
	active    bool
	tracking  bool
	inoClosed bool
	hook      func(ClientEvent)
	hookq     []ClientEvent
	hookc     chan struct{}
	done      chan struct{}

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup

	lmu   sync.Mutex
	links []string
}

// ClientEvent reports a client connecting to or leaving a PTY.
type ClientEvent struct {
	Client    uint64 // client id (epoch)
	Connected bool
}

type ptyReader struct {
	p   *PTY
	b   []byte
	n   int
	err error
	ep  uint64
	fn  func(uintptr) bool
}

func (r *ptyReader) epoch() uint64 { return r.ep }

func (r *ptyReader) Read(b []byte) (int, error) {
	r.b, r.n, r.err = b, 0, nil
	err := r.p.mrc.Read(r.fn)
	r.b = nil
	if err != nil {
		if r.p.closed.Load() {
			return 0, ErrClosed
		}
		return 0, err
	}
	return r.n, r.err
}

// do runs inside RawConn.Read: one non-blocking read under smu.
func (r *ptyReader) do(fd uintptr) bool {
	p := r.p
	for {
		p.smu.Lock()
		p.drainLocked()
		n, err := unix.Read(int(fd), r.b)
		r.ep = p.epoch
		if n > 0 {
			p.active = true // bytes from a client prove one is connected
		}
		p.smu.Unlock()
		p.kickHooks()
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			r.err = os.NewSyscallError("read", err)
		case n == 0:
			r.err = io.EOF
		default:
			r.n = n
		}
		return true
	}
}

// NewPTY creates a pseudo-terminal pair for a simulator, with default options.
func NewPTY() (*PTY, error) { return NewPTYOptions(Options{}) }

// NewPTYOptions is NewPTY with options (MaxMessageSize, MaxControlTransfer).
func NewPTYOptions(opts Options) (*PTY, error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("transport: open /dev/ptmx: %w", err)
	}
	ok := false
	var sfd = -1
	defer func() {
		if !ok {
			unix.Close(mfd)
			if sfd >= 0 {
				unix.Close(sfd)
			}
		}
	}()
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, fmt.Errorf("transport: unlockpt: %w", err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		return nil, fmt.Errorf("transport: ptsname: %w", err)
	}
	slave := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	// TIOCGPTPEER opens our slave without a path lookup (Linux 4.13+).
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), uintptr(unix.TIOCGPTPEER), uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e == 0 {
		sfd = int(r)
	} else if sfd, err = unix.Open(slave, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("transport: open %s: %w", slave, err)
	}
	if err := makeRaw(sfd); err != nil {
		return nil, fmt.Errorf("transport: %s: raw mode: %w", slave, err)
	}

	p := &PTY{
		mfd:    mfd,
		sfd:    sfd,
		slave:  slave,
		maxCtl: opts.maxControl(),
		maxMsg: opts.maxMessage(),
		epoch:  1,
		hookc:  make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	p.desc = fmt.Sprintf("pty %s (max %d)", slave, p.maxCtl)

	// Client tracking. The watch is added after our own slave descriptor
	// was opened, so only clients' opens and closes are counted.
	if ifd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC); err == nil {
		if _, err := unix.InotifyAddWatch(ifd, slave, unix.IN_OPEN|unix.IN_CLOSE_WRITE|unix.IN_CLOSE_NOWRITE); err == nil {
			p.ino = os.NewFile(uintptr(ifd), "inotify:"+slave)
			p.ifd = ifd
			p.ibuf = make([]byte, 4096)
			p.tracking = true
		} else {
			unix.Close(ifd)
		}
	}

	p.master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	ok = true
	if p.mrc, err = p.master.SyscallConn(); err != nil {
		p.Close()
		return nil, err
	}
	p.rd = ptyReader{p: p}
	p.rd.fn = p.rd.do
	p.writeFn = p.doWrite
	p.fr = newFramer(&p.rd, p.maxMsg)
	p.fr.epoch = p.epoch
	if p.tracking {
		p.wg.Add(2)
		go p.watch()
		go p.dispatchHooks()
	}
	return p, nil
}

// SlavePath returns the slave's device path, e.g. /dev/pts/3.
func (p *PTY) SlavePath() string { return p.slave }

// Link creates a symbolic link at path pointing to the slave, replacing
// an existing symbolic link (never another kind of file). Close removes
// the links that still point to this PTY.
func (p *PTY) Link(path string) error {
	err := os.Symlink(p.slave, path)
	if errors.Is(err, os.ErrExist) {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			if rerr := os.Remove(path); rerr == nil {
				err = os.Symlink(p.slave, path)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("transport: link: %w", err)
	}
	p.lmu.Lock()
	p.links = append(p.links, path)
	p.lmu.Unlock()
	return nil
}

// SetClientHook sets a function called (from an internal goroutine) when a
// client connects or leaves. It must not block for long.
func (p *PTY) SetClientHook(f func(ClientEvent)) {
	p.smu.Lock()
	p.hook = f
	p.smu.Unlock()
}

// Client returns the id of the connected client, or 0 when none is
// connected (always the current epoch without client tracking).
func (p *PTY) Client() uint64 {
	p.smu.Lock()
	p.drainLocked()
	c := uint64(0)
	if p.active || !p.tracking {
		c = p.epoch
	}
	p.smu.Unlock()
	p.kickHooks()
	return c
}

// ReadMessage returns the next message from the current client. Messages
// that an earlier client sent and the PTY had not returned yet are dropped.
func (p *PTY) ReadMessage() ([]byte, error) {
	b, _, err := p.ReadMessageFrom()
	return b, err
}

// ReadMessageFrom is ReadMessage that also returns the id of the client
// that sent the message, for WriteMessageTo.
func (p *PTY) ReadMessageFrom() ([]byte, uint64, error) {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	if p.closed.Load() {
		return nil, 0, ErrClosed
	}
	p.smu.Lock()
	p.drainLocked()
	cur := p.epoch
	p.smu.Unlock()
	p.kickHooks()
	if p.fr.epoch != cur {
		// A client left since the buffered bytes were read.
		p.fr.reset()
		p.fr.epoch = cur
	}
	b, err := p.fr.next()
	if err != nil {
		if p.closed.Load() {
			return nil, 0, ErrClosed
		}
		return nil, 0, err
	}
	return b, p.fr.msgEp, nil
}

// WriteMessage writes a message to the connected client. It returns
// ErrNoClient (and drops the message) when no client is connected, or
// when the client leaves before the message is fully written.
func (p *PTY) WriteMessage(b []byte) error { return p.WriteMessageTo(0, b) }

// WriteMessageTo writes a message to client (an id from ReadMessageFrom or
// Client; 0 means the current client). It returns ErrNoClient if that client
// is no longer connected, so a late reply never reaches the next client.
func (p *PTY) WriteMessageTo(client uint64, b []byte) error {
	if err := checkMessage(b, p.maxMsg); err != nil {
		return err
	}
	return p.write(client, b)
}

// WriteMessagesTo is WriteMessageTo for several whole messages, back to
// back in b, written in one go: the client may read them in one read.
func (p *PTY) WriteMessagesTo(client uint64, b []byte) error {
	for off := 0; off < len(b); {
		n := int(MessageLength(b[off:]))
		if n < HeaderSize || n > len(b)-off {
			return fmt.Errorf("%w: %d bytes at offset %d do not hold a whole message", ErrInvalidMessage, len(b)-off, off)
		}
		if err := checkMessage(b[off:off+n], p.maxMsg); err != nil {
			return err
		}
		off += n
	}
	return p.write(client, b)
}

// WriteRaw writes b to the current client without checking it (fault
// injection).
func (p *PTY) WriteRaw(b []byte) error { return p.write(0, b) }

func (p *PTY) write(client uint64, b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.closed.Load() {
		return ErrClosed
	}
	p.smu.Lock()
	p.drainLocked()
	ep, ok := p.epoch, p.active || !p.tracking
	p.smu.Unlock()
	p.kickHooks()
	if !ok || (client != 0 && client != ep) {
		return ErrNoClient
	}
	p.wbuf, p.woff, p.wep, p.werr = b, 0, ep, nil
	err := p.mrc.Write(p.writeFn)
	p.wbuf = nil
	if err == nil {
		err = p.werr
	}
	if err != nil {
		if p.closed.Load() {
			return ErrClosed
		}
		if errors.Is(err, ErrNoClient) {
			return err
		}
		return fmt.Errorf("transport: write to %s: %w", p.desc, err)
	}
	return nil
}

// doWrite runs inside RawConn.Write: non-blocking writes under smu, giving
// up if the client changed (a partial message already written was flushed
// by the cleanup, which holds smu).
func (p *PTY) doWrite(fd uintptr) bool {
	for {
		p.smu.Lock()
		p.drainLocked()
		if p.epoch != p.wep {
			p.smu.Unlock()
			p.kickHooks()
			p.werr = ErrNoClient
			return true
		}
		n, err := unix.Write(int(fd), p.wbuf[p.woff:])
		p.smu.Unlock()
		p.kickHooks()
		if n > 0 {
			p.woff += n
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			p.werr = os.NewSyscallError("write", err)
			return true
		case p.woff < len(p.wbuf):
			continue
		}
		return true
	}
}

// Client tracking.
//
// Every read of the inotify descriptor happens under smu, in drainLocked,
// which is called before each read and write system call on the master
// as well as by the watcher goroutine. Events are therefore applied in
// order, and a client's open or close that happened before one of our
// reads or writes is always applied before it. The watcher only waits
// for the descriptor to become readable, so changes are also noticed
// while the PTY is idle.

// watch drains inotify events whenever they arrive.
func (p *PTY) watch() {
	defer p.wg.Done()
	rc, err := p.ino.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(uintptr) bool {
		p.smu.Lock()
		stop := p.inoClosed
		p.drainLocked()
		p.smu.Unlock()
		p.kickHooks()
		return stop // false: wait until readable again
	})
}

// drainLocked reads and applies all pending inotify events; smu is held.
func (p *PTY) drainLocked() {
	if !p.tracking || p.inoClosed {
		return
	}
	for {
		n, err := unix.Read(p.ifd, p.ibuf)
		if err == unix.EINTR {
			continue
		}
		if n <= 0 {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(p.ibuf[off+4:])
			nameLen := binary.NativeEndian.Uint32(p.ibuf[off+12:])
			off += unix.SizeofInotifyEvent + int(nameLen)
			switch {
			case mask&unix.IN_OPEN != 0:
				p.openedLocked()
			case mask&(unix.IN_CLOSE_WRITE|unix.IN_CLOSE_NOWRITE) != 0:
				p.closedLocked()
			}
		}
	}
}

func (p *PTY) openedLocked() {
	p.opens++
	if p.opens != 1 {
		return
	}
	p.active = true
	_ = unix.IoctlSetPointerInt(p.mfd, unix.TIOCSPTLCK, 1)
	_ = unix.IoctlSetInt(p.sfd, unix.TIOCEXCL, 0)
	p.queueHook(ClientEvent{Client: p.epoch, Connected: true})
}

func (p *PTY) closedLocked() {
	if p.opens > 0 {
		p.opens--
	}
	if p.opens > 0 {
		return
	}
	p.queueHook(ClientEvent{Client: p.epoch, Connected: false})
	p.cleanupLocked()
}

func (p *PTY) queueHook(ev ClientEvent) {
	if p.hook != nil {
		p.hookq = append(p.hookq, ev)
	}
}

// kickHooks wakes the dispatcher; called after smu is released.
func (p *PTY) kickHooks() {
	if p.hookc == nil {
		return
	}
	select {
	case p.hookc <- struct{}{}:
	default:
	}
}

// dispatchHooks calls the client hook, in event order, off the I/O paths.
func (p *PTY) dispatchHooks() {
	defer p.wg.Done()
	for {
		select {
		case <-p.done:
			return
		case <-p.hookc:
		}
		p.smu.Lock()
		evs, hook := p.hookq, p.hook
		p.hookq = nil
		p.smu.Unlock()
		for _, ev := range evs {
			hook(ev)
		}
	}
}

// cleanupLocked scrubs the pty after the last client left; smu is held.
func (p *PTY) cleanupLocked() {
	_ = unix.IoctlSetInt(p.mfd, unix.TCFLSH, unix.TCIFLUSH) // the client's unread bytes
	_ = unix.IoctlSetInt(p.sfd, unix.TCFLSH, unix.TCIFLUSH) // our bytes it did not read
	_ = makeRaw(p.sfd)                                      // in case the client changed termios
	_ = unix.IoctlSetInt(p.sfd, unix.TIOCNXCL, 0)
	p.epoch++
	p.active = false
	_ = unix.IoctlSetPointerInt(p.mfd, unix.TIOCSPTLCK, 0)
}

// WaitRead waits until the connected client has read everything written
// to it, or has left, or timeout has passed; it reports whether nothing
// is left unread. A simulator that hangs up right after a last message
// (a device reset) calls it before Close: closing hangs up the slave,
// and the kernel then discards what the client has not read yet, though
// a real modem's last response reaches the host before it drops off the
// bus.
//
// The bytes are still unread while the slave (our own descriptor of it)
// polls readable: a poll also moves bytes the master wrote, which the
// kernel hands to the slave asynchronously, into the slave's read buffer.
func (p *PTY) WaitRead(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		p.smu.Lock()
		if p.closed.Load() {
			p.smu.Unlock()
			return false
		}
		p.drainLocked()
		pending := false
		if p.active || !p.tracking {
			fds := []unix.PollFd{{Fd: int32(p.sfd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, 0)
			pending = err == unix.EINTR || (n > 0 && fds[0].Revents&unix.POLLIN != 0)
		}
		p.smu.Unlock()
		p.kickHooks()
		if !pending {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *PTY) MaxControlTransfer() int { return p.maxCtl }

func (p *PTY) String() string { return p.desc }

// SetReadDeadline sets a deadline for ReadMessage.
func (p *PTY) SetReadDeadline(t time.Time) error { return p.master.SetReadDeadline(t) }

// SetWriteDeadline sets a deadline for WriteMessage.
func (p *PTY) SetWriteDeadline(t time.Time) error { return p.master.SetWriteDeadline(t) }

// Close closes the pty (connected clients see a hang-up), unblocks pending
// calls, stops the watcher goroutine and removes the links made by Link.
func (p *PTY) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		// Links first: once the pty is closed its number is free, and
		// the next pty made on the machine, anybody's, gets it; a client
		// following a link left behind would open that one.
		p.lmu.Lock()
		for _, l := range p.links {
			if t, err := os.Readlink(l); err == nil && t == p.slave {
				os.Remove(l)
			}
		}
		p.links = nil
		p.lmu.Unlock()
		p.smu.Lock()
		p.inoClosed = true
		p.smu.Unlock()
		if p.ino != nil {
			p.ino.Close() // ends watch()
		}
		close(p.done) // ends dispatchHooks()
		p.wg.Wait()
		p.closeErr = p.master.Close()
		unix.Close(p.sfd)
	})
	return p.closeErr
}

package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// ErrHungUp is returned by Serve when the simulated device hung up: after
// a device reset or a hang-up fault. ServePTY and ServeUnix carry on (a
// pty comes back under the same link); Serve's caller decides.
var ErrHungUp = errors.New("sim: the simulated device hung up")

// ErrBusy is returned by Serve when another host is being served.
var ErrBusy = errors.New("sim: already serving a host (one at a time)")

// host is the protocol state of one connection: whether MBIM is open, the
// agreed MBIMEx version, the maximum transfer and the subscriptions. It is
// reset by every OPEN; the device state is the Modem's.
type host struct {
	m      *Modem
	conn   transport.Conn
	pty    *transport.PTY
	open   bool
	closed bool // serving ended
	// since is when serving this connection began.
	since time.Time
	// version is the agreed MBIMEx version.
	version mbim.Version
	maxCtl  int
	// subs is the subscription list; nil means the default (every Basic
	// Connect notification).
	subs map[mbim.UUID][]uint32

	qmu    sync.Mutex
	queue  []outItem
	wbuf   []byte // the writer's, for joining messages
	kick   chan struct{}
	done   chan struct{}
	wdone  chan struct{}
	hungUp bool // guarded by qmu
}

// hangUpReadTimeout bounds how long a hang-up waits for a pty client to
// read what was sent before it (a client that does not read is hung up on
// anyway).
const hangUpReadTimeout = 5 * time.Second

type outItem struct {
	frames [][]byte
	raw    bool
	client uint64
	hangUp bool
}

func joinFrames(dst []byte, frames [][]byte) []byte {
	for _, f := range frames {
		dst = append(dst, f...)
	}
	return dst
}

func newHost(m *Modem, conn transport.Conn) *host {
	h := &host{m: m, conn: conn, version: mbim.MBIMEx1, maxCtl: conn.MaxControlTransfer(),
		kick: make(chan struct{}, 1), done: make(chan struct{}), wdone: make(chan struct{}), since: time.Now()}
	h.pty, _ = conn.(*transport.PTY)
	return h
}

func (h *host) subscribed(service mbim.UUID, cid uint32) bool {
	if h.subs == nil {
		return service == basicconnect.UUID
	}
	cids, ok := h.subs[service]
	if !ok {
		return false
	}
	if len(cids) == 0 {
		return true
	}
	for _, c := range cids {
		if c == cid {
			return true
		}
	}
	return false
}

func (h *host) enqueue(it outItem) {
	h.qmu.Lock()
	h.queue = append(h.queue, it)
	h.qmu.Unlock()
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// writer sends queued messages in order, off the modem lock.
func (h *host) writer() {
	defer close(h.wdone)
	for {
		select {
		case <-h.kick:
		case <-h.done:
			return
		}
		for {
			h.qmu.Lock()
			if len(h.queue) == 0 {
				h.qmu.Unlock()
				break
			}
			it := h.queue[0]
			h.queue = h.queue[1:]
			// On a pty, what waits for the same client goes in one write.
			batch := h.wbuf[:0]
			if h.pty != nil && !it.raw && !it.hangUp {
				for len(h.queue) > 0 && !h.queue[0].raw && !h.queue[0].hangUp && h.queue[0].client == it.client {
					if len(batch) == 0 {
						batch = joinFrames(batch, it.frames)
					}
					batch = joinFrames(batch, h.queue[0].frames)
					h.queue = h.queue[1:]
				}
			}
			h.qmu.Unlock()
			if len(batch) > 0 {
				if err := h.pty.WriteMessagesTo(it.client, batch); err != nil && !errors.Is(err, transport.ErrNoClient) {
					h.m.mu.Lock()
					h.m.log("write: %v", err)
					h.m.mu.Unlock()
				}
				if cap(batch) <= 64<<10 {
					h.wbuf = batch
				}
				continue
			}
			for _, f := range it.frames {
				var err error
				switch {
				case it.raw:
					if rw, ok := h.conn.(transport.RawWriter); ok {
						err = rw.WriteRaw(f)
					}
				case h.pty != nil:
					err = h.pty.WriteMessageTo(it.client, f)
				default:
					err = h.conn.WriteMessage(f)
				}
				if err != nil && !errors.Is(err, transport.ErrNoClient) {
					h.m.mu.Lock()
					h.m.log("write: %v", err)
					h.m.mu.Unlock()
				}
			}
			if it.hangUp {
				if h.pty != nil {
					// Closing the pty discards what the client has not
					// read: let it read the last response first.
					h.pty.WaitRead(hangUpReadTimeout)
				}
				h.qmu.Lock()
				h.hungUp = true
				h.qmu.Unlock()
				h.conn.Close()
				return
			}
		}
	}
}

// sendMessage fragments b (one complete message) to the host's maximum
// transfer and queues it, applying faults. Modem locked.
func (h *host) sendMessage(b []byte, o sendOpts) {
	if o.drop {
		return
	}
	if o.corrupt && len(b) >= 48 {
		t := mbim.MessageType(binary.LittleEndian.Uint32(b))
		off := 44
		if t == mbim.TypeIndicateStatus {
			off = 40
		}
		b = append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(b[off:], binary.LittleEndian.Uint32(b[off:])+256)
	}
	max := h.maxCtl
	if o.fragMax > 0 && o.fragMax < max {
		max = o.fragMax
	}
	frames := [][]byte{b}
	if o.corrupt {
		// A corrupt message cannot go through Fragment's validation; it
		// is sent whole (keep it below the maximum).
	} else if f, err := mbim.Fragment(nil, b, max); err == nil {
		frames = f
	} else {
		h.m.log("BUG: fragment: %v", err)
		return
	}
	if o.outOfOrder && len(frames) > 1 {
		rev := make([][]byte, len(frames))
		for i, f := range frames {
			rev[len(frames)-1-i] = f
		}
		frames = rev
	}
	if o.garbage != 0 {
		g := make([]byte, 0, 32)
		g = binary.LittleEndian.AppendUint32(g, uint32(mbim.TypeCommandDone))
		g = binary.LittleEndian.AppendUint32(g, o.garbage)
		g = binary.LittleEndian.AppendUint32(g, binary.LittleEndian.Uint32(b[8:]))
		g = append(g, 0xde, 0xad, 0xbe, 0xef, 0x55, 0xaa, 0x55, 0xaa)
		h.enqueue(outItem{frames: [][]byte{g}, raw: true, client: o.client})
	}
	if o.hangUp {
		half := frames[0][:len(frames[0])/2]
		h.enqueue(outItem{frames: [][]byte{half}, raw: true, client: o.client, hangUp: true})
		return
	}
	h.enqueue(outItem{frames: frames, client: o.client})
	if o.duplicate {
		h.enqueue(outItem{frames: frames, client: o.client})
	}
}

func (h *host) sendSimple(t mbim.MessageType, tid uint32, client uint64, status mbim.Status, code mbim.ProtocolError) {
	msg := mbim.Message{Type: t, TransactionID: tid, Status: status, ErrorCode: code}
	b, err := msg.AppendBinary(nil)
	if err != nil {
		h.m.log("BUG: %v", err)
		return
	}
	h.enqueue(outItem{frames: [][]byte{b}, client: client})
}

func (h *host) functionError(tid uint32, code mbim.ProtocolError, client uint64) {
	h.m.log("-> function-error %s (transaction %d)", code, tid)
	h.sendSimple(mbim.TypeFunctionError, tid, client, 0, code)
}

// Serve serves one host on conn until the host hangs up (nil), ctx is
// done (nil), the simulated device hangs up (ErrHungUp) or conn fails.
// It closes conn when it returns. The modem's state survives: Serve may be
// called again with another connection, one at a time.
func (m *Modem) Serve(ctx context.Context, conn transport.Conn) error {
	m.begin()
	defer m.end()
	return m.serveConn(ctx, conn)
}

func (m *Modem) serveConn(ctx context.Context, conn transport.Conn) error {
	defer conn.Close()
	h := newHost(m, conn)
	m.mu.Lock()
	if m.host != nil {
		m.mu.Unlock()
		return ErrBusy
	}
	m.host = h
	m.log("serving %s", conn)
	m.mu.Unlock()
	go h.writer()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		m.mu.Lock()
		h.closed = true
		if m.host == h {
			m.host = nil
		}
		m.mu.Unlock()
		close(h.done)
		<-h.wdone
	}()

	r := mbim.NewReassembler(0, 10*time.Second)
	for {
		var b []byte
		var client uint64
		var err error
		if h.pty != nil {
			b, client, err = h.pty.ReadMessageFrom()
		} else {
			b, err = conn.ReadMessage()
		}
		if err != nil {
			var fe *transport.FramingError
			if errors.As(err, &fe) {
				m.mu.Lock()
				m.log("framing: %v", err)
				m.mu.Unlock()
				continue
			}
			h.qmu.Lock()
			hung := h.hungUp
			h.qmu.Unlock()
			switch {
			case hung:
				return ErrHungUp
			case ctx.Err() != nil, errors.Is(err, io.EOF), errors.Is(err, transport.ErrClosed):
				return nil
			}
			return err
		}
		m.mu.Lock()
		if time.Now().Before(m.downTill) {
			m.mu.Unlock()
			continue // the device is resetting: nobody listens
		}
		msg, rerr := r.Add(b, time.Now())
		if rerr != nil {
			var re *mbim.ReassemblyError
			if errors.As(rerr, &re) {
				m.log("<- %v", rerr)
				h.functionError(re.TransactionID, re.Code, client)
			}
		}
		if msg != nil {
			m.handle(h, client, msg)
		}
		m.mu.Unlock()
	}
}

// handle processes one complete message from the host. Modem locked.
func (m *Modem) handle(h *host, client uint64, raw []byte) {
	msg, err := mbim.ParseMessage(raw)
	if err != nil {
		m.log("<- malformed: %v", err)
		if msg.Type == 0 {
			return
		}
		code := mbim.ErrLengthMismatch
		if errors.Is(err, mbim.ErrUnknownMessageType) {
			code = mbim.ErrUnknown
		}
		h.functionError(msg.TransactionID, code, client)
		return
	}
	switch msg.Type {
	case mbim.TypeOpen:
		m.log("<- open (transaction %d, max %d)", msg.TransactionID, msg.MaxControlTransfer)
		h.open = false
		if m.controlFaults(h, client, msg, "open") {
			return
		}
		if m.faultFor(FaultCloseDoneOnOpen, "open", mbim.UUID{}, 0) != nil {
			h.open = false
			h.sendSimple(mbim.TypeCloseDone, msg.TransactionID, client, mbim.StatusNone, 0)
			return
		}
		if m.faultFor(FaultIndicationBeforeOpen, "open", mbim.UUID{}, 0) != nil {
			b, _ := catalog.Build(mbim.TypeIndicateStatus, 0, basicconnect.UUID, basicconnect.CIDRadioState, 0, 0, m.radioInfo())
			h.enqueue(outItem{frames: [][]byte{b}, client: client})
		}
		h.open = true
		h.version = mbim.MBIMEx1
		h.subs = nil
		h.maxCtl = h.conn.MaxControlTransfer()
		if n := int(msg.MaxControlTransfer); n >= mbim.MinControlTransfer && n < h.maxCtl {
			h.maxCtl = n
		}
		m.answerControl(h, client, msg, mbim.TypeOpenDone, "open")
	case mbim.TypeClose:
		m.log("<- close (transaction %d)", msg.TransactionID)
		h.open = false
		h.version = mbim.MBIMEx1
		h.subs = nil
		if m.controlFaults(h, client, msg, "close") {
			return
		}
		m.answerControl(h, client, msg, mbim.TypeCloseDone, "close")
	case mbim.TypeCommand:
		m.command(h, client, msg)
	case mbim.TypeHostError:
		m.log("<- host-error %s (transaction %d)", msg.ErrorCode, msg.TransactionID)
	default:
		m.log("<- unexpected %s from the host", msg.Type)
		h.functionError(msg.TransactionID, mbim.ErrUnknown, client)
	}
}

// controlFaults applies the faults that replace the answer to an OPEN or
// CLOSE, and reports whether one did. Modem locked.
func (m *Modem) controlFaults(h *host, client uint64, msg mbim.Message, kind string) bool {
	if m.faultFor(FaultDrop, kind, mbim.UUID{}, 0) != nil {
		return true
	}
	if f := m.faultFor(FaultFunctionError, kind, mbim.UUID{}, 0); f != nil {
		h.functionError(msg.TransactionID, f.errorCode(), client)
		return true
	}
	if f := m.faultFor(FaultStatus, kind, mbim.UUID{}, 0); f != nil {
		t := mbim.TypeOpenDone
		if kind == "close" {
			t = mbim.TypeCloseDone
		}
		h.sendSimple(t, msg.TransactionID, client, f.status(), 0)
		return true
	}
	return false
}

// answerControl sends OPEN_DONE or CLOSE_DONE, late or twice if a fault
// says so. Modem locked.
func (m *Modem) answerControl(h *host, client uint64, msg mbim.Message, t mbim.MessageType, kind string) {
	n := 1
	if m.faultFor(FaultDuplicate, kind, mbim.UUID{}, 0) != nil {
		n = 2
	}
	send := func() {
		for i := 0; i < n; i++ {
			h.sendSimple(t, msg.TransactionID, client, mbim.StatusNone, 0)
		}
	}
	if f := m.faultFor(FaultDelay, kind, mbim.UUID{}, 0); f != nil {
		m.After(f.Delay.D(), func(m *Modem) {
			if m.host == h && !h.closed {
				send()
			}
		})
		return
	}
	send()
}

// command answers a COMMAND. Modem locked.
func (m *Modem) command(h *host, client uint64, msg mbim.Message) {
	svc, cid := msg.Service, msg.CID
	m.log("<- %s %s %s (transaction %d)", msg.CommandType, catalog.ServiceName(svc), catalog.CIDName(svc, cid), msg.TransactionID)
	if !h.open {
		h.functionError(msg.TransactionID, mbim.ErrNotOpened, client)
		return
	}
	if m.fault(FaultNotOpened, svc, cid) != nil {
		h.open = false
		h.functionError(msg.TransactionID, mbim.ErrNotOpened, client)
		return
	}
	if f := m.fault(FaultFunctionError, svc, cid); f != nil {
		h.functionError(msg.TransactionID, f.errorCode(), client)
		return
	}
	if f := m.fault(FaultStatus, svc, cid); f != nil {
		m.sendResponse(h, msg.TransactionID, svc, cid, msg.CommandType, Fail(f.status()), sendOpts{client: client})
		return
	}
	opts, fdelay := m.responseFaults(svc, cid, client)
	tid, ct := msg.TransactionID, msg.CommandType
	send := func(rep Reply) {
		m.sendResponse(h, tid, svc, cid, ct, rep, opts)
		m.flushPending()
		m.afterResponse(h)
	}
	m.inHandler = true
	rep := m.dispatch(h, msg)
	delay := rep.After + m.sc.Timings.Response.D() + fdelay.D()
	if delay <= 0 && rep.Later == nil {
		send(rep)
		return
	}
	m.flushPending()
	epoch := m.epoch
	m.After(delay, func(m *Modem) {
		if m.host != h || h.closed || m.epoch != epoch {
			return
		}
		m.inHandler = true
		r := rep
		if rep.Later != nil {
			r = rep.Later(m)
		}
		send(r)
	})
}

// dispatch finds the handler and decodes the request. Modem locked,
// inHandler set.
func (m *Modem) dispatch(h *host, msg mbim.Message) Reply {
	hd := lookupHandler(msg.Service, msg.CID)
	if hd == nil || m.excluded(msg.Service) {
		return Fail(mbim.StatusNoDeviceSupport)
	}
	kind := mbim.KindQuery
	if msg.CommandType == mbim.CommandSet {
		kind = mbim.KindSet
	}
	r := &Request{Service: msg.Service, CID: msg.CID, Type: msg.CommandType, Raw: msg.InformationBuffer,
		Version: h.version, TransactionID: msg.TransactionID}
	if _, c, l := catalog.Layout(msg.Service, msg.CID, kind, h.version); c != nil {
		if l == nil {
			return Fail(mbim.StatusNoDeviceSupport)
		}
		if l.New != nil && (len(msg.InformationBuffer) > 0 || kind == mbim.KindSet) {
			info := l.New()
			if err := info.UnmarshalMBIM(msg.InformationBuffer); err != nil {
				m.log("invalid %s: %v", catalog.CIDName(msg.Service, msg.CID), err)
				return Fail(mbim.StatusInvalidParameters)
			}
			r.Info = info
		}
	}
	return hd(m, r)
}

func (m *Modem) sendResponse(h *host, tid uint32, svc mbim.UUID, cid uint32, ct mbim.CommandType, rep Reply, o sendOpts) {
	if h.closed {
		return
	}
	if err := checkInfo(svc, cid, mbim.KindResponse, h.version, rep.Info); err != nil {
		m.log("BUG: %v", err)
		rep = Fail(mbim.StatusFailure)
	}
	b, err := catalog.Build(mbim.TypeCommandDone, tid, svc, cid, 0, rep.Status, rep.Info)
	if err != nil {
		m.log("BUG: response %s: %v", catalog.CIDName(svc, cid), err)
		b, _ = catalog.Build(mbim.TypeCommandDone, tid, svc, cid, 0, mbim.StatusFailure, nil)
	}
	m.log("-> %s %s status %s", catalog.ServiceName(svc), catalog.CIDName(svc, cid), rep.Status)
	h.sendMessage(b, o)
}

// afterResponse carries out what a handler asked to happen once its
// response is out (a device reset).
func (m *Modem) afterResponse(h *host) {
	if m.resetPending {
		m.resetPending = false
		m.deviceReset()
	}
}

// deviceReset makes the device drop off the bus and come back after the
// scenario's reset time, in its power-up state. Modem locked.
func (m *Modem) deviceReset() {
	m.log("device reset")
	if h := m.host; h != nil {
		h.open = false
		h.enqueue(outItem{hangUp: true})
	}
	m.downTill = time.Now().Add(m.sc.Timings.Reset.D())
	m.epoch++
	m.resetState()
}

func (m *Modem) excluded(service mbim.UUID) bool {
	for _, n := range m.sc.Services.Exclude {
		if s := catalog.ServiceByName(n); s != nil && s.UUID == service {
			return true
		}
	}
	return false
}

// begin and end bracket serving: the timeline runs while something serves.
func (m *Modem) begin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serving++
	if m.serving > 1 {
		return
	}
	if m.t0.IsZero() {
		m.t0 = time.Now()
	}
	m.startTimeline()
}

func (m *Modem) end() {
	m.mu.Lock()
	m.serving--
	if m.serving == 0 {
		m.stopTimers()
	}
	m.mu.Unlock()
	m.timerWG.Wait()
}

// StartInProcess serves the modem on an in-process pipe and returns the
// host end, for gombim -d sim and for tests. stop ends serving and waits
// for it. After the simulated device hangs up (a reset), the host end reads
// EOF.
func (m *Modem) StartInProcess() (hostConn transport.Conn, stop func()) {
	hc, dc := transport.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Serve(ctx, dc)
	}()
	return hc, func() {
		cancel()
		hc.Close()
		<-done
	}
}

// StartPTY creates a pty whose slave clients open like a modem's control
// port, links link to it (if link is not empty), and serves in the
// background until ctx is done. It returns the slave's path and a wait
// function that returns when serving has stopped. After the simulated
// device hangs up (a reset or a fault) a new pty is made and link is
// pointed at it, as a USB modem reappears after a reset.
func (m *Modem) StartPTY(ctx context.Context, link string) (slave string, wait func() error, err error) {
	p, err := newLinkedPTY(link)
	if err != nil {
		return "", nil, err
	}
	slave = p.SlavePath()
	m.begin()
	done := make(chan error, 1)
	go func() {
		defer m.end()
		for {
			err := m.serveConn(ctx, p)
			p.Close()
			if !errors.Is(err, ErrHungUp) || ctx.Err() != nil {
				if ctx.Err() != nil {
					err = nil
				}
				done <- err
				return
			}
			m.mu.Lock()
			wait := time.Until(m.downTill)
			m.mu.Unlock()
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					done <- nil
					return
				}
			}
			if p, err = newLinkedPTY(link); err != nil {
				done <- err
				return
			}
			m.mu.Lock()
			m.log("device back on %s", p.SlavePath())
			m.mu.Unlock()
		}
	}()
	return slave, func() error { return <-done }, nil
}

func newLinkedPTY(link string) (*transport.PTY, error) {
	p, err := transport.NewPTY()
	if err != nil {
		return nil, err
	}
	if link != "" {
		if err := p.Link(link); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// ServePTY is StartPTY that blocks until ctx is done.
func (m *Modem) ServePTY(ctx context.Context, link string) error {
	_, wait, err := m.StartPTY(ctx, link)
	if err != nil {
		return err
	}
	return wait()
}

// StartUnix listens on the Unix socket path and serves the hosts that
// connect, one at a time, until ctx is done.
func (m *Modem) StartUnix(ctx context.Context, path string) (wait func() error, err error) {
	l, err := transport.Listen(path, false)
	if err != nil {
		return nil, err
	}
	m.begin()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	done := make(chan error, 1)
	go func() {
		defer m.end()
		defer stop()
		defer l.Close()
		for {
			c, err := l.Accept()
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
					err = nil
				}
				done <- err
				return
			}
			err = m.serveConn(ctx, c)
			if err != nil && !errors.Is(err, ErrHungUp) && ctx.Err() == nil {
				m.mu.Lock()
				m.log("serve: %v", err)
				m.mu.Unlock()
			}
		}
	}()
	return func() error { return <-done }, nil
}

// ServeUnix is StartUnix that blocks until ctx is done.
func (m *Modem) ServeUnix(ctx context.Context, path string) error {
	wait, err := m.StartUnix(ctx, path)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return wait()
}

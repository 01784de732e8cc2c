package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// Device states.
type devState uint8

const (
	stateClosed  devState = iota // never opened, or shut down
	stateOpening                 // an open attempt is running; requests wait
	stateOpen                    // requests go to the device
	stateLost                    // the device went away; retrying, requests fail
)

func (st devState) String() string {
	return [...]string{"closed", "opening", "open", "lost"}[st]
}

// Request kinds: what to do with the answer.
type reqKind uint8

const (
	kindForward   reqKind = iota // rewrite the transaction id, pass on
	kindVersion                  // also watch for the agreed MBIMEx version
	kindSubscribe                // answer with the client's own list (echo)
	kindInternal                 // the proxy's own request: call done
)

// pending is a request waiting for the device's answer, keyed by the
// transaction id the proxy gave it on the device.
type pending struct {
	c        *client
	ctid     uint32 // the client's transaction id
	kind     reqKind
	deadline int64               // unix nanoseconds
	echo     []byte              // kindSubscribe: the client's information buffer
	done     func([]byte, error) // kindInternal; the message is only valid during the call
	queued   []byte              // while waiting for the device to open: the request
	qmsg     *mbim.Message       // ... and, for subscribe requests, its parsed form
}

// waiter is a client configuration waiting for the device to open.
type waiter struct {
	c     *client
	cb    func(*device, error)
	fired atomic.Bool
	timer *time.Timer
}

func (w *waiter) fire(d *device, err error) {
	if w.fired.CompareAndSwap(false, true) {
		if w.timer != nil {
			w.timer.Stop()
		}
		w.cb(d, err)
	}
}

var (
	errDeviceLost    = errors.New("device lost")
	errDeviceTimeout = errors.New("device did not answer in time")
	errShutdown      = errors.New("device session closed")
)

// device is one shared session with a modem's control port.
//
// One goroutine reads the device: it reassembles fragments, looks the
// transaction id up in the pending map, rewrites it to the client's and
// queues the answer to that client, or fans an indication out to the
// clients whose subscribe lists match. Requests are written by the clients'
// reader goroutines.
type device struct {
	s    *Server
	path string // canonical path at creation, for logs and metrics

	mu       sync.Mutex
	keys     []string // keys the server knows it by (see lookupDeviceLocked)
	openPath string   // path given by the first client; used to (re)open
	state    devState
	removed  bool
	conn     transport.Conn
	gen      uint64 // increments with every new connection
	clients  map[*client]struct{}
	pending  map[uint32]*pending
	queue    []*pending // requests waiting for an open in progress
	nextTID  uint32
	waiters  []*waiter
	union    *subList // the list the device has; nil if unknown
	ever     bool     // opened successfully at least once
	version  uint16   // agreed MBIMEx version, 0 if none
	mbimVer  uint16
	verQuery []byte // information buffer of the VERSION query that agreed it
	verInd   []byte // proxy-control VERSION indication for new clients
	empty    *time.Timer
	emptyTok any // identifies the current empty timer
	dead     chan struct{}

	snap atomic.Pointer[[]*client] // clients, for the indication fan-out

	wmu    sync.RWMutex // single-fragment writes share it; multi-fragment writes own it
	cw     combiner     // writes to stream ports
	subMu  sync.Mutex   // orders subscribe-list updates
	ctr    counters
	opens  atomic.Uint64
	losses atomic.Uint64
}

// combiner gathers the messages written to a stream port while a write is
// in progress (see writeStream).
type combiner struct {
	mu    sync.Mutex
	busy  bool                // a goroutine is writing to rw
	rw    transport.RawWriter // the connection it writes to
	pend  []byte              // messages for rw, written next
	spare []byte
}

// maxQueued bounds the requests held while a device is being (re)opened.
const maxQueued = 1024

func newDevice(s *Server, canon, given string) *device {
	d := &device{
		s:        s,
		path:     canon,
		keys:     []string{canon},
		openPath: given,
		clients:  make(map[*client]struct{}),
		pending:  make(map[uint32]*pending),
		union:    standardList,
		dead:     make(chan struct{}),
	}
	d.snap.Store(new([]*client))
	s.wg.Add(1)
	go d.housekeeping()
	return d
}

func (d *device) hasKey(k string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Contains(d.keys, k)
}

func (d *device) isOpen() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state == stateOpen
}

func (d *device) versionIndication() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.verInd
}

func (d *device) metrics() DeviceMetrics {
	d.mu.Lock()
	m := DeviceMetrics{
		Path:    d.path,
		State:   d.state.String(),
		Clients: len(d.clients),
		Pending: len(d.pending) + len(d.queue),
	}
	if d.version != 0 {
		m.MBIMExVersion = versionText(d.version)
	}
	d.mu.Unlock()
	m.Opens = d.opens.Load()
	m.Losses = d.losses.Load()
	m.Counters = d.ctr.snapshot()
	return m
}

func (d *device) updateSnapLocked() {
	cs := make([]*client, 0, len(d.clients))
	for c := range d.clients {
		cs = append(cs, c)
	}
	d.snap.Store(&cs)
}

func (d *device) newTIDLocked() uint32 {
	for {
		d.nextTID++
		if d.nextTID == 0 {
			continue
		}
		if _, busy := d.pending[d.nextTID]; !busy {
			return d.nextTID
		}
	}
}

func (d *device) deadline() int64 { return time.Now().Add(d.s.cfg.RequestTimeout).UnixNano() }

// attach adds c to the device for path canon, opening it if needed, and
// calls cb once the device can be used (or cannot).
func (s *Server) attach(c *client, canon, given string, timeout time.Duration, cb func(*device, error)) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cb(nil, errShutdown)
		return
	}
	d := s.lookupDeviceLocked(canon, given)
	c.devRef.Store(d)
	d.mu.Lock()
	if c.closed.Load() {
		d.mu.Unlock()
		s.mu.Unlock()
		return
	}
	d.clients[c] = struct{}{}
	d.updateSnapLocked()
	if d.empty != nil {
		d.empty.Stop()
		d.empty, d.emptyTok = nil, nil
	}
	fail := func(dd *device, err error) {
		if err != nil {
			dd.detach(c)
			c.devRef.CompareAndSwap(dd, nil)
		}
		cb(dd, err)
	}
	w := &waiter{c: c, cb: fail}
	state := d.state
	switch state {
	case stateOpen:
		d.mu.Unlock()
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			d.verify(w, timeout)
		}()
		return
	case stateClosed:
		d.state = stateOpening
		s.wg.Add(1)
		go d.reconnect(timeout)
	}
	// stateOpening, stateLost: wait for the open in progress.
	d.addWaiterLocked(w, timeout)
	d.mu.Unlock()
	s.mu.Unlock()
}

func (d *device) addWaiterLocked(w *waiter, timeout time.Duration) {
	d.waiters = append(d.waiters, w)
	w.timer = time.AfterFunc(timeout, func() {
		d.mu.Lock()
		d.waiters = slices.DeleteFunc(d.waiters, func(x *waiter) bool { return x == w })
		d.mu.Unlock()
		w.fire(d, fmt.Errorf("%s was not opened within %v", d.path, timeout))
	})
}

// verify checks that a device believed open really is, as libmbim's proxy
// does before admitting a new client: with a DEVICE_CAPS query. A
// NotOpened answer makes the device reopen; the client then waits for it.
func (d *device) verify(w *waiter, timeout time.Duration) {
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	q := buildCommand(0, uuidBasicConnect, cidDeviceCaps, mbim.CommandQuery, nil)
	resp, err := d.call(gen, q, 5*time.Second)
	if err == nil && msgType(resp) == mbim.TypeFunctionError && le32(resp, offScalar) == uint32(mbim.ErrNotOpened) {
		err = errDeviceLost // dispatch has started the reopen
	}
	if err == nil || errors.Is(err, errDeviceTimeout) {
		w.fire(d, nil)
		return
	}
	d.mu.Lock()
	if d.state == stateOpen {
		d.mu.Unlock()
		w.fire(d, nil)
		return
	}
	if d.removed {
		d.mu.Unlock()
		w.fire(d, errShutdown)
		return
	}
	d.addWaiterLocked(w, timeout)
	d.mu.Unlock()
}

// detach removes a client; the last one out starts the empty timer.
func (d *device) detach(c *client) {
	s := d.s
	s.mu.Lock()
	d.mu.Lock()
	if _, ok := d.clients[c]; !ok {
		d.mu.Unlock()
		s.mu.Unlock()
		return
	}
	delete(d.clients, c)
	d.updateSnapLocked()
	d.queue = slices.DeleteFunc(d.queue, func(p *pending) bool { return p.c == c })
	if len(d.clients) > 0 {
		d.mu.Unlock()
		s.mu.Unlock()
		d.updateUnion(nil)
		return
	}
	d.idleLocked()
	d.mu.Unlock()
	s.mu.Unlock()
	d.updateUnion(nil)
}

// idleLocked starts the empty timeout of an open device without clients
// (with EmptyTimeout 0, a timer of 0: it closes at once). Called with s.mu
// and d.mu held.
func (d *device) idleLocked() {
	if len(d.clients) > 0 || d.state != stateOpen || d.removed || d.s.closed || d.empty != nil {
		return
	}
	if t := d.s.cfg.EmptyTimeout; t >= 0 {
		tok := new(struct{ t *time.Timer })
		d.emptyTok = tok
		tok.t = time.AfterFunc(t, func() { d.emptyExpired(tok) })
		d.empty = tok.t
	}
}

func (d *device) emptyExpired(tok any) {
	s := d.s
	s.mu.Lock()
	d.mu.Lock()
	if d.emptyTok != tok || len(d.clients) > 0 || d.removed || s.closed {
		d.mu.Unlock()
		s.mu.Unlock()
		return
	}
	d.removed = true
	s.forgetDeviceLocked(d)
	s.wg.Add(1)
	d.mu.Unlock()
	s.mu.Unlock()
	defer s.wg.Done()
	d.shutdown(fmt.Sprintf("no clients for %v", s.cfg.EmptyTimeout))
}

// shutdown closes the session: CLOSE to the device (waiting briefly for
// CLOSE_DONE), then the port. Pending requests fail.
func (d *device) shutdown(reason string) {
	d.mu.Lock()
	d.removed = true
	if d.empty != nil {
		d.empty.Stop()
		d.empty, d.emptyTok = nil, nil
	}
	wasOpen := d.state == stateOpen
	gen := d.gen
	d.mu.Unlock()
	if wasOpen {
		if _, err := d.call(gen, buildScalar(mbim.TypeClose, 0, 0), time.Second); err != nil {
			d.s.log.Debug("no CLOSE_DONE from device", "device", d.path, "err", err)
		}
	}
	d.mu.Lock()
	conn := d.conn
	d.conn = nil
	d.gen++
	d.state = stateClosed
	pend := d.pending
	d.pending = make(map[uint32]*pending)
	queue := d.queue
	d.queue = nil
	waiters := d.waiters
	d.waiters = nil
	select {
	case <-d.dead:
	default:
		close(d.dead)
	}
	d.mu.Unlock()
	if conn != nil {
		conn.Close()
		d.s.log.Info("device closed", "device", d.path, "reason", reason)
	}
	d.failAll(pend, queue, errShutdown)
	for _, w := range waiters {
		w.fire(d, errShutdown)
	}
}

// failAll answers requests that will never get the device's answer: the
// clients get FUNCTION_ERROR NotOpened, as from libmbim's proxy when its
// device is not open.
func (d *device) failAll(pend map[uint32]*pending, queue []*pending, err error) {
	fail := func(p *pending) {
		if p.kind == kindInternal {
			p.done(nil, err)
			return
		}
		d.ctr.errors.Add(1)
		p.c.fail(p.ctid, mbim.ErrNotOpened)
		p.c.release()
	}
	for _, p := range pend {
		fail(p)
	}
	for _, p := range queue {
		fail(p)
	}
}

// restartLocked drops the current connection and starts reopening the
// device: pending requests fail, requests wait for the open (or fail
// while it is lost). Called with d.mu held; unlocks it.
func (d *device) restartLocked(reason string) {
	conn := d.conn
	d.conn = nil
	d.gen++
	d.state = stateOpening
	pend := d.pending
	d.pending = make(map[uint32]*pending)
	d.union = standardList // what a device has after OPEN
	d.mu.Unlock()
	d.losses.Add(1)
	d.s.log.Warn("device lost; reopening", "device", d.path, "reason", reason, "failed_requests", len(pend))
	if conn != nil {
		conn.Close()
	}
	d.failAll(pend, nil, errDeviceLost)
	d.s.wg.Add(1)
	go d.reconnect(DefaultOpenTimeout)
}

// lost is called by the reader of connection gen when it ends.
func (d *device) lost(gen uint64, err error) {
	d.mu.Lock()
	if gen != d.gen || d.removed {
		d.mu.Unlock()
		return
	}
	d.restartLocked(err.Error())
}

// notOpened handles a FUNCTION_ERROR NotOpened: the device forgot our
// session (it reset); reopen it as libmbim's proxy does.
func (d *device) notOpened(gen uint64) {
	d.mu.Lock()
	if gen != d.gen || d.removed || d.state != stateOpen {
		d.mu.Unlock()
		return
	}
	d.restartLocked("device reported NotOpened")
}

// reconnect opens the device, retrying while it has clients: the first
// open fails after timeout; after a loss it keeps trying until the device
// comes back or the clients leave.
func (d *device) reconnect(timeout time.Duration) {
	defer d.s.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		d.mu.Lock()
		if d.removed {
			d.mu.Unlock()
			return
		}
		ever := d.ever
		if len(d.clients) == 0 {
			d.mu.Unlock()
			d.drop("no clients left")
			return
		}
		d.state = stateOpening
		d.mu.Unlock()

		err := d.openOnce(timeout)
		if err == nil {
			return
		}
		d.mu.Lock()
		if d.removed {
			d.mu.Unlock()
			return
		}
		queue := d.queue
		d.queue = nil
		var waiters []*waiter
		if !ever {
			waiters = d.waiters
			d.waiters = nil
			d.state = stateClosed
		} else {
			d.state = stateLost
		}
		d.mu.Unlock()
		d.failAll(nil, queue, err)
		if !ever {
			// The first open failed: tell the clients waiting for it, like
			// libmbim's proxy, and forget the device.
			d.s.log.Warn("cannot open device", "device", d.path, "err", err)
			for _, w := range waiters {
				w.fire(d, err)
			}
			d.drop("open failed")
			return
		}
		d.s.log.Debug("device not back yet", "device", d.path, "err", err)
		select {
		case <-time.After(backoff):
		case <-d.dead:
			return
		case <-d.s.ctx.Done():
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// drop forgets a device that has no connection.
func (d *device) drop(reason string) {
	s := d.s
	s.mu.Lock()
	d.mu.Lock()
	if d.removed {
		d.mu.Unlock()
		s.mu.Unlock()
		return
	}
	if len(d.clients) > 0 {
		d.mu.Unlock()
		s.mu.Unlock()
		return
	}
	d.removed = true
	s.forgetDeviceLocked(d)
	d.mu.Unlock()
	s.mu.Unlock()
	d.shutdown(reason)
}

// openOnce opens the port and runs the OPEN exchange (retried every 5 s
// within timeout, with a CLOSE first if the device refuses, as libmbim
// does), then restores the subscribe list and MBIMEx version.
func (d *device) openOnce(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(d.s.ctx, timeout)
	defer cancel()
	end := time.Now().Add(timeout)
	conn, err := d.s.cfg.Open(ctx, d.openPath)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.removed {
		d.mu.Unlock()
		conn.Close()
		return errShutdown
	}
	d.conn = conn
	d.gen++
	gen := d.gen
	d.mu.Unlock()
	d.s.wg.Add(1)
	go d.readLoop(conn, gen)

	closeFirst, closedOnce := false, false
	for {
		left := time.Until(end)
		if left <= 0 {
			err = fmt.Errorf("no OPEN_DONE from %s within %v", d.openPath, timeout)
			break
		}
		if closeFirst {
			d.call(gen, buildScalar(mbim.TypeClose, 0, 0), min(2*time.Second, left))
			closeFirst = false
			continue
		}
		var resp []byte
		resp, err = d.call(gen, buildScalar(mbim.TypeOpen, 0, uint32(conn.MaxControlTransfer())), min(5*time.Second, left))
		if errors.Is(err, errDeviceTimeout) {
			continue
		}
		if err != nil {
			break
		}
		if msgType(resp) == mbim.TypeOpenDone && le32(resp, offScalar) == uint32(mbim.StatusNone) {
			break
		}
		st := fmt.Sprintf("%v %v", msgType(resp), mbim.Status(le32(resp, offScalar)))
		if msgType(resp) == mbim.TypeFunctionError {
			st = fmt.Sprintf("function error %v", mbim.ProtocolError(le32(resp, offScalar)))
		}
		err = fmt.Errorf("device refused OPEN: %s", st)
		if closedOnce {
			break
		}
		closedOnce, closeFirst = true, true
	}
	if err != nil {
		d.mu.Lock()
		if d.gen == gen {
			d.conn = nil
			d.gen++
		}
		d.mu.Unlock()
		conn.Close()
		return err
	}

	d.mu.Lock()
	if d.gen != gen || d.removed {
		d.mu.Unlock()
		return errDeviceLost
	}
	d.state = stateOpen
	d.ever = true
	d.union = standardList
	verQuery := d.verQuery
	queue := d.queue
	d.queue = nil
	waiters := d.waiters
	d.waiters = nil
	d.mu.Unlock()
	d.opens.Add(1)
	d.s.log.Info("device open", "device", d.path, "port", conn.String())
	d.s.rekey(d)
	d.s.mu.Lock()
	d.mu.Lock()
	d.idleLocked() // its clients may have left while it opened
	d.mu.Unlock()
	d.s.mu.Unlock()

	// Restore what the clients had set up before a reopen: the merged
	// subscribe list and the MBIMEx version.
	d.updateUnion(nil)
	if verQuery != nil {
		q := buildCommand(0, uuidMSBasicExt, cidMSVersion, mbim.CommandQuery, verQuery)
		d.callAsync(gen, q, func(resp []byte, err error) {
			if err == nil {
				d.noteVersion(resp, nil)
			}
		})
	}
	for _, p := range queue {
		if p.kind == kindSubscribe {
			d.subscribeQueued(p)
		} else {
			d.send(p, p.queued, nil)
		}
	}
	for _, w := range waiters {
		w.fire(d, nil)
	}
	return nil
}

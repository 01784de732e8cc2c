package proxy

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// maxBadMessages is how many unusable messages in a row a client may send
// before it is disconnected.
const maxBadMessages = 64

// client is one connection to the proxy.
//
// Its reader goroutine reads requests, answers the ones the proxy handles
// itself and writes the others to the device directly (no hand-off on the
// request path). Whatever goes to the client — answers, indications — is
// written at once with a non-blocking write by whichever goroutine has it
// (usually the device reader), as long as nothing is queued for the client
// and no write to it is in progress. Otherwise it goes to the client's
// bounded queue, which its writer goroutine drains with ordinary writes; a
// client that lets the queue fill up is disconnected, so that the device
// reader never waits for a client.
type client struct {
	s    *Server
	id   uint64
	conn *clientConn
	cred transport.Cred
	comm string

	wmu       sync.Mutex    // held while writing to the socket
	queued    atomic.Int32  // messages in out not written yet
	out       chan outItem  // written in order by writeLoop
	done      chan struct{} // closed by close
	closed    atomic.Bool
	closeOnce sync.Once
	slots     chan struct{} // in-flight requests

	devRef      atomic.Pointer[device] // device it is attached to (maybe still opening)
	dev         atomic.Pointer[device] // device it may use (configuration answered)
	configuring atomic.Bool
	subs        atomic.Pointer[subList]
	mct         atomic.Int32 // max control transfer towards the client

	reasm *mbim.Reassembler // only used by the reader goroutine
	cork  devCork           // only used by the reader goroutine
	ctr   counters
}

func newClient(s *Server, id uint64, conn *clientConn, cred transport.Cred, comm string) *client {
	c := &client{
		s:     s,
		id:    id,
		conn:  conn,
		cred:  cred,
		comm:  comm,
		out:   make(chan outItem, s.cfg.ClientQueue),
		done:  make(chan struct{}),
		slots: make(chan struct{}, s.cfg.MaxInFlight),
		reasm: mbim.NewReassembler(0, 5*time.Second),
	}
	c.subs.Store(standardList)
	c.mct.Store(defaultControlTransfer)
	return c
}

func (c *client) start() {
	c.s.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

// close disconnects the client once. dropped counts it as dropped.
func (c *client) close(reason string, dropped bool) {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.done)
		c.conn.close()
		if d := c.devRef.Load(); d != nil {
			d.detach(c)
		}
		c.s.removeClient(c)
		if dropped {
			c.s.dropped.Add(1)
			c.s.log.Warn("client dropped", "client", c.id, "pid", c.cred.PID, "comm", c.comm, "reason", reason)
		} else {
			c.s.log.Debug("client disconnected", "client", c.id, "reason", reason)
		}
	})
}

// outItem is what waits for a client's writer: one or more whole messages,
// or the rest of them after a partial write.
type outItem struct {
	b    []byte
	msgs int32 // how many messages it holds (in whole or in part)
}

// send passes one whole message to the client without ever blocking. b is
// not kept: it is copied if it has to be queued.
func (c *client) send(b []byte) { c.sendMsgs(b, 1) }

// sendMsgs is send for msgs whole messages, one after the other in b.
func (c *client) sendMsgs(b []byte, msgs int32) {
	if c.closed.Load() {
		return
	}
	owned := false
	if mct := int(c.mct.Load()); len(b) > mct && isSingleMessage(b) {
		if frags, err := mbim.Fragment(nil, b, mct); err == nil && len(frags) > 1 {
			joined := make([]byte, 0, len(b)+len(frags)*20)
			for _, f := range frags {
				joined = append(joined, f...)
			}
			b, owned = joined, true
		}
	}
	if c.queued.Load() == 0 && c.wmu.TryLock() {
		if c.queued.Load() == 0 {
			n, err := c.conn.tryWrite(b)
			c.ctr.wrote(n)
			if err != nil {
				c.wmu.Unlock()
				c.close("write failed: "+err.Error(), false)
				return
			}
			if n < len(b) {
				// The socket is full: the writer sends the rest first.
				c.enqueue(b[n:], owned, msgs)
			}
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()
	}
	c.enqueue(b, owned, msgs)
}

// enqueue queues b for the writer; a client with more than ClientQueue
// messages waiting is dropped.
func (c *client) enqueue(b []byte, owned bool, msgs int32) {
	if q := c.queued.Add(msgs); int(q) > cap(c.out) {
		c.queued.Add(-msgs)
		c.close("too slow: "+itoa(int(q-msgs))+" messages waiting to be written", true)
		return
	}
	if !owned {
		b = clone(b)
	}
	select {
	case c.out <- outItem{b, msgs}:
	default: // cannot happen: an item holds at least one message
		c.queued.Add(-msgs)
		c.close("too slow: "+itoa(len(c.out))+" writes waiting", true)
	}
}

func isSingleMessage(b []byte) bool { return len(b) >= 12 && int(le32(b, offLength)) == len(b) }

// fail answers a request with a FUNCTION_ERROR.
func (c *client) fail(tid uint32, code mbim.ProtocolError) {
	c.ctr.errors.Add(1)
	c.send(functionError(tid, code))
}

// acquire takes an in-flight slot, waiting while the client has too many
// requests outstanding. It returns false if the client went away.
func (c *client) acquire() bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	c.cork.flush() // what it holds must reach the device to free a slot
	select {
	case c.slots <- struct{}{}:
		return true
	case <-c.done:
		return false
	}
}

func (c *client) release() {
	select {
	case <-c.slots:
	default:
	}
}

// writeLoop drains the queue; what has piled up is written in one go.
func (c *client) writeLoop() {
	defer c.s.wg.Done()
	var batch []byte
	for {
		var it outItem
		select {
		case it = <-c.out:
		case <-c.done:
			return
		}
		b, n := it.b, it.msgs
		if len(c.out) > 0 {
			batch = append(batch[:0], b...)
			for len(batch) < 64<<10 {
				select {
				case more := <-c.out:
					batch = append(batch, more.b...)
					n += more.msgs
					continue
				default:
				}
				break
			}
			b = batch
		}
		c.wmu.Lock()
		err := c.conn.write(b)
		c.queued.Add(-n)
		c.wmu.Unlock()
		if err != nil {
			c.close("write failed: "+err.Error(), false)
			return
		}
		c.ctr.wrote(len(b))
		if cap(batch) > 256<<10 {
			batch = nil
		}
	}
}

func (c *client) readLoop() {
	defer c.s.wg.Done()
	bad := 0
	bf, _ := c.conn.r.(transport.Bufferer)
	for {
		if bf == nil || !bf.Buffered() {
			c.cork.flush() // the next read may wait
		}
		b, err := c.conn.r.ReadMessage()
		if err != nil {
			var fe *transport.FramingError
			if errors.As(err, &fe) {
				c.ctr.errors.Add(1)
				if bad++; bad > maxBadMessages {
					c.close("too many malformed messages: "+err.Error(), true)
					return
				}
				continue
			}
			c.close("connection closed: "+err.Error(), false)
			return
		}
		c.ctr.bytesIn.Add(uint64(len(b)))
		full, rerr := c.reasm.Add(b, time.Now())
		if rerr != nil {
			c.ctr.errors.Add(1)
			var re *mbim.ReassemblyError
			if errors.As(rerr, &re) {
				c.send(functionError(re.TransactionID, re.Code))
			}
			if full == nil {
				if bad++; bad > maxBadMessages {
					c.close("too many malformed messages: "+rerr.Error(), true)
					return
				}
				continue
			}
		}
		if full == nil {
			continue
		}
		if c.handle(full) {
			bad = 0
		} else if bad++; bad > maxBadMessages {
			c.close("too many malformed messages", true)
			return
		}
	}
}

// handle processes one complete message from the client. b is owned by
// the reader until the next read. It reports whether the message was
// usable.
func (c *client) handle(b []byte) bool {
	m, err := mbim.ParseMessage(b)
	if err == nil && !isForwarded(&m) {
		c.cork.flush() // the requests before it go first
	}
	if err != nil {
		c.ctr.errors.Add(1)
		c.s.log.Debug("malformed message from client", "client", c.id, "err", err)
		if m.Type == mbim.TypeCommand {
			c.send(functionError(m.TransactionID, mbim.ErrUnknown))
		}
		return false
	}
	switch m.Type {
	case mbim.TypeOpen:
		// Answered locally: the proxy keeps the device open for everyone.
		if mct := m.MaxControlTransfer; mct >= mbim.MinControlTransfer {
			c.mct.Store(int32(min(mct, 1<<20)))
		}
		st := mbim.StatusFailure
		if d := c.dev.Load(); d == nil {
			c.s.log.Warn("client sent OPEN before configuring the proxy", "client", c.id)
		} else if !d.isOpen() {
			c.s.log.Warn("client sent OPEN while the device is not open", "client", c.id, "device", d.path)
		} else {
			st = mbim.StatusNone
		}
		if st != mbim.StatusNone {
			c.ctr.errors.Add(1)
		}
		c.send(buildScalar(mbim.TypeOpenDone, m.TransactionID, uint32(st)))
	case mbim.TypeClose:
		// Answered locally; the device stays open for the other clients.
		c.send(buildScalar(mbim.TypeCloseDone, m.TransactionID, uint32(mbim.StatusNone)))
	case mbim.TypeCommand:
		c.ctr.requests.Add(1)
		if m.Service == uuidProxyControl {
			c.proxyControl(&m)
			return true
		}
		d := c.dev.Load()
		if d == nil {
			c.s.log.Debug("command before the proxy was configured", "client", c.id)
			c.fail(m.TransactionID, mbim.ErrNotOpened)
			return true
		}
		if m.Service == uuidBasicConnect && m.CID == cidSubscribeList {
			d.subscribe(c, &m)
			return true
		}
		kind := kindForward
		if m.Service == uuidMSBasicExt && m.CID == cidMSVersion && m.CommandType == mbim.CommandQuery {
			kind = kindVersion
		}
		d.forward(c, b, kind)
	default:
		c.ctr.errors.Add(1)
		c.s.log.Debug("ignoring message that is not a request", "client", c.id, "type", m.Type)
		return false
	}
	return true
}

// proxyControl handles the proxy-control service, which the proxy
// implements itself.
func (c *client) proxyControl(m *mbim.Message) {
	if m.CID != cidProxyConfiguration {
		c.ctr.errors.Add(1)
		c.send(buildCommandDone(m.TransactionID, uuidProxyControl, m.CID, mbim.StatusNoDeviceSupport, nil))
		return
	}
	c.configure(m)
}

func (c *client) configDone(tid uint32, st mbim.Status) {
	if st != mbim.StatusNone {
		c.ctr.errors.Add(1)
	}
	c.send(buildCommandDone(tid, uuidProxyControl, cidProxyConfiguration, st, nil))
}

// configure handles CONFIGURATION with libmbim's answers: BUSY while an
// earlier configuration of this client is still opening the device;
// INVALID_PARAMETERS for a query, an unreadable path or timeout, or a path
// that does not resolve; FAILURE for a path other than the one the client
// already configured (and, unlike libmbim, which hangs up, when the device
// cannot be opened); success otherwise, once the device is open.
func (c *client) configure(m *mbim.Message) {
	tid := m.TransactionID
	if c.configuring.Load() {
		c.s.log.Warn("cannot configure proxy: another request already ongoing", "client", c.id)
		c.configDone(tid, mbim.StatusBusy)
		return
	}
	if m.CommandType != mbim.CommandSet {
		c.s.log.Warn("cannot configure proxy: invalid request type", "client", c.id)
		c.configDone(tid, mbim.StatusInvalidParameters)
		return
	}
	given, err := readString(m.InformationBuffer, 0)
	if err != nil {
		c.s.log.Warn("cannot configure proxy: couldn't read device path", "client", c.id, "err", err)
		c.configDone(tid, mbim.StatusInvalidParameters)
		return
	}
	canon, err := canonicalPath(given)
	if err != nil {
		c.s.log.Warn("cannot configure proxy: couldn't look up real device path", "client", c.id, "path", given, "err", err)
		c.configDone(tid, mbim.StatusInvalidParameters)
		return
	}
	if d := c.devRef.Load(); d != nil {
		if d.hasKey(canon) {
			c.configDone(tid, mbim.StatusNone)
		} else {
			c.s.log.Warn("cannot configure proxy: different device path given", "client", c.id, "path", given, "configured", d.path)
			c.configDone(tid, mbim.StatusFailure)
		}
		return
	}
	if len(m.InformationBuffer) < 12 {
		c.s.log.Warn("cannot configure proxy: couldn't read timeout", "client", c.id)
		c.configDone(tid, mbim.StatusInvalidParameters)
		return
	}
	timeout := time.Duration(le32(m.InformationBuffer, 8)) * time.Second
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	c.configuring.Store(true)
	c.s.attach(c, canon, given, timeout, func(d *device, err error) {
		if err != nil {
			c.s.log.Warn("cannot configure proxy: couldn't open device", "client", c.id, "path", given, "err", err)
			c.configuring.Store(false)
			c.configDone(tid, mbim.StatusFailure)
			return
		}
		c.dev.Store(d)
		if ind := d.versionIndication(); ind != nil {
			c.send(ind)
		}
		c.s.log.Debug("proxy configured", "client", c.id, "device", d.path)
		c.configuring.Store(false)
		c.configDone(tid, mbim.StatusNone)
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// isForwarded reports whether a message from a client goes to the device
// as it is (with the proxy's transaction id): a command of a service the
// proxy does not handle itself.
func isForwarded(m *mbim.Message) bool {
	return m.Type == mbim.TypeCommand && m.Service != uuidProxyControl &&
		!(m.Service == uuidBasicConnect && m.CID == cidSubscribeList)
}

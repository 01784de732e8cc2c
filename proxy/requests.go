package proxy

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// pendingPool recycles the pending entries of forwarded requests, the
// proxy's only allocation per transaction otherwise.
var pendingPool = sync.Pool{New: func() any { return new(pending) }}

// write sends one message to the device, fragmenting it to the port's
// maximum control transfer. The fragments of one message are never
// interleaved with other messages.
func (d *device) write(conn transport.Conn, b []byte) error {
	mct := conn.MaxControlTransfer()
	if rw, ok := conn.(transport.RawWriter); ok && isStreamPort(conn) {
		if len(b) > mct {
			frags, err := mbim.Fragment(nil, b, mct)
			if err != nil {
				return err
			}
			joined := make([]byte, 0, len(b)+len(frags)*(mbim.HeaderLen+mbim.FragmentHeaderLen))
			for _, f := range frags {
				joined = append(joined, f...)
			}
			b = joined
		}
		return d.writeStream(rw, b)
	}
	if len(b) <= mct {
		d.wmu.RLock()
		err := conn.WriteMessage(b)
		d.wmu.RUnlock()
		if err == nil {
			d.ctr.wrote(len(b))
		}
		return err
	}
	frags, err := mbim.Fragment(nil, b, mct)
	if err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	for _, f := range frags {
		if err := conn.WriteMessage(f); err != nil {
			return err
		}
		d.ctr.wrote(len(f))
	}
	return nil
}

// isStreamPort reports whether the device is reached over a byte stream
// (a tty, such as a simulator's pty, or a socket), where several messages
// may go in one write. On cdc-wdm and WWAN ports every write is one
// control transfer and must hold exactly one message.
func isStreamPort(conn transport.Conn) bool {
	s := conn.String()
	return strings.HasPrefix(s, "tty ") || strings.HasPrefix(s, "unix ")
}

// writeStream writes whole messages to a stream port. While one goroutine
// writes, the others append to a pending buffer that the writer sends
// next, in one write: under load, requests of several clients reach the
// device together.
func (d *device) writeStream(rw transport.RawWriter, b []byte) error {
	cw := &d.cw
	cw.mu.Lock()
	switch {
	case cw.busy && cw.rw == rw:
		cw.pend = append(cw.pend, b...)
		cw.mu.Unlock()
		return nil // a failure shows as the device hanging up
	case cw.busy:
		// Still writing to a connection that has been replaced: go alone.
		cw.mu.Unlock()
		return rw.WriteRaw(b)
	}
	cw.busy, cw.rw = true, rw
	cw.mu.Unlock()
	err := rw.WriteRaw(b)
	if err == nil {
		d.ctr.wrote(len(b))
	}
	for {
		cw.mu.Lock()
		if len(cw.pend) == 0 {
			cw.busy, cw.rw = false, nil
			cw.mu.Unlock()
			return err
		}
		batch := cw.pend
		cw.pend, cw.spare = cw.spare[:0], nil
		cw.mu.Unlock()
		if werr := rw.WriteRaw(batch); werr == nil {
			d.ctr.wrote(len(batch))
		}
		cw.mu.Lock()
		if cap(batch) <= 64<<10 {
			cw.spare = batch
		}
		cw.mu.Unlock()
	}
}

// forward sends a client's request to the device under a transaction id
// of the proxy's. b belongs to the client's reader and is modified in
// place.
func (d *device) forward(c *client, b []byte, kind reqKind) {
	if !c.acquire() {
		return
	}
	p := pendingPool.Get().(*pending)
	*p = pending{c: c, ctid: msgTID(b), kind: kind}
	if kind == kindVersion {
		p.echo = clone(b[offBufCmd:])
	}
	d.send(p, b, &c.cork)
}

// send writes a client request to the device, queues it while the device
// is being opened, or fails it. ck, if not nil, may hold the request
// until the client's reader flushes it.
func (d *device) send(p *pending, b []byte, ck *devCork) {
	deadline := d.deadline()
	d.mu.Lock()
	switch d.state {
	case stateOpen:
	case stateOpening:
		if len(d.queue) < maxQueued && p.queued == nil {
			p.queued = clone(b)
			d.queue = append(d.queue, p)
			d.mu.Unlock()
			return
		}
		fallthrough
	default:
		d.mu.Unlock()
		d.ctr.errors.Add(1)
		p.c.fail(p.ctid, mbim.ErrNotOpened)
		p.c.release()
		return
	}
	tid := d.newTIDLocked()
	p.deadline = deadline
	d.pending[tid] = p
	conn := d.conn
	d.mu.Unlock()
	setTID(b, tid)
	d.ctr.requests.Add(1)
	if ck.hold(d, conn, tid, p, b) {
		return
	}
	if err := d.write(conn, b); err != nil {
		d.writeFailed(tid, p, err)
	}
}

// writeFailed fails a request whose write to the device failed (the
// reader will notice the device is gone).
func (d *device) writeFailed(tid uint32, p *pending, err error) {
	d.mu.Lock()
	mine := d.pending[tid] == p
	if mine {
		delete(d.pending, tid)
	}
	d.mu.Unlock()
	d.s.log.Debug("write to device failed", "device", d.path, "err", err)
	if !mine {
		return
	}
	d.ctr.errors.Add(1)
	if p.kind == kindInternal {
		p.done(nil, err)
		return
	}
	p.c.fail(p.ctid, mbim.ErrNotOpened)
	p.c.release()
}

// sendInternal writes a request of the proxy's own on connection gen.
func (d *device) sendInternal(gen uint64, msg []byte, deadline time.Time, done func([]byte, error)) (uint32, *pending, error) {
	d.mu.Lock()
	if d.gen != gen || d.conn == nil {
		d.mu.Unlock()
		return 0, nil, errDeviceLost
	}
	tid := d.newTIDLocked()
	p := &pending{kind: kindInternal, deadline: deadline.UnixNano(), done: done}
	d.pending[tid] = p
	conn := d.conn
	d.mu.Unlock()
	setTID(msg, tid)
	d.ctr.requests.Add(1)
	if err := d.write(conn, msg); err != nil {
		d.mu.Lock()
		if d.pending[tid] == p {
			delete(d.pending, tid)
		}
		d.mu.Unlock()
		return 0, nil, err
	}
	return tid, p, nil
}

type result struct {
	b   []byte
	err error
}

// call sends a request of the proxy's own and waits for the answer (a
// copy).
func (d *device) call(gen uint64, msg []byte, timeout time.Duration) ([]byte, error) {
	ch := make(chan result, 1)
	tid, p, err := d.sendInternal(gen, msg, time.Now().Add(timeout+time.Second), func(b []byte, err error) {
		ch <- result{clone(b), err}
	})
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-t.C:
	}
	d.mu.Lock()
	mine := d.pending[tid] == p
	if mine {
		delete(d.pending, tid)
	}
	d.mu.Unlock()
	if !mine { // answered (or failed) meanwhile
		r := <-ch
		return r.b, r.err
	}
	d.ctr.timeouts.Add(1)
	return nil, errDeviceTimeout
}

// callAsync sends a request of the proxy's own; done gets the answer
// (valid only during the call) or an error.
func (d *device) callAsync(gen uint64, msg []byte, done func([]byte, error)) {
	if _, _, err := d.sendInternal(gen, msg, time.Now().Add(d.s.cfg.RequestTimeout), done); err != nil {
		done(nil, err)
	}
}

// subscribe handles a client's DEVICE_SERVICE_SUBSCRIBE_LIST as libmbim's
// proxy does: the client's list replaces its previous one (a list that
// does not parse keeps the old one), the merged list is set on the device
// only if it differs from what the device has, and the client is answered
// with its own list.
func (d *device) subscribe(c *client, m *mbim.Message) {
	if l, err := parseSubscribeList(m.InformationBuffer); err != nil {
		d.s.log.Warn("invalid subscribe list from client", "client", c.id, "err", err)
	} else {
		c.subs.Store(l)
	}
	if !c.acquire() {
		return
	}
	p := &pending{c: c, ctid: m.TransactionID, kind: kindSubscribe, echo: clone(m.InformationBuffer)}
	d.mu.Lock()
	switch d.state {
	case stateOpen:
		d.mu.Unlock()
		d.updateUnion(p)
		return
	case stateOpening:
		if len(d.queue) < maxQueued {
			p.queued = []byte{}
			d.queue = append(d.queue, p)
			d.mu.Unlock()
			return
		}
	}
	d.mu.Unlock()
	d.ctr.errors.Add(1)
	c.fail(p.ctid, mbim.ErrNotOpened)
	c.release()
}

// subscribeQueued completes a subscribe request held during an open.
func (d *device) subscribeQueued(p *pending) { d.updateUnion(p) }

// updateUnion sets the merged subscribe list on the device if it changed.
// p is the client request that caused it, answered with its own list, or
// nil.
func (d *device) updateUnion(p *pending) {
	d.subMu.Lock()
	defer d.subMu.Unlock()
	d.mu.Lock()
	if d.state != stateOpen {
		d.mu.Unlock()
		if p != nil {
			// The list is kept and set when the device is back.
			d.ctr.errors.Add(1)
			p.c.fail(p.ctid, mbim.ErrNotOpened)
			p.c.release()
		}
		return
	}
	lists := make([]*subList, 0, len(d.clients))
	for c := range d.clients {
		lists = append(lists, c.subs.Load())
	}
	union := mergeLists(lists)
	if d.union != nil && equalLists(union, d.union) {
		d.mu.Unlock()
		if p != nil {
			p.c.send(buildCommandDone(p.ctid, uuidBasicConnect, cidSubscribeList, mbim.StatusNone, p.echo))
			p.c.release()
		}
		return
	}
	d.union = union
	if p == nil {
		p = &pending{kind: kindInternal, done: func(b []byte, err error) {
			if err == nil && msgType(b) == mbim.TypeCommandDone && le32(b, offCmdType) == uint32(mbim.StatusNone) {
				return
			}
			d.unionUnknown(union)
			d.s.log.Warn("device did not accept the merged subscribe list", "device", d.path)
		}}
	}
	tid := d.newTIDLocked()
	p.deadline = d.deadline()
	d.pending[tid] = p
	conn := d.conn
	d.mu.Unlock()
	d.s.log.Debug("setting merged subscribe list", "device", d.path, "services", len(union.entries))
	msg := buildCommand(tid, uuidBasicConnect, cidSubscribeList, mbim.CommandSet, union.encode())
	d.ctr.requests.Add(1)
	if err := d.write(conn, msg); err != nil {
		d.unionUnknown(union)
		d.writeFailed(tid, p, err)
	}
}

// unionUnknown forgets what list the device has after a failed update, so
// the next change sends it again.
func (d *device) unionUnknown(l *subList) {
	d.mu.Lock()
	if d.union == l {
		d.union = nil
	}
	d.mu.Unlock()
}

// noteVersion watches MBIMEx VERSION answers: the agreed version is kept
// for the device, restored after a reopen (with query), and reported to
// every client of the device with libmbim's proxy-control VERSION
// indication, which new clients also get when they configure.
func (d *device) noteVersion(b []byte, query []byte) {
	m, err := mbim.ParseMessage(b)
	if err != nil || m.Type != mbim.TypeCommandDone || m.Status != mbim.StatusNone ||
		m.Service != uuidMSBasicExt || m.CID != cidMSVersion || len(m.InformationBuffer) < 4 {
		return
	}
	info := m.InformationBuffer
	mv, xv := binary.LittleEndian.Uint16(info), binary.LittleEndian.Uint16(info[2:])
	ind := buildIndication(0, uuidProxyControl, cidProxyVersion, info[:4])
	d.mu.Lock()
	d.mbimVer, d.version, d.verInd = mv, xv, ind
	if query != nil {
		d.verQuery = query
	}
	d.mu.Unlock()
	d.s.log.Info("MBIMEx version agreed with device", "device", d.path, "mbim", versionText(mv), "mbimex", versionText(xv))
	for _, c := range *d.snap.Load() {
		if c.dev.Load() == d {
			c.send(ind)
		}
	}
}

func versionText(v uint16) string { return fmt.Sprintf("%x.%02x", v>>8, v&0xff) }

// hostError reports a fragment problem to the device, as libmbim does.
func (d *device) hostError(gen uint64, tid uint32, code mbim.ProtocolError) {
	d.mu.Lock()
	conn := d.conn
	ok := d.gen == gen && conn != nil
	d.mu.Unlock()
	if ok {
		d.write(conn, buildScalar(mbim.TypeHostError, tid, uint32(code)))
	}
}

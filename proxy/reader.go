package proxy

import (
	"errors"
	"fmt"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// readLoop reads connection gen of the device until it fails.
func (d *device) readLoop(conn transport.Conn, gen uint64) {
	defer d.s.wg.Done()
	reasm := mbim.NewReassembler(0, 1250*time.Millisecond) // libmbim's MAX_TIME_BETWEEN_FRAGMENTS_MS
	// On a stream port one read may bring several messages: what they
	// hold for a client goes out in one write once they are all handled.
	var ob *outBatch
	bf, _ := conn.(transport.Bufferer)
	if bf != nil {
		ob = new(outBatch)
	}
	for {
		if bf == nil || !bf.Buffered() {
			ob.flush() // the next read may wait
		}
		b, err := conn.ReadMessage()
		if err != nil {
			var fe *transport.FramingError
			if errors.As(err, &fe) {
				d.ctr.errors.Add(1)
				d.s.log.Warn("corrupt data from device", "device", d.path, "err", err)
				continue
			}
			d.lost(gen, fmt.Errorf("reading %s: %w", d.openPath, err))
			return
		}
		d.ctr.bytesIn.Add(uint64(len(b)))
		msg, rerr := reasm.Add(b, time.Now())
		if rerr != nil {
			d.ctr.errors.Add(1)
			d.s.log.Warn("fragment error from device", "device", d.path, "err", rerr)
			var re *mbim.ReassemblyError
			if errors.As(rerr, &re) {
				d.hostError(gen, re.TransactionID, re.Code)
			}
		}
		if msg != nil {
			d.dispatch(gen, msg, ob)
		}
	}
}

// dispatch routes one complete message from the device. What it sends to
// clients may wait in ob (nil: nothing waits) until the reader flushes it.
func (d *device) dispatch(gen uint64, b []byte, ob *outBatch) {
	m, err := mbim.ParseMessage(b)
	if err != nil {
		d.ctr.errors.Add(1)
		d.s.log.Warn("malformed message from device", "device", d.path, "err", err)
		return
	}
	switch m.Type {
	case mbim.TypeIndicateStatus:
		d.fanout(b, &m, ob)
		return
	case mbim.TypeCommandDone, mbim.TypeFunctionError, mbim.TypeOpenDone, mbim.TypeCloseDone:
	default:
		d.ctr.errors.Add(1)
		d.s.log.Debug("ignoring host message from device", "device", d.path, "type", m.Type)
		return
	}
	failed := m.Type == mbim.TypeFunctionError || m.Status != mbim.StatusNone
	if failed {
		d.ctr.errors.Add(1)
	}
	notOpened := m.Type == mbim.TypeFunctionError && m.ErrorCode == mbim.ErrNotOpened
	d.mu.Lock()
	if gen != d.gen {
		d.mu.Unlock()
		return
	}
	p := d.pending[m.TransactionID]
	if p != nil {
		delete(d.pending, m.TransactionID)
	}
	d.mu.Unlock()
	if notOpened {
		ob.flush() // the clients get what came before, then the failures
		// Start reopening first, so that whoever gets this answer finds
		// the device no longer open.
		d.notOpened(gen)
	}
	if p == nil {
		d.s.log.Debug("answer matches no request", "device", d.path, "msg", m.String())
	} else {
		d.deliver(p, b, &m, failed, ob)
	}
}

// deliver passes the device's answer to whoever asked.
func (d *device) deliver(p *pending, b []byte, m *mbim.Message, failed bool, ob *outBatch) {
	if p.kind != kindForward {
		// Whatever this leads to is sent directly: send what waits first.
		ob.flush()
	}
	if p.kind == kindInternal {
		p.done(b, nil)
		return
	}
	c := p.c
	defer c.release()
	if failed {
		c.ctr.errors.Add(1)
	}
	switch p.kind {
	case kindSubscribe:
		if m.Type == mbim.TypeCommandDone {
			if m.Status != mbim.StatusNone {
				d.unionUnknownAny()
			}
			c.send(buildCommandDone(p.ctid, uuidBasicConnect, cidSubscribeList, m.Status, p.echo))
			return
		}
		d.unionUnknownAny()
	case kindVersion:
		// As libmbim: the clients learn the version before the requester
		// gets its answer.
		d.noteVersion(b, p.echo)
	}
	setTID(b, p.ctid) // b is the reader's, until the next message
	ob.send(c, b)
	if p.kind == kindForward {
		// Nothing else refers to a delivered forward request.
		*p = pending{}
		pendingPool.Put(p)
	}
}

func (d *device) unionUnknownAny() {
	d.mu.Lock()
	d.union = nil
	d.mu.Unlock()
}

// fanout sends an indication to every client whose subscribe list wants
// it.
func (d *device) fanout(b []byte, m *mbim.Message, ob *outBatch) {
	d.ctr.indications.Add(1)
	svc := b[offService : offService+16]
	for _, c := range *d.snap.Load() {
		if c.dev.Load() != d || !c.subs.Load().wants(svc, m.CID) {
			continue
		}
		c.ctr.indications.Add(1)
		ob.send(c, b)
	}
}

// housekeeping expires requests the device never answered.
func (d *device) housekeeping() {
	defer d.s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			d.sweep()
		case <-d.dead:
			return
		}
	}
}

func (d *device) sweep() {
	now := time.Now().UnixNano()
	var expired []*pending
	d.mu.Lock()
	for tid, p := range d.pending {
		if p.deadline != 0 && p.deadline < now {
			delete(d.pending, tid)
			expired = append(expired, p)
		}
	}
	d.mu.Unlock()
	for _, p := range expired {
		d.ctr.timeouts.Add(1)
		if p.kind == kindInternal {
			p.done(nil, errDeviceTimeout)
			continue
		}
		p.c.ctr.timeouts.Add(1)
		p.c.release()
		d.s.log.Warn("device did not answer a request in time", "device", d.path, "client", p.c.id, "client_tid", p.ctid, "timeout", d.s.cfg.RequestTimeout)
	}
}

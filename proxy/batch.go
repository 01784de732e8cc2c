package proxy

import "github.com/gombim/gombim/transport"

// outBatch is what the device reader holds for its clients while it works
// through a burst of messages that one read brought in: answers and
// indications for the same client are joined and written to it in one
// write when the burst ends, rather than one write (and one wake-up of the
// client) each. It belongs to one device reader goroutine.
//
// Only plain answers and indications are batched; anything else the
// reader does for a client (failing requests, subscribe echoes, the
// VERSION indication) flushes the batch first, so that every client still
// gets its messages in the order the device sent them.
type outBatch struct {
	ents []batchEnt
	size int // bytes held
}

type batchEnt struct {
	c    *client
	buf  []byte
	msgs int32 // messages in buf
}

// Limits of a batch: beyond them it is flushed before more is added.
const (
	batchClients = 32
	batchBytes   = 64 << 10
)

// send passes whole message b (not kept) to c, now or at the next flush.
func (o *outBatch) send(c *client, b []byte) {
	if o == nil {
		c.send(b)
		return
	}
	if len(b) > int(c.mct.Load()) {
		// It must be fragmented for this client: flush what c has, then
		// send it alone.
		o.flushClient(c)
		c.send(b)
		return
	}
	if o.size+len(b) > batchBytes {
		o.flush()
	}
	for i := range o.ents {
		if e := &o.ents[i]; e.c == c {
			e.buf = append(e.buf, b...)
			e.msgs++
			o.size += len(b)
			return
		}
	}
	if o.active() >= batchClients {
		o.flush()
	}
	// Reuse a free entry's buffer.
	for i := range o.ents {
		if e := &o.ents[i]; e.c == nil {
			e.c, e.buf, e.msgs = c, append(e.buf[:0], b...), 1
			o.size += len(b)
			return
		}
	}
	o.ents = append(o.ents, batchEnt{c: c, buf: append([]byte(nil), b...), msgs: 1})
	o.size += len(b)
}

func (o *outBatch) active() int {
	n := 0
	for i := range o.ents {
		if o.ents[i].c != nil {
			n++
		}
	}
	return n
}

func (o *outBatch) flushClient(c *client) {
	for i := range o.ents {
		if e := &o.ents[i]; e.c == c {
			o.flushEnt(e)
			return
		}
	}
}

// flush writes out everything held.
func (o *outBatch) flush() {
	if o == nil || o.size == 0 {
		return
	}
	for i := range o.ents {
		if o.ents[i].c != nil {
			o.flushEnt(&o.ents[i])
		}
	}
	o.size = 0
}

func (o *outBatch) flushEnt(e *batchEnt) {
	c, b, msgs := e.c, e.buf, e.msgs
	o.size -= len(b)
	e.c, e.buf, e.msgs = nil, b[:0], 0
	if cap(e.buf) > batchBytes {
		e.buf = nil
	}
	c.sendMsgs(b, msgs) // copies b if it has to wait
}

// devCork is what a client's reader holds for the device while it works
// through a burst of requests that one read brought in: on a stream port
// they go to the device in one write once the burst is handled (or when
// the reader must wait for an in-flight slot). It belongs to the client's
// reader goroutine.
type devCork struct {
	d    *device
	rw   transport.RawWriter
	buf  []byte
	reqs []corkedReq
}

type corkedReq struct {
	tid uint32
	p   *pending
}

// hold keeps request b, registered on conn under tid, for the next flush,
// and reports whether it did. A request it cannot hold (not a stream
// port, or too long for one write) is left to the caller, after what is
// held, so that the device gets the client's requests in order.
func (ck *devCork) hold(d *device, conn transport.Conn, tid uint32, p *pending, b []byte) bool {
	if ck == nil {
		return false
	}
	rw, ok := conn.(transport.RawWriter)
	if !ok || !isStreamPort(conn) || len(b) > conn.MaxControlTransfer() {
		ck.flush()
		return false
	}
	if ck.rw != rw || len(ck.buf)+len(b) > batchBytes {
		ck.flush()
	}
	ck.d, ck.rw = d, rw
	ck.buf = append(ck.buf, b...)
	ck.reqs = append(ck.reqs, corkedReq{tid, p})
	return true
}

// flush writes what is held to the device.
func (ck *devCork) flush() {
	if len(ck.reqs) == 0 {
		return
	}
	if err := ck.d.writeStream(ck.rw, ck.buf); err != nil {
		for _, r := range ck.reqs {
			ck.d.writeFailed(r.tid, r.p, err)
		}
	}
	clear(ck.reqs)
	ck.reqs = ck.reqs[:0]
	ck.buf = ck.buf[:0]
	if cap(ck.buf) > batchBytes {
		ck.buf = nil
	}
	ck.d, ck.rw = nil, nil
}

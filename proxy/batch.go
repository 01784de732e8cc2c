package proxy

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

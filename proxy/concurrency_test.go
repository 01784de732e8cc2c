package proxy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// soakDuration is how long the concurrency test runs: a few seconds by
// default, 30 s with GOMBIM_PROXY_SOAK=1 (the acceptance run).
func soakDuration() time.Duration {
	if os.Getenv("GOMBIM_PROXY_SOAK") != "" {
		return 30 * time.Second
	}
	if testing.Short() {
		return time.Second
	}
	return 4 * time.Second
}

// soakClient is one of the clients of the concurrency test.
type soakClient struct {
	id   int
	conn transport.Conn
	subs func(svc mbim.UUID, cid uint32) bool // what it subscribed to
	list []byte                               // its subscribe list, nil for the standard one

	mu       sync.Mutex
	inflight map[uint32][]byte // tid -> payload expected back
	answered atomic.Int64
	// Indications the device sent that the client subscribed to, and
	// indications it received: the driver keeps the difference bounded.
	expected, received atomic.Int64
	got                map[uint64]int // indication key -> times received
	failures           []string
	done               chan struct{}
}

func (c *soakClient) failf(format string, args ...any) {
	c.mu.Lock()
	if len(c.failures) < 10 {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
	c.mu.Unlock()
}

func indKey(svc mbim.UUID, cid uint32, seq uint32) uint64 {
	k := uint64(cid)<<32 | uint64(seq)
	if svc == uuidBasicConnect {
		k |= 1 << 63
	}
	return k
}

func (c *soakClient) reader() {
	defer close(c.done)
	r := mbim.NewReassembler(0, 5*time.Second)
	for {
		b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		b, err = r.Add(b, time.Now())
		if err != nil {
			c.failf("reassembly: %v", err)
		}
		if b == nil {
			continue
		}
		m, err := mbim.ParseMessage(b)
		if err != nil {
			c.failf("bad message: %v", err)
			continue
		}
		switch m.Type {
		case mbim.TypeIndicateStatus:
			if len(m.InformationBuffer) < 4 {
				c.failf("indication without sequence: %v", m.String())
				continue
			}
			seq := binary.LittleEndian.Uint32(m.InformationBuffer)
			if !c.subs(m.Service, m.CID) {
				c.failf("unsubscribed indication %v seq %d", m.String(), seq)
			}
			c.mu.Lock()
			c.got[indKey(m.Service, m.CID, seq)]++
			c.mu.Unlock()
			c.received.Add(1)
		case mbim.TypeCommandDone:
			c.mu.Lock()
			want, ok := c.inflight[m.TransactionID]
			delete(c.inflight, m.TransactionID)
			c.mu.Unlock()
			switch {
			case !ok:
				c.failf("answer to unknown transaction %d: %v", m.TransactionID, m.String())
			case m.Status != mbim.StatusNone:
				c.failf("transaction %d failed: %v", m.TransactionID, m.String())
			case !bytes.Equal(m.InformationBuffer, want):
				c.failf("transaction %d: got %d bytes %.20q, want %.20q", m.TransactionID, len(m.InformationBuffer), m.InformationBuffer, want)
			}
			c.answered.Add(1)
		default:
			c.failf("unexpected %v", m.String())
		}
	}
}

// call sends a request and registers the payload expected back.
func (c *soakClient) call(tid uint32, svc mbim.UUID, cid uint32, ct mbim.CommandType, info, want []byte) error {
	c.mu.Lock()
	c.inflight[tid] = want
	c.mu.Unlock()
	msg := buildCommand(tid, svc, cid, ct, info)
	if len(msg) > 4096 {
		frags, err := mbim.Fragment(nil, msg, 4096)
		if err != nil {
			return err
		}
		for _, f := range frags {
			if err := c.conn.WriteMessage(f); err != nil {
				return err
			}
		}
		return nil
	}
	return c.conn.WriteMessage(msg)
}

func (c *soakClient) outstanding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inflight)
}

func TestConcurrentClients(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	const nClients = 16
	vendorCIDs := []uint32{1, 2, 3, 4, 5, 6, 7}

	clients := make([]*soakClient, nClients)
	for i := range clients {
		conn, err := transport.DialUnix(s.cfg.Socket, true)
		if err != nil {
			t.Fatal(err)
		}
		c := &soakClient{id: i, conn: conn, inflight: map[uint32][]byte{}, got: map[uint64]int{}, done: make(chan struct{})}
		switch i % 4 {
		case 0: // standard list
			c.subs = func(svc mbim.UUID, cid uint32) bool { return svc == uuidBasicConnect && (cid == 9 || cid == 11) }
		case 1: // every vendor CID
			c.list = subscribeInfo(subEntry{uuidVendor, nil})
			c.subs = func(svc mbim.UUID, cid uint32) bool { return svc == uuidVendor }
		case 2:
			a := uint32(1 + i%5)
			c.list = subscribeInfo(subEntry{uuidVendor, []uint32{a, 6}})
			c.subs = func(svc mbim.UUID, cid uint32) bool { return svc == uuidVendor && (cid == a || cid == 6) }
		case 3:
			c.list = subscribeInfo(subEntry{uuidBasicConnect, []uint32{11}}, subEntry{uuidVendor, []uint32{2, 3}})
			c.subs = func(svc mbim.UUID, cid uint32) bool {
				return svc == uuidBasicConnect && cid == 11 || svc == uuidVendor && (cid == 2 || cid == 3)
			}
		}
		clients[i] = c
	}
	// Set up: configure, open, subscribe, synchronously.
	for _, c := range clients {
		rc := &rawClient{t: t, conn: c.conn, msgs: make(chan []byte, 64)}
		go func() {
			for {
				b, err := c.conn.ReadMessage()
				if err != nil {
					close(rc.msgs)
					return
				}
				rc.msgs <- clone(b)
				if msgType(b) == mbim.TypeCommandDone && msgTID(b) == 3 {
					close(rc.msgs)
					return
				}
			}
		}()
		if st := rc.configure(dev.link, 10); st != mbim.StatusNone {
			t.Fatal(st)
		}
		if st := rc.open(); st != mbim.StatusNone {
			t.Fatal(st)
		}
		info := c.list
		if info == nil { // re-send the standard list: nothing changes
			info = standardList.encode()
		}
		m := rc.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, info)
		if m.Status != mbim.StatusNone || !bytes.Equal(m.InformationBuffer, info) {
			t.Fatalf("subscribe: %v", m.String())
		}
		for range rc.msgs { // wait for the setup reader to stop
		}
		go c.reader()
	}
	// The device got the union once per change, never more.
	if n := dev.numSubLists(); n < 1 || n > 4 {
		t.Fatalf("%d subscribe lists sent to the device", n)
	}

	// radio-state (3) is in the standard list: kind-0 clients get it. (Set
	// before the driver starts: the readers call subs from the first
	// indication on.)
	for _, c := range clients {
		if c.id%4 == 0 {
			c.subs = func(svc mbim.UUID, cid uint32) bool {
				return svc == uuidBasicConnect && (cid == 9 || cid == 11 || cid == 3)
			}
		}
	}

	// Indications: a driver sends numbered indications of every kind, as
	// fast as the slowest client takes them: at most maxBehind of a
	// client's indications are on their way at any time, far below what
	// makes the proxy drop a client (a queue of 1024 messages), so that
	// a client starved of CPU on a loaded machine is not dropped.
	const maxBehind = 256
	dur := soakDuration()
	stop := make(chan struct{})
	var sent []uint64
	var sentMu sync.Mutex
	var drivers sync.WaitGroup
	drivers.Add(1)
	go func() {
		defer drivers.Done()
		seq := uint32(0)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if slices.ContainsFunc(clients, func(c *soakClient) bool { return c.expected.Load()-c.received.Load() >= maxBehind }) {
				time.Sleep(100 * time.Microsecond)
				continue
			}
			seq++
			svc, cid := uuidVendor, vendorCIDs[int(seq)%len(vendorCIDs)]
			switch seq % 9 {
			case 0:
				svc, cid = uuidBasicConnect, 9
			case 4:
				svc, cid = uuidBasicConnect, 11
			case 7:
				svc, cid = uuidBasicConnect, 3 // radio state: standard, nobody listed it but clients of kind 0
			}
			for _, c := range clients {
				if c.subs(svc, cid) {
					c.expected.Add(1)
				}
			}
			dev.indicate(svc, cid, binary.LittleEndian.AppendUint32(nil, seq))
			sentMu.Lock()
			sent = append(sent, indKey(svc, cid, seq))
			sentMu.Unlock()
			if seq%16 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	// Clients: mixed requests, up to 8 in flight each.
	deadline := time.Now().Add(dur)
	var workers sync.WaitGroup
	for _, c := range clients {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(uint64(c.id), 7))
			tid := uint32(100)
			for time.Now().Before(deadline) {
				if c.outstanding() >= 8 {
					time.Sleep(50 * time.Microsecond)
					continue
				}
				tid++
				payload := fmt.Appendf(nil, "client %d transaction %d", c.id, tid)
				var err error
				switch r := rng.IntN(100); {
				case r < 60:
					err = c.call(tid, uuidVendor, uint32(1+rng.IntN(7)), mbim.CommandQuery, payload, payload)
				case r < 85:
					err = c.call(tid, uuidBasicConnect, 11, mbim.CommandQuery, payload, payload)
				case r < 95: // the same list again: answered with the echo
					info := c.list
					if info == nil {
						info = standardList.encode()
					}
					err = c.call(tid, uuidBasicConnect, cidSubscribeList, mbim.CommandSet, info, info)
				default: // a large request, fragmented both ways
					big := bytes.Repeat(payload, 300)
					err = c.call(tid, uuidVendor, 8, mbim.CommandSet, big, big)
				}
				if err != nil {
					c.failf("write: %v", err)
					return
				}
			}
		}()
	}
	workers.Wait()
	close(stop)
	drivers.Wait()
	// Flush: once every client's last requests are answered, every
	// indication sent before is in its queue ahead of the answer.
	waitAnswered := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := 0
			for _, c := range clients {
				left += c.outstanding()
			}
			if left == 0 {
				return
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, c := range clients {
			c.mu.Lock()
			var tids []uint32
			for tid := range c.inflight {
				tids = append(tids, tid)
			}
			slices.Sort(tids)
			if len(tids) > 0 {
				ended := ""
				select {
				case <-c.done:
					ended = " (its connection was closed)"
				default:
				}
				t.Errorf("client %d%s: transactions %v unanswered; failures %q", c.id, ended, tids, c.failures)
			}
			c.mu.Unlock()
		}
		t.Fatalf("timed out waiting for %s; proxy metrics %+v", what, s.Metrics())
	}
	waitAnswered("all answers")
	for _, c := range clients {
		c.call(1, uuidVendor, 1, mbim.CommandQuery, []byte("flush"), []byte("flush"))
	}
	waitAnswered("flush answers")

	total := int64(0)
	for _, c := range clients {
		c.mu.Lock()
		for _, f := range c.failures {
			t.Errorf("client %d: %s", c.id, f)
		}
		var missing, dup int
		for _, k := range sent {
			svc := uuidVendor
			if k&(1<<63) != 0 {
				svc = uuidBasicConnect
			}
			cid := uint32(k>>32) & 0x7fffffff
			n := c.got[k]
			switch {
			case c.subs(svc, cid) && n == 0:
				missing++
			case n > 1:
				dup++
			case !c.subs(svc, cid) && n > 0:
				t.Errorf("client %d got an unsubscribed indication", c.id)
			}
		}
		if missing > 0 || dup > 0 {
			t.Errorf("client %d: %d subscribed indications missing, %d duplicated (of %d sent)", c.id, missing, dup, len(sent))
		}
		total += c.answered.Load()
		c.mu.Unlock()
		c.conn.Close()
		<-c.done
	}
	m := s.Metrics()
	t.Logf("%v: %d clients, %d answers (%.0f/s), %d indications sent by the device, %d dropped clients",
		dur, nClients, total, float64(total)/dur.Seconds(), len(sent), m.Dropped)
	if m.Dropped != 0 {
		t.Errorf("%d clients dropped", m.Dropped)
	}
}

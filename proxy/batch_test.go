package proxy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
	"golang.org/x/sys/unix"
)

// A burst of answers and an indication that reaches the proxy in one read
// goes to each client in one write, in the order the device sent it.
func TestBurstOneWritePerClient(t *testing.T) {
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{Logger: discardLogger()})
	a, b := dial(t, s.cfg.Socket), dial(t, s.cfg.Socket)
	a.setup(dev.link)
	b.setup(dev.link)

	// The device holds the requests, then answers them all at once.
	dev.set(func(d *fakeDev) { d.hold[42] = true })
	var aTIDs, bTIDs []uint32
	for i := range 5 {
		c, tids := a, &aTIDs
		if i%2 == 1 {
			c, tids = b, &bTIDs
		}
		tid := c.nextTID()
		*tids = append(*tids, tid)
		c.write(buildCommand(tid, uuidBasicConnect, 42, mbim.CommandQuery, u32s(uint32(i))))
	}
	var held []mbim.Message
	waitUntil(t, "requests reach the device", func() bool {
		held = held[:0]
		dev.set(func(d *fakeDev) {
			for _, m := range d.commands {
				if m.CID == 42 {
					held = append(held, m)
				}
			}
		})
		return len(held) == 5
	})

	// Answers in the order the requests came, with a signal-state
	// indication (default subscription of both) after the first two.
	var burst []byte
	for i, m := range held {
		burst = append(burst, buildCommandDone(m.TransactionID, m.Service, m.CID, 0, m.InformationBuffer)...)
		if i == 1 {
			burst = append(burst, buildIndication(0, uuidBasicConnect, 11, u32s(7))...)
		}
	}
	before := settled(func() [2]uint64 { return clientWrites(t, s) })
	var p interface{ WriteRaw([]byte) error }
	dev.set(func(d *fakeDev) { p = d.pty })
	if err := p.WriteRaw(burst); err != nil {
		t.Fatal(err)
	}

	// What each client must get, in the device's order: the information
	// buffer of a request says which client sent it.
	want := map[*rawClient][]string{}
	for i, m := range held {
		n := le32(m.InformationBuffer, 0)
		c, tids := a, aTIDs
		if n%2 == 1 {
			c, tids = b, bTIDs
		}
		want[c] = append(want[c], fmt.Sprint(tids[n/2]))
		if i == 1 {
			want[a] = append(want[a], "indication")
			want[b] = append(want[b], "indication")
		}
	}
	for _, c := range []*rawClient{a, b} {
		var got []string
		for range want[c] {
			m, _ := mbim.ParseMessage(c.waitFor("a message", 10*time.Second, func([]byte) bool { return true }))
			if m.Type == mbim.TypeIndicateStatus {
				got = append(got, "indication")
			} else {
				got = append(got, fmt.Sprint(m.TransactionID))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[c]) {
			t.Errorf("client got %v, want %v (the device's order)", got, want[c])
		}
	}

	waitUntil(t, "the writes counted", func() bool {
		w := clientWrites(t, s)
		return w[0] > before[0] && w[1] > before[1]
	})
	after := settled(func() [2]uint64 { return clientWrites(t, s) })
	for i, name := range []string{"a", "b"} {
		if n := after[i] - before[i]; n != 1 {
			t.Errorf("client %s: the burst took %d writes, want 1", name, n)
		}
	}
}

// clientWrites returns the write counts of the two clients, oldest first.
func clientWrites(t *testing.T, s *Server) [2]uint64 {
	t.Helper()
	cs := s.Metrics().Clients
	if len(cs) != 2 {
		t.Fatalf("%d clients, want 2", len(cs))
	}
	return [2]uint64{cs[0].Writes, cs[1].Writes}
}

// settled returns f's value once two readings 20 ms apart agree: a write is
// counted after it returns, which may be after its reader got what it
// carried.
func settled[T comparable](f func() T) T {
	v := f()
	for {
		time.Sleep(20 * time.Millisecond)
		again := f()
		if again == v {
			return v
		}
		v = again
	}
}

// A batch of messages counts as its messages against ClientQueue: a client
// that stops reading is dropped once that many messages wait, however few
// writes they would take.
func TestQueueLimitCountsMessages(t *testing.T) {
	s, _ := startProxy(t, Config{Logger: discardLogger(), ClientQueue: 16})
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer") // never read
	t.Cleanup(func() { peer.Close() })
	fc, err := net.FileConn(os.NewFile(uintptr(fds[0]), "client"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := newClientConn(fc.(*net.UnixConn), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(s, 1, cc, transport.Cred{}, "test")
	t.Cleanup(func() { c.close("test over", false) })

	// Fill the socket until something waits in the queue.
	big := buildIndication(0, uuidVendor, 1, make([]byte, 4000))
	for i := 0; c.queued.Load() == 0; i++ {
		if i > 10000 {
			t.Fatal("the socket never filled up")
		}
		c.send(big)
	}
	// Ten messages in one batch fit; twenty more do not.
	small := buildIndication(0, uuidVendor, 2, u32s(1))
	burst := func(n int) []byte { return bytes.Repeat(small, n) }
	c.sendMsgs(burst(10), 10)
	if c.closed.Load() {
		t.Fatalf("dropped with %d messages waiting, limit 16", c.queued.Load())
	}
	c.sendMsgs(burst(20), 20)
	if !c.closed.Load() {
		t.Fatalf("not dropped with %d messages waiting, limit 16", c.queued.Load())
	}
	if s.Metrics().Dropped != 1 {
		t.Fatalf("dropped count %d", s.Metrics().Dropped)
	}
}

// Requests that reach the proxy in one read go to a stream port in one
// write, in the client's order.
func TestRequestBurstOneDeviceWrite(t *testing.T) {
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{Logger: discardLogger()})
	a := dial(t, s.cfg.Socket)
	a.setup(dev.link)
	a.request(uuidVendor, 1, mbim.CommandQuery, nil) // settled: nothing else in flight

	writes := func() uint64 { return s.Metrics().Devices[0].Writes }
	before := settled(writes)
	burstOfRequests(t, a, 10)
	waitUntil(t, "the write counted", func() bool { return writes() > before })
	if n := settled(writes) - before; n != 1 {
		t.Errorf("10 requests in one read took %d writes to the device, want 1", n)
	}
	var got []uint32
	dev.set(func(d *fakeDev) {
		for _, m := range d.commands {
			if m.CID == 7 {
				got = append(got, le32(m.InformationBuffer, 0))
			}
		}
	})
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("the device got the requests in the order %v", got)
	}
}

// A burst larger than the client's in-flight limit does not stall: what is
// held goes to the device before the reader waits for a slot.
func TestRequestBurstBeyondInFlightLimit(t *testing.T) {
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{Logger: discardLogger(), MaxInFlight: 4})
	a := dial(t, s.cfg.Socket)
	a.setup(dev.link)
	burstOfRequests(t, a, 20)
}

// burstOfRequests writes n vendor commands (CID 7, information buffer: their
// number) to the proxy in one write and waits for all the answers.
func burstOfRequests(t *testing.T, a *rawClient, n int) {
	t.Helper()
	var burst []byte
	var tids []uint32
	for i := range n {
		tid := a.nextTID()
		tids = append(tids, tid)
		burst = append(burst, buildCommand(tid, uuidVendor, 7, mbim.CommandQuery, u32s(uint32(i)))...)
	}
	if err := a.conn.(interface{ WriteRaw([]byte) error }).WriteRaw(burst); err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		a.waitFor(fmt.Sprintf("answer %d", tid), 10*time.Second, isTID(tid))
	}
}

package proxy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
)

var uuidVendor = mbim.MustParseUUID("11223344-5566-7788-99aa-bbccddeeff00")

func TestConfigureOpenCommandClose(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	c := dial(t, s.cfg.Socket)
	c.setup(dev.link)

	m := c.request(uuidBasicConnect, cidDeviceCaps, mbim.CommandQuery, []byte("hello world!"))
	if m.Type != mbim.TypeCommandDone || m.Status != mbim.StatusNone || string(m.InformationBuffer) != "hello world!" {
		t.Fatalf("answer %v %q", m.String(), m.InformationBuffer)
	}
	// CLOSE is answered locally; the device stays open.
	tid := c.nextTID()
	c.write(buildScalar(mbim.TypeClose, tid, 0))
	if b := c.waitFor("CLOSE_DONE", 5*time.Second, isTID(tid)); msgType(b) != mbim.TypeCloseDone || le32(b, offScalar) != 0 {
		t.Fatalf("CLOSE answered with %v", describe([][]byte{b}))
	}
	if n := dev.closes.Load(); n != 0 {
		t.Fatalf("device got %d CLOSE messages", n)
	}
	if n := dev.opens.Load(); n != 1 {
		t.Fatalf("device got %d OPEN messages", n)
	}
}

func TestConfigurationAnswers(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	dev2 := newFakeDev(t)
	s, _ := startProxy(t, Config{})

	c := dial(t, s.cfg.Socket)
	// OPEN before CONFIGURATION fails, commands get NotOpened.
	if st := c.open(); st != mbim.StatusFailure {
		t.Fatalf("OPEN before configuration: %v", st)
	}
	m := c.request(uuidBasicConnect, cidDeviceCaps, mbim.CommandQuery, nil)
	if m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened {
		t.Fatalf("command before configuration: %v", m.String())
	}
	// A query is invalid.
	m = c.request(uuidProxyControl, cidProxyConfiguration, mbim.CommandQuery, configurationInfo(dev.link, 5))
	if m.Status != mbim.StatusInvalidParameters {
		t.Fatalf("configuration query: %v", m.String())
	}
	// An unreadable path, a missing path.
	m = c.request(uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, u32s(100, 8, 5))
	if m.Status != mbim.StatusInvalidParameters {
		t.Fatalf("bad string: %v", m.String())
	}
	if st := c.configure(filepath.Join(t.TempDir(), "nothing"), 5); st != mbim.StatusInvalidParameters {
		t.Fatalf("missing path: %v", st)
	}
	// A path that is not a device cannot be opened: FAILURE.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if st := c.configure(file, 5); st != mbim.StatusFailure {
		t.Fatalf("regular file: %v", st)
	}
	// Success, then the same path again (through another name): success;
	// another path: FAILURE.
	c.setup(dev.link)
	real, _ := filepath.EvalSymlinks(dev.link)
	if st := c.configure(real, 5); st != mbim.StatusNone {
		t.Fatalf("reconfigure: %v", st)
	}
	if st := c.configure(dev2.link, 5); st != mbim.StatusFailure {
		t.Fatalf("other path: %v", st)
	}

	// BUSY while a configuration is still opening the device.
	dev2.set(func(d *fakeDev) { d.openDelay = 300 * time.Millisecond })
	c2 := dial(t, s.cfg.Socket)
	t1, t2 := c2.nextTID(), c2.nextTID()
	c2.write(buildCommand(t1, uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(dev2.link, 5)))
	c2.write(buildCommand(t2, uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(dev2.link, 5)))
	if b := c2.waitFor("second answer", 5*time.Second, isTID(t2)); le32(b, offCmdType) != uint32(mbim.StatusBusy) {
		t.Fatalf("second configuration: %v", describe([][]byte{b}))
	}
	if b := c2.waitFor("first answer", 5*time.Second, isTID(t1)); le32(b, offCmdType) != uint32(mbim.StatusNone) {
		t.Fatalf("first configuration: %v", describe([][]byte{b}))
	}
}

func TestTransactionIDsRemapped(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a, b := dial(t, s.cfg.Socket), dial(t, s.cfg.Socket)
	a.setup(dev.link)
	b.setup(dev.link)
	// Both clients use the same transaction ids at the same time.
	for i := range 50 {
		tid := uint32(1000 + i)
		a.write(buildCommand(tid, uuidVendor, 1, mbim.CommandQuery, []byte("A"+itoa(i))))
		b.write(buildCommand(tid, uuidVendor, 1, mbim.CommandQuery, []byte("B"+itoa(i))))
	}
	for i := range 50 {
		tid := uint32(1000 + i)
		for _, cl := range []struct {
			c      *rawClient
			prefix string
		}{{a, "A"}, {b, "B"}} {
			m, _ := mbim.ParseMessage(cl.c.waitFor("answer", 5*time.Second, isTID(tid)))
			if want := cl.prefix + itoa(i); string(m.InformationBuffer) != want {
				t.Fatalf("client %s transaction %d got %q", cl.prefix, tid, m.InformationBuffer)
			}
		}
	}
	// The device saw distinct ids.
	seen := map[uint32]bool{}
	dev.set(func(d *fakeDev) {
		for _, m := range d.commands {
			if seen[m.TransactionID] {
				t.Errorf("device saw transaction %d twice", m.TransactionID)
			}
			seen[m.TransactionID] = true
		}
	})
}

func TestFragments(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	c := dial(t, s.cfg.Socket)
	if st := c.configure(dev.link, 5); st != mbim.StatusNone {
		t.Fatal(st)
	}
	// A client announcing a 64-byte max control transfer gets fragments.
	tid := c.nextTID()
	c.write(buildScalar(mbim.TypeOpen, tid, 64))
	c.waitFor("OPEN_DONE", 5*time.Second, isTID(tid))

	// The client sends a 10000-byte command in 64-byte fragments; the
	// device (max 4096) gets it in fragments of one transaction id, and
	// the answer comes back whole after reassembly.
	payload := bytes.Repeat([]byte("0123456789abcdef"), 625)
	tid = c.nextTID()
	frags, err := mbim.Fragment(nil, buildCommand(tid, uuidVendor, 7, mbim.CommandSet, payload), 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frags {
		c.write(f)
	}
	m, _ := mbim.ParseMessage(c.waitFor("answer", 5*time.Second, isTID(tid)))
	if !bytes.Equal(m.InformationBuffer, payload) {
		t.Fatalf("answer of %d bytes, want the %d-byte payload", len(m.InformationBuffer), len(payload))
	}
	dev.set(func(d *fakeDev) {
		last := d.commands[len(d.commands)-1]
		if !bytes.Equal(last.InformationBuffer, payload) {
			t.Errorf("device got %d bytes", len(last.InformationBuffer))
		}
	})
	// Out-of-sequence fragments are answered with a FUNCTION_ERROR.
	tid = c.nextTID()
	frags, _ = mbim.Fragment(nil, buildCommand(tid, uuidVendor, 7, mbim.CommandSet, payload[:500]), 64)
	c.write(frags[0])
	c.write(frags[2])
	b := c.waitFor("function error", 5*time.Second, isTID(tid))
	if msgType(b) != mbim.TypeFunctionError || le32(b, offScalar) != uint32(mbim.ErrFragmentOutOfSequence) {
		t.Fatalf("got %s", describe([][]byte{b}))
	}
}

func TestSubscriptions(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a, b, n := dial(t, s.cfg.Socket), dial(t, s.cfg.Socket), dial(t, s.cfg.Socket)
	a.setup(dev.link)
	b.setup(dev.link)
	n.setup(dev.link)

	// Standard notifications reach every client that did not say otherwise.
	dev.indicate(uuidBasicConnect, 11, []byte("signal"))
	for _, c := range []*rawClient{a, b, n} {
		c.waitFor("signal-state", 5*time.Second, isIndication(uuidBasicConnect, 11))
	}
	if dev.numSubLists() != 0 {
		t.Fatal("subscribe list sent to the device without a change")
	}

	// A subscribes to one vendor CID; its echo is its own list, the
	// device gets the union with the standard list.
	listA := subscribeInfo(subEntry{uuidBasicConnect, []uint32{11}}, subEntry{uuidVendor, []uint32{5}})
	m := a.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, listA)
	if m.Status != mbim.StatusNone || !bytes.Equal(m.InformationBuffer, listA) {
		t.Fatalf("echo %v %x", m.String(), m.InformationBuffer)
	}
	got, _ := parseSubscribeList(dev.lastSubList())
	want := mergeLists([]*subList{{entries: []subEntry{{uuidVendor, []uint32{5}}}}})
	if !equalLists(got, want) {
		t.Fatalf("device list %+v, want %+v", got, want)
	}
	// B subscribes to every CID of the vendor service.
	listB := subscribeInfo(subEntry{uuidVendor, nil})
	m = b.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, listB)
	if !bytes.Equal(m.InformationBuffer, listB) {
		t.Fatal("echo of B")
	}
	if dev.numSubLists() != 2 {
		t.Fatalf("%d lists sent", dev.numSubLists())
	}
	// The same list again changes nothing on the device.
	b.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, listB)
	if dev.numSubLists() != 2 {
		t.Fatalf("%d lists sent after an unchanged merge", dev.numSubLists())
	}

	dev.indicate(uuidVendor, 5, []byte("v5"))
	dev.indicate(uuidVendor, 6, []byte("v6"))
	dev.indicate(uuidBasicConnect, 11, []byte("signal"))
	dev.indicate(uuidBasicConnect, 9, []byte("register"))
	a.waitFor("v5", 5*time.Second, isIndication(uuidVendor, 5))
	a.waitFor("signal", 5*time.Second, isIndication(uuidBasicConnect, 11))
	b.waitFor("v5", 5*time.Second, isIndication(uuidVendor, 5))
	b.waitFor("v6", 5*time.Second, isIndication(uuidVendor, 6))
	n.waitFor("signal", 5*time.Second, isIndication(uuidBasicConnect, 11))
	n.waitFor("register", 5*time.Second, isIndication(uuidBasicConnect, 9))
	// A round trip on each client flushes anything else in flight.
	for _, c := range []*rawClient{a, b, n} {
		c.request(uuidVendor, 1, mbim.CommandQuery, nil)
	}
	if x := a.tryWait(100*time.Millisecond, func([]byte) bool { return true }); x != nil {
		t.Fatalf("A got %s", describe([][]byte{x}))
	}
	if x := b.tryWait(50*time.Millisecond, func([]byte) bool { return true }); x != nil {
		t.Fatalf("B got %s", describe([][]byte{x}))
	}
	if x := n.tryWait(50*time.Millisecond, func([]byte) bool { return true }); x != nil {
		t.Fatalf("N got %s", describe([][]byte{x}))
	}

	// When B leaves, the device's list shrinks back to A's needs.
	b.close()
	deadline := time.Now().Add(5 * time.Second)
	for dev.numSubLists() != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got, _ = parseSubscribeList(dev.lastSubList())
	if !equalLists(got, want) {
		t.Fatalf("after B left: device list %+v, want %+v", got, want)
	}
}

func TestVersionPropagation(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a, b := dial(t, s.cfg.Socket), dial(t, s.cfg.Socket)
	a.setup(dev.link)
	b.setup(dev.link)
	m := a.request(uuidMSBasicExt, cidMSVersion, mbim.CommandQuery, []byte{0, 1, 0, 2})
	if m.Status != mbim.StatusNone {
		t.Fatal(m.String())
	}
	want := []byte{0, 1, 0, 2}
	for _, c := range []*rawClient{a, b} {
		ind := c.waitFor("proxy-control version", 5*time.Second, isIndication(uuidProxyControl, cidProxyVersion))
		if got := ind[offBufIS:]; !bytes.Equal(got, want) {
			t.Fatalf("version indication %x", got)
		}
	}
	// A new client learns it when it configures, before the answer.
	c := dial(t, s.cfg.Socket)
	tid := c.nextTID()
	c.write(buildCommand(tid, uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(dev.link, 5)))
	first := c.waitFor("anything", 5*time.Second, func([]byte) bool { return true })
	if !isIndication(uuidProxyControl, cidProxyVersion)(first) {
		t.Fatalf("first message %s", describe([][]byte{first}))
	}
	c.waitFor("configuration answer", 5*time.Second, isTID(tid))
	if got := s.Metrics().Devices[0].MBIMExVersion; got != "2.00" {
		t.Fatalf("metrics version %q", got)
	}
}

func TestDeviceHangupAndReturn(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a, b := dial(t, s.cfg.Socket), dial(t, s.cfg.Socket)
	a.setup(dev.link)
	b.setup(dev.link)
	listA := subscribeInfo(subEntry{uuidVendor, []uint32{5}})
	a.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, listA)
	a.request(uuidMSBasicExt, cidMSVersion, mbim.CommandQuery, []byte{0, 1, 0, 3})

	// Requests in flight when the device hangs up fail at once.
	dev.set(func(d *fakeDev) { d.hold[42] = true })
	tidA, tidB := a.nextTID(), b.nextTID()
	a.write(buildCommand(tidA, uuidBasicConnect, 42, mbim.CommandQuery, nil))
	b.write(buildCommand(tidB, uuidBasicConnect, 42, mbim.CommandQuery, nil))
	waitUntil(t, "requests reach the device", func() bool {
		n := 0
		dev.set(func(d *fakeDev) {
			for _, m := range d.commands {
				if m.CID == 42 {
					n++
				}
			}
		})
		return n == 2
	})
	dev.stop()
	for _, x := range []struct {
		c   *rawClient
		tid uint32
	}{{a, tidA}, {b, tidB}} {
		m, _ := mbim.ParseMessage(x.c.waitFor("failure", 5*time.Second, isTID(x.tid)))
		if m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened {
			t.Fatalf("in-flight request: %v", m.String())
		}
	}
	// While the device is away, requests fail with NotOpened.
	if m := a.request(uuidVendor, 1, mbim.CommandQuery, nil); m.Type != mbim.TypeFunctionError {
		t.Fatalf("request while lost: %v", m.String())
	}
	// The device comes back: the proxy reopens it and restores the
	// subscribe list and MBIMEx version.
	dev.set(func(d *fakeDev) { d.hold = map[uint32]bool{}; d.subLists = nil; d.commands = nil })
	dev.start()
	waitUntil(t, "reopen", func() bool { return s.Metrics().Devices[0].State == "open" })
	waitUntil(t, "restore", func() bool { return dev.numSubLists() == 1 })
	got, _ := parseSubscribeList(dev.lastSubList())
	if want := mergeLists([]*subList{{entries: []subEntry{{uuidVendor, []uint32{5}}}}}); !equalLists(got, want) {
		t.Fatalf("restored list %+v", got)
	}
	waitUntil(t, "version restore", func() bool {
		found := false
		dev.set(func(d *fakeDev) {
			for _, m := range d.commands {
				found = found || (m.Service == uuidMSBasicExt && m.CID == cidMSVersion)
			}
		})
		return found
	})
	for _, c := range []*rawClient{a, b} {
		if m := c.request(uuidVendor, 1, mbim.CommandQuery, []byte("again")); m.Type != mbim.TypeCommandDone || string(m.InformationBuffer) != "again" {
			t.Fatalf("after reopen: %v", m.String())
		}
	}
	dev.indicate(uuidVendor, 5, nil)
	a.waitFor("vendor indication after reopen", 5*time.Second, isIndication(uuidVendor, 5))
	if l := s.Metrics().Devices[0].Losses; l != 1 {
		t.Fatalf("losses %d", l)
	}
}

func TestDeviceNotOpened(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a := dial(t, s.cfg.Socket)
	a.setup(dev.link)
	dev.forget()
	m := a.request(uuidVendor, 1, mbim.CommandQuery, nil)
	if m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened {
		t.Fatalf("got %v", m.String())
	}
	waitUntil(t, "reopen", func() bool { return dev.opens.Load() == 2 && s.Metrics().Devices[0].State == "open" })
	if m := a.request(uuidVendor, 1, mbim.CommandQuery, []byte("x")); m.Type != mbim.TypeCommandDone {
		t.Fatalf("after reopen: %v", m.String())
	}
	// A new client on a device that silently forgot its session: the
	// proxy notices with its check and reopens before admitting it.
	dev.forget()
	b := dial(t, s.cfg.Socket)
	b.setup(dev.link)
	if m := b.request(uuidVendor, 1, mbim.CommandQuery, []byte("y")); m.Type != mbim.TypeCommandDone {
		t.Fatalf("new client: %v", m.String())
	}
	if n := dev.opens.Load(); n != 3 {
		t.Fatalf("%d opens", n)
	}
}

func TestEmptyTimeout(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{EmptyTimeout: 200 * time.Millisecond})
	a := dial(t, s.cfg.Socket)
	a.setup(dev.link)
	a.close()
	// A client coming back within the timeout finds the device open.
	time.Sleep(50 * time.Millisecond)
	b := dial(t, s.cfg.Socket)
	b.setup(dev.link)
	b.close()
	if dev.opens.Load() != 1 {
		t.Fatalf("%d opens", dev.opens.Load())
	}
	waitUntil(t, "device closed", func() bool { return dev.closes.Load() == 1 && len(s.Metrics().Devices) == 0 })
	c := dial(t, s.cfg.Socket)
	c.setup(dev.link)
	if dev.opens.Load() != 2 {
		t.Fatalf("%d opens", dev.opens.Load())
	}
}

func TestBadClientsDoNotDisturbOthers(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{ClientQueue: 16})
	good := dial(t, s.cfg.Socket)
	good.setup(dev.link)

	// Garbage, then a valid request on the same connection.
	garbage := dial(t, s.cfg.Socket)
	garbage.setup(dev.link)
	if rw, ok := garbage.conn.(interface{ WriteRaw([]byte) error }); ok {
		rw.WriteRaw(bytes.Repeat([]byte{0xff, 0x00, 0x13}, 1000))
		rw.WriteRaw(u32s(0x80000003, 60, 7)) // a device message from a client
		rw.WriteRaw(make([]byte, 48))
	}
	m := garbage.request(uuidVendor, 1, mbim.CommandQuery, []byte("still here"))
	if string(m.InformationBuffer) != "still here" {
		t.Fatalf("after garbage: %v", m.String())
	}

	// A client that disconnects with requests in flight.
	quitter := dial(t, s.cfg.Socket)
	quitter.setup(dev.link)
	for i := range 20 {
		quitter.write(buildCommand(uint32(100+i), uuidVendor, 1, mbim.CommandQuery, nil))
	}
	quitter.close()

	// A client that stops reading while indications pour in is dropped;
	// the device reader never waits for it.
	slow := dial(t, s.cfg.Socket)
	slow.setup(dev.link)
	slow.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, subscribeInfo(subEntry{uuidVendor, nil}))
	good.request(uuidBasicConnect, cidSubscribeList, mbim.CommandSet, subscribeInfo(subEntry{uuidVendor, []uint32{9}}))
	slow.gate.Lock()
	defer slow.gate.Unlock()
	big := bytes.Repeat([]byte{1}, 3000)
	for range 1000 {
		dev.indicate(uuidVendor, 5, big)
	}
	dev.indicate(uuidVendor, 9, []byte("for the good one"))
	good.waitFor("indication after the flood", 10*time.Second, isIndication(uuidVendor, 9))
	waitUntil(t, "slow client dropped", func() bool { return s.Metrics().Dropped == 1 })

	// The good client is unaffected throughout.
	for i := range 20 {
		m := good.request(uuidVendor, 1, mbim.CommandQuery, []byte(itoa(i)))
		if string(m.InformationBuffer) != itoa(i) {
			t.Fatalf("good client got %v", m.String())
		}
	}
	if n := len(s.Metrics().Clients); n != 2 {
		t.Fatalf("%d clients left, want 2 (good, garbage)", n)
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client that floods the proxy with requests and never reads the
// answers holds at most MaxInFlight requests at the device, is dropped
// once its queue is full, and does not slow the others down much.
func TestFloodingClient(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{ClientQueue: 64, MaxInFlight: 8})
	good := dial(t, s.cfg.Socket)
	good.setup(dev.link)
	flood := dial(t, s.cfg.Socket)
	flood.setup(dev.link)
	flood.gate.Lock() // never reads again
	defer flood.gate.Unlock()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		payload := bytes.Repeat([]byte("x"), 200)
		for tid := uint32(100); ; tid++ {
			select {
			case <-stop:
				return
			default:
			}
			if flood.conn.WriteMessage(buildCommand(tid, uuidVendor, 1, mbim.CommandQuery, payload)) != nil {
				return
			}
		}
	}()
	var worst time.Duration
	for i := range 200 {
		start := time.Now()
		m := good.request(uuidVendor, 1, mbim.CommandQuery, []byte(itoa(i)))
		if string(m.InformationBuffer) != itoa(i) {
			t.Fatalf("good client got %v", m.String())
		}
		worst = max(worst, time.Since(start))
	}
	waitUntil(t, "flooder dropped", func() bool { return s.Metrics().Dropped == 1 })
	close(stop)
	flood.conn.Close()
	<-done
	t.Logf("slowest answer to the good client while flooded: %v", worst)
	if worst > 2*time.Second {
		t.Errorf("the good client waited %v", worst)
	}
}

// A client that leaves while the device is still opening does not leave
// it open without clients.
func TestLeaveWhileOpening(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	dev.set(func(d *fakeDev) { d.openDelay = 200 * time.Millisecond })
	s, _ := startProxy(t, Config{EmptyTimeout: 50 * time.Millisecond})
	c := dial(t, s.cfg.Socket)
	c.write(buildCommand(1, uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(dev.link, 5)))
	waitUntil(t, "OPEN sent", func() bool { return dev.opens.Load() == 1 })
	c.close()
	waitUntil(t, "device closed", func() bool { return dev.closes.Load() == 1 && len(s.Metrics().Devices) == 0 })
}

// A request the device never answers is forgotten after the request
// timeout and counted; the client is not answered (as with libmbim's
// proxy) and its in-flight slot is freed.
func TestRequestTimeout(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	dev.set(func(d *fakeDev) { d.hold[42] = true })
	s, _ := startProxy(t, Config{RequestTimeout: 300 * time.Millisecond, MaxInFlight: 1})
	c := dial(t, s.cfg.Socket)
	c.setup(dev.link)
	c.write(buildCommand(77, uuidBasicConnect, 42, mbim.CommandQuery, nil))
	// With one slot, this waits until the first request is forgotten.
	start := time.Now()
	m := c.request(uuidVendor, 1, mbim.CommandQuery, []byte("after"))
	if string(m.InformationBuffer) != "after" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("second request: %v after %v", m.String(), time.Since(start))
	}
	if b := c.tryWait(100*time.Millisecond, isTID(77)); b != nil {
		t.Fatalf("the forgotten request was answered: %s", describe([][]byte{b}))
	}
	mt := s.Metrics()
	if mt.Clients[0].Timeouts != 1 || mt.Devices[0].Timeouts != 1 {
		t.Fatalf("timeouts: client %d, device %d", mt.Clients[0].Timeouts, mt.Devices[0].Timeouts)
	}
}

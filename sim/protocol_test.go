package sim

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

func TestCommandBeforeOpen(t *testing.T) {
	_, path := startUnix(t, nil)
	c := dial(t, path)
	tid := c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	m, err := c.read(waitTimeout)
	if err != nil || m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened || m.TransactionID != tid {
		t.Fatalf("got %v %v, want function-error not-opened", m, err)
	}
}

func TestUnknownServiceAndMalformedRequest(t *testing.T) {
	_, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	m, _ := c.command(mbim.MustParseUUID("11223344-5566-7788-99aa-bbccddeeff00"), 1, mbim.CommandQuery, nil)
	if m.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("unknown service: %s", m.Status)
	}
	m, _ = c.command(bc.UUID, 17, mbim.CommandQuery, nil)
	if m.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("unknown CID: %s", m.Status)
	}
	// A radio-state set whose buffer is too short.
	tid := c.send(mbim.Message{Type: mbim.TypeCommand, Service: bc.UUID, CID: bc.CIDRadioState, CommandType: mbim.CommandSet,
		InformationBuffer: []byte{1, 0}})
	if m := c.expect(mbim.TypeCommandDone, tid); m.Status != mbim.StatusInvalidParameters {
		t.Errorf("malformed set: %s", m.Status)
	}
	// A set on a query-only CID.
	m, _ = c.command(bc.UUID, bc.CIDDeviceCaps, mbim.CommandSet, nil)
	if m.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("set device-caps: %s", m.Status)
	}
}

func TestFragmentedCommand(t *testing.T) {
	mo, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	apn := strings.Repeat("long.apn.example.", 8)
	info, _ := mbim.Marshal(&bc.ProvisionedContextsSet{ContextId: 0xFFFFFFFF, ContextType: ctxInternet, AccessString: apn})
	msg := mbim.Message{Type: mbim.TypeCommand, TransactionID: 77, Service: bc.UUID, CID: bc.CIDProvisionedContexts,
		CommandType: mbim.CommandSet, InformationBuffer: info}
	whole, _ := msg.AppendBinary(nil)
	frags, err := mbim.Fragment(nil, whole, 64)
	if err != nil || len(frags) < 3 {
		t.Fatalf("fragmenting: %d fragments, %v", len(frags), err)
	}
	for _, f := range frags {
		if err := c.c.WriteMessage(f); err != nil {
			t.Fatal(err)
		}
	}
	m := c.expect(mbim.TypeCommandDone, 77)
	if m.Status != mbim.StatusNone {
		t.Fatalf("status %s", m.Status)
	}
	mo.Lock()
	last := mo.contextsV2[len(mo.contextsV2)-1]
	mo.Unlock()
	if last.AccessString != apn {
		t.Errorf("stored APN %q", last.AccessString)
	}

	// Fragments out of order are a protocol error.
	msg.TransactionID = 78
	whole, _ = msg.AppendBinary(nil)
	frags, _ = mbim.Fragment(nil, whole, 64)
	c.c.WriteMessage(frags[0])
	c.c.WriteMessage(frags[2])
	got, err := c.read(waitTimeout)
	for err == nil && got.Type == mbim.TypeIndicateStatus {
		got, err = c.read(waitTimeout)
	}
	if err != nil || got.Type != mbim.TypeFunctionError || got.ErrorCode != mbim.ErrFragmentOutOfSequence || got.TransactionID != 78 {
		t.Fatalf("got %v %v, want function-error fragment-out-of-sequence", got, err)
	}
}

func TestVersionNegotiation(t *testing.T) {
	for _, tc := range []struct {
		native, host, want mbim.Version
	}{
		{mbim.MBIMEx4, mbim.MBIMEx3, mbim.MBIMEx3},
		{mbim.MBIMEx4, mbim.MBIMEx4, mbim.MBIMEx4},
		{mbim.MBIMEx2, mbim.MBIMEx3, mbim.MBIMEx2},
		{mbim.MBIMEx3, mbim.MBIMEx2, mbim.MBIMEx2},
	} {
		_, path := startUnix(t, scenario(func(s *Scenario) { s.MBIMEx = tc.native }))
		c := dial(t, path)
		c.open()
		_, info := c.command(ms.UUID, ms.CIDVersion, mbim.CommandQuery, &ms.VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: uint16(tc.host)})
		if got := mbim.Version(info.(*ms.VersionResponse).MbimExtendedVersion); got != tc.want {
			t.Errorf("native %s, host %s: agreed %s, want %s", tc.native, tc.host, got, tc.want)
		}
		c.v = tc.want
		// Later messages use the agreed version's layouts (the client
		// decodes with them and fails otherwise).
		_, reg := c.command(bc.UUID, bc.CIDRegisterState, mbim.CommandQuery, nil)
		if tc.want >= mbim.MBIMEx2 {
			if _, ok := reg.(*bc.RegisterStateResponseV2); !ok {
				t.Errorf("register state at %s: %T", tc.want, reg)
			}
		}
		_, caps := c.command(ms.UUID, ms.CIDDeviceCaps, mbim.CommandQuery, nil)
		if _, ok := caps.(*ms.DeviceCapsResponseV3); ok != (tc.want >= mbim.MBIMEx3) {
			t.Errorf("device caps at %s: %T", tc.want, caps)
		}
		_, sub := c.command(bc.UUID, bc.CIDSubscriberReadyStatus, mbim.CommandQuery, nil)
		if v4, ok := sub.(*bc.SubscriberReadyStatusResponseV4); ok != (tc.want >= mbim.MBIMEx4) || (ok && v4.SubscriberId == "") {
			t.Errorf("subscriber ready status at %s: %T %+v", tc.want, sub, sub)
		}
		// A new OPEN goes back to 1.0.
		c.open()
		if _, reg = c.command(bc.UUID, bc.CIDRegisterState, mbim.CommandQuery, nil); reg == nil {
			t.Error("no register state after reopening")
		}
	}
	// A 1.0 modem does not know VERSION.
	_, path := startUnix(t, scenario(func(s *Scenario) { s.MBIMEx = mbim.MBIMEx1 }))
	c := dial(t, path)
	c.open()
	m, _ := c.command(ms.UUID, ms.CIDVersion, mbim.CommandQuery, &ms.VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: 0x0300})
	if m.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("1.0 modem answered VERSION with %s", m.Status)
	}
}

// expectIndication waits for an indication of cid and decodes it.
func (c *client) expectIndication(svc mbim.UUID, cid uint32) mbim.Info {
	c.t.Helper()
	for {
		m, err := c.read(waitTimeout)
		if err != nil {
			c.t.Fatalf("waiting for a %s indication: %v", catalog.CIDName(svc, cid), err)
		}
		if m.Type == mbim.TypeIndicateStatus && m.Service == svc && m.CID == cid {
			d := catalog.Decode(m, c.v)
			if d.Err != nil {
				c.t.Fatal(d.Err)
			}
			return d.Info
		}
	}
}

// noIndication checks that no indication of cid arrives within d.
func (c *client) noIndication(svc mbim.UUID, cid uint32, d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			return
		}
		if m.Type == mbim.TypeIndicateStatus && m.Service == svc && m.CID == cid {
			c.t.Fatalf("unexpected %s indication", catalog.CIDName(svc, cid))
		}
	}
}

func TestSubscriptions(t *testing.T) {
	mo, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	// By default every Basic Connect notification is on...
	mo.Inject(Event{Type: "signal", RSSI: ptr(uint32(7))})
	if s := c.expectIndication(bc.UUID, bc.CIDSignalState).(*bc.SignalStateResponse); s.Rssi != 7 {
		t.Errorf("signal indication RSSI %d, want 7", s.Rssi)
	}
	// ... and the MS extensions' are off: no PCO on connect.
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandActivate, AccessString: "internet"})
	c.noIndication(ms.UUID, ms.CIDPco, 200*time.Millisecond)
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandDeactivate})

	// Subscribe to PCO only.
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: ms.UUID, Cids: []uint32{ms.CIDPco}}}})
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandActivate, AccessString: "internet"})
	p := c.expectIndication(ms.UUID, ms.CIDPco).(*ms.PcoValue)
	if p.PcoDataType != ms.PcoTypeComplete || p.PcoDataBuffer.String() != "270880ff000400f11000" {
		t.Errorf("PCO indication %+v", p)
	}
	// Basic Connect notifications are now off.
	mo.Inject(Event{Type: "signal", RSSI: ptr(uint32(25))})
	c.noIndication(bc.UUID, bc.CIDSignalState, 200*time.Millisecond)
}

func ptr[T any](v T) *T { return &v }

func TestTimeline(t *testing.T) {
	sc := scenario(func(s *Scenario) {
		s.Timeline = []Event{
			{At: Duration(150 * time.Millisecond), Type: "signal", RSSI: ptr(uint32(3))},
			{At: Duration(300 * time.Millisecond), Type: "detach"},
			{At: Duration(450 * time.Millisecond), Type: "sim-removed"},
		}
	})
	_, path := startUnix(t, sc)
	c := dial(t, path)
	c.open()
	if s := c.expectIndication(bc.UUID, bc.CIDSignalState).(*bc.SignalStateResponse); s.Rssi != 3 {
		t.Errorf("signal drop: RSSI %d", s.Rssi)
	}
	if p := c.expectIndication(bc.UUID, bc.CIDPacketService).(*bc.PacketServiceResponse); p.PacketServiceState != bc.PacketServiceStateDetached {
		t.Errorf("network detach: %s", p.PacketServiceState)
	}
	if s := c.expectIndication(bc.UUID, bc.CIDSubscriberReadyStatus).(*bc.SubscriberReadyStatusResponse); s.ReadyState != bc.SubscriberReadyStateSimNotInserted {
		t.Errorf("SIM removal: %s", s.ReadyState)
	}
	if r := c.expectIndication(bc.UUID, bc.CIDRegisterState).(*bc.RegisterStateResponse); r.RegisterState != bc.RegisterStateDeregistered {
		t.Errorf("after SIM removal: %s", r.RegisterState)
	}
}

func TestSignalThresholdAndInterval(t *testing.T) {
	mo, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDSignalState, mbim.CommandSet, &bc.SignalStateSet{SignalStrengthInterval: 1, RssiThreshold: 5, ErrorRateThreshold: 0xFFFFFFFF})
	mo.Inject(Event{Type: "signal", RSSI: ptr(uint32(22))}) // below the threshold
	c.noIndication(bc.UUID, bc.CIDSignalState, 150*time.Millisecond)
	mo.Inject(Event{Type: "signal", RSSI: ptr(uint32(10))})
	start := time.Now()
	if s := c.expectIndication(bc.UUID, bc.CIDSignalState).(*bc.SignalStateResponse); s.Rssi != 10 {
		t.Errorf("RSSI %d", s.Rssi)
	}
	mo.Inject(Event{Type: "signal", RSSI: ptr(uint32(30))}) // within the interval: held back
	if s := c.expectIndication(bc.UUID, bc.CIDSignalState).(*bc.SignalStateResponse); s.Rssi != 30 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("RSSI %d after %v, want 30 after the 1 s interval", s.Rssi, time.Since(start))
	}
}

func TestStateSurvivesReconnects(t *testing.T) {
	_, link := startPTY(t, nil)
	c := dial(t, link)
	c.open()
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandSet, &bc.RadioStateSet{RadioState: bc.RadioSwitchStateOff})
	c.send(mbim.Message{Type: mbim.TypeClose})
	c.expect(mbim.TypeCloseDone, 0)
	c.c.Close()
	c2 := redial(t, link)
	_, info := c2.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if r := info.(*bc.RadioStateResponse); r.SwRadioState != bc.RadioSwitchStateOff {
		t.Errorf("radio %s after reconnecting, want off", r.SwRadioState)
	}
}

func TestDeviceReset(t *testing.T) {
	_, link := startPTY(t, nil)
	c := dial(t, link)
	c.open()
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandSet, &bc.RadioStateSet{RadioState: bc.RadioSwitchStateOff})
	m, _ := c.command(ms.UUID, ms.CIDDeviceReset, mbim.CommandSet, nil)
	if m.Status != mbim.StatusNone {
		t.Fatalf("reset: %s", m.Status)
	}
	// The response got through; then the device hangs up.
	if m, err := c.read(waitTimeout); !errors.Is(err, io.EOF) {
		t.Fatalf("after the reset: %v %v, want a hang-up (EOF)", m, err)
	}
	c.c.Close()
	c2 := redial(t, link) // the device comes back under the same link
	_, info := c2.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if r := info.(*bc.RadioStateResponse); r.SwRadioState != bc.RadioSwitchStateOn {
		t.Errorf("radio %s after the reset, want on (power-up state)", r.SwRadioState)
	}
}

func TestScanTime(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) { s.Timings.Scan = Duration(400 * time.Millisecond) }))
	c := dial(t, path)
	c.open()
	start := time.Now()
	tid := c.commandNoWait(bc.UUID, bc.CIDVisibleProviders, mbim.CommandQuery, &bc.VisibleProvidersQuery{})
	// The modem keeps answering other commands during the scan.
	rtid := c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	first := c.expect(mbim.TypeCommandDone, 0)
	if first.TransactionID != rtid {
		t.Errorf("the scan (transaction %d) blocked the radio-state query (%d)", tid, rtid)
	}
	if first.TransactionID != tid {
		first = c.expect(mbim.TypeCommandDone, tid)
	}
	if d := time.Since(start); d < 400*time.Millisecond || first.Status != mbim.StatusNone {
		t.Errorf("scan answered %s after %v", first.Status, d)
	}
}

func TestMaxSessions(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) { s.Device.MaxSessions = 2 }))
	c := dial(t, path)
	c.open()
	for id := uint32(0); id < 3; id++ {
		m, _ := c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{SessionId: id, ActivationCommand: bc.ActivationCommandActivate, AccessString: "internet"})
		want := mbim.StatusNone
		if id == 2 {
			want = mbim.StatusInvalidParameters
		}
		if m.Status != want {
			t.Errorf("session %d: %s, want %s", id, m.Status, want)
		}
	}
	_, info := c.command(bc.UUID, bc.CIDIpConfiguration, mbim.CommandQuery, &bc.IpConfigurationQuery{SessionId: 1})
	if ip := info.(*bc.IpConfigurationResponse); ip.IPv4Address[0].IPv4Address.String() != "10.64.0.3" {
		t.Errorf("session 1 address %v", ip.IPv4Address)
	}
}

func TestModemLoggingConfig(t *testing.T) {
	mo, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	_, info := c.command(ms.UUID, ms.CIDModemLoggingConfig, mbim.CommandSet, &ms.ModemLoggingConfigSet{Version: 7,
		MaxSegmentSize: 100000, MaxFlushTime: 5, LevelConfig: ms.ModemLoggingLevelConfigLabVerbose})
	got := info.(*ms.ModemLoggingConfig)
	if got.Version != 1 || got.MaxSegmentSize != 1024 || got.MaxFlushTime != 100 || got.LevelConfig != ms.ModemLoggingLevelConfigLabVerbose {
		t.Errorf("adjusted config %+v", got)
	}
	if mo.LoggingConfig() != *got {
		t.Errorf("stored %+v", mo.LoggingConfig())
	}
	_, info = c.command(ms.UUID, ms.CIDModemLoggingConfig, mbim.CommandQuery, nil)
	if *info.(*ms.ModemLoggingConfig) != *got {
		t.Errorf("query %+v", info)
	}
}

func TestInProcess(t *testing.T) {
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc, stop := m.StartInProcess()
	defer stop()
	c := &client{t: t, c: hc, r: mbim.NewReassembler(0, 0), v: mbim.MBIMEx1}
	tid := c.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
	for {
		b, err := hc.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if msg, _ := mbim.ParseMessage(b); msg.Type == mbim.TypeOpenDone && msg.TransactionID == tid {
			break
		}
	}
}

func TestNoGoroutineLeaks(t *testing.T) {
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	n0 := runtime.NumGoroutine()

	m, _ := New(scenario(func(s *Scenario) {
		s.Timeline = []Event{{At: Duration(time.Hour), Type: "detach"}}
	}))
	hc, stop := m.StartInProcess()
	hc.WriteMessage(mustBytes(mbim.Message{Type: mbim.TypeOpen, TransactionID: 1, MaxControlTransfer: 4096}))
	hc.ReadMessage()
	stop()

	ctx, cancel := context.WithCancel(context.Background())
	link := filepath.Join(t.TempDir(), "mbim-sim")
	_, wait, err := m.StartPTY(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	c, err := transport.Open(link, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(mustBytes(mbim.Message{Type: mbim.TypeOpen, TransactionID: 1, MaxControlTransfer: 4096}))
	c.ReadMessage()
	c.Close()
	sock := filepath.Join(t.TempDir(), "s")
	uwait, err := m.StartUnix(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	u, err := transport.DialUnix(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteMessage(mustBytes(mbim.Message{Type: mbim.TypeOpen, TransactionID: 1, MaxControlTransfer: 4096}))
	u.ReadMessage()
	cancel()
	if err := wait(); err != nil {
		t.Error(err)
	}
	if err := uwait(); err != nil {
		t.Error(err)
	}
	u.Close()
	waitGoroutines(t, n0)
}

func mustBytes(m mbim.Message) []byte {
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func TestExampleScenario(t *testing.T) {
	sc, err := LoadScenario("../examples/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	if sc.MBIMEx != mbim.MBIMEx3 || sc.SIMs[0].State != SIMPINLocked || len(sc.Timeline) != 13 || len(sc.Faults) != 3 ||
		sc.Timings.Scan.D() != 3*time.Second || sc.IP.IPv4.String() != "100.64.12.34/29" || sc.PCO.Container != 0xFF00 ||
		sc.Device.DataClass&bc.DataClass5gNsa == 0 || !sc.SIMs[1].ESIM {
		t.Errorf("example scenario read as %+v", sc)
	}
	if _, err := New(sc); err != nil {
		t.Fatal(err)
	}
	// Keys a scenario file does not give keep their defaults.
	sc, err = ParseScenario([]byte(`{"network":{"home":{"plmn":"310260","name":"T-Mobile"}},"timings":{"scan":1500}}`))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultScenario()
	if sc.Network.Home.Name != "T-Mobile" || sc.Timings.Scan.D() != 1500*time.Millisecond || sc.Device.DeviceID != def.Device.DeviceID ||
		len(sc.SIMs) != 2 || sc.SIMs[0].IMSI != def.SIMs[0].IMSI || sc.Network.RSSI != def.Network.RSSI {
		t.Errorf("defaults lost: %+v", sc)
	}
	if _, err := ParseScenario([]byte(`{"sims":[{"state":"pin-lockd"}]}`)); err == nil {
		t.Error("bad SIM state accepted")
	}
	if _, err := ParseScenario([]byte(`{"netwrk":{}}`)); err == nil {
		t.Error("unknown key accepted")
	}
}

package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/sim"
	"github.com/gombim/gombim/transport"
)

// The tests in this file run sessions against the simulated modem (package
// sim) over real ptys, Unix sockets and in-process pipes.

// simLog collects the simulator's log, for assertions on what it saw.
type simLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *simLog) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *simLog) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

func (l *simLog) waitFor(t testing.TB, substr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if l.has(substr) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Fatalf("the simulator never logged %q:\n%s", substr, strings.Join(l.lines, "\n"))
}

type transportKind string

const (
	overPTY   transportKind = "pty"
	overUnix  transportKind = "unix"
	inProcess transportKind = "in-process"
)

var transports = []transportKind{overPTY, overUnix, inProcess}

// simDevice serves a new simulated modem for sc over kind and returns the
// modem, its log, and the path to give OpenPath (for in-process, a name
// that dial resolves).
type simDevice struct {
	m    *sim.Modem
	log  *simLog
	path string
	conn func(ctx context.Context) (transport.Conn, error) // in-process only
}

func startSim(t testing.TB, kind transportKind, sc *sim.Scenario) *simDevice {
	t.Helper()
	if sc == nil {
		sc = sim.DefaultScenario()
	}
	m, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	d := &simDevice{m: m, log: &simLog{}}
	m.SetLogger(d.log.logf)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	switch kind {
	case overPTY:
		d.path = filepath.Join(t.TempDir(), "mbim-sim")
		_, wait, err := m.StartPTY(ctx, d.path)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); wait() })
	case overUnix:
		d.path = filepath.Join(t.TempDir(), "sim.sock")
		wait, err := m.StartUnix(ctx, d.path)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); wait() })
	case inProcess:
		// The modem serves one host at a time, and a closed session's
		// connection is let go a moment after Close returns: the dialer
		// waits for that, as reopening a real port works at once
		// (StartInProcess for each connection did not, and the next open
		// sometimes found the modem still busy with the last one).
		d.path = "sim"
		dial, stop := m.Dialer()
		d.conn = dial
		t.Cleanup(stop)
	}
	return d
}

// open opens a session on the simulated device, through OpenPath.
func (d *simDevice) open(t testing.TB, opts Options) *Session {
	t.Helper()
	s, err := d.openErr(opts)
	if err != nil {
		t.Fatalf("OpenPath %s: %v", d.path, err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func (d *simDevice) openErr(opts Options) (*Session, error) {
	if d.conn != nil {
		opts.Dial = func(ctx context.Context, path string, _ transport.Options) (transport.Conn, error) {
			if path != "sim" {
				return nil, fmt.Errorf("unexpected path %q", path)
			}
			return d.conn(ctx)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return OpenPath(ctx, d.path, opts)
}

func withScenario(f func(sc *sim.Scenario)) *sim.Scenario {
	sc := sim.DefaultScenario()
	f(sc)
	return sc
}

func TestSimOpenClose(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, nil)
			var mu sync.Mutex
			var traced []string
			s, err := d.openErr(Options{Trace: func(dir string, raw []byte, dec *catalog.Decoded) {
				mu.Lock()
				traced = append(traced, dir+" "+dec.Message.Type.String())
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			if s.MBIMEx() != mbim.MBIMEx4 {
				t.Errorf("MBIMEx %v, want 4.0 (sim and host maximum)", s.MBIMEx())
			}
			if _, ext := s.DeviceVersion(); ext != mbim.MBIMEx4 {
				t.Errorf("device MBIMEx %v", ext)
			}
			svcs, _ := s.Services()
			if len(svcs) < 2 || !s.Supports(basicconnect.UUID, basicconnect.CIDConnect) {
				t.Errorf("services %v", svcs)
			}
			caps, err := s.DeviceCaps(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if caps.DeviceId != "356938035643809" || caps.MaxSessions != 8 {
				t.Errorf("device caps %+v", caps)
			}
			// The generated helpers work over the session (mbim.Caller).
			if caps2, err := basicconnect.QueryDeviceCaps(ctx, s); err != nil || caps2.FirmwareInfo != caps.FirmwareInfo {
				t.Errorf("basicconnect.QueryDeviceCaps: %+v, %v", caps2, err)
			}
			st, err := s.SubscriberStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.ReadyState != basicconnect.SubscriberReadyStateInitialized || st.SimICCID != "89014103211118510720" {
				t.Errorf("subscriber status %+v", st)
			}
			if _, ok := st.Info.(*basicconnect.SubscriberReadyStatusResponseV4); !ok {
				t.Errorf("subscriber status at MBIMEx 4.0 decoded as %T", st.Info)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			d.log.waitFor(t, "<- close")
			mu.Lock()
			defer mu.Unlock()
			want := []string{"send open", "recv open-done", "send command", "recv command-done"}
			if len(traced) < 4 || strings.Join(traced[:4], ",") != strings.Join(want, ",") {
				t.Errorf("trace starts %v, want %v", traced, want)
			}
			if traced[len(traced)-1] != "recv close-done" {
				t.Errorf("trace ends with %q", traced[len(traced)-1])
			}
		})
	}
}

func TestSimVersionNegotiation(t *testing.T) {
	versions := []mbim.Version{mbim.MBIMEx1, mbim.MBIMEx2, mbim.MBIMEx3, mbim.MBIMEx4}
	for _, native := range versions {
		for _, hostMax := range append([]mbim.Version{0}, versions...) {
			name := fmt.Sprintf("sim-%s/host-%s", native, hostMax)
			if hostMax == 0 {
				name = fmt.Sprintf("sim-%s/host-default", native)
			}
			t.Run(name, func(t *testing.T) {
				checkLeaks(t)
				d := startSim(t, inProcess, withScenario(func(sc *sim.Scenario) { sc.MBIMEx = native }))
				s := d.open(t, Options{MaxMBIMEx: hostMax})
				ctx := ctxT(t)
				effMax := hostMax
				if effMax == 0 {
					effMax = DefaultMaxMBIMEx
				}
				want := min(native, effMax)
				if s.MBIMEx() != want {
					t.Fatalf("MBIMEx %v, want %v", s.MBIMEx(), want)
				}
				if effMax > mbim.MBIMEx1 && native > mbim.MBIMEx1 {
					d.log.waitFor(t, "MBIMEx "+want.String()+" agreed")
				}
				// Layouts follow the version, both ways.
				reg, err := s.RegisterState(ctx)
				if err != nil {
					t.Fatal(err)
				}
				_, v2 := reg.Info.(*basicconnect.RegisterStateResponseV2)
				if v2 != (want >= mbim.MBIMEx2) || reg.State != basicconnect.RegisterStateHome {
					t.Errorf("register state %T %v at %v", reg.Info, reg.State, want)
				}
				st, err := s.SubscriberStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				wantType := map[mbim.Version]string{mbim.MBIMEx1: "SubscriberReadyStatusResponse",
					mbim.MBIMEx2: "SubscriberReadyStatusResponse", mbim.MBIMEx3: "SubscriberReadyStatusResponseV3",
					mbim.MBIMEx4: "SubscriberReadyStatusResponseV4"}[want]
				if got := fmt.Sprintf("%T", st.Info); got != "*basicconnect."+wantType {
					t.Errorf("subscriber status decoded as %s at %v, want %s", got, want, wantType)
				}
				c, err := s.Connect(ctx, ConnectParams{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6})
				if err != nil {
					t.Fatal(err)
				}
				if c.State != basicconnect.ActivationStateActivated || c.IP == nil || len(c.IP.IPv4Addresses) == 0 {
					t.Errorf("connection %+v ip %+v", c, c.IP)
				}
				if (want >= mbim.MBIMEx3) != (c.AccessString == "internet") {
					t.Errorf("connect response at %v: access string %q (%T)", want, c.AccessString, c.Info)
				}
				if dc, err := s.Disconnect(ctx, c.SessionID); err != nil || dc.State != basicconnect.ActivationStateDeactivated {
					t.Errorf("Disconnect: %+v, %v", dc, err)
				}
			})
		}
	}
}

func TestSimConcurrentRequests(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, nil)
			s := d.open(t, Options{})
			ctx := ctxT(t)
			const goroutines, each = 32, 20
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						var err error
						switch (g + i) % 4 {
						case 0:
							var c *basicconnect.DeviceCapsResponse
							if c, err = s.DeviceCaps(ctx); err == nil && c.MaxSessions != 8 {
								err = fmt.Errorf("device caps %+v", c)
							}
						case 1:
							var sig *Signal
							if sig, err = s.SignalState(ctx); err == nil && sig.RSSI == 0 {
								err = fmt.Errorf("signal %+v", sig)
							}
						case 2:
							var r *basicconnect.RadioStateResponse
							if r, err = s.RadioState(ctx); err == nil && r.SwRadioState != basicconnect.RadioSwitchStateOn {
								err = fmt.Errorf("radio %+v", r)
							}
						case 3:
							var st *SubscriberStatus
							if st, err = s.SubscriberStatus(ctx); err == nil && st.SubscriberID != "001010123456789" {
								err = fmt.Errorf("subscriber %+v", st)
							}
						}
						if err != nil {
							errs <- fmt.Errorf("goroutine %d request %d: %w", g, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestSimFragmentedResponses(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
				sc.Device.Firmware = strings.Repeat("firmware-", 50)
				sc.Faults = []sim.Fault{{Kind: sim.FaultFragment, MaxTransfer: 64}} // every response
			}))
			s := d.open(t, Options{})
			ctx := ctxT(t)
			caps, err := s.DeviceCaps(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if caps.FirmwareInfo != strings.Repeat("firmware-", 50) {
				t.Errorf("firmware %q", caps.FirmwareInfo)
			}
			// Concurrent fragmented responses.
			var wg sync.WaitGroup
			for i := 0; i < 16; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.DeviceCaps(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		})
	}
}

func TestSimFragmentedRequests(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overPTY, nil)
	s := d.open(t, Options{MaxControlTransfer: 64})
	ctx := ctxT(t)
	c, err := s.Connect(ctx, ConnectParams{APN: "internet", User: strings.Repeat("u", 100), Password: strings.Repeat("p", 100),
		Auth: basicconnect.AuthProtocolChap, IPType: basicconnect.ContextIpTypeIpv4})
	if err != nil {
		t.Fatal(err)
	}
	if c.IP == nil || len(c.IP.IPv4Addresses) == 0 {
		t.Errorf("ip %+v", c.IP)
	}
}

func TestSimOutOfOrderFragments(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overPTY, withScenario(func(sc *sim.Scenario) {
		sc.Device.Firmware = strings.Repeat("firmware-", 20)
		sc.Faults = []sim.Fault{{Kind: sim.FaultOutOfOrder, Service: "basic-connect", CID: "device-caps", Count: 1, MaxTransfer: 64}}
	}))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	_, err := s.DeviceCaps(ctx)
	if !errors.Is(err, mbim.ErrFragmentOutOfSequence) {
		t.Fatalf("err = %v, want ErrFragmentOutOfSequence", err)
	}
	d.log.waitFor(t, "host-error mbim: fragment out of sequence")
	// The remaining fragments arrive as continuations without a start;
	// the session answers and goes on.
	if _, err := s.DeviceCaps(ctx); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestSimDelayedAndDroppedResponses(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			log, lb := testLogger(t)
			d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
				sc.Faults = []sim.Fault{
					{Kind: sim.FaultDelay, Service: "basic-connect", CID: "device-caps", Count: 1, Delay: sim.Duration(300 * time.Millisecond)},
					{Kind: sim.FaultDrop, Service: "basic-connect", CID: "signal-state", Count: 1},
				}
			}))
			s := d.open(t, Options{Logger: log, RequestTimeout: 100 * time.Millisecond})

			// Delayed beyond the caller's deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := s.DeviceCaps(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("delayed: err = %v, want DeadlineExceeded", err)
			}
			if el := time.Since(start); el > 250*time.Millisecond {
				t.Errorf("the deadline error came after %v", el)
			}
			// Other requests go on meanwhile; the late response is dropped.
			if _, err := s.RadioState(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			lb.waitFor(t, "late response")

			// Dropped: the request timeout (no context deadline) fires.
			_, err = s.SignalState(context.Background())
			var re *RequestError
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &re) || !strings.Contains(err.Error(), "signal-state") {
				t.Fatalf("dropped: err = %v", err)
			}
			if _, err := s.SignalState(ctxT(t)); err != nil {
				t.Fatalf("after the drop: %v", err)
			}
		})
	}
}

func TestSimHangUpMidTransaction(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
				sc.Faults = []sim.Fault{
					// Keep requests pending, then hang up half-way through a response.
					{Kind: sim.FaultDelay, Service: "basic-connect", CID: "signal-state", Delay: sim.Duration(5 * time.Second)},
					{Kind: sim.FaultHangUp, Service: "basic-connect", CID: "device-caps", Count: 1},
				}
			}))
			s := d.open(t, Options{})
			ctx := ctxT(t)
			const n = 8
			errs := make(chan error, n+1)
			for i := 0; i < n; i++ {
				go func() { _, err := s.SignalState(ctx); errs <- err }()
			}
			time.Sleep(50 * time.Millisecond) // let them be sent
			start := time.Now()
			go func() { _, err := s.DeviceCaps(ctx); errs <- err }()
			for i := 0; i < n+1; i++ {
				err := waitErr(t, errs)
				if !errors.Is(err, ErrDeviceGone) || !errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want ErrDeviceGone wrapping io.EOF", err)
				}
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("pending requests failed %v after the hang-up", el)
			}
			select {
			case <-s.Done():
			case <-time.After(2 * time.Second):
				t.Fatal("session not ended")
			}
			if !strings.Contains(s.Err().Error(), "the modem went away") {
				t.Errorf("Err() = %v", s.Err())
			}
			if err := s.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
			// The pty comes back under the same link, as a reset modem
			// reappears: a new session works.
			if kind == overPTY {
				var s2 *Session
				var err error
				for i := 0; i < 50; i++ {
					if s2, err = d.openErr(Options{}); err == nil {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				if err != nil {
					t.Fatalf("reopen: %v", err)
				}
				if _, err := s2.RadioState(ctx); err != nil {
					t.Error(err)
				}
				s2.Close(ctx)
			}
		})
	}
}

func TestSimFunctionError(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overUnix, withScenario(func(sc *sim.Scenario) {
		sc.Faults = []sim.Fault{{Kind: sim.FaultFunctionError, Service: "basic-connect", CID: "radio-state", Count: 1, Error: "timeout-fragment"}}
	}))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	_, err := s.RadioState(ctx)
	var fe *FunctionError
	if !errors.Is(err, mbim.ErrTimeoutFragment) || !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FunctionError timeout-fragment", err)
	}
	if _, err := s.RadioState(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSimNotOpened(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, inProcess, withScenario(func(sc *sim.Scenario) {
		sc.Faults = []sim.Fault{{Kind: sim.FaultNotOpened, Service: "basic-connect", CID: "signal-state", Count: 1}}
	}))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	_, err := s.SignalState(ctx)
	if !errors.Is(err, mbim.ErrNotOpened) || !strings.Contains(err.Error(), "open it again") {
		t.Fatalf("err = %v, want FUNCTION_ERROR not-opened", err)
	}
	// The modem forgot the session: everything fails until a new OPEN.
	if _, err := s.DeviceCaps(ctx); !errors.Is(err, mbim.ErrNotOpened) {
		t.Fatalf("err = %v", err)
	}
	s.Close(ctx)
	s2 := d.open(t, Options{})
	if _, err := s2.DeviceCaps(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSimIndicationBeforeOpen(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	d := startSim(t, overPTY, withScenario(func(sc *sim.Scenario) {
		sc.Faults = []sim.Fault{{Kind: sim.FaultIndicationBeforeOpen, Count: 1}}
	}))
	s := d.open(t, Options{Logger: log})
	lb.waitFor(t, "indication with no subscriber")
	if _, err := s.DeviceCaps(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestSimUnknownServices(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overUnix, withScenario(func(sc *sim.Scenario) { sc.Services.Exclude = []string{"sms"} }))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	unknown := mbim.MustParseUUID("01234567-89ab-cdef-0123-456789abcdef")
	_, err := s.Command(ctx, unknown, 1, mbim.CommandQuery, nil)
	if !errors.Is(err, &mbim.StatusError{Status: mbim.StatusNoDeviceSupport}) {
		t.Fatalf("unknown service: %v", err)
	}
	if s.Supports(unknown, 0) {
		t.Error("Supports(unknown service)")
	}
	sms := catalog.ServiceByName("sms")
	if s.Supports(sms.UUID, 0) {
		t.Error("the sim excludes sms but Supports says yes")
	}
	d2, err := s.Query(ctx, sms.UUID, 1, nil) // sms configuration
	if !errors.Is(err, &mbim.StatusError{Status: mbim.StatusNoDeviceSupport, Service: sms.UUID}) {
		t.Fatalf("excluded service: %v, %v", d2, err)
	}
	if d2 == nil || d2.Message.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("decoded failure %v", d2)
	}
	// Unknown CID of a known service.
	if _, err := s.Command(ctx, basicconnect.UUID, 200, mbim.CommandQuery, nil); !errors.Is(err, &mbim.StatusError{Status: mbim.StatusNoDeviceSupport}) {
		t.Fatalf("unknown cid: %v", err)
	}
}

func TestSimCloseBeforeOpen(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
				sc.Faults = []sim.Fault{{Kind: sim.FaultCloseDoneOnOpen, Count: 1}}
			}))
			s := d.open(t, Options{})
			d.log.waitFor(t, "<- close")
			if _, err := s.DeviceCaps(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if f := d.m.FaultsFired(); f[0] != 1 {
				t.Errorf("fault fired %d times", f[0])
			}
		})
	}
}

func TestSimGarbageAndCorruption(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	d := startSim(t, overPTY, withScenario(func(sc *sim.Scenario) {
		sc.Faults = []sim.Fault{
			{Kind: sim.FaultGarbage, Service: "basic-connect", CID: "device-caps", Count: 1},
			{Kind: sim.FaultCorruptLength, Service: "basic-connect", CID: "radio-state", Count: 1},
			{Kind: sim.FaultDuplicate, Service: "basic-connect", CID: "signal-state", Count: 1},
		}
	}))
	s := d.open(t, Options{Logger: log})
	ctx := ctxT(t)
	if _, err := s.DeviceCaps(ctx); err != nil {
		t.Fatalf("after garbage: %v", err)
	}
	lb.waitFor(t, "corrupt framing")
	_, err := s.RadioState(ctx)
	var fe *mbim.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("corrupt length: %v", err)
	}
	d.log.waitFor(t, "host-error mbim: length mismatch")
	if _, err := s.SignalState(ctx); err != nil {
		t.Fatal(err)
	}
	lb.waitFor(t, "dropping a response that matches no request")
	if _, err := s.RadioState(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSimIndicationsAndSubscribe(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			checkLeaks(t)
			d := startSim(t, kind, nil)
			s := d.open(t, Options{})
			ctx := ctxT(t)
			radio, stop, err := s.Watch(ctx, Event{basicconnect.UUID, basicconnect.CIDRadioState})
			if err != nil {
				t.Fatal(err)
			}
			var cbMu sync.Mutex
			var cb []uint32
			stopCB := s.OnIndication(func(d *catalog.Decoded) {
				cbMu.Lock()
				cb = append(cb, d.Message.CID)
				cbMu.Unlock()
				// A callback may make requests.
				if _, err := s.RadioState(ctx); err != nil {
					t.Error(err)
				}
			}, Event{Service: basicconnect.UUID})
			d.m.Inject(sim.Event{Type: "radio-off"})
			select {
			case ind := <-radio:
				r, ok := ind.Info.(*basicconnect.RadioStateResponse)
				if !ok || r.SwRadioState != basicconnect.RadioSwitchStateOff {
					t.Fatalf("indication %v", ind)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no radio-state indication")
			}
			// Only radio-state was subscribed: a register-state change
			// (radio off deregisters) is not sent.
			sub, _ := s.SubscribeList()
			if len(sub) != 1 || !equalU32(sub[0].Cids, []uint32{basicconnect.CIDRadioState}) {
				t.Errorf("subscribe list %+v", sub)
			}
			stop()
			if _, ok := <-radio; ok {
				t.Error("channel not closed by stop")
			}
			sub, _ = s.SubscribeList()
			if len(sub) != 0 {
				t.Errorf("subscribe list after stop %+v", sub)
			}
			d.m.Inject(sim.Event{Type: "radio-on"})
			time.Sleep(50 * time.Millisecond)
			stopCB()
			cbMu.Lock()
			defer cbMu.Unlock()
			if len(cb) != 1 || cb[0] != basicconnect.CIDRadioState {
				t.Errorf("callback saw %v, want one radio-state (nothing after the empty subscribe list)", cb)
			}
		})
	}
}

func TestSimMSExtensions(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overUnix, withScenario(func(sc *sim.Scenario) { sc.MBIMEx = mbim.MBIMEx3 }))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	dec, err := s.Query(ctx, msbasicconnectext.UUID, msbasicconnectext.CIDSysCaps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dec.Info.(*msbasicconnectext.SysCapsResponse); !ok {
		t.Errorf("sys caps decoded as %T", dec.Info)
	}
	ps, err := s.PacketServiceState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ps.Info.(*basicconnect.PacketServiceResponseV3); !ok || ps.State != basicconnect.PacketServiceStateAttached {
		t.Errorf("packet service %+v (%T)", ps, ps.Info)
	}
}

func TestSimOpsSequence(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, overPTY, withScenario(func(sc *sim.Scenario) {
		sc.SIMs[0].State = sim.SIMPINLocked
		sc.MBIMEx = mbim.MBIMEx2
	}))
	s := d.open(t, Options{})
	ctx := ctxT(t)
	st, err := s.SubscriberStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ReadyState != basicconnect.SubscriberReadyStateDeviceLocked {
		t.Errorf("ready state %v, want device-locked", st.ReadyState)
	}
	pin, err := s.EnterPIN(ctx, "0000")
	if err == nil || pin == nil || pin.RemainingAttempts != 2 {
		t.Errorf("wrong PIN: %+v, %v", pin, err)
	}
	if pin, err = s.EnterPIN(ctx, "1234"); err != nil || pin.PinState != basicconnect.PinStateUnlocked {
		t.Fatalf("right PIN: %+v, %v", pin, err)
	}
	if _, err := s.SetRadioState(ctx, true); err != nil {
		t.Fatal(err)
	}
	reg, err := s.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = reg
	deadline := time.Now().Add(5 * time.Second)
	for reg.State != basicconnect.RegisterStateHome && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if reg, err = s.RegisterState(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if reg.State != basicconnect.RegisterStateHome || reg.ProviderID == "" {
		t.Fatalf("registration %+v", reg)
	}
	ps, err := s.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps.State != basicconnect.PacketServiceStateAttached && ps.State != basicconnect.PacketServiceStateAttaching {
		t.Errorf("attach: %+v", ps)
	}
	sig, err := s.SignalState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dbm, ok := sig.DBm(); !ok || dbm > -51 || dbm < -113 {
		t.Errorf("signal %+v", sig)
	}
	c, err := s.Connect(ctx, ConnectParams{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6, SessionID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionID != 1 || c.IP == nil || c.IP.IPv4Gateway.IsValid() == false || len(c.IP.IPv4DNS) == 0 {
		t.Errorf("connection %+v ip %+v", c, c.IP)
	}
	cs, err := s.ConnectionState(ctx, 1)
	if err != nil || cs.State != basicconnect.ActivationStateActivated {
		t.Errorf("connection state %+v, %v", cs, err)
	}
	if _, err := s.Disconnect(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if ps, err = s.Detach(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSimUnansweredDiscovery(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	d := startSim(t, overUnix, withScenario(func(sc *sim.Scenario) {
		sc.Faults = []sim.Fault{{Kind: sim.FaultDrop, Service: "basic-connect", CID: "device-services", Count: 1}}
	}))
	start := time.Now()
	s := d.open(t, Options{Logger: log, RequestTimeout: 100 * time.Millisecond})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Open took %v", el)
	}
	lb.waitFor(t, "DEVICE_SERVICES failed")
	// Nothing is known about the services, so VERSION was tried anyway.
	if s.MBIMEx() != mbim.MBIMEx4 {
		t.Errorf("MBIMEx %v", s.MBIMEx())
	}
	if svcs, _ := s.Services(); svcs != nil || !s.Supports(basicconnect.UUID, 1) {
		t.Errorf("services %v", svcs)
	}
}

// Faults of the OPEN and CLOSE exchanges, produced by the simulator (the
// same as TestOpenRetries, TestCloseBeforeOpen and TestCloseWithoutCloseDone
// play by hand over a pipe).
func TestSimOpenFaults(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			t.Run("open-dropped", func(t *testing.T) {
				checkLeaks(t)
				log, lb := testLogger(t)
				d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
					sc.Faults = []sim.Fault{{Kind: sim.FaultDrop, Message: "open", Count: 2}}
				}))
				start := time.Now()
				s := d.open(t, Options{OpenRetryInterval: 40 * time.Millisecond, Logger: log})
				if el := time.Since(start); el < 120*time.Millisecond {
					t.Errorf("opened within %v; two dropped OPENs take waits of 40ms then 80ms", el)
				}
				lb.waitFor(t, "sending it again")
				if f := d.m.FaultsFired(); f[0] != 2 {
					t.Errorf("OPEN dropped %d times, want 2", f[0])
				}
				if _, err := s.DeviceCaps(ctxT(t)); err != nil {
					t.Fatal(err)
				}
			})
			// OPEN refused (FUNCTION_ERROR not-opened, or a failed
			// OPEN_DONE): the session closes and opens again.
			for _, f := range []sim.Fault{
				{Kind: sim.FaultFunctionError, Message: "open", Error: "not-opened", Count: 1},
				{Kind: sim.FaultStatus, Message: "open", Status: "failure", Count: 1},
			} {
				t.Run("open-"+f.Kind, func(t *testing.T) {
					checkLeaks(t)
					d := startSim(t, kind, withScenario(func(sc *sim.Scenario) { sc.Faults = []sim.Fault{f} }))
					s := d.open(t, Options{})
					d.log.waitFor(t, "<- close")
					if f := d.m.FaultsFired(); f[0] != 1 {
						t.Errorf("fault fired %d times", f[0])
					}
					if _, err := s.DeviceCaps(ctxT(t)); err != nil {
						t.Fatal(err)
					}
				})
			}
			t.Run("close-unanswered", func(t *testing.T) {
				checkLeaks(t)
				d := startSim(t, kind, withScenario(func(sc *sim.Scenario) {
					sc.Faults = []sim.Fault{{Kind: sim.FaultDrop, Message: "close"}}
				}))
				s := d.open(t, Options{CloseTimeout: 100 * time.Millisecond})
				start := time.Now()
				err := s.Close(ctxT(t))
				if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "CLOSE_DONE") {
					t.Fatalf("Close: %v", err)
				}
				if el := time.Since(start); el > 2*time.Second {
					t.Errorf("Close took %v", el)
				}
				d.log.waitFor(t, "<- close")
				if _, err := s.DeviceCaps(ctxT(t)); !errors.Is(err, ErrClosed) {
					t.Errorf("request after Close: %v", err)
				}
			})
		})
	}
}

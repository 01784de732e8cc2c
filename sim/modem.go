// Package sim is a simulated MBIM modem: the device side of MBIM, stateful
// and consistent across messages, configured by a Scenario. It serves one
// host at a time over any transport.Conn (a pty that mbimcli or gombim
// opens like a cdc-wdm port, a Unix socket, or an in-process pipe) and
// survives hosts coming and going; its state (radio, SIM, registration,
// connections...) lives in the Modem and outlasts them.
//
// Each service's behaviour lives in its own file and registers one Handler
// per CID with Handle; see docs/simulator.md for how to add one.
package sim

import (
	"fmt"
	"log"
	"net/netip"
	"sync"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

// Modem is a simulated modem. Its methods are safe for concurrent use.
type Modem struct {
	mu  sync.Mutex
	sc  *Scenario
	log func(format string, args ...any)

	// serving
	host     *host     // the connected host, or nil
	serving  int       // running Serve calls
	t0       time.Time // when serving first started (timeline origin)
	fired    []bool    // timeline events already done
	timers   map[*time.Timer]struct{}
	timerWG  sync.WaitGroup
	downTill time.Time // device in reset: ignore everything until then
	epoch    int       // incremented by a device reset
	// resetPending asks for a device reset once the current response is out
	resetPending bool
	faults       []*faultState

	// pending indications queued by a handler, sent after its response
	inHandler bool
	pending   [][]byte

	ext map[string]any

	// Basic Connect state
	swRadio    bool
	hwRadio    bool
	sims       []simState
	slot       uint32
	reg        regState
	psState    basicconnect.PacketServiceState
	psNwError  uint32
	signal     signalState
	sessions   map[uint32]*session
	preferred  []basicconnect.Provider
	home       basicconnect.Provider
	idleHint   basicconnect.NetworkIdleHintState
	emergency  basicconnect.EmergencyModeState
	filters    map[uint32][]basicconnect.PacketFilterV3
	statsBase  stats
	servActNwE uint32

	// MS Basic Connect Extensions state (contextsV2 also backs the Basic
	// Connect provisioned contexts)
	contextsV2 []msbasicconnectext.ProvisionedContextElementV4
	lteAttach  []msbasicconnectext.LteAttachConfiguration
	logging    msbasicconnectext.ModemLoggingConfig
	regParams  msbasicconnectext.RegistrationParametersSetV3
	dss        map[dssKey]struct{}
	dlog       *logData // log data of the logging DSS sessions (dsslog.go)
}

type simState struct {
	cfg        SIM
	state      string
	pinEnabled bool
	pinLeft    int
	pukLeft    int
}

type regState struct {
	state   basicconnect.RegisterState
	mode    basicconnect.RegisterMode
	plmn    string
	name    string
	nwError uint32
}

type signalState struct {
	rssi, errorRate                    uint32
	rsrp                               int32
	snr                                float64
	interval, rssiThreshold, errThresh uint32
	reported                           uint32 // RSSI last reported in an indication
	lastReport                         time.Time
	reportPending                      bool
}

type session struct {
	id       uint32
	ctxType  mbim.ContextType
	apn      string
	ipType   basicconnect.ContextIpType
	since    time.Time
	snssai   mbim.TLV
	media    basicconnect.AccessMediaType
	activeV3 bool
}

type stats struct {
	inOctets, outOctets, inPackets, outPackets uint64
}

type dssKey struct {
	service mbim.UUID
	session uint32
}

// New returns a modem in the state that sc describes (DefaultScenario if
// nil). The scenario is copied and checked.
func New(sc *Scenario) (*Modem, error) {
	if sc == nil {
		sc = DefaultScenario()
	}
	sc = sc.Clone()
	if err := sc.Check(); err != nil {
		return nil, err
	}
	m := &Modem{sc: sc, log: func(string, ...any) {}, timers: map[*time.Timer]struct{}{}}
	m.fired = make([]bool, len(sc.Timeline))
	for _, f := range sc.Faults {
		m.faults = append(m.faults, &faultState{Fault: f})
	}
	m.resetState()
	return m, nil
}

// SetLogger makes the modem describe what it does (one line per message,
// state change and fault) with logf; nil silences it.
func (m *Modem) SetLogger(logf func(format string, args ...any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if logf == nil {
		logf = func(string, ...any) {}
	}
	m.log = logf
}

// StdLogger is a SetLogger argument that prints with the log package.
func StdLogger(format string, args ...any) { log.Printf("sim: "+format, args...) }

// Scenario returns a copy of the modem's scenario.
func (m *Modem) Scenario() *Scenario { return m.sc.Clone() }

// resetState puts the device state back to what the scenario says (power
// on, or after a device reset).
func (m *Modem) resetState() {
	sc := m.sc
	m.hwRadio = !sc.Device.HwRadioOff
	m.swRadio = !sc.Device.RadioOff
	m.sims = make([]simState, len(sc.SIMs))
	for i, c := range sc.SIMs {
		m.sims[i] = simState{cfg: c, state: c.State, pinEnabled: c.PINEnabled, pinLeft: c.PINAttempts, pukLeft: c.PUKAttempts}
	}
	m.slot = sc.ActiveSlot
	m.home = provider(sc.Network.Home, basicconnect.ProviderStateHome)
	m.preferred = nil
	for _, o := range append([]Operator{sc.Network.Home}, sc.Network.Visible...) {
		if o.Preferred && !containsProvider(m.preferred, o.PLMN) {
			m.preferred = append(m.preferred, provider(o, basicconnect.ProviderStatePreferred))
		}
	}
	m.signal = signalState{rssi: sc.Network.RSSI, errorRate: sc.Network.ErrorRate, rsrp: sc.Network.RSRP, snr: sc.Network.SNR,
		errThresh: 0xFFFFFFFF}
	m.sessions = map[uint32]*session{}
	m.filters = map[uint32][]basicconnect.PacketFilterV3{}
	m.contextsV2 = nil
	for i, c := range sc.Contexts {
		m.contextsV2 = append(m.contextsV2, contextV2(uint32(i+1), c))
	}
	m.lteAttach = nil
	for _, c := range sc.LTEAttach {
		m.lteAttach = append(m.lteAttach, lteAttachConfig(c))
	}
	lvl, _ := parseLoggingLevel(sc.Logging.Level)
	m.logging = msbasicconnectext.ModemLoggingConfig{Version: 1, MaxSegmentSize: sc.Logging.MaxSegmentSize,
		MaxFlushTime: sc.Logging.MaxFlushTime, LevelConfig: lvl}
	m.regParams = msbasicconnectext.RegistrationParametersSetV3{MicoMode: msbasicconnectext.MicoModeDisabled,
		DrxCycle: msbasicconnectext.DrxCycleNotSpecified, LadnInfo: msbasicconnectext.LadnInfoNotNeeded,
		DefaultPduActivationHint: msbasicconnectext.DefaultPduActivationHintLikely}
	m.idleHint = basicconnect.NetworkIdleHintStateDisabled
	m.emergency = basicconnect.EmergencyModeStateOff
	if sc.Network.Emergency {
		m.emergency = basicconnect.EmergencyModeStateOn
	}
	m.resetLogging() // logging DSS sessions stay open (dsslog.go)
	m.statsBase = stats{}
	m.ext = map[string]any{}
	m.reg = regState{mode: basicconnect.RegisterModeAutomatic}
	m.psState = basicconnect.PacketServiceStateDetached
	m.autoRegister()
}

// Ext returns the state that a service keeps under key, creating it with
// init the first time (and again after a device reset). Services added in
// their own files keep their state here.
func (m *Modem) Ext(key string, init func() any) any {
	v, ok := m.ext[key]
	if !ok {
		v = init()
		m.ext[key] = v
	}
	return v
}

// Lock and Unlock give tests and embedding code exclusive access to the
// modem (handlers already run locked).
func (m *Modem) Lock()   { m.mu.Lock() }
func (m *Modem) Unlock() { m.mu.Unlock() }

// Version returns the MBIMEx version agreed with the connected host (1.0
// when none was agreed or no host is open). Call with the modem locked.
func (m *Modem) Version() mbim.Version {
	if m.host == nil || !m.host.open {
		return mbim.MBIMEx1
	}
	return m.host.version
}

// Logf logs a line through the modem's logger. Call with the modem locked.
func (m *Modem) Logf(format string, args ...any) { m.log(format, args...) }

// Notify sends an INDICATE_STATUS for (service, cid) with info to the
// connected host, if it is open and subscribed to that CID. info must have
// the catalog's notification type at the agreed version (see Version).
// Called from a handler, the indication goes out after the response. Call
// with the modem locked.
func (m *Modem) Notify(service mbim.UUID, cid uint32, info mbim.Info) {
	h := m.host
	if h == nil || !h.open || !h.subscribed(service, cid) {
		return
	}
	if err := checkInfo(service, cid, mbim.KindNotify, h.version, info); err != nil {
		m.log("BUG: notification not sent: %v", err)
		return
	}
	b, err := catalog.Build(mbim.TypeIndicateStatus, 0, service, cid, 0, 0, info)
	if err != nil {
		m.log("BUG: notification %s: %v", catalog.CIDName(service, cid), err)
		return
	}
	m.log("-> indicate %s %s", catalog.ServiceName(service), catalog.CIDName(service, cid))
	if m.inHandler {
		m.pending = append(m.pending, b)
		return
	}
	h.sendMessage(b, sendOpts{})
}

// flushPending sends the indications queued during a handler.
func (m *Modem) flushPending() {
	p := m.pending
	m.pending = nil
	m.inHandler = false
	if m.host == nil {
		return
	}
	for _, b := range p {
		m.host.sendMessage(b, sendOpts{})
	}
}

// After runs f (modem locked) after d, unless serving stops first. It is
// for state changes that take time (a scan, a registration).
func (m *Modem) After(d time.Duration, f func(m *Modem)) {
	var t *time.Timer
	m.timerWG.Add(1)
	t = time.AfterFunc(d, func() {
		defer m.timerWG.Done()
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.timers[t]; !ok {
			return // stopped
		}
		delete(m.timers, t)
		f(m)
	})
	m.timers[t] = struct{}{}
}

// stopTimers cancels every pending After; modem locked. Waiting for
// callbacks already running happens in waitTimers, unlocked.
func (m *Modem) stopTimers() {
	for t := range m.timers {
		if t.Stop() {
			m.timerWG.Done()
		}
		delete(m.timers, t)
	}
}

// activeSIM returns the SIM in the active slot.
func (m *Modem) activeSIM() *simState { return &m.sims[m.slot] }

func (m *Modem) radioOn() bool { return m.swRadio && m.hwRadio }

// simReady reports whether the active SIM is unlocked.
func (m *Modem) simReady() bool { return m.activeSIM().state == SIMReady }

func provider(o Operator, state basicconnect.ProviderState) basicconnect.Provider {
	return basicconnect.Provider{ProviderId: o.PLMN, ProviderName: o.Name, ProviderState: state,
		CellularClass: basicconnect.CellularClassGsm, Rssi: o.RSSI, ErrorRate: o.ErrorRate}
}

func containsProvider(l []basicconnect.Provider, plmn string) bool {
	for _, p := range l {
		if p.ProviderId == plmn {
			return true
		}
	}
	return false
}

// operator finds a visible operator (or the home one) by PLMN.
func (m *Modem) operator(plmn string) (Operator, bool) {
	if plmn == m.sc.Network.Home.PLMN {
		return m.sc.Network.Home, true
	}
	for _, o := range m.sc.Network.Visible {
		if o.PLMN == plmn {
			return o, true
		}
	}
	return Operator{}, false
}

// sessionAddr returns the address of session id: the scenario's address
// plus id.
func sessionAddr(p netip.Prefix, id uint32) netip.Addr {
	a := p.Addr()
	for i := uint32(0); i < id; i++ {
		a = a.Next()
	}
	return a
}

func parseLoggingLevel(s string) (msbasicconnectext.ModemLoggingLevelConfig, error) {
	if s == "" {
		return msbasicconnectext.ModemLoggingLevelConfigProd, nil
	}
	v, err := msbasicconnectext.ParseModemLoggingLevelConfig(s)
	if err != nil {
		return 0, fmt.Errorf("level %q: %v", s, err)
	}
	return v, nil
}

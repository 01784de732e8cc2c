package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// Scenario describes a simulated modem: who it is, what SIMs and networks
// it sees, how long things take, what happens when (Timeline) and which
// protocol faults it commits (Faults). docs/simulator.md documents every
// JSON key; examples/scenario.json is a complete example.
//
// LoadScenario reads a scenario file over DefaultScenario, so a file only
// needs the keys it changes.
type Scenario struct {
	// Name is shown in logs.
	Name string `json:"name"`
	// MBIMEx is the highest MBIM extensions version the modem supports
	// (1.0 to 4.0). A VERSION exchange settles on the lower of this and the
	// host's version; 1.0 means the modem does not know the VERSION command.
	MBIMEx mbim.Version `json:"mbimex"`

	Device      Device          `json:"device"`
	SIMs        []SIM           `json:"sims"`
	ActiveSlot  uint32          `json:"active_slot"`
	Network     Network         `json:"network"`
	IP          IPConfig        `json:"ip"`
	AllowedAPNs []string        `json:"allowed_apns"`
	Contexts    []Context       `json:"provisioned_contexts"`
	LTEAttach   []Context       `json:"lte_attach"`
	PCO         PCOConfig       `json:"pco"`
	Logging     LoggingConfig   `json:"modem_logging"`
	Services    ServicesConfig  `json:"device_services"`
	Timings     Timings         `json:"timings"`
	Timeline    []Event         `json:"timeline"`
	Faults      []Fault         `json:"faults"`
	Extra       json.RawMessage `json:"extra,omitempty"`

	// Services in files of their own keep their settings in types of
	// their own, checked by the functions they register with
	// registerScenarioCheck (which also fill in their defaults).
	SMS       SMSConfig       `json:"sms"`
	USSD      USSDConfig      `json:"ussd"`
	Phonebook PhonebookConfig `json:"phonebook"`
	UICC      UICCConfig      `json:"uicc"`
	SAR       SARConfig       `json:"sar"`
	STK       STKConfig       `json:"stk"`
	Auth      AuthConfig      `json:"auth"`
	NITZ      NITZConfig      `json:"nitz"`

	// UEPolicy is the UE policies (URSP rules) the network sends, as
	// MBIMEx 4.0 UE policy carries them (hex; none by default).
	UEPolicy mbim.Bytes `json:"ue_policy"`
}

// scenarioChecks check and complete the scenario keys of services added in
// files of their own.
var scenarioChecks []func(*Scenario) error

// registerScenarioCheck adds a check that Scenario.Check runs (from init).
func registerScenarioCheck(f func(*Scenario) error) { scenarioChecks = append(scenarioChecks, f) }

// Device is the modem's identity and capabilities.
type Device struct {
	DeviceID     string                     `json:"device_id"` // IMEI
	Manufacturer string                     `json:"manufacturer"`
	Model        string                     `json:"model"`
	Firmware     string                     `json:"firmware"`
	Hardware     string                     `json:"hardware"`
	FirmwareID   mbim.UUID                  `json:"firmware_id"`
	DeviceType   basicconnect.DeviceType    `json:"device_type"`
	DataClass    basicconnect.DataClass     `json:"data_class"`
	SmsCaps      basicconnect.SmsCaps       `json:"sms_caps"`
	ControlCaps  basicconnect.CtrlCaps      `json:"control_caps"`
	VoiceClass   basicconnect.VoiceClass    `json:"voice_class"`
	CellClass    basicconnect.CellularClass `json:"cellular_class"`
	MaxSessions  uint32                     `json:"max_sessions"`
	LTEBands     []uint16                   `json:"lte_bands"`
	NRBands      []uint16                   `json:"nr_bands"`
	ModemID      uint64                     `json:"modem_id"`
	// HwRadioOff simulates a hardware radio switch in the off position.
	HwRadioOff bool `json:"hw_radio_off"`
	// RadioOff starts the modem with its software radio switch off.
	RadioOff bool `json:"radio_off"`
}

// SIM states.
const (
	SIMReady       = "ready"
	SIMPINLocked   = "pin-locked"
	SIMPUKLocked   = "puk-locked"
	SIMNotInserted = "not-inserted"
	SIMBlocked     = "blocked" // PUK attempts exhausted: a bad SIM
)

// SIM is the card in one slot.
type SIM struct {
	// State is ready, pin-locked, puk-locked, not-inserted or blocked.
	State      string   `json:"state"`
	ICCID      string   `json:"iccid"`
	IMSI       string   `json:"imsi"`
	OwnNumbers []string `json:"own_numbers"`
	PIN1       string   `json:"pin1"`
	PUK1       string   `json:"puk1"`
	// PINEnabled says PIN1 is required at power-up; implied by pin-locked.
	PINEnabled  bool `json:"pin_enabled"`
	PINAttempts int  `json:"pin_attempts"`
	PUKAttempts int  `json:"puk_attempts"`
	ESIM        bool `json:"esim"`
}

// Operator is one network.
type Operator struct {
	PLMN      string `json:"plmn"` // MCC and MNC digits, e.g. "310260"
	Name      string `json:"name"`
	RSSI      uint32 `json:"rssi"` // 0..31, 99 unknown
	ErrorRate uint32 `json:"error_rate"`
	Forbidden bool   `json:"forbidden"`
	// Preferred puts the operator on the preferred-providers list.
	Preferred bool `json:"preferred"`
}

// Network is the radio environment.
type Network struct {
	Home    Operator   `json:"home"`
	Visible []Operator `json:"visible"`
	// Register is the registration at power-up: home, roaming (on the
	// first visible non-home operator, or RoamingOn), denied, searching or
	// deregistered.
	Register  string `json:"register"`
	RoamingOn string `json:"roaming_on"`
	// DeniedError is the NwError reported with denied (default 11,
	// plmn-not-allowed).
	DeniedError uint32 `json:"denied_error"`
	// AutoAttach attaches packet service as soon as registered.
	AutoAttach bool                   `json:"auto_attach"`
	DataClass  basicconnect.DataClass `json:"data_class"` // current data class
	RSSI       uint32                 `json:"rssi"`
	ErrorRate  uint32                 `json:"error_rate"`
	RSRP       int32                  `json:"rsrp"` // dBm
	SNR        float64                `json:"snr"`  // dB
	LAC        uint32                 `json:"lac"`
	TAC        uint32                 `json:"tac"`
	CellID     uint32                 `json:"cell_id"`
	EARFCN     uint32                 `json:"earfcn"`
	PCI        uint32                 `json:"pci"`
	Uplink     uint64                 `json:"uplink_bps"`
	Downlink   uint64                 `json:"downlink_bps"`
	Emergency  bool                   `json:"emergency"`
	// ThroughputBps is how fast the packet counters grow while connected
	// (bytes per second, each direction).
	ThroughputBps uint64 `json:"throughput_bps"`
}

// IPConfig is the IP configuration of session 0. Session N gets the
// addresses of session 0 plus N.
type IPConfig struct {
	IPv4        netip.Prefix `json:"ipv4"`
	IPv4Gateway netip.Addr   `json:"ipv4_gateway"`
	IPv4DNS     []netip.Addr `json:"ipv4_dns"`
	IPv6        netip.Prefix `json:"ipv6"`
	IPv6Gateway netip.Addr   `json:"ipv6_gateway"`
	IPv6DNS     []netip.Addr `json:"ipv6_dns"`
	MTU         uint32       `json:"mtu"`
	IPv6MTU     uint32       `json:"ipv6_mtu"`
	// Username and Password, when set, are required on connect.
	Username string `json:"username"`
	Password string `json:"password"`
}

// Context is a provisioned context (or an LTE attach configuration).
type Context struct {
	ContextType mbim.ContextType           `json:"context_type"`
	APN         string                     `json:"apn"`
	Username    string                     `json:"username"`
	Password    string                     `json:"password"`
	Auth        basicconnect.AuthProtocol  `json:"auth"`
	IPType      basicconnect.ContextIpType `json:"ip_type"`
	Roaming     string                     `json:"roaming"` // lte_attach: home, partner, non-partner
	ProviderID  string                     `json:"provider_id"`
}

// PCOConfig is the operator-specific PCO container the network sends on
// connect (MS Basic Connect Extensions PCO).
type PCOConfig struct {
	Disabled  bool       `json:"disabled"`
	Container uint16     `json:"container"` // 0xFF00..0xFFFF
	PLMN      string     `json:"plmn"`      // default: the home PLMN
	Value     mbim.Bytes `json:"value"`     // hex
}

// LoggingConfig is the initial modem logging configuration and the log
// data the modem produces while a logging DSS session is open (see
// dsslog.go).
type LoggingConfig struct {
	MaxSegmentSize uint32 `json:"max_segment_size"`
	MaxFlushTime   uint32 `json:"max_flush_time"`
	Level          string `json:"level"`

	// Rate is how many bytes of log data per second the modem produces
	// for each open logging session: 0 means DefaultLogRate, -1 as fast
	// as the data path takes them.
	Rate int64 `json:"rate"`
	// Content is what the log data looks like: "text" (log lines, the
	// default), "random" (pseudo-random bytes) or "counter" (each 8-byte
	// word holds its stream offset, big-endian). It is a deterministic
	// function of Seed and the DSS session id: see LogContent.
	Content string `json:"content"`
	Seed    uint64 `json:"seed"`
	// NTBSocket is where the modem serves its log data as raw NTBs: a
	// Unix socket path, "@name" for the abstract namespace, "" for an
	// abstract socket named after the process (see Modem.LogSocket), or
	// "off".
	NTBSocket string `json:"ntb_socket"`
	// NTBFormat (ntb16, ntb32) and NTBMaxSize (bytes) shape the NTBs on
	// the socket: by default NTB32 blocks of up to DefaultLogNTBMaxSize,
	// room for a 1024 KiB segment.
	NTBFormat  string `json:"ntb_format"`
	NTBMaxSize int    `json:"ntb_max_size"`
	// Netdev, if set, is a network interface (one end of a veth pair) on
	// which the modem also sends its log data as cdc_mbim presents it:
	// Ethernet frames tagged VLAN 256+session.
	Netdev string `json:"netdev"`
}

// ServicesConfig selects what DEVICE_SERVICES advertises.
type ServicesConfig struct {
	// Exclude lists services (nicknames or UUIDs) the modem neither
	// advertises nor answers.
	Exclude []string `json:"exclude"`
	// DSS lists the services that carry device service streams.
	DSS            []DSSService `json:"dss"`
	MaxDSSSessions uint32       `json:"max_dss_sessions"`
}

// DSSService is one device service stream service.
type DSSService struct {
	UUID         mbim.UUID `json:"uuid"`
	Payload      uint32    `json:"payload"` // bit 0 host to device, bit 1 device to host
	MaxInstances uint32    `json:"max_instances"`
}

// ModemFileTransfer is the DSS service that carries modem logs.
var ModemFileTransfer = mbim.MustParseUUID("0ebb1ceb-af2d-484d-8df3-53bc51fd162c")

// Timings are how long operations take.
type Timings struct {
	Scan       Duration `json:"scan"`
	Register   Duration `json:"register"`
	Attach     Duration `json:"attach"`
	Connect    Duration `json:"connect"`
	Disconnect Duration `json:"disconnect"`
	Reset      Duration `json:"reset"`
	// Response delays every response.
	Response Duration `json:"response"`
}

// Event is one timeline entry: at At after the simulator starts serving,
// do Type. Services add event types with RegisterEvent.
//
// Built-in types: signal (RSSI, RSRP, SNR), detach, attach, deregister,
// register (State: home, roaming, denied), radio-off, radio-on,
// sim-removed, sim-inserted (Slot), reset, suspend, emergency (State on or
// off), sms (handled by the SMS service when present).
type Event struct {
	At    Duration        `json:"at"`
	Type  string          `json:"type"`
	RSSI  *uint32         `json:"rssi,omitempty"`
	RSRP  *int32          `json:"rsrp,omitempty"`
	SNR   *float64        `json:"snr,omitempty"`
	State string          `json:"state,omitempty"`
	Slot  *uint32         `json:"slot,omitempty"`
	From  string          `json:"from,omitempty"`
	Text  string          `json:"text,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Duration is a time.Duration written in JSON as "1.5s", "200ms", or a
// number of milliseconds.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON gives the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q (want e.g. \"1.5s\" or \"200ms\")", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("invalid duration %s (want e.g. \"1.5s\" or a number of milliseconds)", b)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// DefaultScenario is a modem that simply works: radio on, one SIM ready
// without PIN lock (a second slot empty), registered on its home network,
// attached, connectable on any APN with IPv4 and IPv6, MBIMEx 4.0 native.
func DefaultScenario() *Scenario {
	return &Scenario{
		Name:   "default",
		MBIMEx: mbim.MBIMEx4,
		Device: Device{
			DeviceID:     "356938035643809",
			Manufacturer: "gombim",
			Model:        "Simulated MBIM modem",
			Firmware:     "SIM.01.02.03",
			Hardware:     "gombim-sim rev 1",
			FirmwareID:   mbim.MustParseUUID("4d8f2a1e-7c3b-4e5a-9d21-0f6b8c7a5e34"),
			DeviceType:   basicconnect.DeviceTypeEmbedded,
			DataClass: basicconnect.DataClassGprs | basicconnect.DataClassEdge | basicconnect.DataClassUmts |
				basicconnect.DataClassHsdpa | basicconnect.DataClassHsupa | basicconnect.DataClassLte,
			SmsCaps:     basicconnect.SmsCapsPduReceive | basicconnect.SmsCapsPduSend,
			ControlCaps: basicconnect.CtrlCapsRegManual,
			VoiceClass:  basicconnect.VoiceClassNoVoice,
			CellClass:   basicconnect.CellularClassGsm,
			MaxSessions: 8,
			LTEBands:    []uint16{1, 3, 7, 20, 28},
			NRBands:     []uint16{78},
			ModemID:     0x5e1f_0000_0001,
		},
		SIMs: []SIM{
			{
				State: SIMReady, ICCID: "89014103211118510720", IMSI: "001010123456789",
				OwnNumbers: []string{"+15551234567"}, PIN1: "1234", PUK1: "12345678",
				PINAttempts: 3, PUKAttempts: 10,
			},
			{State: SIMNotInserted},
		},
		Network: Network{
			Home: Operator{PLMN: "00101", Name: "Test Network", RSSI: 20, ErrorRate: 0, Preferred: true},
			Visible: []Operator{
				{PLMN: "00101", Name: "Test Network", RSSI: 20},
				{PLMN: "00102", Name: "Partner Net", RSSI: 14},
				{PLMN: "00103", Name: "Forbidden Net", RSSI: 9, Forbidden: true},
			},
			Register:      "home",
			DeniedError:   11,
			AutoAttach:    true,
			DataClass:     basicconnect.DataClassLte,
			RSSI:          20,
			ErrorRate:     0,
			RSRP:          -95,
			SNR:           12,
			LAC:           0x1234,
			TAC:           0x2345,
			CellID:        0x01a2b3c,
			EARFCN:        1300,
			PCI:           101,
			Uplink:        50_000_000,
			Downlink:      150_000_000,
			ThroughputBps: 125_000,
		},
		IP: IPConfig{
			IPv4:        netip.MustParsePrefix("10.64.0.2/30"),
			IPv4Gateway: netip.MustParseAddr("10.64.0.1"),
			IPv4DNS:     []netip.Addr{netip.MustParseAddr("10.64.0.10"), netip.MustParseAddr("10.64.0.11")},
			IPv6:        netip.MustParsePrefix("2001:db8:64::2/64"),
			IPv6Gateway: netip.MustParseAddr("2001:db8:64::1"),
			IPv6DNS:     []netip.Addr{netip.MustParseAddr("2001:db8:64::10")},
			MTU:         1500,
		},
		Contexts: []Context{
			{ContextType: ctxInternet, APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6},
			{ContextType: ctxIMS, APN: "ims", IPType: basicconnect.ContextIpTypeIpv6},
		},
		LTEAttach: []Context{
			{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6, Roaming: "home"},
			{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6, Roaming: "partner"},
			{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4v6, Roaming: "non-partner"},
		},
		PCO:     PCOConfig{Container: 0xFF00, Value: mbim.Bytes{0x00}},
		SMS:     SMSConfig{SMSC: "+15550000000"},
		Logging: LoggingConfig{MaxSegmentSize: 64, MaxFlushTime: 1000, Level: "prod"},
		Services: ServicesConfig{
			DSS:            []DSSService{{UUID: ModemFileTransfer, Payload: 2, MaxInstances: 1}},
			MaxDSSSessions: 1,
		},
		Timings: Timings{
			Scan:     Duration(200 * time.Millisecond),
			Register: Duration(50 * time.Millisecond),
			Attach:   Duration(20 * time.Millisecond),
			Connect:  Duration(50 * time.Millisecond),
			Reset:    Duration(300 * time.Millisecond),
		},
	}
}

var (
	ctxInternet = mustContextType("internet")
	ctxIMS      = mustContextType("ims")
)

func mustContextType(name string) mbim.ContextType {
	c, err := mbim.ParseContextType(name)
	if err != nil {
		panic(err)
	}
	return c
}

// LoadScenario reads a JSON scenario file over DefaultScenario.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseScenario(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseScenario decodes a JSON scenario over DefaultScenario and checks it.
// Unknown keys are errors, so typos do not go unnoticed.
func ParseScenario(b []byte) (*Scenario, error) {
	s := DefaultScenario()
	// Lists replace the defaults whole.
	s.SIMs, s.Network.Visible, s.Contexts, s.LTEAttach = nil, nil, nil, nil
	def := DefaultScenario()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if s.SIMs == nil {
		s.SIMs = def.SIMs
	}
	if s.Network.Visible == nil {
		s.Network.Visible = def.Network.Visible
	}
	if s.Contexts == nil {
		s.Contexts = def.Contexts
	}
	if s.LTEAttach == nil {
		s.LTEAttach = def.LTEAttach
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// Check fills in defaults for zero values that cannot be meant (PIN
// attempts, MTU, ...) and reports inconsistent settings.
func (s *Scenario) Check() error {
	switch s.MBIMEx {
	case mbim.MBIMEx1, mbim.MBIMEx2, mbim.MBIMEx3, mbim.MBIMEx4:
	case 0:
		s.MBIMEx = mbim.MBIMEx4
	default:
		return fmt.Errorf("scenario: mbimex %s: want 1.0, 2.0, 3.0 or 4.0", s.MBIMEx)
	}
	if s.Device.Hardware == "" {
		// MBIM carries no manufacturer or model: HardwareInfo of device
		// caps is where hosts look for them.
		s.Device.Hardware = strings.TrimSpace(s.Device.Manufacturer + " " + s.Device.Model)
	}
	if s.Device.MaxSessions == 0 {
		s.Device.MaxSessions = 1
	}
	for len(s.SIMs) < 2 {
		s.SIMs = append(s.SIMs, SIM{State: SIMNotInserted})
	}
	for i := range s.SIMs {
		c := &s.SIMs[i]
		if c.State == "" {
			c.State = SIMReady
		}
		switch c.State {
		case SIMReady, SIMPINLocked, SIMPUKLocked, SIMNotInserted, SIMBlocked:
		default:
			return fmt.Errorf("scenario: sims[%d]: state %q: want ready, pin-locked, puk-locked, not-inserted or blocked", i, c.State)
		}
		if c.PIN1 == "" {
			c.PIN1 = "1234"
		}
		if c.PUK1 == "" {
			c.PUK1 = "12345678"
		}
		if c.PINAttempts <= 0 {
			c.PINAttempts = 3
		}
		if c.PUKAttempts <= 0 {
			c.PUKAttempts = 10
		}
		if c.State == SIMPINLocked || c.State == SIMPUKLocked {
			c.PINEnabled = true
		}
	}
	if int(s.ActiveSlot) >= len(s.SIMs) {
		return fmt.Errorf("scenario: active_slot %d: there are %d slots", s.ActiveSlot, len(s.SIMs))
	}
	switch s.Network.Register {
	case "":
		s.Network.Register = "home"
	case "home", "roaming", "denied", "searching", "deregistered":
	default:
		return fmt.Errorf("scenario: network.register %q: want home, roaming, denied, searching or deregistered", s.Network.Register)
	}
	if s.Network.Home.PLMN == "" {
		return fmt.Errorf("scenario: network.home.plmn is required")
	}
	for _, o := range append([]Operator{s.Network.Home}, s.Network.Visible...) {
		if len(o.PLMN) < 5 || len(o.PLMN) > 6 || strings.Trim(o.PLMN, "0123456789") != "" {
			return fmt.Errorf("scenario: operator %q: plmn %q must be 5 or 6 digits", o.Name, o.PLMN)
		}
	}
	if s.Network.DeniedError == 0 {
		s.Network.DeniedError = 11
	}
	if s.IP.MTU == 0 {
		s.IP.MTU = 1500
	}
	if s.IP.IPv6MTU == 0 {
		s.IP.IPv6MTU = s.IP.MTU
	}
	if !s.IP.IPv4.IsValid() && !s.IP.IPv6.IsValid() {
		return fmt.Errorf("scenario: ip: give ipv4, ipv6 or both")
	}
	if s.PCO.Container == 0 {
		s.PCO.Container = 0xFF00
	}
	if s.PCO.Container < 0xFF00 {
		return fmt.Errorf("scenario: pco.container 0x%04x: operator-specific containers are 0xff00..0xffff", s.PCO.Container)
	}
	if s.PCO.PLMN == "" {
		s.PCO.PLMN = s.Network.Home.PLMN
	}
	if _, err := parseLoggingLevel(s.Logging.Level); err != nil {
		return fmt.Errorf("scenario: modem_logging.level: %v", err)
	}
	if err := checkLogData(&s.Logging); err != nil {
		return fmt.Errorf("scenario: modem_logging.%v", err)
	}
	for i, f := range s.Faults {
		if err := f.check(); err != nil {
			return fmt.Errorf("scenario: faults[%d]: %v", i, err)
		}
	}
	for i, e := range s.Timeline {
		if e.Type == "" {
			return fmt.Errorf("scenario: timeline[%d]: type is required", i)
		}
	}
	for _, check := range scenarioChecks {
		if err := check(s); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
	}
	return nil
}

// Clone returns a deep copy (through JSON).
func (s *Scenario) Clone() *Scenario {
	b, err := json.Marshal(s)
	if err != nil {
		panic("sim: scenario does not marshal: " + err.Error())
	}
	var c Scenario
	if err := json.Unmarshal(b, &c); err != nil {
		panic("sim: scenario does not unmarshal: " + err.Error())
	}
	return &c
}

// splitPLMN splits "310260" into MCC "310" and MNC "260" (5 digits: 2-digit
// MNC).
func splitPLMN(p string) (mcc, mnc string) {
	if len(p) < 5 {
		return p, ""
	}
	return p[:3], p[3:]
}

func plmnNumbers(p string) (mcc, mnc uint16) {
	a, b := splitPLMN(p)
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return uint16(x), uint16(y)
}

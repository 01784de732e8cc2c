package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/gombim/gombim/catalog/mssar"
	"github.com/gombim/gombim/mbim"
)

// MS SAR: the specific absorption rate back-off configuration (who
// controls it, whether it is on, the back-off index of each antenna) and
// the transmission status: active while a data session is connected, and,
// when the host enables it, an indication each time that changes (going
// inactive after the hysteresis timer without transmission).

func init() {
	Handle(mssar.UUID, mssar.CIDConfig, handleSARConfig)
	Handle(mssar.UUID, mssar.CIDTransmissionStatus, handleTransmissionStatus)
	registerScenarioCheck(func(s *Scenario) error { return s.SAR.check() })
}

// SARConfig is the SAR state at power-up (scenario key sar).
type SARConfig struct {
	// Mode is device (the modem controls back-off, the default) or os.
	Mode mssar.SarControlMode `json:"mode"`
	// Backoff says back-off is enabled.
	Backoff bool `json:"backoff"`
	// WiFi is integrated (the default) or not-integrated.
	WiFi mssar.SarWifiHardwareState `json:"wifi"`
	// Antennas is the number of antennas (2); MaxBackoffIndex the highest
	// back-off index (8).
	Antennas        uint32 `json:"antennas"`
	MaxBackoffIndex uint32 `json:"max_backoff_index"`
	// Indices are the antennas' back-off indices (0 each).
	Indices []uint32 `json:"indices"`
	// Hysteresis is the transmission status hysteresis timer in seconds
	// (1 to 5, default 3).
	Hysteresis uint32 `json:"hysteresis"`
}

func (c *SARConfig) check() error {
	if c.Antennas == 0 {
		c.Antennas = 2
	}
	if c.MaxBackoffIndex == 0 {
		c.MaxBackoffIndex = 8
	}
	if c.Hysteresis == 0 {
		c.Hysteresis = 3
	}
	if c.Mode > mssar.SarControlModeOs || c.WiFi > mssar.SarWifiHardwareStateNotIntegrated {
		return fmt.Errorf("sar: mode %d or wifi %d out of range", c.Mode, c.WiFi)
	}
	if c.Hysteresis > 5 {
		return fmt.Errorf("sar.hysteresis %d: want 1 to 5 seconds", c.Hysteresis)
	}
	if len(c.Indices) > int(c.Antennas) {
		return fmt.Errorf("sar.indices: %d for %d antennas", len(c.Indices), c.Antennas)
	}
	for _, i := range c.Indices {
		if i > c.MaxBackoffIndex {
			return fmt.Errorf("sar.indices: %d beyond max_backoff_index %d", i, c.MaxBackoffIndex)
		}
	}
	return nil
}

type sarState struct {
	mode     mssar.SarControlMode
	backoff  mssar.SarBackoffState
	indices  []uint32
	notify   mssar.TransmissionNotificationStatus
	hyst     uint32
	reported mssar.TransmissionState
	idleAt   time.Time // when transmission last stopped
	lastTick time.Time // when the watcher last ran
	watchGen int       // the watcher running; older ones stop
}

func sar(m *Modem) *sarState {
	return m.Ext("ms-sar", func() any {
		c := m.sc.SAR
		st := &sarState{mode: c.Mode, indices: make([]uint32, c.Antennas), hyst: c.Hysteresis}
		copy(st.indices, c.Indices)
		if c.Backoff {
			st.backoff = mssar.SarBackoffStateEnabled
		}
		return st
	}).(*sarState)
}

func (m *Modem) sarInfo() *mssar.ConfigResponse {
	st := sar(m)
	out := &mssar.ConfigResponse{Mode: st.mode, BackoffState: st.backoff, WifiIntegration: m.sc.SAR.WiFi}
	for i, b := range st.indices {
		out.ConfigStates = append(out.ConfigStates, mssar.SarConfigState{AntennaIndex: uint32(i), BackoffIndex: b})
	}
	return out
}

func handleSARConfig(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*mssar.ConfigSet); ok {
		st := sar(m)
		c := m.sc.SAR
		if s.Mode > mssar.SarControlModeOs || s.BackoffState > mssar.SarBackoffStateEnabled {
			return Fail(mbim.StatusInvalidParameters)
		}
		indices := slices.Clone(st.indices)
		for _, cs := range s.ConfigStates {
			if cs.BackoffIndex > c.MaxBackoffIndex {
				return Fail(mbim.StatusInvalidParameters)
			}
			switch {
			case cs.AntennaIndex == 0xFFFFFFFF:
				for i := range indices {
					indices[i] = cs.BackoffIndex
				}
			case cs.AntennaIndex < c.Antennas:
				indices[cs.AntennaIndex] = cs.BackoffIndex
			default:
				return Fail(mbim.StatusInvalidParameters)
			}
		}
		st.mode, st.backoff, st.indices = s.Mode, s.BackoffState, indices
		m.log("sar: %s control, back-off %s, indices %v", st.mode, st.backoff, st.indices)
	}
	return OK(m.sarInfo())
}

// transmitting reports whether data flows: a session is connected.
func (m *Modem) transmitting() bool { return len(m.sessions) > 0 }

// transmissionState is what the host is told, with the hysteresis: it
// stays active until hyst seconds after the last session ended.
func (m *Modem) transmissionState() mssar.TransmissionState {
	st := sar(m)
	now := time.Now()
	if m.transmitting() {
		st.idleAt = time.Time{}
		return mssar.TransmissionStateActive
	}
	if st.reported == mssar.TransmissionStateActive {
		if st.idleAt.IsZero() {
			st.idleAt = now
		}
		if now.Sub(st.idleAt) < time.Duration(st.hyst)*time.Second {
			return mssar.TransmissionStateActive
		}
	}
	return mssar.TransmissionStateInactive
}

func (m *Modem) transmissionInfo() *mssar.TransmissionStatusResponse {
	st := sar(m)
	ts := m.transmissionState()
	st.reported = ts
	return &mssar.TransmissionStatusResponse{ChannelNotification: st.notify, TransmissionStatus: ts, HysteresisTimer: st.hyst}
}

// watchTransmission checks the transmission state every 200 ms while the
// host wants indications, and indicates changes. A set starts a new
// watcher (force); a query starts one if serving stopped the last.
func (m *Modem) watchTransmission(force bool) {
	st := sar(m)
	if st.notify != mssar.TransmissionNotificationStatusEnabled || (!force && time.Since(st.lastTick) < time.Second) {
		return
	}
	st.lastTick = time.Now()
	st.watchGen++
	epoch, gen := m.epoch, st.watchGen
	var tick func(m *Modem)
	tick = func(m *Modem) {
		st := sar(m)
		if m.epoch != epoch || st.watchGen != gen || st.notify != mssar.TransmissionNotificationStatusEnabled {
			return
		}
		st.lastTick = time.Now()
		before := st.reported
		if ts := m.transmissionState(); ts != before {
			m.log("sar: transmission %s", ts)
			m.Notify(mssar.UUID, mssar.CIDTransmissionStatus, m.transmissionInfo())
		}
		m.After(200*time.Millisecond, tick)
	}
	m.After(200*time.Millisecond, tick)
}

func handleTransmissionStatus(m *Modem, r *Request) Reply {
	st := sar(m)
	if s, ok := r.Info.(*mssar.TransmissionStatusSet); ok {
		if s.ChannelNotification > mssar.TransmissionNotificationStatusEnabled || s.HysteresisTimer < 1 || s.HysteresisTimer > 5 {
			return Fail(mbim.StatusInvalidParameters)
		}
		st.notify, st.hyst = s.ChannelNotification, s.HysteresisTimer
		m.log("sar: transmission indications %s, hysteresis %ds", st.notify, st.hyst)
		m.watchTransmission(true)
	}
	m.watchTransmission(false)
	return OK(m.transmissionInfo())
}

package sim

import (
	"time"

	"github.com/gombim/gombim/catalog/basicconnect"
)

// startTimeline schedules the timeline events that have not happened yet,
// relative to when serving first started. Modem locked.
func (m *Modem) startTimeline() {
	for i, ev := range m.sc.Timeline {
		if m.fired[i] {
			continue
		}
		i, ev := i, ev
		m.After(time.Until(m.t0.Add(ev.At.D())), func(m *Modem) {
			m.fired[i] = true
			m.log("timeline: %s at %v", ev.Type, ev.At.D())
			m.Event(ev)
		})
	}
}

// Event makes something happen now, as a timeline entry would. Modem
// locked (use Inject from outside).
func (m *Modem) Event(ev Event) {
	switch ev.Type {
	case "signal":
		if ev.RSSI != nil {
			m.signal.rssi = *ev.RSSI
		}
		if ev.RSRP != nil {
			m.signal.rsrp = *ev.RSRP
		}
		if ev.SNR != nil {
			m.signal.snr = *ev.SNR
		}
		m.signalChanged()
	case "detach":
		m.detach(true)
	case "attach":
		m.attach()
	case "deregister":
		m.deregister(0)
	case "register":
		switch ev.State {
		case "denied":
			m.deregister(m.sc.Network.DeniedError)
		case "roaming":
			m.registerOn(m.roamingOperator())
		default:
			m.registerOn(m.sc.Network.Home)
		}
	case "radio-off":
		m.setRadio(false)
	case "radio-on":
		m.setRadio(true)
	case "sim-removed":
		m.simRemoved(ev.Slot)
	case "sim-inserted":
		m.simInserted(ev.Slot)
	case "reset":
		m.deviceReset()
	case "suspend":
		if m.host != nil {
			m.host.open = false
		}
	case "emergency":
		m.emergency = basicconnect.EmergencyModeStateOff
		if ev.State == "on" {
			m.emergency = basicconnect.EmergencyModeStateOn
		}
		m.Notify(basicconnect.UUID, basicconnect.CIDEmergencyMode, &basicconnect.EmergencyModeNotify{State: m.emergency})
	default:
		if f := lookupEvent(ev.Type); f != nil {
			f(m, ev)
			return
		}
		m.log("timeline: no service handles %q events", ev.Type)
	}
}

// Inject makes ev happen now, as if it were on the timeline.
func (m *Modem) Inject(ev Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Event(ev)
}

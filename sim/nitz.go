package sim

import (
	"encoding/json"
	"fmt"
	"time"

	mv "github.com/gombim/gombim/catalog/msvoiceextensions"
	"github.com/gombim/gombim/mbim"
)

// Network time (MS Voice Extensions NITZ): the network's clock is the real
// clock plus the scenario's offset, in the scenario's time zone. The same
// clock stamps received short messages.

func init() {
	Handle(mv.UUID, mv.CIDNitz, handleNITZ)
	RegisterEvent("nitz", nitzEvent)
	registerScenarioCheck(func(s *Scenario) error { return s.NITZ.check() })
}

// NITZConfig is the network time the modem receives (scenario key nitz).
type NITZConfig struct {
	// Disabled: the network sends no time (the query fails with
	// not-initialized).
	Disabled bool `json:"disabled"`
	// Offset is added to the real clock ("-1h", "36h", ...).
	Offset Duration `json:"offset"`
	// TimeZone is the local time zone in minutes east of UTC, including
	// daylight saving time; DST is the daylight saving part.
	TimeZone int `json:"time_zone"`
	DST      int `json:"dst"`
}

func (c *NITZConfig) check() error {
	if c.TimeZone < -12*60 || c.TimeZone > 14*60 || c.TimeZone%15 != 0 {
		return fmt.Errorf("nitz.time_zone %d: want minutes east of UTC, a multiple of 15 between -720 and 840", c.TimeZone)
	}
	if c.DST < 0 || c.DST > 120 {
		return fmt.Errorf("nitz.dst %d: want 0 to 120 minutes", c.DST)
	}
	return nil
}

// nitz returns the network time settings in force (the scenario's, as
// changed by nitz events).
func nitz(m *Modem) *NITZConfig {
	return m.Ext("nitz", func() any { c := m.sc.NITZ; return &c }).(*NITZConfig)
}

// networkTime is the time the network gives, in its time zone. Modem
// locked.
func (m *Modem) networkTime() time.Time {
	c := nitz(m)
	return time.Now().Add(c.Offset.D()).In(time.FixedZone("", c.TimeZone*60)).Truncate(time.Second)
}

// NetworkTime returns the time the simulated network gives (the real clock
// plus the scenario's nitz offset, in its time zone).
func (m *Modem) NetworkTime() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.networkTime()
}

func (m *Modem) nitzInfo() *mv.NitzResponse {
	c := nitz(m)
	t := m.networkTime().UTC()
	return &mv.NitzResponse{Year: uint32(t.Year()), Month: uint32(t.Month()), Day: uint32(t.Day()), Hour: uint32(t.Hour()),
		Minute: uint32(t.Minute()), Second: uint32(t.Second()), TimeZoneOffsetMinutes: int32(c.TimeZone),
		DaylightSavingTimeOffsetMinutes: int32(c.DST), DataClass: m.sc.Network.DataClass}
}

func handleNITZ(m *Modem, r *Request) Reply {
	if !m.registered() {
		return Fail(mbim.StatusNotRegistered)
	}
	if nitz(m).Disabled {
		return Fail(mbim.StatusNotInitialized)
	}
	return OK(m.nitzInfo())
}

// nitzEvent is the network sending its time again, optionally changed:
// data {"offset": "1h", "time_zone": 60, "dst": 60}.
func nitzEvent(m *Modem, ev Event) {
	c := nitz(m)
	if len(ev.Data) > 0 {
		n := *c
		n.Disabled = false
		if err := json.Unmarshal(ev.Data, &n); err != nil || n.check() != nil {
			m.log("timeline: nitz data %s: %v", ev.Data, err)
			return
		}
		*c = n
	}
	c.Disabled = false
	if m.registered() {
		m.Notify(mv.UUID, mv.CIDNitz, m.nitzInfo())
	}
}

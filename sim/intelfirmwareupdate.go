package sim

import (
	"time"

	ifu "github.com/gombim/gombim/catalog/intelfirmwareupdate"
)

// Intel Firmware Update: modem-reboot behaves like a device reset (MS
// Basic Connect Extensions device-reset), whatever the boot mode: the
// response goes out, then the device drops off the bus (after Timeout
// seconds with MBIMEx 2.0) and comes back in its power-up state.

func init() {
	Handle(ifu.UUID, ifu.CIDModemReboot, handleIntelModemReboot)
}

func handleIntelModemReboot(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ifu.ModemRebootSetV2); ok {
		m.log("intel: reboot in %s mode after %ds", s.BootMode, s.Timeout)
		if s.Timeout > 0 {
			epoch := m.epoch
			m.After(time.Duration(s.Timeout)*time.Second, func(m *Modem) {
				if m.epoch == epoch {
					m.deviceReset()
				}
			})
			return OK(nil)
		}
	}
	m.resetPending = true // once the response is out
	return OK(nil)
}

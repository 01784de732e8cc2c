package sim

import (
	"slices"

	"github.com/gombim/gombim/catalog/dss"
	"github.com/gombim/gombim/catalog/msfirmwareid"
	"github.com/gombim/gombim/mbim"
)

// Device Service Stream connect and Microsoft firmware ID.

func init() {
	Handle(dss.UUID, dss.CIDConnect, handleDSSConnect)
	Handle(msfirmwareid.UUID, msfirmwareid.CIDGet, handleFirmwareID)
}

func handleFirmwareID(m *Modem, r *Request) Reply {
	return OK(&msfirmwareid.GetResponse{FirmwareId: m.sc.Device.FirmwareID})
}

// handleDSSConnect opens and closes device service stream sessions on the
// services that DEVICE_SERVICES lists with a DSS payload (by default the
// ModemFileTransfer service that carries modem logs). While a session on
// ModemFileTransfer is open, the modem sends log data (dsslog.go).
func handleDSSConnect(m *Modem, r *Request) Reply {
	s, ok := r.Info.(*dss.ConnectSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	i := slices.IndexFunc(m.sc.Services.DSS, func(d DSSService) bool { return d.UUID == s.DeviceServiceId })
	if i < 0 {
		return Fail(mbim.StatusInvalidDeviceServiceOperation)
	}
	key := dssKey{s.DeviceServiceId, s.DssSessionId}
	switch s.DssLinkState {
	case dss.DssLinkStateActivate:
		if _, open := m.dss[key]; open {
			return Fail(mbim.StatusInvalidDeviceServiceOperation)
		}
		perService := 0
		for k := range m.dss {
			if k.service == s.DeviceServiceId {
				perService++
			}
		}
		limit := m.sc.Services.DSS[i].MaxInstances
		if (limit > 0 && uint32(perService) >= limit) || uint32(len(m.dss)) >= max(m.sc.Services.MaxDSSSessions, 1) {
			return Fail(mbim.StatusDSSInstanceLimit)
		}
		m.dss[key] = struct{}{}
		m.log("DSS session %d open on %s", s.DssSessionId, s.DeviceServiceId)
	case dss.DssLinkStateDeactivate:
		if _, open := m.dss[key]; !open {
			return Fail(mbim.StatusInvalidDeviceServiceOperation)
		}
		delete(m.dss, key)
		m.log("DSS session %d closed on %s", s.DssSessionId, s.DeviceServiceId)
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	if s.DeviceServiceId == ModemFileTransfer {
		m.syncLogSessions()
	}
	return OK(nil)
}

// DSSSession is an open device service stream session.
type DSSSession struct {
	Service mbim.UUID
	Session uint32
}

// DSSSessions returns the open device service stream sessions, sorted.
func (m *Modem) DSSSessions() []DSSSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DSSSession, 0, len(m.dss))
	for k := range m.dss {
		out = append(out, DSSSession{k.service, k.session})
	}
	slices.SortFunc(out, func(a, b DSSSession) int {
		if c := slices.Compare(a.Service[:], b.Service[:]); c != 0 {
			return c
		}
		return int(a.Session) - int(b.Session)
	})
	return out
}

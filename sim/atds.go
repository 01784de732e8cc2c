package sim

import (
	"math"

	"github.com/gombim/gombim/catalog/atds"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// AT&T Device Service: signal, location, operators (a scan), RAT
// preference and register state, all views of the same radio state as
// Basic Connect.

func init() {
	Handle(atds.UUID, atds.CIDSignal, handleATDSSignal)
	Handle(atds.UUID, atds.CIDLocation, handleATDSLocation)
	Handle(atds.UUID, atds.CIDOperators, handleATDSOperators)
	Handle(atds.UUID, atds.CIDRat, handleATDSRat)
	Handle(atds.UUID, atds.CIDRegisterState, handleATDSRegisterState)
}

type atdsState struct{ rat atds.AtdsRatMode }

func atdsOf(m *Modem) *atdsState {
	return m.Ext("atds", func() any { return &atdsState{rat: atds.AtdsRatModeAutomatic} }).(*atdsState)
}

// clampCode gives v in [lo, hi].
func clampCode(v float64, lo, hi float64) uint32 { return uint32(min(max(math.Round(v), lo), hi)) }

func handleATDSSignal(m *Modem, r *Request) Reply {
	s := m.signal
	out := &atds.SignalResponse{Rssi: 99, ErrorRate: 99, Rscp: 255, Ecno: 255, Rsrq: 255, Rsrp: 255, Rssnr: 255}
	if m.radioOn() && m.registered() {
		out.Rssi, out.ErrorRate = s.rssi, s.errorRate
		if m.sc.Network.DataClass&(bc.DataClassLte|bc.DataClass5gNsa|bc.DataClass5gSa) != 0 {
			// RSRQ -10 dB (the serving cell of base-stations-info).
			out.Rsrq = clampCode((-10+19.5)*2, 0, 34)
			out.Rsrp = clampCode(float64(s.rsrp)+140, 0, 97)
			out.Rssnr = clampCode(s.snr+5, 0, 35)
		} else {
			// UMTS: RSCP about RSSI minus 10 dB, Ec/No -8 dB.
			out.Rscp = clampCode(float64(-113+2*int(s.rssi)-10)+120, 0, 96)
			out.Ecno = clampCode((-8+24)*2, 0, 49)
		}
	}
	return OK(out)
}

func handleATDSLocation(m *Modem, r *Request) Reply {
	l := m.locationInfo()
	return OK(&atds.LocationResponse{Lac: l.LocationAreaCode, Tac: l.TrackingAreaCode, CellId: l.CellID})
}

func plmnMode(d bc.DataClass) atds.AtdsProviderPlmnMode {
	switch {
	case d&(bc.DataClassLte|bc.DataClass5gNsa|bc.DataClass5gSa) != 0:
		return atds.AtdsProviderPlmnModeLte
	case d&(bc.DataClassUmts|bc.DataClassHsdpa|bc.DataClassHsupa) != 0:
		return atds.AtdsProviderPlmnModeUtran
	}
	return atds.AtdsProviderPlmnModeGsm
}

// handleATDSOperators scans, as visible-providers does.
func handleATDSOperators(m *Modem, r *Request) Reply {
	if !m.radioOn() {
		return Fail(mbim.StatusRadioPowerOff)
	}
	return Reply{After: m.sc.Timings.Scan.D(), Later: func(m *Modem) Reply {
		if !m.radioOn() {
			return Fail(mbim.StatusRadioPowerOff)
		}
		out := &atds.OperatorsResponse{}
		for _, o := range m.sc.Network.Visible {
			out.Providers = append(out.Providers, atds.AtdsProvider{ProviderId: o.PLMN, ProviderState: m.providerState(o),
				ProviderName: o.Name, PlmnMode: plmnMode(m.sc.Network.DataClass), Rssi: o.RSSI, ErrorRate: o.ErrorRate})
		}
		return OK(out)
	}}
}

func handleATDSRat(m *Modem, r *Request) Reply {
	st := atdsOf(m)
	if s, ok := r.Info.(*atds.RatSet); ok {
		if s.Mode > atds.AtdsRatMode4gOnly {
			return Fail(mbim.StatusInvalidParameters)
		}
		st.rat = s.Mode
		m.log("atds: RAT %s", st.rat)
	}
	return OK(&atds.RatResponse{Mode: st.rat})
}

func handleATDSRegisterState(m *Modem, r *Request) Reply {
	v := m.registerInfo(mbim.MBIMEx1).(*bc.RegisterStateResponse)
	return OK(&atds.RegisterStateResponse{NwError: v.NwError, RegisterState: v.RegisterState, RegisterMode: v.RegisterMode,
		AvailableDataClasses: v.AvailableDataClasses, CurrentCellularClass: v.CurrentCellularClass, ProviderId: v.ProviderId,
		ProviderName: v.ProviderName, RoamingText: v.RoamingText, RegistrationFlag: v.RegistrationFlag})
}

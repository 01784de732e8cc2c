package sim

import (
	"slices"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

// MS Basic Connect Extensions network denylist: the host's list of
// networks (by MCC and MNC) the modem must not use, from the SIM or the
// network. The state says whether the list is in effect: actuated when the
// network the modem is registered on is on it.

func init() {
	Handle(ms.UUID, ms.CIDNetworkDenylist, handleNetworkDenylist)
}

type denylistState struct{ providers []ms.NetworkDenylistProvider }

func denylist(m *Modem) *denylistState {
	return m.Ext("network-denylist", func() any { return &denylistState{} }).(*denylistState)
}

func (m *Modem) denylistInfo() *ms.NetworkDenylistInfo {
	st := denylist(m)
	out := &ms.NetworkDenylistInfo{DenylistState: ms.NetworkDenylistStateNotActuated, DenylistProviders: slices.Clone(st.providers)}
	if m.registered() {
		mcc, mnc := plmnNumbers(m.reg.plmn)
		for _, p := range st.providers {
			if p.Mcc == uint32(mcc) && p.Mnc == uint32(mnc) {
				out.DenylistState |= ms.NetworkDenylistStateSimProviderActuated
				if p.NetworkDenylistType == ms.NetworkDenylistTypeNetwork {
					out.DenylistState = ms.NetworkDenylistStateNetworkProviderActuated
				}
			}
		}
	}
	return out
}

func handleNetworkDenylist(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*ms.NetworkDenylistSet); ok {
		for _, p := range s.DenylistProviders {
			if p.Mcc > 999 || p.Mnc > 999 || p.NetworkDenylistType > ms.NetworkDenylistTypeNetwork {
				return Fail(mbim.StatusInvalidParameters)
			}
		}
		denylist(m).providers = slices.Clone(s.DenylistProviders)
		m.log("network denylist: %d networks", len(s.DenylistProviders))
		m.Notify(ms.UUID, ms.CIDNetworkDenylist, m.denylistInfo())
	}
	return OK(m.denylistInfo())
}

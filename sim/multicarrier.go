package sim

import (
	"slices"
	"strings"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// Basic Connect multicarrier providers: the host's list of preferred
// providers for a multicarrier device, at first the preferred providers.

func init() {
	Handle(bc.UUID, bc.CIDMulticarrierProviders, handleMulticarrierProviders)
}

type multicarrierState struct{ providers []bc.Provider }

func multicarrier(m *Modem) *multicarrierState {
	return m.Ext("multicarrier-providers", func() any {
		return &multicarrierState{providers: slices.Clone(m.preferred)}
	}).(*multicarrierState)
}

func handleMulticarrierProviders(m *Modem, r *Request) Reply {
	st := multicarrier(m)
	if s, ok := r.Info.(*bc.MulticarrierProvidersSet); ok {
		for _, p := range s.Providers {
			if len(p.ProviderId) < 5 || len(p.ProviderId) > 6 || strings.Trim(p.ProviderId, "0123456789") != "" {
				return Fail(mbim.StatusInvalidParameters)
			}
		}
		st.providers = slices.Clone(s.Providers)
		m.log("multicarrier providers: %d", len(st.providers))
		m.Notify(bc.UUID, bc.CIDMulticarrierProviders, &bc.MulticarrierProvidersResponse{Providers: slices.Clone(st.providers)})
	}
	return OK(&bc.MulticarrierProvidersResponse{Providers: slices.Clone(st.providers)})
}

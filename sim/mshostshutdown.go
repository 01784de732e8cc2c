package sim

import (
	hs "github.com/gombim/gombim/catalog/mshostshutdown"
)

// MS Host Shutdown: the host says it is shutting down; the modem notes it
// (Modem.HostShutdowns) and carries on.

func init() {
	Handle(hs.UUID, hs.CIDNotify, handleHostShutdown)
}

type hostShutdownState struct{ n int }

func handleHostShutdown(m *Modem, r *Request) Reply {
	st := m.Ext("ms-host-shutdown", func() any { return &hostShutdownState{} }).(*hostShutdownState)
	st.n++
	m.log("host shutting down")
	return OK(nil)
}

// HostShutdowns returns how many host shutdown notifications the modem got
// since it powered up.
func (m *Modem) HostShutdowns() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Ext("ms-host-shutdown", func() any { return &hostShutdownState{} }).(*hostShutdownState).n
}

package dss

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "dss", "c08a26dd7718438284826e0d583c4d0e")
}

// The hex came from libmbim 1.28's mbim_message_dss_connect_set_new.
func TestWire(t *testing.T) {
	mbimtest.CheckWire(t, "connect set", &ConnectSet{DeviceServiceId: UUID, DssSessionId: 5, DssLinkState: DssLinkStateActivate}, new(ConnectSet),
		"c08a26dd7718438284826e0d583c4d0e0500000001000000")
}

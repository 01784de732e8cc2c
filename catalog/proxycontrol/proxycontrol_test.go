package proxycontrol

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "proxy-control", "838cf7fb8d0d4d7f871ed71dbefbb39b")
}

// The set's hex came from libmbim 1.28's
// mbim_message_proxy_control_configuration_set_new; the notification's was
// encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_proxy_control_version_notification_parse (0x0100, 0x0300).
func TestWire(t *testing.T) {
	mbimtest.CheckWire(t, "configuration set", &ConfigurationSet{DevicePath: "/dev/cdc-wdm0", Timeout: 30}, new(ConfigurationSet),
		"0c0000001a0000001e0000002f006400650076002f006300640063002d00770064006d0030000000")
	mbimtest.CheckWire(t, "version notify", &VersionNotify{MbimVersion: 0x0100, MbimExtendedVersion: 0x0300}, new(VersionNotify),
		"00010003")
}

package intelfirmwareupdate

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestModemRebootV2(t *testing.T) {
	// From libmbim 1.28's builder:
	// mbim_message_intel_firmware_update_v2_modem_reboot_set_new (MBIM_INTEL_BOOT_MODE_FAST_DOWNLOAD_MODE, 30),
	// which addresses the same service UUID and CID 1 as the MBIMEx 1.0 request
	// (whose information buffer libmbim leaves empty).
	mbimtest.CheckWire(t, "modem-reboot set (MBIMEx 2.0)",
		&ModemRebootSetV2{BootMode: IntelBootModeFastDownloadMode, Timeout: 30}, new(ModemRebootSetV2), "050000001e000000")
}

func TestServiceVariants(t *testing.T) {
	if Service.UUID.String() != "0ed374cb-f835-4474-bc11-3b3fd76f5641" {
		t.Fatalf("UUID %s", Service.UUID)
	}
	var v1, v2 bool
	for _, c := range Service.CIDs {
		for _, m := range c.Messages {
			if m.Kind == mbim.KindSet && m.MBIMEx == mbim.MBIMEx1 && m.New == nil {
				v1 = true
			}
			if m.Kind == mbim.KindSet && m.MBIMEx == mbim.MBIMEx2 && m.New != nil {
				v2 = true
			}
		}
	}
	if !v1 || !v2 {
		t.Errorf("modem-reboot set: empty MBIMEx 1.0 layout %v, MBIMEx 2.0 layout %v", v1, v2)
	}
}

package intelthermalrf

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
)

func TestWire(t *testing.T) {
	// From libmbim 1.28's builder: mbim_message_intel_thermal_rf_rfim_set_new (TRUE).
	mbimtest.CheckWire(t, "rfim set", &RfimSet{ActivationState: 1}, new(RfimSet), "01000000")

	// Produced by this encoder and read back by libmbim 1.28's parser, which
	// reported these values (ConnectionStatus as true and false). The
	// elements are referenced by OL pairs and hold a 64-bit frequency at
	// offset 4.
	mbimtest.CheckWire(t, "rfim response",
		&RfimResponse{RfimFrequencyValues: []IntelRfimFrequencyValue{
			{ServingCellInfo: IntelServingCellInfoPcell, CenterFrequency: 1842500000, Bandwidth: 20000000, RSRP: 60, RSRQ: 20, SINR: 15, RSSI: 40, ConnectionStatus: 1},
			{ServingCellInfo: IntelServingCellInfoScell, CenterFrequency: 3500000000, Bandwidth: 100000000, RSRP: 50, RSRQ: 10, SINR: 5, RSSI: 30},
		}}, new(RfimResponse),
		"020000001400000024000000380000002400000000000000a051d26d00000000002d31013c000000140000000f00000028000000010000000100000000c39dd00000000000e1f505320000000a000000050000001e00000000000000")
}

package intelthermalrf

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/mbim"
)

func check(t *testing.T, name, wire string, want, got mbim.Info) {
	t.Helper()
	b, err := mbim.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	if h := hex.EncodeToString(b); h != wire {
		t.Errorf("%s: encoding\n got %s\nwant %s", name, h, wire)
	}
	if n := want.SizeMBIM(); n != len(b) {
		t.Errorf("%s: SizeMBIM %d, encoded %d bytes", name, n, len(b))
	}
	raw, _ := hex.DecodeString(wire)
	if err := got.UnmarshalMBIM(raw); err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoding\n got %+v\nwant %+v", name, got, want)
	}
}

func TestWire(t *testing.T) {
	// From libmbim 1.28's builder: mbim_message_intel_thermal_rf_rfim_set_new (TRUE).
	check(t, "rfim set", "01000000", &RfimSet{ActivationState: 1}, new(RfimSet))

	// Produced by this encoder and read back by libmbim 1.28's parser, which
	// reported these values (ConnectionStatus as true and false). The
	// elements are referenced by OL pairs and hold a 64-bit frequency at
	// offset 4.
	check(t, "rfim response",
		"020000001400000024000000380000002400000000000000a051d26d00000000002d31013c000000140000000f00000028000000010000000100000000c39dd00000000000e1f505320000000a000000050000001e00000000000000",
		&RfimResponse{RfimFrequencyValues: []IntelRfimFrequencyValue{
			{ServingCellInfo: IntelServingCellInfoPcell, CenterFrequency: 1842500000, Bandwidth: 20000000, RSRP: 60, RSRQ: 20, SINR: 15, RSSI: 40, ConnectionStatus: 1},
			{ServingCellInfo: IntelServingCellInfoScell, CenterFrequency: 3500000000, Bandwidth: 100000000, RSRP: 50, RSRQ: 10, SINR: 5, RSSI: 30},
		}}, new(RfimResponse))
}

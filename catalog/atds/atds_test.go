package atds

import (
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/internal/mbimtest"
)

func TestWire(t *testing.T) {
	// From libmbim 1.28's builder: mbim_message_atds_rat_set_new (MBIM_ATDS_RAT_MODE_4G_ONLY).
	mbimtest.CheckWire(t, "rat set", &RatSet{Mode: AtdsRatMode4gOnly}, new(RatSet), "03000000")

	// The response hex below was produced by this encoder and read back by
	// libmbim 1.28's parser (mbim_message_new + mbim_message_get_printable),
	// which reported exactly these field values.
	mbimtest.CheckWire(t, "signal response",
		&SignalResponse{Rssi: 20, ErrorRate: 99, Rscp: 255, Ecno: 255, Rsrq: 20, Rsrp: 50, Rssnr: 15}, new(SignalResponse),
		"1400000063000000ff000000ff00000014000000320000000f000000")
	mbimtest.CheckWire(t, "location response",
		&LocationResponse{Lac: 0xfffe, Tac: 0x1234, CellId: 0x0abcdef1}, new(LocationResponse),
		"feff000034120000f1debc0a")
	mbimtest.CheckWire(t, "operators response",
		&OperatorsResponse{Providers: []AtdsProvider{
			{ProviderId: "310410", ProviderState: basicconnect.ProviderState(0x9), ProviderName: "AT&T", PlmnMode: AtdsProviderPlmnModeLte, Rssi: 20, ErrorRate: 99},
			{ProviderId: "31026", ProviderState: basicconnect.ProviderState(0x8), ProviderName: "T-Mo", PlmnMode: AtdsProviderPlmnModeUtran, Rssi: 11},
		}}, new(OperatorsResponse),
		"0200000014000000340000004800000034000000"+
			"200000000c000000090000002c000000080000000700000014000000630000003300310030003400310030004100540026005400"+
			"200000000a000000080000002c00000008000000060000000b0000000000000033003100300032003600000054002d004d006f00")
	mbimtest.CheckWire(t, "register-state response",
		&RegisterStateResponse{
			RegisterState:        basicconnect.RegisterState(3), // home
			RegisterMode:         basicconnect.RegisterMode(1),  // automatic
			AvailableDataClasses: basicconnect.DataClass(0x20),  // lte
			CurrentCellularClass: basicconnect.CellularClass(1), // gsm
			ProviderId:           "310410",
			ProviderName:         "AT&T",
			RegistrationFlag:     basicconnect.RegistrationFlag(2), // packet-service-automatic-attach
		}, new(RegisterStateResponse),
		"0000000003000000010000002000000001000000300000000c0000003c000000080000000000000000000000020000003300310030003400310030004100540026005400")
}

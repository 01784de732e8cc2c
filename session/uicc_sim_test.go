package session

import (
	"errors"
	"testing"

	ul "github.com/gombim/gombim/catalog/msuicclowlevelaccess"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/sim"
)

// TestSimUICCSlotsMBIMEx4 drives the MS UICC low-level access of a dual-SIM
// simulated modem through a session at MBIMEx 4.0, with the generated
// helpers of the MBIMEx 4.0 layouts: the SlotId reaches the card in the
// inactive slot, the MBIM 1.0 helpers refuse to send, and the responses
// (unchanged at 4.0) decode.
func TestSimUICCSlotsMBIMEx4(t *testing.T) {
	checkLeaks(t)
	d := startSim(t, inProcess, withScenario(func(sc *sim.Scenario) {
		sc.SIMs[1] = sim.SIM{State: sim.SIMReady, ICCID: "89014103211118510777", IMSI: "310410987654321",
			PIN1: "0000", PUK1: "00000000", PINAttempts: 3, PUKAttempts: 10}
	}))
	s := d.open(t, Options{})
	if s.MBIMEx() != mbim.MBIMEx4 {
		t.Fatalf("MBIMEx %v", s.MBIMEx())
	}
	ctx := ctxT(t)

	// The MBIM 1.0 layouts are not the ones in effect.
	var ve *mbim.MBIMExError
	if _, err := ul.SetOpenChannel(ctx, s, &ul.OpenChannelSet{}); !errors.As(err, &ve) {
		t.Errorf("SetOpenChannel at MBIMEx 4.0: %v, want an MBIMExError", err)
	}
	if _, err := ul.QueryAtr(ctx, s); !errors.As(err, &ve) {
		t.Errorf("QueryAtr at MBIMEx 4.0: %v, want an MBIMExError", err)
	}

	atr, err := ul.QueryAtrV4(ctx, s, &ul.AtrQueryV4{SlotId: 1})
	if err != nil || len(atr.Atr) == 0 {
		t.Fatalf("ATR of slot 1: %+v, %v", atr, err)
	}
	usim := []byte{0xa0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02}
	oc, err := ul.SetOpenChannelV4(ctx, s, &ul.OpenChannelSetV4{AppId: usim, SelectP2Arg: 4, ChannelGroup: 1, SlotId: 1})
	if err != nil || oc.Channel == 0 || oc.Status != 0x0090 {
		t.Fatalf("open the USIM of slot 1: %+v, %v", oc, err)
	}
	d.log.waitFor(t, "uicc 1: channel 1 open")
	// EF.IMSI of slot 1's card: 08 39 01 14 90 78 56 34 12 (310410987654321, odd length).
	if r, err := ul.SetApduV4(ctx, s, &ul.ApduSetV4{Channel: oc.Channel, Command: []byte{0x00, 0xa4, 0x00, 0x04, 0x02, 0x6f, 0x07}, SlotId: 1}); err != nil || r.Status != 0x0090 {
		t.Fatalf("SELECT EF.IMSI: %+v, %v", r, err)
	}
	r, err := ul.SetApduV4(ctx, s, &ul.ApduSetV4{Channel: oc.Channel, Command: []byte{0x00, 0xb0, 0x00, 0x00, 0x09}, SlotId: 1})
	if err != nil || r.Response.String() != "083901149078563412" {
		t.Errorf("READ BINARY EF.IMSI of slot 1: %+v, %v", r, err)
	}
	// The active slot 0 has no channel open.
	var se *mbim.StatusError
	if _, err := ul.SetApduV4(ctx, s, &ul.ApduSetV4{Channel: oc.Channel, Command: []byte{0x00, 0xf2, 0x00, 0x00, 0x00}, SlotId: 0}); !errors.As(err, &se) || se.Status != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("APDU on slot 0's channel %d: %v", oc.Channel, err)
	}
	if _, err := ul.SetTerminalCapabilityV4(ctx, s, &ul.TerminalCapabilitySetV4{SlotId: 1,
		TerminalCapability: []ul.TerminalCapabilityInfo{{TerminalCapabilityData: []byte{0xa9, 0x02, 0x81, 0x00}}}}); err != nil {
		t.Fatal(err)
	}
	tc, err := ul.QueryTerminalCapabilityV4(ctx, s, &ul.TerminalCapabilityQueryV4{SlotId: 1})
	if err != nil || len(tc.TerminalCapability) != 1 || tc.TerminalCapability[0].TerminalCapabilityData.String() != "a9028100" {
		t.Errorf("terminal capabilities of slot 1: %+v, %v", tc, err)
	}
	if rs, err := ul.SetResetV4(ctx, s, &ul.ResetSetV4{PassThroughAction: ul.UiccPassThroughActionEnable, SlotId: 1}); err != nil || rs.PassThroughStatus != ul.UiccPassThroughStatusEnabled {
		t.Errorf("reset slot 1: %+v, %v", rs, err)
	}
	if rs, err := ul.QueryResetV4(ctx, s, &ul.ResetQueryV4{SlotId: 0}); err != nil || rs.PassThroughStatus != ul.UiccPassThroughStatusDisabled {
		t.Errorf("pass-through of slot 0: %+v, %v", rs, err)
	}
	if cc, err := ul.SetCloseChannelV4(ctx, s, &ul.CloseChannelSetV4{ChannelGroup: 1, SlotId: 1}); !errors.As(err, &se) || se.Status != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("closing group 1 of slot 1 after its card's reset: %+v, %v", cc, err)
	}
}

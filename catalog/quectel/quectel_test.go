package quectel

import (
	"encoding/hex"
	"testing"

	"github.com/gombim/gombim/mbim"
)

func TestRadioState(t *testing.T) {
	// From libmbim 1.28's builder: mbim_message_quectel_radio_state_set_new (MBIM_QUECTEL_RADIO_SWITCH_STATE_ON).
	b, err := mbim.Marshal(&RadioStateSet{RadioState: QuectelRadioSwitchStateOn})
	if err != nil || hex.EncodeToString(b) != "01000000" {
		t.Errorf("set: %x %v", b, err)
	}
	// Read by libmbim 1.28's parser as RadioState = 'fcc-locked'.
	var r RadioStateResponse
	if err := r.UnmarshalMBIM([]byte{4, 0, 0, 0}); err != nil || r.RadioState != QuectelRadioSwitchStateFccLocked {
		t.Errorf("response: %+v %v", r, err)
	}
	if r.RadioState.String() != "fcc-locked" {
		t.Errorf("nickname %q", r.RadioState.String())
	}
}

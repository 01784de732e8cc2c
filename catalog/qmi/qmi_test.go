package qmi

import (
	"encoding/hex"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestMsg(t *testing.T) {
	// From libmbim 1.28's builder: mbim_message_qmi_msg_set_new with a
	// 13-byte QMUX message (CTL get version info); libmbim does not pad it.
	mbimtest.CheckWire(t, "set",
		&MsgSet{QmiMsg: mbim.Bytes{0x01, 0x0c, 0x00, 0x00, 0x02, 0x01, 0x00, 0x01, 0x00, 0x22, 0x00, 0x00, 0x00}}, new(MsgSet),
		"010c0000020100010022000000")

	// Read by libmbim 1.28's parser as QMUX = 01:0c:00:80:02:01:01:01:00:22:00:00:00.
	const resp = "010c0080020101010022000000"
	var r MsgResponse
	raw, _ := hex.DecodeString(resp)
	if err := r.UnmarshalMBIM(raw); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(r.QMUX) != resp || r.SizeMBIM() != 13 {
		t.Errorf("response: %x (size %d)", []byte(r.QMUX), r.SizeMBIM())
	}
}

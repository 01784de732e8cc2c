package ussd

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// codec is implemented by every generated message type.
type codec interface {
	AppendMBIM([]byte) ([]byte, error)
	UnmarshalMBIM([]byte) error
	SizeMBIM() int
}

// checkWire checks that msg encodes to wantHex, that SizeMBIM agrees, and
// that decoding wantHex into fresh gives msg back.
func checkWire(t *testing.T, name string, msg, fresh codec, wantHex string) {
	t.Helper()
	want, err := hex.DecodeString(wantHex)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", name, err)
	}
	got, err := msg.AppendMBIM(nil)
	if err != nil {
		t.Errorf("%s: AppendMBIM: %v", name, err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s: AppendMBIM\n got %x\nwant %x", name, got, want)
	}
	if n := msg.SizeMBIM(); n != len(want) {
		t.Errorf("%s: SizeMBIM = %d, want %d", name, n, len(want))
	}
	if err := fresh.UnmarshalMBIM(want); err != nil {
		t.Errorf("%s: UnmarshalMBIM: %v", name, err)
	} else if !reflect.DeepEqual(fresh, msg) {
		t.Errorf("%s: UnmarshalMBIM\n got %+v\nwant %+v", name, fresh, msg)
	}
}

// checkService checks the service's nickname and UUID bytes against
// libmbim 1.28 (mbim_uuid_from_service()).
func checkService(t *testing.T, name, uuidHex string) {
	t.Helper()
	if Service.Name != name {
		t.Errorf("Service.Name = %q, want %q", Service.Name, name)
	}
	if got := hex.EncodeToString(UUID[:]); got != uuidHex {
		t.Errorf("UUID bytes = %s, want %s (libmbim)", got, uuidHex)
	}
}

func TestService(t *testing.T) {
	checkService(t, "ussd", "e550a0c85e82479e82f710abf4c3351f")
}

// The set's hex came from libmbim 1.28's mbim_message_ussd_set_new; the
// response's was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ussd_response_parse with the same field values.
func TestWire(t *testing.T) {
	checkWire(t, "set", &UssdSet{Action: UssdActionInitiate, DataCodingScheme: 15, Payload: mbim.Bytes{0xaa, 0x18, 0x0c, 0x36, 0x02}}, new(UssdSet),
		"000000000f0000001000000005000000aa180c3602000000")
	checkWire(t, "response", &UssdResponseMessage{Response: UssdResponseActionRequired, SessionState: UssdSessionStateExistingSession, DataCodingScheme: 15, Payload: mbim.Bytes{0xc2, 0x30, 0x58, 0x0e, 0x92, 0x95, 0x01}}, new(UssdNotify),
		"01000000010000000f0000001400000007000000c230580e92950100")
}

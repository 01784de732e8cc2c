package dss

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
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
	checkService(t, "dss", "c08a26dd7718438284826e0d583c4d0e")
}

// The hex came from libmbim 1.28's mbim_message_dss_connect_set_new.
func TestWire(t *testing.T) {
	checkWire(t, "connect set", &ConnectSet{DeviceServiceId: UUID, DssSessionId: 5, DssLinkState: DssLinkStateActivate}, new(ConnectSet),
		"c08a26dd7718438284826e0d583c4d0e0500000001000000")
}

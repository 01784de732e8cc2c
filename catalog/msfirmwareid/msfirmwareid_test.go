package msfirmwareid

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
	checkService(t, "ms-firmware-id", "e9f7dea2feaf400993ce90a3694103b6")
}

// The hex was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ms_firmware_id_get_response_parse, which printed the UUID
// e9f7dea2-feaf-4009-93ce-90a3694103b6.
func TestWire(t *testing.T) {
	checkWire(t, "get response", &GetResponse{FirmwareId: mbim.MustParseUUID("e9f7dea2-feaf-4009-93ce-90a3694103b6")}, new(GetResponse),
		"e9f7dea2feaf400993ce90a3694103b6")
}

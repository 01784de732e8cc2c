package msvoiceextensions

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
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
	checkService(t, "ms-voice-extensions", "8d8b9eba37be449b8f1e61cb034a702e")
}

// The hex was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ms_voice_extensions_nitz_response_parse, which gave
// 2024-2-29 23:59:58, offsets -300 and 60 (as gint32) and data class 0x20.
func TestWire(t *testing.T) {
	checkWire(t, "nitz response", &NitzResponse{Year: 2024, Month: 2, Day: 29, Hour: 23, Minute: 59, Second: 58, TimeZoneOffsetMinutes: -300, DaylightSavingTimeOffsetMinutes: 60, DataClass: basicconnect.DataClassLte}, new(NitzNotify),
		"e8070000020000001d000000170000003b0000003a000000d4feffff3c00000020000000")
}

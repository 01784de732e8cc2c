package phonebook

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
	checkService(t, "phonebook", "4bf384761e6a41dbb1d8bed289c25bdb")
}

// The hex of sets and queries came from libmbim 1.28's builders
// (mbim_message_phonebook_*_new); that of responses was encoded by gombim
// and parsed back by libmbim 1.28's mbim_message_phonebook_*_parse with the
// same field values.
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh codec
		hex        string
	}{
		{"read query", &ReadQuery{FilterFlag: PhonebookFlagIndex, FilterMessageIndex: 2}, new(ReadQuery), "0100000002000000"},
		{"delete set", &DeleteSet{FilterFlag: PhonebookFlagAll}, new(DeleteSet), "0000000000000000"},
		{"write set", &WriteSet{SaveFlag: PhonebookWriteFlagIndex, SaveIndex: 4, Number: "+3456", Name: "Bob"}, new(WriteSet),
			"0100000004000000180000000a00000024000000060000002b003300340035003600000042006f0062000000"},
		{"configuration response", &ConfigurationResponse{State: PhonebookStateInitialized, NumberOfEntries: 250, UsedEntries: 3, MaxNumberLength: 40, MaxName: 14}, new(ConfigurationNotify),
			"01000000fa00000003000000280000000e000000"},
		{"read response", &ReadResponse{Entries: []PhonebookEntry{{EntryIndex: 1, Number: "+123", Name: "Al"}, {EntryIndex: 5, Number: "555", Name: "Carol"}}}, new(ReadResponse),
			"02000000140000002000000034000000280000000100000014000000080000001c000000040000002b0031003200330041006c000500000014000000060000001c0000000a00000035003500350000004300610072006f006c000000"},
	}
	for _, tt := range tests {
		checkWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

package phonebook

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "phonebook", "4bf384761e6a41dbb1d8bed289c25bdb")
}

// The hex of sets and queries came from libmbim 1.28's builders
// (mbim_message_phonebook_*_new); that of responses was encoded by gombim
// and parsed back by libmbim 1.28's mbim_message_phonebook_*_parse with the
// same field values.
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
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
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

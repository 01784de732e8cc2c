package stk

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "stk", "d8f20131fcb54e178602d6ed3816164c")
}

// The hex of sets came from libmbim 1.28's builders (mbim_message_stk_*_new);
// that of responses and the notification was encoded by gombim and parsed
// back by libmbim 1.28's mbim_message_stk_*_parse with the same values.
//
// The byte arrays of the terminal response and envelope sets are multiples
// of 4 bytes here: libmbim pads these trailing arrays to 4 bytes, gombim
// does not (a 7-byte envelope is 8 bytes from libmbim, 7 from gombim).
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"pac set", &PacSet{PacHostControl: mbimtest.Seq(32, 1)}, new(PacSet),
			"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"},
		{"terminal-response set", &TerminalResponseSet{Response: mbim.Bytes{0x81, 0x03, 0x01, 0x25, 0x00, 0x82, 0x02, 0x82}}, new(TerminalResponseSet),
			"080000008103012500820282"},
		{"envelope set", &EnvelopeSet{Data: mbim.Bytes{0xd3, 0x06, 0x82, 0x02, 0x01, 0x81, 0x90, 0x00}}, new(EnvelopeSet),
			"d306820201819000"},
		{"pac response", &PacResponse{PacSupport: mbimtest.Seq(256, 0)}, new(PacResponse),
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"},
		{"pac notify", &PacNotify{PacType: StkPacTypeNotification, DataBuffer: mbim.Bytes{0xd0, 0x09, 0x81, 0x03, 0x01, 0x25, 0x00, 0x82}}, new(PacNotify),
			"01000000d009810301250082"},
		{"terminal-response response", &TerminalResponseResponse{ResultData: mbim.Bytes{0x90, 0x00, 0x01}, StatusWords: 0x9000}, new(TerminalResponseResponse),
			"0c000000030000000090000090000100"},
		{"envelope response", &EnvelopeResponse{EnvelopeSupport: mbimtest.Seq(32, 0x40)}, new(EnvelopeResponse),
			"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

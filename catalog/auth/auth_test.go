package auth

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "auth", "1d2b5ff70aa148b2aa5250f15767174e")
}

// The hex of queries came from libmbim 1.28's builders
// (mbim_message_auth_*_query_new); that of responses was encoded by gombim
// and parsed back by libmbim 1.28's mbim_message_auth_*_response_parse with
// the same values.
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"aka query", &AkaQuery{Rand: mbimtest.Seq(16, 0), Autn: mbimtest.Seq(16, 0x10)}, new(AkaQuery),
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
		{"akap query", &AkapQuery{Rand: mbimtest.Seq(16, 0), Autn: mbimtest.Seq(16, 0x10), NetworkName: "WLAN"}, new(AkapQuery),
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f280000000800000057004c0041004e00"},
		{"sim query", &SimQuery{Rand1: mbimtest.Seq(16, 0), Rand2: mbimtest.Seq(16, 0x10), Rand3: mbimtest.Seq(16, 0x20), N: 3}, new(SimQuery),
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f03000000"},
		{"aka response", &AkaResponse{Res: mbimtest.Seq(16, 0), ResLen: 8, IntegratingKey: mbimtest.Seq(16, 0x10), CipheringKey: mbimtest.Seq(16, 0x20), Auts: mbimtest.Seq(14, 0x30)}, new(AkaResponse),
			"000102030405060708090a0b0c0d0e0f08000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d"},
		{"akap response", &AkapResponse{Res: mbimtest.Seq(16, 0x50), ResLen: 16, IntegratingKey: mbimtest.Seq(16, 0x60), CipheringKey: mbimtest.Seq(16, 0x70), Auts: mbimtest.Seq(14, 0x80)}, new(AkapResponse),
			"505152535455565758595a5b5c5d5e5f10000000606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d"},
		{"sim response", &SimResponse{Sres1: 0x11111111, Kc1: 0x0102030405060708, Sres2: 0x22222222, Kc2: 0x1112131415161718, Sres3: 0x33333333, Kc3: 0x2122232425262728, N: 3}, new(SimResponse),
			"11111111080706050403020122222222181716151413121133333333282726252423222103000000"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

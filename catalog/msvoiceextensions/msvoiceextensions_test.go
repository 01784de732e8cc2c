package msvoiceextensions

import (
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/internal/mbimtest"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ms-voice-extensions", "8d8b9eba37be449b8f1e61cb034a702e")
}

// The hex was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ms_voice_extensions_nitz_response_parse, which gave
// 2024-2-29 23:59:58, offsets -300 and 60 (as gint32) and data class 0x20.
func TestWire(t *testing.T) {
	mbimtest.CheckWire(t, "nitz response", &NitzResponse{Year: 2024, Month: 2, Day: 29, Hour: 23, Minute: 59, Second: 58, TimeZoneOffsetMinutes: -300, DaylightSavingTimeOffsetMinutes: 60, DataClass: basicconnect.DataClassLte}, new(NitzNotify),
		"e8070000020000001d000000170000003b0000003a000000d4feffff3c00000020000000")
}

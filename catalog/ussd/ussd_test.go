package ussd

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ussd", "e550a0c85e82479e82f710abf4c3351f")
}

// The set's hex came from libmbim 1.28's mbim_message_ussd_set_new; the
// response's was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ussd_response_parse with the same field values.
func TestWire(t *testing.T) {
	mbimtest.CheckWire(t, "set", &UssdSet{Action: UssdActionInitiate, DataCodingScheme: 15, Payload: mbim.Bytes{0xaa, 0x18, 0x0c, 0x36, 0x02}}, new(UssdSet),
		"000000000f0000001000000005000000aa180c3602000000")
	mbimtest.CheckWire(t, "response", &UssdResponseMessage{Response: UssdResponseActionRequired, SessionState: UssdSessionStateExistingSession, DataCodingScheme: 15, Payload: mbim.Bytes{0xc2, 0x30, 0x58, 0x0e, 0x92, 0x95, 0x01}}, new(UssdNotify),
		"01000000010000000f0000001400000007000000c230580e92950100")
}

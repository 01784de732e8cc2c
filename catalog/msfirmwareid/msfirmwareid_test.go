package msfirmwareid

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ms-firmware-id", "e9f7dea2feaf400993ce90a3694103b6")
}

// The hex was encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ms_firmware_id_get_response_parse, which printed the UUID
// e9f7dea2-feaf-4009-93ce-90a3694103b6.
func TestWire(t *testing.T) {
	mbimtest.CheckWire(t, "get response", &GetResponse{FirmwareId: mbim.MustParseUUID("e9f7dea2-feaf-4009-93ce-90a3694103b6")}, new(GetResponse),
		"e9f7dea2feaf400993ce90a3694103b6")
}

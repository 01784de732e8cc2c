package mssar

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ms-sar", "68223d049f6c4e0f822d28441fb72340")
}

// The hex of sets came from libmbim 1.28's builders
// (mbim_message_ms_sar_*_set_new); that of responses was encoded by gombim
// and parsed back by libmbim 1.28's mbim_message_ms_sar_*_response_parse
// with the same values.
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"config set", &ConfigSet{Mode: SarControlModeOs, BackoffState: SarBackoffStateEnabled, ConfigStates: []SarConfigState{{1, 2}, {3, 4}}}, new(ConfigSet),
			"0100000001000000020000001c00000008000000240000000800000001000000020000000300000004000000"},
		{"transmission-status set", &TransmissionStatusSet{ChannelNotification: TransmissionNotificationStatusEnabled, HysteresisTimer: 30}, new(TransmissionStatusSet),
			"010000001e000000"},
		{"config response", &ConfigResponse{Mode: SarControlModeOs, BackoffState: SarBackoffStateEnabled, WifiIntegration: SarWifiHardwareStateNotIntegrated, ConfigStates: []SarConfigState{{0xffffffff, 3}, {1, 2}}}, new(ConfigResponse),
			"0100000001000000010000000200000020000000080000002800000008000000ffffffff030000000100000002000000"},
		{"transmission-status response", &TransmissionStatusResponse{ChannelNotification: TransmissionNotificationStatusEnabled, TransmissionStatus: TransmissionStateActive, HysteresisTimer: 5}, new(TransmissionStatusNotify),
			"010000000100000005000000"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

package proxycontrol

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
	checkService(t, "proxy-control", "838cf7fb8d0d4d7f871ed71dbefbb39b")
}

// The set's hex came from libmbim 1.28's
// mbim_message_proxy_control_configuration_set_new; the notification's was
// encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_proxy_control_version_notification_parse (0x0100, 0x0300).
func TestWire(t *testing.T) {
	checkWire(t, "configuration set", &ConfigurationSet{DevicePath: "/dev/cdc-wdm0", Timeout: 30}, new(ConfigurationSet),
		"0c0000001a0000001e0000002f006400650076002f006300640063002d00770064006d0030000000")
	checkWire(t, "version notify", &VersionNotify{MbimVersion: 0x0100, MbimExtendedVersion: 0x0300}, new(VersionNotify),
		"00010003")
}

package intelmutualauthentication

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// libmbim 1.28 lacks this service; the hex is derived by hand from libmbim
// 1.30's definition: two uint32 fields in each direction.
func TestFccLock(t *testing.T) {
	for _, c := range []struct {
		name      string
		wire      string
		want, got mbim.Info
	}{
		{"set asking for a challenge", "0000000000000000", &FccLockSet{}, new(FccLockSet)},
		{"set answering it", "0100000078563412", &FccLockSet{ResponsePresent: 1, Response: 0x12345678}, new(FccLockSet)},
		{"response", "01000000efbeadde", &FccLockResponse{ChallengePresent: 1, Challenge: 0xdeadbeef}, new(FccLockResponse)},
	} {
		b, err := mbim.Marshal(c.want)
		if err != nil || hex.EncodeToString(b) != c.wire {
			t.Errorf("%s: encoded %x (%v), want %s", c.name, b, err, c.wire)
		}
		raw, _ := hex.DecodeString(c.wire)
		if err := c.got.UnmarshalMBIM(raw); err != nil || !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: decoded %+v (%v)", c.name, c.got, err)
		}
	}
	if Service.UUID.String() != "f85d46ef-ab26-4081-9868-4d183c0a3aec" || CIDFccLock != 1 {
		t.Errorf("service %s cid %d", Service.UUID, CIDFccLock)
	}
}

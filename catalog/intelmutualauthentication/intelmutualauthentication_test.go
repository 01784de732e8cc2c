package intelmutualauthentication

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
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
		mbimtest.CheckWire(t, c.name, c.want, c.got, c.wire)
	}
	if Service.UUID.String() != "f85d46ef-ab26-4081-9868-4d183c0a3aec" || CIDFccLock != 1 {
		t.Errorf("service %s cid %d", Service.UUID, CIDFccLock)
	}
}

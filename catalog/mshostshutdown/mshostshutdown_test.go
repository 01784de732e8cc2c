package mshostshutdown

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// The nickname, UUID bytes and CID come from libmbim 1.28
// (mbim_uuid_from_service (MBIM_SERVICE_MS_HOST_SHUTDOWN),
// MBIM_CID_MS_HOST_SHUTDOWN_NOTIFY); its builder
// mbim_message_ms_host_shutdown_notify_set_new gives an empty information
// buffer, and the response has none either.
func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ms-host-shutdown", "883b7c26985f43fa980427d7fb80959c")
	c := Service.CID(CIDNotify)
	if c == nil || CIDNotify != 1 || c.Name != "notify" || !c.Set || c.Query || c.Notify {
		t.Fatalf("CID notify = %+v", c)
	}
	for _, m := range c.Messages {
		if m.New != nil {
			t.Errorf("%v message has a payload type %q, want none", m.Kind, m.Type)
		}
	}
	if len(c.Messages) != 2 || c.Messages[0].Kind != mbim.KindSet || c.Messages[1].Kind != mbim.KindResponse {
		t.Errorf("messages = %+v", c.Messages)
	}
}

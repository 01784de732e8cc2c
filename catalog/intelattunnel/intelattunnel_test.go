package intelattunnel

import (
	"bytes"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// libmbim 1.28 lacks this service; by libmbim's later definition each
// information buffer is the bare AT text, not padded.
func TestAtCommand(t *testing.T) {
	cmd := []byte("AT+CGMI\r\n") // 9 bytes: not a multiple of 4
	b, err := mbim.Marshal(&AtCommandSet{CommandReq: cmd})
	if err != nil || !bytes.Equal(b, cmd) {
		t.Errorf("request: %q (%v)", b, err)
	}
	var req AtCommandSet
	if err := req.UnmarshalMBIM(cmd); err != nil || !bytes.Equal(req.CommandReq, cmd) {
		t.Errorf("request decoded %q (%v)", req.CommandReq, err)
	}
	out := []byte("\r\nFibocom\r\n\r\nOK\r\n")
	var resp AtCommandResponse
	if err := resp.UnmarshalMBIM(out); err != nil || !bytes.Equal(resp.CommandResp, out) || resp.SizeMBIM() != len(out) {
		t.Errorf("response decoded %q (%v)", resp.CommandResp, err)
	}
	if Service.UUID.String() != "da138c64-6515-4893-92b2-a1e1ca7c81ca" || CIDAtCommand != 1 {
		t.Errorf("service %s cid %d", Service.UUID, CIDAtCommand)
	}
}

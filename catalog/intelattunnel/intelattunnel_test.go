package intelattunnel

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// libmbim 1.28 lacks this service; by libmbim's later definition each
// information buffer is the bare AT text, not padded.
func TestAtCommand(t *testing.T) {
	mbimtest.CheckATTunnel(t, mbimtest.ATTunnel{
		Service: &Service, UUID: "da138c64-6515-4893-92b2-a1e1ca7c81ca", CID: CIDAtCommand, WantCID: 1,
		Command:  "AT+CGMI\r\n", // 9 bytes: not a multiple of 4
		Reply:    "\r\nFibocom\r\n\r\nOK\r\n",
		Request:  func(b []byte) mbim.Info { return &AtCommandSet{CommandReq: b} },
		Response: func(b []byte) mbim.Info { return &AtCommandResponse{CommandResp: b} },
	})
}

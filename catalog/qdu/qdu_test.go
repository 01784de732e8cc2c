package qdu

import (
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestWire(t *testing.T) {
	// From libmbim 1.28's builders (mbim_message_qdu_*_set_new).
	mbimtest.CheckWire(t, "update-session set",
		&UpdateSessionSet{SessionAction: QduSessionActionStart, SessionType: QduSessionTypeLe}, new(UpdateSessionSet), "0000000001000000")
	mbimtest.CheckWire(t, "file-open set",
		&FileOpenSet{FileType: QduFileTypePackage, FileSize: 0x123456}, new(FileOpenSet), "0000000056341200")
	// The chunk is sent as is: no padding to 4 bytes.
	mbimtest.CheckWire(t, "file-write set",
		&FileWriteSet{DataBuffer: mbim.Bytes{1, 2, 3, 4, 5}}, new(FileWriteSet), "0102030405")
	// The two Quectel request fields are 16 bits wide.
	mbimtest.CheckWire(t, "quectel-reboot set",
		&QuectelRebootSet{RebootType: QduQuectelRebootTypeEdl}, new(QuectelRebootSet), "1100")
	mbimtest.CheckWire(t, "quectel-read-version set",
		&QuectelReadVersionSet{VersionType: QduQuectelVersionTypeId}, new(QuectelReadVersionSet), "0001")

	// Produced by this encoder and read back by libmbim 1.28's parser, which
	// reported these values.
	mbimtest.CheckWire(t, "update-session response",
		&UpdateSessionResponse{CurrentSessionType: QduSessionTypeLe, CurrentSessionStatus: QduSessionStatusFileTransfer,
			LastSessionType: QduSessionTypeNone, LastSessionResult: QduSessionResultFailure,
			LastSessionErrorOffset: 0x100, LastSessionErrorSize: 0x20}, new(UpdateSessionResponse),
		"010000000100000000000000010000000001000020000000")
	mbimtest.CheckWire(t, "file-open response",
		&FileOpenResponse{MaxTransferSize: 4096, MaxWindowSize: 8}, new(FileOpenResponse), "0010000008000000")
	mbimtest.CheckWire(t, "quectel-read-version response",
		&QuectelReadVersionResponse{VersionId: 256, Version: "EM05GFAR07A07M1G"}, new(QuectelReadVersionResponse),
		"000100000c0000002000000045004d00300035004700460041005200300037004100300037004d0031004700")

	// The command CID (libmbim 1.32) is not in the local libmbim: this hex is
	// derived by hand from the layout: a uint32 type, then the text.
	mbimtest.CheckWire(t, "command set",
		&CommandSet{CommandType: QuectelCommandTypeAt, CommandString: mbim.Bytes("ATI")}, new(CommandSet), "00000000415449")
	mbimtest.CheckWire(t, "command response",
		&CommandResponse{Status: QuectelCommandResponseStatusOk, Response: mbim.Bytes("ATI")}, new(CommandResponse), "00000000415449")
}

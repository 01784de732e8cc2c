package qdu

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/mbim"
)

func check(t *testing.T, name, wire string, want, got mbim.Info) {
	t.Helper()
	b, err := mbim.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	if h := hex.EncodeToString(b); h != wire {
		t.Errorf("%s: encoding\n got %s\nwant %s", name, h, wire)
	}
	if n := want.SizeMBIM(); n != len(b) {
		t.Errorf("%s: SizeMBIM %d, encoded %d bytes", name, n, len(b))
	}
	raw, _ := hex.DecodeString(wire)
	if err := got.UnmarshalMBIM(raw); err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoding\n got %+v\nwant %+v", name, got, want)
	}
}

func TestWire(t *testing.T) {
	// From libmbim 1.28's builders (mbim_message_qdu_*_set_new).
	check(t, "update-session set", "0000000001000000",
		&UpdateSessionSet{SessionAction: QduSessionActionStart, SessionType: QduSessionTypeLe}, new(UpdateSessionSet))
	check(t, "file-open set", "0000000056341200",
		&FileOpenSet{FileType: QduFileTypePackage, FileSize: 0x123456}, new(FileOpenSet))
	// The chunk is sent as is: no padding to 4 bytes.
	check(t, "file-write set", "0102030405",
		&FileWriteSet{DataBuffer: mbim.Bytes{1, 2, 3, 4, 5}}, new(FileWriteSet))
	// The two Quectel request fields are 16 bits wide.
	check(t, "quectel-reboot set", "1100",
		&QuectelRebootSet{RebootType: QduQuectelRebootTypeEdl}, new(QuectelRebootSet))
	check(t, "quectel-read-version set", "0001",
		&QuectelReadVersionSet{VersionType: QduQuectelVersionTypeId}, new(QuectelReadVersionSet))

	// Produced by this encoder and read back by libmbim 1.28's parser, which
	// reported these values.
	check(t, "update-session response", "010000000100000000000000010000000001000020000000",
		&UpdateSessionResponse{CurrentSessionType: QduSessionTypeLe, CurrentSessionStatus: QduSessionStatusFileTransfer,
			LastSessionType: QduSessionTypeNone, LastSessionResult: QduSessionResultFailure,
			LastSessionErrorOffset: 0x100, LastSessionErrorSize: 0x20}, new(UpdateSessionResponse))
	check(t, "file-open response", "0010000008000000",
		&FileOpenResponse{MaxTransferSize: 4096, MaxWindowSize: 8}, new(FileOpenResponse))
	check(t, "quectel-read-version response",
		"000100000c0000002000000045004d00300035004700460041005200300037004100300037004d0031004700",
		&QuectelReadVersionResponse{VersionId: 256, Version: "EM05GFAR07A07M1G"}, new(QuectelReadVersionResponse))

	// The command CID (libmbim 1.32) is not in the local libmbim: this hex is
	// derived by hand from the layout: a uint32 type, then the text.
	check(t, "command set", "00000000415449",
		&CommandSet{CommandType: QuectelCommandTypeAt, CommandString: mbim.Bytes("ATI")}, new(CommandSet))
	check(t, "command response", "00000000415449",
		&CommandResponse{Status: QuectelCommandResponseStatusOk, Response: mbim.Bytes("ATI")}, new(CommandResponse))
}

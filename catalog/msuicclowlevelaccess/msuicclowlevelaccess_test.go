package msuicclowlevelaccess

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

func TestService(t *testing.T) {
	mbimtest.CheckService(t, &Service, UUID, "ms-uicc-low-level-access", "c2f6588ef0374bc98665f4d44bd09367")
}

var (
	aid      = mbim.Bytes{0xa0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02}
	filePath = mbim.Bytes{0x3f, 0x00, 0x7f, 0xff, 0x6f, 0x07}
)

// The hex of sets and queries came from libmbim 1.28's builders
// (mbim_message_ms_uicc_low_level_access_*_new); that of responses was
// encoded by gombim and parsed back by libmbim 1.28's
// mbim_message_ms_uicc_low_level_access_*_response_parse with the same
// values. They pin which arrays are LO pairs (length first: ATR, open
// channel, APDU) and which are OL pairs (the application list and file
// access CIDs). The LocalPin of the read-binary and read-record queries is
// UTF-8 ("1234" is 31 32 33 34), as Microsoft defines it, where libmbim
// 1.28 writes UTF-16LE (31 00 32 00 ...); the rest of those two is
// libmbim's bytes with the offsets after the shorter PIN moved down by 4.
func TestWire(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"open-channel set", &OpenChannelSet{AppId: aid, SelectP2Arg: 4, ChannelGroup: 1}, new(OpenChannelSet),
			"07000000100000000400000001000000a000000087100200"},
		{"close-channel set", &CloseChannelSet{Channel: 2, ChannelGroup: 1}, new(CloseChannelSet),
			"0200000001000000"},
		{"apdu set", &ApduSet{Channel: 2, SecureMessaging: UiccSecureMessagingNone, ClassByteType: UiccClassByteTypeExtended, Command: mbim.Bytes{0x00, 0xa4, 0x00, 0x04, 0x02, 0x3f, 0x00}}, new(ApduSet),
			"020000000000000001000000070000001400000000a40004023f0000"},
		// Capabilities of 4 and 8 bytes: libmbim puts the padded length
		// in the OL pairs (4 for a 3-byte capability), gombim the real one.
		{"terminal-capability set", &TerminalCapabilitySet{TerminalCapability: []TerminalCapabilityInfo{{mbim.Bytes{0x80, 0x01, 0x02, 0x03}}, {mbim.Bytes{0x81, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}}}}, new(TerminalCapabilitySet),
			"0200000014000000040000001800000008000000800102038102030405060708"},
		{"reset set", &ResetSet{PassThroughAction: UiccPassThroughActionEnable}, new(ResetSet), "01000000"},
		{"file-status query", &FileStatusQuery{Version: 1, ApplicationId: aid, FilePath: filePath}, new(FileStatusQuery),
			"0100000014000000070000001c00000006000000a0000000871002003f007fff6f070000"},
		{"read-binary query", &ReadBinaryQuery{Version: 1, ApplicationId: aid, FilePath: filePath, ReadOffset: 16, ReadSize: 9, LocalPin: "1234", Data: mbim.Bytes{0x11, 0x22}}, new(ReadBinaryQuery),
			"010000002c00000007000000340000000600000010000000090000003c000000040000004000000002000000a0000000871002003f007fff6f0700003132333411220000"},
		{"read-record query", &ReadRecordQuery{Version: 1, ApplicationId: aid, FilePath: filePath, RecordNumber: 3, LocalPin: "1234", Data: mbim.Bytes{0x11, 0x22}}, new(ReadRecordQuery),
			"01000000280000000700000030000000060000000300000038000000040000003c00000002000000a0000000871002003f007fff6f0700003132333411220000"},
		{"atr response", &AtrResponse{Atr: mbim.Bytes{0x3b, 0x9f, 0x96, 0x80, 0x1f}}, new(AtrResponse),
			"05000000080000003b9f96801f000000"},
		{"open-channel response", &OpenChannelResponse{Status: 0x0090, Channel: 1, Response: mbim.Bytes{0x62, 0x1a, 0x82}}, new(OpenChannelResponse),
			"90000000010000000300000010000000621a8200"},
		{"close-channel response", &CloseChannelResponse{Status: 0x0090}, new(CloseChannelResponse), "90000000"},
		{"apdu response", &ApduResponse{Status: 0x6a82, Response: mbim.Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06}}, new(ApduResponse),
			"826a0000060000000c0000000102030405060000"},
		{"terminal-capability response", &TerminalCapabilityResponse{TerminalCapability: []TerminalCapabilityInfo{{mbim.Bytes{0xa9, 0x02, 0x81, 0x00}}}}, new(TerminalCapabilityResponse),
			"010000000c00000004000000a9028100"},
		{"reset response", &ResetResponse{PassThroughStatus: UiccPassThroughStatusEnabled}, new(ResetResponse), "01000000"},
		{"application-list response", &ApplicationListResponse{Version: 1, ActiveApplicationIndex: 0, ApplicationListSizeBytes: 123, Applications: []UiccApplication{
			{ApplicationType: UiccApplicationTypeUsim, ApplicationId: aid, ApplicationName: "USIM", PinKeyReferenceCount: 2, PinKeyReferences: mbim.Bytes{0x01, 0x81}},
			{ApplicationType: UiccApplicationTypeIsim, ApplicationId: mbim.Bytes{0xa0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04}, ApplicationName: "ISIM", PinKeyReferenceCount: 1, PinKeyReferences: mbim.Bytes{0x01}},
		}}, new(ApplicationListResponse),
			"0100000002000000000000007b000000200000003000000050000000300000000400000020000000070000002800000004000000020000002c00000002000000a0000000871002005553494d018100000600000020000000070000002800000004000000010000002c00000001000000a0000000871004004953494d01000000"},
		{"file-status response", &FileStatusResponse{Version: 1, StatusWord1: 0x90, StatusWord2: 0, FileAccessibility: UiccFileAccessibilityShareable, FileType: UiccFileTypeWorkingEf, FileStructure: UiccFileStructureLinear, FileItemCount: 10, FileItemSize: 28,
			AccessConditionRead: basicconnect.PinTypePin1, AccessConditionUpdate: basicconnect.PinTypePin2, AccessConditionActivate: basicconnect.PinTypeAdm, AccessConditionDeactivate: basicconnect.PinTypeNev}, new(FileStatusResponse),
			"0100000090000000000000000200000001000000030000000a0000001c00000002000000030000001300000012000000"},
		{"read-binary response", &ReadBinaryResponse{Version: 1, StatusWord1: 0x90, StatusWord2: 0, Data: mbim.Bytes{0x98, 0x94, 0x00, 0x21, 0x43}}, new(ReadBinaryResponse),
			"01000000900000000000000014000000050000009894002143000000"},
		{"read-record response", &ReadRecordResponse{Version: 1, StatusWord1: 0x91, StatusWord2: 0x10, Data: mbim.Bytes{0xff, 0xff, 0xff}}, new(ReadRecordResponse),
			"0100000091000000100000001400000003000000ffffff00"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
}

// TestTerminalCapabilityFromLibmbim decodes what libmbim 1.28's
// terminal_capability_set_new writes for capabilities aa:bb and cc:dd:ee:
// it records the padded lengths, so each capability reads back with its
// padding (libmbim's own parser does worse: it reads each one to the end of
// the buffer, aa:bb:00:00:cc:dd:ee:00 for the first).
func TestTerminalCapabilityFromLibmbim(t *testing.T) {
	b, _ := hex.DecodeString("0200000014000000040000001800000004000000aabb0000ccddee00")
	var v TerminalCapabilitySet
	if err := v.UnmarshalMBIM(b); err != nil {
		t.Fatal(err)
	}
	want := []TerminalCapabilityInfo{{mbim.Bytes{0xaa, 0xbb, 0, 0}}, {mbim.Bytes{0xcc, 0xdd, 0xee, 0}}}
	if !reflect.DeepEqual(v.TerminalCapability, want) {
		t.Errorf("decoded %+v, want %+v", v.TerminalCapability, want)
	}
	// Ours keeps the real lengths.
	out, err := mbim.Marshal(&TerminalCapabilitySet{TerminalCapability: []TerminalCapabilityInfo{{mbim.Bytes{0xaa, 0xbb}}, {mbim.Bytes{0xcc, 0xdd, 0xee}}}})
	if err != nil || hex.EncodeToString(out) != "0200000014000000020000001800000003000000aabb0000ccddee00" {
		t.Errorf("encoded %x, %v", out, err)
	}
}

// TestWireV4 pins the MBIMEx 4.0 layouts: the SlotId where Wireshark 4.0
// reads it (packet-mbim.c mbim_dissect_ms_open_channel and siblings) and,
// for the open channel, where Windows' class driver writes it
// (MBB_SET_UICC_OPEN_CHANNEL_EX4: the AppId data follows the SlotId at
// offset 20). The responses keep their MBIM 1.0 layouts.
func TestWireV4(t *testing.T) {
	tests := []struct {
		name       string
		msg, fresh mbim.Info
		hex        string
	}{
		{"atr query", &AtrQueryV4{SlotId: 1}, new(AtrQueryV4), "01000000"},
		{"open-channel set", &OpenChannelSetV4{AppId: aid, SelectP2Arg: 4, ChannelGroup: 1, SlotId: 1}, new(OpenChannelSetV4),
			"0700000014000000040000000100000001000000a000000087100200"},
		{"close-channel set", &CloseChannelSetV4{Channel: 2, ChannelGroup: 1, SlotId: 1}, new(CloseChannelSetV4),
			"020000000100000001000000"},
		{"apdu set", &ApduSetV4{Channel: 2, ClassByteType: UiccClassByteTypeExtended, Command: mbim.Bytes{0x00, 0xa4, 0x00, 0x04, 0x02, 0x3f, 0x00}, SlotId: 1}, new(ApduSetV4),
			"02000000000000000100000007000000180000000100000000a40004023f0000"},
		// The slot first, then the count; the OL pairs count from the
		// start of the buffer.
		{"terminal-capability set", &TerminalCapabilitySetV4{SlotId: 1, TerminalCapability: []TerminalCapabilityInfo{{mbim.Bytes{0x80, 0x01, 0x02, 0x03}}}}, new(TerminalCapabilitySetV4),
			"01000000010000001000000004000000" + "80010203"},
		{"terminal-capability query", &TerminalCapabilityQueryV4{SlotId: 1}, new(TerminalCapabilityQueryV4), "01000000"},
		{"reset set", &ResetSetV4{PassThroughAction: UiccPassThroughActionEnable, SlotId: 1}, new(ResetSetV4), "0100000001000000"},
		{"reset query", &ResetQueryV4{SlotId: 1}, new(ResetQueryV4), "01000000"},
	}
	for _, tt := range tests {
		mbimtest.CheckWire(t, tt.name, tt.msg, tt.fresh, tt.hex)
	}
	// Which layout is in effect at which version.
	for _, tc := range []struct {
		kind mbim.Kind
		cid  uint32
		v    mbim.Version
		want any
	}{
		{mbim.KindQuery, CIDAtr, mbim.MBIMEx3, nil},
		{mbim.KindQuery, CIDAtr, mbim.MBIMEx4, &AtrQueryV4{}},
		{mbim.KindSet, CIDOpenChannel, mbim.MBIMEx3, &OpenChannelSet{}},
		{mbim.KindSet, CIDOpenChannel, mbim.MBIMEx4, &OpenChannelSetV4{}},
		{mbim.KindResponse, CIDOpenChannel, mbim.MBIMEx4, &OpenChannelResponse{}},
		{mbim.KindResponse, CIDTerminalCapability, mbim.MBIMEx4, &TerminalCapabilitySet{}},
	} {
		c := Service.CID(tc.cid)
		d, _ := c.Layout(tc.kind, tc.v)
		var got any
		if d != nil && d.New != nil {
			got = d.New()
		}
		if reflect.TypeOf(got) != reflect.TypeOf(tc.want) {
			t.Errorf("%s %s at MBIMEx %s: %T, want %T", c.Name, tc.kind, tc.v, got, tc.want)
		}
	}
}

package sim

import (
	"bytes"
	"testing"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	ul "github.com/gombim/gombim/catalog/msuicclowlevelaccess"
	"github.com/gombim/gombim/mbim"
)

func TestUICC(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.UICC.MaxChannels = 2
		s.UICC.APDUs = []UICCAPDU{
			{Command: "80CA9F7F00", Response: mustHex("9f7f2a40905090123456789000")},
			{Command: "80E2*", Response: mustHex("6985")},
		}
		s.UICC.Files = []UICCFile{
			{Path: mustHex("3F002FE2"), Data: mustHex("98101430121181157002"), Update: 0},
			{App: mustHex("A0000000871002"), Path: mustHex("6F3B"), Records: []mbim.Bytes{mustHex("ffffffff"), mustHex("ffffffff")}, Read: 2, Update: 2},
		}
	}))
	c := dial(t, path)
	c.open()
	open := func(aid string, group uint32) (mbim.Status, *ul.OpenChannelResponse) {
		t.Helper()
		msg, info := c.command(ul.UUID, ul.CIDOpenChannel, mbim.CommandSet, &ul.OpenChannelSet{AppId: mustHex(aid), ChannelGroup: group})
		r, _ := info.(*ul.OpenChannelResponse)
		return msg.Status, r
	}
	apdu := func(ch uint32, cmd string) (mbim.Status, *ul.ApduResponse) {
		t.Helper()
		msg, info := c.command(ul.UUID, ul.CIDApdu, mbim.CommandSet, &ul.ApduSet{Channel: ch, Command: mustHex(cmd)})
		r, _ := info.(*ul.ApduResponse)
		return msg.Status, r
	}
	st, r := open("A0000000871002", 1)
	if st != mbim.StatusNone || r.Channel != 1 || r.Status != 0x0090 || !bytes.Equal(r.Response, adfFCP(aidUSIM)) {
		t.Fatalf("open USIM: %s %+v", st, r)
	}
	if st, r := open("A0000000FF", 0); st != mbim.StatusMSSelectFailed || r.Status != 0x826a {
		t.Errorf("unknown AID: %s %+v", st, r)
	}
	if st, r := open("A0000000871004", 1); st != mbim.StatusNone || r.Channel != 2 {
		t.Errorf("open ISIM: %s %+v", st, r)
	}
	if st, _ := open("A0000000871004", 0); st != mbim.StatusMSNoLogicalChannels {
		t.Errorf("a third channel with max_channels 2: %s", st)
	}
	// The scripted card first, then the built-in one.
	if _, r := apdu(1, "80CA9F7F00"); r.Status != 0x0090 || r.Response.String() != "9f7f2a4090509012345678" {
		t.Errorf("scripted GET DATA: %+v", r)
	}
	if _, r := apdu(1, "80E2910006BF2E0311FFAA"); r.Status != 0x8569 {
		t.Errorf("scripted prefix: %+v", r)
	}
	if _, r := apdu(1, "00A40004026F3B00"); r.Status != 0x0090 || r.Response[0] != 0x62 {
		t.Errorf("SELECT EF.FDN: %+v", r)
	}
	if _, r := apdu(1, "00B2020404"); r.Status != 0x0090 || r.Response.String() != "ffffffff" {
		t.Errorf("READ RECORD 2: %+v", r)
	}
	if _, r := apdu(1, "00B2030404"); r.Status != 0x836a {
		t.Errorf("READ RECORD 3: %+v", r)
	}
	if _, r := apdu(1, "00B0000004"); r.Status != 0x8169 {
		t.Errorf("READ BINARY of a record file: %+v", r)
	}
	if _, r := apdu(2, "00A40004026F3B"); r.Status != 0x826a {
		t.Errorf("EF.FDN is not in the ISIM: %+v", r)
	}
	if _, r := apdu(0, "00A40804022FE2"); r.Status != 0x0090 {
		t.Errorf("SELECT by path from the MF: %+v", r)
	}
	if _, r := apdu(0, "00B000000A"); r.Response.String() != "98101430121181157002" {
		t.Errorf("READ BINARY EF.ICCID: %+v", r)
	}
	if _, r := apdu(0, "00EE000000"); r.Status != 0x006d {
		t.Errorf("unknown instruction: %+v", r)
	}
	if st, _ := apdu(3, "00F2000000"); st != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("APDU on a closed channel: %s", st)
	}
	// Close: by channel, then by group.
	if msg, _ := c.command(ul.UUID, ul.CIDCloseChannel, mbim.CommandSet, &ul.CloseChannelSet{Channel: 1}); msg.Status != mbim.StatusNone {
		t.Errorf("close 1: %s", msg.Status)
	}
	if msg, _ := c.command(ul.UUID, ul.CIDCloseChannel, mbim.CommandSet, &ul.CloseChannelSet{Channel: 1}); msg.Status != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("close 1 again: %s", msg.Status)
	}
	if msg, _ := c.command(ul.UUID, ul.CIDCloseChannel, mbim.CommandSet, &ul.CloseChannelSet{ChannelGroup: 1}); msg.Status != mbim.StatusNone {
		t.Errorf("close group 1: %s", msg.Status)
	}
	if st, _ := apdu(2, "00F2000000"); st != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("channel 2 still open after closing its group: %s", st)
	}

	// Records: update (PIN2 condition: met while the SIM is unlocked) and
	// read back.
	fdn := mustHex("7FFF6F3B")
	_, info := c.command(ul.UUID, ul.CIDReadRecord, mbim.CommandSet, &ul.ReadRecordSet{Version: 1, ApplicationId: aidUSIM,
		FilePath: fdn, RecordNumber: 1, Data: mustHex("01020304")})
	if rr := info.(*ul.ReadRecordResponse); rr.StatusWord1 != 0x90 {
		t.Errorf("update record: %+v", rr)
	}
	_, info = c.command(ul.UUID, ul.CIDReadRecord, mbim.CommandQuery, &ul.ReadRecordQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: fdn, RecordNumber: 1})
	if rr := info.(*ul.ReadRecordResponse); rr.Data.String() != "01020304" {
		t.Errorf("record 1 after update: %+v", rr)
	}
	// EF.ICCID cannot be updated (adm).
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandSet, &ul.ReadBinarySet{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("3F002FE2"), Data: mustHex("00")})
	if rb := info.(*ul.ReadBinaryResponse); rb.StatusWord1 != 0x69 || rb.StatusWord2 != 0x82 {
		t.Errorf("updating EF.ICCID: %+v", rb)
	}
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, &ul.ReadBinaryQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("3F002FE2"), ReadOffset: 8, ReadSize: 4})
	if rb := info.(*ul.ReadBinaryResponse); rb.Data.String() != "7002" {
		t.Errorf("reading the end of EF.ICCID: %+v", rb)
	}
	_, info = c.command(ul.UUID, ul.CIDFileStatus, mbim.CommandQuery, &ul.FileStatusQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("7FFF6F3B")})
	if fs := info.(*ul.FileStatusResponse); fs.FileStructure != ul.UiccFileStructureLinear || fs.FileItemCount != 2 ||
		fs.FileItemSize != 4 || fs.AccessConditionRead != 2 {
		t.Errorf("file status of EF.FDN: %+v", fs)
	}
	_, info = c.command(ul.UUID, ul.CIDFileStatus, mbim.CommandQuery, &ul.FileStatusQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("7FFF6F99")})
	if fs := info.(*ul.FileStatusResponse); fs.StatusWord1 != 0x6a || fs.StatusWord2 != 0x82 {
		t.Errorf("file status of a missing file: %+v", fs)
	}

	// Terminal capabilities keep their lengths.
	caps := []ul.TerminalCapabilityInfo{{TerminalCapabilityData: mustHex("a903830107")}, {TerminalCapabilityData: mustHex("a9028100")}}
	c.command(ul.UUID, ul.CIDTerminalCapability, mbim.CommandSet, &ul.TerminalCapabilitySet{TerminalCapability: caps})
	_, info = c.command(ul.UUID, ul.CIDTerminalCapability, mbim.CommandQuery, nil)
	if tc := info.(*ul.TerminalCapabilitySet); len(tc.TerminalCapability) != 2 || tc.TerminalCapability[1].TerminalCapabilityData.String() != "a9028100" {
		t.Errorf("terminal capabilities %+v", tc)
	}

	// A reset closes every logical channel.
	open("A0000000871002", 0)
	_, info = c.command(ul.UUID, ul.CIDReset, mbim.CommandSet, &ul.ResetSet{PassThroughAction: ul.UiccPassThroughActionEnable})
	if rs := info.(*ul.ResetResponse); rs.PassThroughStatus != ul.UiccPassThroughStatusEnabled {
		t.Errorf("reset %+v", rs)
	}
	if st, _ := apdu(1, "00F2000000"); st != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("a channel survived a card reset: %s", st)
	}

	// Without a card.
	mo.Inject(Event{Type: "sim-removed"})
	if msg, _ := c.command(ul.UUID, ul.CIDAtr, mbim.CommandQuery, nil); msg.Status != mbim.StatusSIMNotInserted {
		t.Errorf("ATR without a card: %s", msg.Status)
	}
}

// The default files follow the SIM: EF.IMSI needs PIN1.
func TestUICCDefaultFilesAndPIN(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) { s.SIMs[0].State = SIMPINLocked }))
	c := dial(t, path)
	c.open()
	q := &ul.ReadBinaryQuery{Version: 1, ApplicationId: aidUSIM, FilePath: mustHex("7FFF6F07")}
	_, info := c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, q)
	if rb := info.(*ul.ReadBinaryResponse); rb.StatusWord1 != 0x69 || rb.StatusWord2 != 0x82 {
		t.Errorf("EF.IMSI while PIN-locked: %+v", rb)
	}
	c.command(bc.UUID, bc.CIDPin, mbim.CommandSet, &bc.PinSet{PinType: bc.PinTypePin1, PinOperation: bc.PinOperationEnter, Pin: "1234"})
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, q)
	if rb := info.(*ul.ReadBinaryResponse); rb.StatusWord1 != 0x90 || rb.Data.String() != "080910101032547698" {
		t.Errorf("EF.IMSI: %+v", rb)
	}
	_, info = c.command(ul.UUID, ul.CIDReadRecord, mbim.CommandQuery, &ul.ReadRecordQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("7FFF6F40"), RecordNumber: 1})
	if rr := info.(*ul.ReadRecordResponse); len(rr.Data) != 26 || decodeAddress(byte(2*(rr.Data[12]-1)), rr.Data[13], rr.Data[14:24]) != "+15551234567" {
		t.Errorf("EF.MSISDN: %+v", rr)
	}
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, &ul.ReadBinaryQuery{Version: 1, ApplicationId: aidUSIM,
		FilePath: mustHex("7FFF6F46")})
	if rb := info.(*ul.ReadBinaryResponse); gsm7Text(bytes.TrimRight(rb.Data[1:], "\xff")) != "Test Network" {
		t.Errorf("EF.SPN: %+v", rb)
	}
}

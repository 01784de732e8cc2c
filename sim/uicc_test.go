package sim

import (
	"bytes"
	"testing"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
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

// At MBIMEx 4.0 the SlotId of the ATR, channel, APDU, terminal-capability
// and reset commands selects the card, the inactive slot's included; each
// card keeps its own state.
func TestUICCSlotsMBIMEx4(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.SIMs[1] = SIM{State: SIMReady, ICCID: "89014103211118510777", IMSI: "310410987654321", ESIM: true,
			PIN1: "0000", PUK1: "00000000", PINAttempts: 3, PUKAttempts: 10}
	}))
	c := dial(t, path)
	c.open()
	c.command(ms.UUID, ms.CIDVersion, mbim.CommandQuery, &ms.VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: 0x0400})
	c.v = mbim.MBIMEx4

	// The ATR of each slot's card; the active one for an empty query.
	for _, q := range []mbim.Info{&ul.AtrQueryV4{SlotId: 0}, &ul.AtrQueryV4{SlotId: 1}, nil} {
		msg, info := c.command(ul.UUID, ul.CIDAtr, mbim.CommandQuery, q)
		if r, _ := info.(*ul.AtrResponse); msg.Status != mbim.StatusNone || !bytes.Equal(r.Atr, mo.sc.UICC.ATR) {
			t.Errorf("ATR %+v: %s %+v", q, msg.Status, info)
		}
	}
	if msg, _ := c.command(ul.UUID, ul.CIDAtr, mbim.CommandQuery, &ul.AtrQueryV4{SlotId: 2}); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("ATR of a slot the modem lacks: %s", msg.Status)
	}

	open := func(slot uint32) uint32 {
		t.Helper()
		msg, info := c.command(ul.UUID, ul.CIDOpenChannel, mbim.CommandSet, &ul.OpenChannelSetV4{AppId: aidUSIM, SelectP2Arg: 4, ChannelGroup: 7, SlotId: slot})
		r, _ := info.(*ul.OpenChannelResponse)
		if msg.Status != mbim.StatusNone || r == nil || r.Status != 0x0090 {
			t.Fatalf("open the USIM in slot %d: %s %+v", slot, msg.Status, info)
		}
		return r.Channel
	}
	apdu := func(slot, ch uint32, cmd string) (mbim.Status, *ul.ApduResponse) {
		t.Helper()
		msg, info := c.command(ul.UUID, ul.CIDApdu, mbim.CommandSet, &ul.ApduSetV4{Channel: ch, Command: mustHex(cmd), SlotId: slot})
		r, _ := info.(*ul.ApduResponse)
		return msg.Status, r
	}
	imsiOf := func(imsi string) string {
		parity := "1"
		if len(imsi)%2 == 1 {
			parity = "9"
		}
		return mbim.Bytes(append([]byte{byte((len(imsi) + 2) / 2)}, bcdSwapped(parity+imsi)...)).String()
	}
	// Each card numbers its channels: both get channel 1.
	ch0, ch1 := open(0), open(1)
	if ch0 != 1 || ch1 != 1 {
		t.Errorf("channels %d and %d, want 1 on each card", ch0, ch1)
	}
	// EF.IMSI of each card, made from its slot's SIM; slot 1 is inactive.
	for slot, imsi := range []string{"001010123456789", "310410987654321"} {
		if _, r := apdu(uint32(slot), 1, "00A40004026F07"); r.Status != 0x0090 {
			t.Fatalf("slot %d: SELECT EF.IMSI: %+v", slot, r)
		}
		if _, r := apdu(uint32(slot), 1, "00B0000009"); r.Response.String() != imsiOf(imsi) {
			t.Errorf("slot %d: EF.IMSI %s, want %s", slot, r.Response, imsiOf(imsi))
		}
	}
	// Closing slot 1's channel leaves slot 0's open.
	if msg, _ := c.command(ul.UUID, ul.CIDCloseChannel, mbim.CommandSet, &ul.CloseChannelSetV4{Channel: 1, SlotId: 1}); msg.Status != mbim.StatusNone {
		t.Errorf("close slot 1's channel: %s", msg.Status)
	}
	if st, _ := apdu(1, 1, "00F2000000"); st != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("slot 1's channel after its close: %s", st)
	}
	if st, r := apdu(0, 1, "00F2000000"); st != mbim.StatusNone || r.Status != 0x0090 {
		t.Errorf("slot 0's channel after slot 1's close: %s %+v", st, r)
	}
	if msg, _ := c.command(ul.UUID, ul.CIDApdu, mbim.CommandSet, &ul.ApduSetV4{Channel: 1, Command: mustHex("00F2000000"), SlotId: 5}); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("APDU to slot 5: %s", msg.Status)
	}

	// Terminal capabilities per card (the set has the slot first).
	caps := []ul.TerminalCapabilityInfo{{TerminalCapabilityData: mustHex("a903830107")}}
	c.command(ul.UUID, ul.CIDTerminalCapability, mbim.CommandSet, &ul.TerminalCapabilitySetV4{SlotId: 1, TerminalCapability: caps})
	for slot, want := range []int{0, 1} {
		_, info := c.command(ul.UUID, ul.CIDTerminalCapability, mbim.CommandQuery, &ul.TerminalCapabilityQueryV4{SlotId: uint32(slot)})
		if tc := info.(*ul.TerminalCapabilityResponse); len(tc.TerminalCapability) != want {
			t.Errorf("slot %d: terminal capabilities %+v, want %d", slot, tc, want)
		}
	}

	// Resetting slot 1's card into pass-through leaves slot 0's alone.
	open(1)
	_, info := c.command(ul.UUID, ul.CIDReset, mbim.CommandSet, &ul.ResetSetV4{PassThroughAction: ul.UiccPassThroughActionEnable, SlotId: 1})
	if rs := info.(*ul.ResetResponse); rs.PassThroughStatus != ul.UiccPassThroughStatusEnabled {
		t.Errorf("reset slot 1: %+v", rs)
	}
	for slot, want := range []ul.UiccPassThroughStatus{ul.UiccPassThroughStatusDisabled, ul.UiccPassThroughStatusEnabled} {
		_, info := c.command(ul.UUID, ul.CIDReset, mbim.CommandQuery, &ul.ResetQueryV4{SlotId: uint32(slot)})
		if rs := info.(*ul.ResetResponse); rs.PassThroughStatus != want {
			t.Errorf("slot %d: pass-through %s, want %s", slot, rs.PassThroughStatus, want)
		}
	}
	if st, _ := apdu(1, 1, "00F2000000"); st != mbim.StatusMSInvalidLogicalChannel {
		t.Errorf("slot 1's channel survived its card's reset: %s", st)
	}
	if st, _ := apdu(0, 1, "00F2000000"); st != mbim.StatusNone {
		t.Errorf("slot 0's channel closed by slot 1's reset: %s", st)
	}

	// After a switch to slot 1 the commands without a slot (file access)
	// and the empty queries are for slot 1's card.
	c.command(ms.UUID, ms.CIDDeviceSlotMappings, mbim.CommandSet, &ms.DeviceSlotMappingsSet{SlotMap: []ms.Slot{{Slot: 1}}})
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, &ul.ReadBinaryQuery{Version: 1, ApplicationId: aidUSIM, FilePath: mustHex("7FFF6F07")})
	if rb := info.(*ul.ReadBinaryResponse); rb.Data.String() != imsiOf("310410987654321") {
		t.Errorf("EF.IMSI of the active slot 1: %+v", rb)
	}
	_, info = c.command(ul.UUID, ul.CIDReset, mbim.CommandQuery, nil)
	if rs := info.(*ul.ResetResponse); rs.PassThroughStatus != ul.UiccPassThroughStatusEnabled {
		t.Errorf("pass-through of the active slot 1: %+v", rs)
	}

	// A slot without a card.
	mo.Inject(Event{Type: "sim-removed", Slot: new(uint32)})
	if msg, _ := c.command(ul.UUID, ul.CIDAtr, mbim.CommandQuery, &ul.AtrQueryV4{SlotId: 0}); msg.Status != mbim.StatusSIMNotInserted {
		t.Errorf("ATR of the emptied slot 0: %s", msg.Status)
	}
	if msg, _ := c.command(ul.UUID, ul.CIDAtr, mbim.CommandQuery, &ul.AtrQueryV4{SlotId: 1}); msg.Status != mbim.StatusNone {
		t.Errorf("ATR of slot 1: %s", msg.Status)
	}
}

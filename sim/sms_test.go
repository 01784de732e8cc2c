package sim

import (
	"strings"
	"testing"
	"time"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/sms"
	"github.com/gombim/gombim/mbim"
)

func TestSMSCodec(t *testing.T) {
	ts := time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("", -5*3600))
	for _, tc := range []struct{ from, text string }{
		{"+12125550199", "Hello, world! {braces} €5"},
		{"Operator", "Your plan renews tomorrow"},
		{"12345", "Привет, мир"},
		{"+33612345678", strings.Repeat("long message ", 30)},
		{"+33612345678", strings.Repeat("длинное ", 30)},
	} {
		pdus := deliverPDUs("+15550000000", tc.from, tc.text, ts, 7)
		var text strings.Builder
		for i, p := range pdus {
			d, err := parsePDU(p)
			if err != nil {
				t.Fatalf("%q part %d: %v", tc.text, i, err)
			}
			if d.Submit || d.Addr != tc.from || d.SMSC != "+15550000000" || !d.Time.Equal(ts) {
				t.Errorf("%q part %d read as %+v", tc.text, i, d)
			}
			if len(pdus) > 1 && (!d.Concat || d.CRef != 7 || int(d.CTotal) != len(pdus) || int(d.CSeq) != i+1) {
				t.Errorf("%q part %d: concatenation %+v", tc.text, i, d)
			}
			text.WriteString(d.Text)
		}
		if text.String() != tc.text {
			t.Errorf("deliver %q read back as %q", tc.text, text.String())
		}
		sub, err := parsePDU(submitPDUs("", tc.from, tc.text, 1)[0])
		if err != nil || !sub.Submit || sub.Addr != tc.from || !strings.HasPrefix(tc.text, sub.Text) {
			t.Errorf("submit %q read back as %+v, %v", tc.text, sub, err)
		}
	}
	// A PDU from 3GPP TS 23.040 examples as ModemManager builds it: SMSC
	// left to the modem, SMS-SUBMIT with a relative validity period.
	d, err := parsePDU(mustHex("0011000b916407281553f80000aa0ae8329bfd4697d9ec37"))
	if err != nil || !d.Submit || d.Addr != "+46708251358" || d.Text != "hellohello" {
		t.Errorf("ModemManager PDU read as %+v, %v", d, err)
	}
	// The classic SMS-DELIVER example (dreamfabric.com/sms; its time zone
	// octet 08 is not a valid zone, so only the time is checked).
	d, err = parsePDU(mustHex("07911326040000f0040b911346610089f60000208062917314080cc8f71d14969741f977fd07"))
	if err != nil || d.Submit || d.SMSC != "+31624000000" || d.Addr != "+31641600986" || d.Text != "How are you?" ||
		d.Time.Format(time.DateTime) != "2002-08-26 19:37:41" {
		t.Errorf("deliver PDU read as %+v, %v", d, err)
	}
	for _, s := range []string{"*100#", "*101#1", "1", "Balance: 5.00 EUR", "1234567", "Ваш баланс"} {
		dcs, p := ussdEncode(s)
		if got := ussdDecode(dcs, p); got != s {
			t.Errorf("USSD %q read back as %q (dcs %#x, % x)", s, got, dcs, p)
		}
	}
}

func mustHex(s string) mbim.Bytes {
	var b mbim.Bytes
	if err := b.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return b
}

func smsPDUText(t *testing.T, r sms.SmsPduReadRecord) smsPDU {
	t.Helper()
	d, err := parsePDU(r.PduData)
	if err != nil {
		t.Fatalf("message %d: %v", r.MessageIndex, err)
	}
	return d
}

func TestSMSStore(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.SMS = SMSConfig{SMSC: "+15550000000", MaxMessages: 5, FailTo: []string{"+15550009999"}, Messages: []SMSMessage{
			{Index: 2, Status: sms.SmsStatusOld, From: "+12125550100", Text: "Lunch at noon?"},
			{Status: sms.SmsStatusNew, From: "Test Network", Text: "Welcome"},
			{Index: 4, Status: sms.SmsStatusSent, To: "+12125550100", Text: "Sure"},
		}}
	}))
	c := dial(t, path)
	c.open()
	_, info := c.command(sms.UUID, sms.CIDConfiguration, mbim.CommandQuery, nil)
	if cfg := info.(*sms.ConfigurationResponse); cfg.SmsStorageState != sms.SmsStorageStateInitialized ||
		cfg.ScAddress != "+15550000000" || cfg.MaxMessages != 5 || cfg.Format != sms.SmsFormatPdu {
		t.Errorf("configuration %+v", cfg)
	}
	_, info = c.command(sms.UUID, sms.CIDMessageStoreStatus, mbim.CommandQuery, nil)
	if s := info.(*sms.MessageStoreStatusResponse); s.Flag != sms.SmsStatusFlagNewMessage || s.MessageIndex != 1 {
		t.Errorf("store status %+v", s)
	}
	read := func(flag sms.SmsFlag, index uint32) (mbim.Status, []sms.SmsPduReadRecord) {
		t.Helper()
		msg, info := c.command(sms.UUID, sms.CIDRead, mbim.CommandQuery, &sms.ReadQuery{Format: sms.SmsFormatPdu, Flag: flag, MessageIndex: index})
		if info == nil {
			return msg.Status, nil
		}
		return msg.Status, info.(*sms.ReadResponse).PduMessages
	}
	_, all := read(sms.SmsFlagAll, 0)
	if len(all) != 3 || all[0].MessageIndex != 1 || all[1].MessageIndex != 2 || all[2].MessageIndex != 4 {
		t.Fatalf("read all: %+v", all)
	}
	if d := smsPDUText(t, all[0]); d.Addr != "Test Network" || d.Text != "Welcome" || all[0].MessageStatus != sms.SmsStatusNew {
		t.Errorf("message 1: %+v %s", d, all[0].MessageStatus)
	}
	if d := smsPDUText(t, all[2]); !d.Submit || d.Addr != "+12125550100" || d.Text != "Sure" || all[2].MessageStatus != sms.SmsStatusSent {
		t.Errorf("message 4: %+v", d)
	}
	// Reading made message 1 old.
	if _, l := read(sms.SmsFlagNew, 0); len(l) != 0 {
		t.Errorf("new messages after reading all: %+v", l)
	}
	if _, l := read(sms.SmsFlagIndex, 1); len(l) != 1 || l[0].MessageStatus != sms.SmsStatusOld {
		t.Errorf("message 1 after reading: %+v", l)
	}
	if st, _ := read(sms.SmsFlagIndex, 3); st != mbim.StatusInvalidMemoryIndex {
		t.Errorf("reading a free index: %s", st)
	}

	// Send: stored as sent in the first free index.
	pdu := submitPDUs("", "+12125550123", "On my way", 0)[0]
	_, info = c.command(sms.UUID, sms.CIDSend, mbim.CommandSet, &sms.SendSet{Format: sms.SmsFormatPdu,
		PduMessage: sms.SmsPduSendRecord{PduData: pdu}})
	if r := info.(*sms.SendResponse); r.MessageReference != 1 {
		t.Errorf("send: %+v", r)
	}
	if _, l := read(sms.SmsFlagSent, 0); len(l) != 2 || l[0].MessageIndex != 3 || smsPDUText(t, l[0]).Text != "On my way" {
		t.Errorf("sent messages: %+v", l)
	}
	if got := mo.SMS(); len(got) != 4 || got[2] != (StoredSMS{3, sms.SmsStatusSent, "+12125550123", "On my way"}) {
		t.Errorf("store %+v", got)
	}
	// A destination the scenario makes fail.
	msg, _ := c.command(sms.UUID, sms.CIDSend, mbim.CommandSet, &sms.SendSet{Format: sms.SmsFormatPdu,
		PduMessage: sms.SmsPduSendRecord{PduData: submitPDUs("", "+15550009999", "x", 0)[0]}})
	if msg.Status != mbim.StatusSMSNetworkTimeout {
		t.Errorf("send to a failing number: %s", msg.Status)
	}
	// Not an SMS-SUBMIT.
	msg, _ = c.command(sms.UUID, sms.CIDSend, mbim.CommandSet, &sms.SendSet{Format: sms.SmsFormatPdu,
		PduMessage: sms.SmsPduSendRecord{PduData: all[0].PduData}})
	if msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("sending a deliver PDU: %s", msg.Status)
	}
	// CDMA needs the text caps.
	msg, _ = c.command(sms.UUID, sms.CIDConfiguration, mbim.CommandSet, &sms.ConfigurationSet{Format: sms.SmsFormatCdma})
	if msg.Status != mbim.StatusSMSFormatNotSupported {
		t.Errorf("cdma format on a PDU-only modem: %s", msg.Status)
	}

	// Fill the store: 5 of 5.
	c.command(sms.UUID, sms.CIDSend, mbim.CommandSet, &sms.SendSet{Format: sms.SmsFormatPdu, PduMessage: sms.SmsPduSendRecord{PduData: pdu}})
	_, info = c.command(sms.UUID, sms.CIDMessageStoreStatus, mbim.CommandQuery, nil)
	if s := info.(*sms.MessageStoreStatusResponse); s.Flag != sms.SmsStatusFlagMessageStoreFull {
		t.Errorf("full store status %+v", s)
	}

	// Delete.
	if msg, _ := c.command(sms.UUID, sms.CIDDelete, mbim.CommandSet, &sms.DeleteSet{Flag: sms.SmsFlagIndex, MessageIndex: 2}); msg.Status != mbim.StatusNone {
		t.Errorf("delete 2: %s", msg.Status)
	}
	if msg, _ := c.command(sms.UUID, sms.CIDDelete, mbim.CommandSet, &sms.DeleteSet{Flag: sms.SmsFlagIndex, MessageIndex: 2}); msg.Status != mbim.StatusInvalidMemoryIndex {
		t.Errorf("delete 2 again: %s", msg.Status)
	}
	c.command(sms.UUID, sms.CIDDelete, mbim.CommandSet, &sms.DeleteSet{Flag: sms.SmsFlagSent})
	if got := mo.SMS(); len(got) != 1 || got[0].Index != 1 {
		t.Errorf("after deleting 2 and the sent ones: %+v", got)
	}
	c.command(sms.UUID, sms.CIDDelete, mbim.CommandSet, &sms.DeleteSet{Flag: sms.SmsFlagAll})
	if _, l := read(sms.SmsFlagAll, 0); len(l) != 0 {
		t.Errorf("after deleting all: %+v", l)
	}
}

func TestSMSSendFailsAndCDMA(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) {
		s.Device.SmsCaps |= bc.SmsCapsTextReceive | bc.SmsCapsTextSend
		s.SMS = SMSConfig{Format: sms.SmsFormatCdma, SendStatus: mbim.StatusSMSUnknownSMSCAddress, Messages: []SMSMessage{
			{From: "+12125550100", Text: "Ça va?", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}}
	}))
	c := dial(t, path)
	c.open()
	_, info := c.command(sms.UUID, sms.CIDRead, mbim.CommandQuery, &sms.ReadQuery{Format: sms.SmsFormatCdma, Flag: sms.SmsFlagAll})
	r := info.(*sms.ReadResponse)
	if len(r.CdmaMessages) != 1 {
		t.Fatalf("cdma read %+v", r)
	}
	if m := r.CdmaMessages[0]; m.Address != "+12125550100" || m.Encoding != sms.SmsCdmaEncodingLatin ||
		string(m.EncodedMessage) != "\xc7a va?" || m.Timestamp != "26/01/02,03:04:05+00" || m.EncodedMessageSizeInCharacters != 6 {
		t.Errorf("cdma record %+v", m)
	}
	msg, _ := c.command(sms.UUID, sms.CIDSend, mbim.CommandSet, &sms.SendSet{Format: sms.SmsFormatCdma,
		CdmaMessage: sms.SmsCdmaSendRecord{Encoding: sms.SmsCdmaEncodingLatin, Address: "+12125550100",
			EncodedMessage: []byte("hi"), EncodedMessageSizeInCharacters: 2}})
	if msg.Status != mbim.StatusSMSUnknownSMSCAddress {
		t.Errorf("send with send_status: %s", msg.Status)
	}
}

func TestSMSArrival(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.SMS.SMSC = "+15550000000"
		s.NITZ = NITZConfig{Offset: Duration(-48 * time.Hour), TimeZone: 60}
		s.Timeline = []Event{{At: Duration(200 * time.Millisecond), Type: "sms", From: "+12125550199", Text: "Your data plan renews tomorrow"}}
	}))
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: sms.UUID}}})
	st := c.expectIndication(sms.UUID, sms.CIDMessageStoreStatus).(*sms.MessageStoreStatusResponse)
	if st.Flag != sms.SmsStatusFlagNewMessage || st.MessageIndex != 2 {
		t.Errorf("store status indication %+v", st)
	}
	r := c.expectIndication(sms.UUID, sms.CIDRead).(*sms.ReadResponse)
	if len(r.PduMessages) != 1 || r.PduMessages[0].MessageIndex != 2 || r.PduMessages[0].MessageStatus != sms.SmsStatusNew {
		t.Fatalf("read indication %+v", r)
	}
	d := smsPDUText(t, r.PduMessages[0])
	want := mo.NetworkTime()
	if d.Addr != "+12125550199" || d.Text != "Your data plan renews tomorrow" || d.SMSC != "+15550000000" {
		t.Errorf("message %+v", d)
	}
	if _, off := d.Time.Zone(); off != 3600 || want.Sub(d.Time) < 0 || want.Sub(d.Time) > 5*time.Second {
		t.Errorf("time stamp %v, network time %v", d.Time, want)
	}
	// A long one arrives in three parts, each indicated.
	mo.Inject(Event{Type: "sms", From: "+12125550199", Text: strings.Repeat("0123456789", 40)})
	c.expectIndication(sms.UUID, sms.CIDMessageStoreStatus)
	r = c.expectIndication(sms.UUID, sms.CIDRead).(*sms.ReadResponse)
	if len(r.PduMessages) != 3 || r.PduMessages[2].MessageIndex != 5 {
		t.Errorf("long message indicated as %+v", r)
	}
}

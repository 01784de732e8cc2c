package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/sms"
	"github.com/gombim/gombim/mbim"
)

// SMS (MBIM 1.0 section 10.5.29 to 10.5.33): a message store with the
// scenario's messages, read in PDU (SMS-DELIVER / SMS-SUBMIT) or CDMA
// form, sends stored as sent, deletes, the store status, and messages
// arriving from the timeline (an "sms" event) with their indications.

func init() {
	Handle(sms.UUID, sms.CIDConfiguration, handleSMSConfiguration)
	Handle(sms.UUID, sms.CIDRead, handleSMSRead)
	Handle(sms.UUID, sms.CIDSend, handleSMSSend)
	Handle(sms.UUID, sms.CIDDelete, handleSMSDelete)
	Handle(sms.UUID, sms.CIDMessageStoreStatus, handleSMSStoreStatus)
	RegisterEvent("sms", smsEvent)
	registerScenarioCheck(func(s *Scenario) error { return s.SMS.check() })
}

// SMSConfig is the SMS store at power-up and how sends go (scenario key
// sms).
type SMSConfig struct {
	// SMSC is the service centre address (+15550000000).
	SMSC string `json:"smsc"`
	// Format is the format the host reads in until it sets one: pdu or
	// cdma (cdma needs the text caps in device.sms_caps).
	Format sms.SmsFormat `json:"format"`
	// MaxMessages is the size of the store (32).
	MaxMessages uint32 `json:"max_messages"`
	// Messages are in the store at power-up. Omitted: one new message
	// from the home operator; [] for an empty store.
	Messages []SMSMessage `json:"messages"`
	// SendStatus, when set, is the status every send fails with.
	SendStatus mbim.Status `json:"send_status"`
	// FailTo lists destinations whose sends fail with sms-network-timeout.
	FailTo []string `json:"fail_to"`
	// SendTime is how long a send takes.
	SendTime Duration `json:"send_time"`
}

// SMSMessage is a stored message. A long text takes several indices
// (concatenated parts), as on a real store.
type SMSMessage struct {
	// Index is the message's place in the store (1..max_messages); 0
	// takes the next free one.
	Index uint32 `json:"index"`
	// Status is new (the default), old, draft or sent.
	Status sms.SmsStatus `json:"status"`
	// From is the originator of a received message (new, old); To the
	// destination of a sent or draft one.
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
	// Time is when the service centre got it (RFC 3339; default: when
	// the modem powers up).
	Time time.Time `json:"time"`
	// PDU, if set, is stored as it is (a 3GPP TS 27.005 PDU that starts
	// with the SMSC address) instead of one built from the other keys.
	PDU mbim.Bytes `json:"pdu"`
}

func (c *SMSConfig) check() error {
	if c.MaxMessages == 0 {
		c.MaxMessages = 32
	}
	if c.Messages == nil {
		c.Messages = []SMSMessage{{Status: sms.SmsStatusNew, From: "Test Network",
			Text: "Welcome to the gombim simulated network"}}
	}
	if c.Format > sms.SmsFormatCdma {
		return fmt.Errorf("sms.format %d: want pdu or cdma", c.Format)
	}
	used := map[uint32]bool{}
	for i, msg := range c.Messages {
		if msg.Status > sms.SmsStatusSent {
			return fmt.Errorf("sms.messages[%d]: status %d: want new, old, draft or sent", i, msg.Status)
		}
		if msg.Index > c.MaxMessages {
			return fmt.Errorf("sms.messages[%d]: index %d beyond max_messages %d", i, msg.Index, c.MaxMessages)
		}
		if msg.Index != 0 && used[msg.Index] {
			return fmt.Errorf("sms.messages[%d]: index %d used twice", i, msg.Index)
		}
		used[msg.Index] = true
		if len(msg.PDU) > 0 {
			if _, err := parsePDU(msg.PDU); err != nil {
				return fmt.Errorf("sms.messages[%d]: pdu: %v", i, err)
			}
		}
	}
	return nil
}

// smsEntry is one message (or one part of a long one) in the store.
type smsEntry struct {
	index  uint32
	status sms.SmsStatus
	pdu    []byte // the 3GPP PDU, with its SMSC address; nil for a CDMA send
	addr   string // originator (received) or destination (sent, draft)
	text   string
	time   time.Time
}

type smsState struct {
	format  sms.SmsFormat
	smsc    string
	msgs    []*smsEntry // sorted by index
	ref     byte        // concatenation reference
	msgRef  uint32      // TP-MR of sends
	lastNew uint32      // the index of the last new message indicated
}

func smsStore(m *Modem) *smsState {
	return m.Ext("sms", func() any { return m.newSMSStore() }).(*smsState)
}

func (m *Modem) newSMSStore() *smsState {
	c := m.sc.SMS
	st := &smsState{format: c.Format, smsc: c.SMSC}
	now := m.networkTime()
	for _, msg := range c.Messages {
		t := msg.Time
		if t.IsZero() {
			t = now
		}
		var pdus [][]byte
		addr := msg.From
		switch {
		case len(msg.PDU) > 0:
			pdus = [][]byte{slices.Clone(msg.PDU)}
		case msg.Status == sms.SmsStatusSent || msg.Status == sms.SmsStatusDraft:
			addr = msg.To
			st.ref++
			pdus = submitPDUs(c.SMSC, msg.To, msg.Text, st.ref)
		default:
			st.ref++
			pdus = deliverPDUs(c.SMSC, msg.From, msg.Text, t, st.ref)
		}
		for i, p := range pdus {
			e := &smsEntry{status: msg.Status, pdu: p, addr: addr, time: t, text: msg.Text}
			if d, err := parsePDU(p); err == nil {
				e.addr, e.text = d.Addr, d.Text
				if !d.Submit {
					e.time = d.Time
				}
			}
			idx := uint32(0)
			if msg.Index != 0 {
				idx = msg.Index + uint32(i)
			}
			if !st.put(e, idx, c.MaxMessages) {
				m.log("sms: store full, scenario message %q dropped", msg.Text)
			}
		}
	}
	return st
}

// put stores e at index (0: the first free index); false when there is
// no room.
func (st *smsState) put(e *smsEntry, index, max uint32) bool {
	if index == 0 || st.find(index) != nil {
		index = 0
		for i := uint32(1); i <= max; i++ {
			if st.find(i) == nil {
				index = i
				break
			}
		}
		if index == 0 {
			return false
		}
	}
	e.index = index
	st.msgs = append(st.msgs, e)
	slices.SortFunc(st.msgs, func(a, b *smsEntry) int { return int(a.index) - int(b.index) })
	return true
}

func (st *smsState) find(index uint32) *smsEntry {
	for _, e := range st.msgs {
		if e.index == index {
			return e
		}
	}
	return nil
}

// smsReady is the status of SMS commands: the store lives on the SIM.
func (m *Modem) smsReady() mbim.Status { return m.simStatus() }

// smsFormatOK reports whether the device caps allow format for reading
// (or sending).
func (m *Modem) smsFormatOK(f sms.SmsFormat, send bool) bool {
	caps := m.sc.Device.SmsCaps
	switch {
	case f == sms.SmsFormatPdu && !send:
		return caps&bc.SmsCapsPduReceive != 0
	case f == sms.SmsFormatPdu:
		return caps&bc.SmsCapsPduSend != 0
	case f == sms.SmsFormatCdma && !send:
		return caps&bc.SmsCapsTextReceive != 0
	case f == sms.SmsFormatCdma:
		return caps&bc.SmsCapsTextSend != 0
	}
	return false
}

func (m *Modem) smsConfigInfo() *sms.ConfigurationResponse {
	st := smsStore(m)
	state := sms.SmsStorageStateInitialized
	if m.simStatus() != mbim.StatusNone {
		state = sms.SmsStorageStateNotInitialized
	}
	return &sms.ConfigurationResponse{SmsStorageState: state, Format: st.format, MaxMessages: m.sc.SMS.MaxMessages,
		CdmaShortMessageSize: 160, ScAddress: st.smsc}
}

func handleSMSConfiguration(m *Modem, r *Request) Reply {
	if s, ok := r.Info.(*sms.ConfigurationSet); ok {
		if st := m.smsReady(); st != mbim.StatusNone {
			return Fail(st)
		}
		if !m.smsFormatOK(s.Format, false) {
			return Fail(mbim.StatusSMSFormatNotSupported)
		}
		if s.ScAddress != "" && strings.Trim(strings.TrimPrefix(s.ScAddress, "+"), "0123456789") != "" {
			return Fail(mbim.StatusSMSUnknownSMSCAddress)
		}
		st := smsStore(m)
		st.format = s.Format
		if s.ScAddress != "" {
			st.smsc = s.ScAddress
		}
		m.log("sms: format %s, SMSC %s", st.format, st.smsc)
		m.Notify(sms.UUID, sms.CIDConfiguration, m.smsConfigInfo())
	}
	return OK(m.smsConfigInfo())
}

// smsRecords renders entries in format.
func (m *Modem) smsRecords(f sms.SmsFormat, l []*smsEntry) *sms.ReadResponse {
	out := &sms.ReadResponse{Format: f}
	for _, e := range l {
		if f == sms.SmsFormatCdma {
			out.CdmaMessages = append(out.CdmaMessages, cdmaRecord(e))
			continue
		}
		p := e.pdu
		if p == nil { // a CDMA send, read back as PDU
			p = submitPDUs(smsStore(m).smsc, e.addr, e.text, 0)[0]
		}
		out.PduMessages = append(out.PduMessages, sms.SmsPduReadRecord{MessageIndex: e.index, MessageStatus: e.status,
			PduData: slices.Clone(p)})
	}
	return out
}

// cdmaRecord gives a message in the CDMA record form: Latin-1 when every
// character has one, else UTF-16.
func cdmaRecord(e *smsEntry) sms.SmsCdmaReadRecord {
	rec := sms.SmsCdmaReadRecord{MessageIndex: e.index, MessageStatus: e.status, Address: e.addr,
		Timestamp: cdmaTimestamp(e.time), Language: sms.SmsCdmaLangEnglish}
	latin := true
	for _, r := range e.text {
		if r > 0xff {
			latin = false
		}
	}
	if latin {
		rec.Encoding = sms.SmsCdmaEncodingLatin
		for _, r := range e.text {
			rec.EncodedMessage = append(rec.EncodedMessage, byte(r))
		}
		rec.EncodedMessageSizeInCharacters = uint32(len(rec.EncodedMessage))
	} else {
		rec.Encoding = sms.SmsCdmaEncodingUnicode
		rec.EncodedMessage = ucs2(e.text)
		rec.EncodedMessageSizeInCharacters = uint32(len(utf16.Encode([]rune(e.text))))
	}
	return rec
}

// cdmaTimestamp is "yy/MM/dd,hh:mm:ss±zz" (zz in quarters of an hour, as
// in 3GPP TS 27.005 +CMGR).
func cdmaTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%s%02d", t.Format("06/01/02,15:04:05"), sign, off/900)
}

// cdmaText decodes the text of a CDMA send.
func cdmaText(rec *sms.SmsCdmaSendRecord) (string, bool) {
	switch rec.Encoding {
	case sms.SmsCdmaEncodingLatin, sms.SmsCdmaEncodingOctet, sms.SmsCdmaEncodingLatinHebrew:
		r := make([]rune, len(rec.EncodedMessage))
		for i, b := range rec.EncodedMessage {
			r[i] = rune(b)
		}
		return string(r), true
	case sms.SmsCdmaEncoding7bitAscii:
		// IS-637: septets packed most significant bit first.
		var out []byte
		n := int(rec.EncodedMessageSizeInCharacters)
		for i := 0; i < n; i++ {
			var c byte
			for j := 0; j < 7; j++ {
				bit := i*7 + j
				if bit/8 < len(rec.EncodedMessage) && rec.EncodedMessage[bit/8]&(0x80>>(bit%8)) != 0 {
					c |= 0x40 >> j
				}
			}
			out = append(out, c)
		}
		return string(out), true
	case sms.SmsCdmaEncodingUnicode:
		return ucs2Text(rec.EncodedMessage), true
	case sms.SmsCdmaEncodingGsm7bit:
		return gsm7Text(unpackSeptets(rec.EncodedMessage, 0, int(rec.EncodedMessageSizeInCharacters))), true
	}
	return "", false
}

func handleSMSRead(m *Modem, r *Request) Reply {
	if st := m.smsReady(); st != mbim.StatusNone {
		return Fail(st)
	}
	q, ok := r.Info.(*sms.ReadQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	if !m.smsFormatOK(q.Format, false) {
		return Fail(mbim.StatusSMSFormatNotSupported)
	}
	st := smsStore(m)
	var sel []*smsEntry
	switch q.Flag {
	case sms.SmsFlagAll:
		sel = st.msgs
	case sms.SmsFlagIndex:
		e := st.find(q.MessageIndex)
		if e == nil {
			return Fail(mbim.StatusInvalidMemoryIndex)
		}
		sel = []*smsEntry{e}
	case sms.SmsFlagNew, sms.SmsFlagOld, sms.SmsFlagSent, sms.SmsFlagDraft:
		want := map[sms.SmsFlag]sms.SmsStatus{sms.SmsFlagNew: sms.SmsStatusNew, sms.SmsFlagOld: sms.SmsStatusOld,
			sms.SmsFlagSent: sms.SmsStatusSent, sms.SmsFlagDraft: sms.SmsStatusDraft}[q.Flag]
		for _, e := range st.msgs {
			if e.status == want {
				sel = append(sel, e)
			}
		}
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	resp := m.smsRecords(q.Format, sel)
	// Reading a new message makes it old.
	read := false
	for _, e := range sel {
		if e.status == sms.SmsStatusNew {
			e.status = sms.SmsStatusOld
			read = true
		}
	}
	if read {
		m.notifySMSStore(0)
	}
	return OK(resp)
}

func handleSMSSend(m *Modem, r *Request) Reply {
	if st := m.smsReady(); st != mbim.StatusNone {
		return Fail(st)
	}
	s, ok := r.Info.(*sms.SendSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	if !m.smsFormatOK(s.Format, true) {
		return Fail(mbim.StatusSMSFormatNotSupported)
	}
	e := &smsEntry{status: sms.SmsStatusSent, time: m.networkTime()}
	switch s.Format {
	case sms.SmsFormatPdu:
		d, err := parsePDU(s.PduMessage.PduData)
		if err != nil || !d.Submit {
			m.log("sms: send: not an SMS-SUBMIT PDU (%v)", err)
			return Fail(mbim.StatusInvalidParameters)
		}
		e.pdu, e.addr, e.text = slices.Clone(s.PduMessage.PduData), d.Addr, d.Text
	case sms.SmsFormatCdma:
		text, ok := cdmaText(&s.CdmaMessage)
		if !ok {
			return Fail(mbim.StatusSMSEncodingNotSupported)
		}
		if s.CdmaMessage.Address == "" {
			return Fail(mbim.StatusInvalidParameters)
		}
		e.addr, e.text = s.CdmaMessage.Address, text
	default:
		return Fail(mbim.StatusSMSFormatNotSupported)
	}
	if !m.registered() {
		return Fail(mbim.StatusNotRegistered)
	}
	c := m.sc.SMS
	st := smsStore(m)
	if st.smsc == "" && e.pdu != nil && e.pdu[0] == 0 {
		return Fail(mbim.StatusSMSUnknownSMSCAddress)
	}
	return Reply{After: c.SendTime.D(), Later: func(m *Modem) Reply {
		if c.SendStatus != mbim.StatusNone {
			m.log("sms: send to %s fails (%s)", e.addr, c.SendStatus)
			return Fail(c.SendStatus)
		}
		if slices.Contains(c.FailTo, e.addr) {
			m.log("sms: send to %s fails (network timeout)", e.addr)
			return Fail(mbim.StatusSMSNetworkTimeout)
		}
		st := smsStore(m)
		st.msgRef++
		if !st.put(e, 0, c.MaxMessages) {
			m.log("sms: sent to %s, not stored: the store is full", e.addr)
		} else {
			m.log("sms: sent to %s %q, stored at %d", e.addr, e.text, e.index)
			m.notifySMSStore(0)
		}
		return OK(&sms.SendResponse{MessageReference: st.msgRef & 0xff})
	}}
}

func handleSMSDelete(m *Modem, r *Request) Reply {
	if st := m.smsReady(); st != mbim.StatusNone {
		return Fail(st)
	}
	s, ok := r.Info.(*sms.DeleteSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	st := smsStore(m)
	var del func(e *smsEntry) bool
	switch s.Flag {
	case sms.SmsFlagAll:
		del = func(*smsEntry) bool { return true }
	case sms.SmsFlagIndex:
		if st.find(s.MessageIndex) == nil {
			return Fail(mbim.StatusInvalidMemoryIndex)
		}
		del = func(e *smsEntry) bool { return e.index == s.MessageIndex }
	case sms.SmsFlagOld, sms.SmsFlagSent, sms.SmsFlagDraft:
		want := map[sms.SmsFlag]sms.SmsStatus{sms.SmsFlagOld: sms.SmsStatusOld, sms.SmsFlagSent: sms.SmsStatusSent,
			sms.SmsFlagDraft: sms.SmsStatusDraft}[s.Flag]
		del = func(e *smsEntry) bool { return e.status == want }
	default: // new messages cannot be deleted unread
		return Fail(mbim.StatusInvalidParameters)
	}
	n := len(st.msgs)
	st.msgs = slices.DeleteFunc(st.msgs, del)
	if n != len(st.msgs) {
		m.log("sms: %d deleted (%s)", n-len(st.msgs), s.Flag)
		m.notifySMSStore(0)
	}
	return OK(nil)
}

func (m *Modem) smsStoreInfo(newIndex uint32) *sms.MessageStoreStatusResponse {
	st := smsStore(m)
	var flag sms.SmsStatusFlag
	if uint32(len(st.msgs)) >= m.sc.SMS.MaxMessages {
		flag |= sms.SmsStatusFlagMessageStoreFull
	}
	if e := st.find(newIndex); e == nil || e.status != sms.SmsStatusNew {
		newIndex = 0
	}
	for _, e := range st.msgs {
		if e.status == sms.SmsStatusNew {
			flag |= sms.SmsStatusFlagNewMessage
			if newIndex == 0 {
				newIndex = e.index
			}
		}
	}
	return &sms.MessageStoreStatusResponse{Flag: flag, MessageIndex: newIndex}
}

func handleSMSStoreStatus(m *Modem, r *Request) Reply {
	if st := m.smsReady(); st != mbim.StatusNone {
		return Fail(st)
	}
	return OK(m.smsStoreInfo(smsStore(m).lastNew))
}

func (m *Modem) notifySMSStore(newIndex uint32) {
	m.Notify(sms.UUID, sms.CIDMessageStoreStatus, m.smsStoreInfo(newIndex))
}

// smsEvent is a message arriving: {"type": "sms", "from": "+1555...",
// "text": "..."}, or data {"pdu": "hex"} for a PDU as it is. It is stored
// as new (a long text in several parts), and the host is told with a
// message-store-status indication and a read indication per part.
func smsEvent(m *Modem, ev Event) {
	if m.simStatus() != mbim.StatusNone || !m.registered() {
		m.log("sms: message from %s lost: not registered", ev.From)
		return
	}
	st := smsStore(m)
	var pdus [][]byte
	if len(ev.Data) > 0 {
		var d struct {
			PDU mbim.Bytes `json:"pdu"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || len(d.PDU) == 0 {
			m.log("sms: event data %s: want {\"pdu\": \"hex\"} (%v)", ev.Data, err)
			return
		}
		pdus = [][]byte{d.PDU}
	} else {
		st.ref++
		pdus = deliverPDUs(st.smsc, ev.From, ev.Text, m.networkTime(), st.ref)
	}
	var stored []*smsEntry
	for _, p := range pdus {
		d, err := parsePDU(p)
		if err != nil {
			m.log("sms: event pdu: %v", err)
			return
		}
		e := &smsEntry{status: sms.SmsStatusNew, pdu: p, addr: d.Addr, text: d.Text, time: d.Time}
		if !st.put(e, 0, m.sc.SMS.MaxMessages) {
			m.log("sms: message from %s lost: the store is full", d.Addr)
			m.notifySMSStore(0)
			break
		}
		m.log("sms: message from %s stored at %d", d.Addr, e.index)
		stored = append(stored, e)
	}
	if len(stored) == 0 {
		return
	}
	st.lastNew = stored[len(stored)-1].index
	m.notifySMSStore(st.lastNew)
	if m.smsFormatOK(st.format, false) {
		m.Notify(sms.UUID, sms.CIDRead, m.smsRecords(st.format, stored))
	}
}

// StoredSMS is a message in the store.
type StoredSMS struct {
	Index  uint32
	Status sms.SmsStatus
	Addr   string // originator or destination
	Text   string
}

// SMS returns the messages in the store, by index.
func (m *Modem) SMS() []StoredSMS {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredSMS
	for _, e := range smsStore(m).msgs {
		out = append(out, StoredSMS{e.index, e.status, e.addr, e.text})
	}
	return out
}

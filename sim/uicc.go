package sim

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	ul "github.com/gombim/gombim/catalog/msuicclowlevelaccess"
	"github.com/gombim/gombim/mbim"
)

// MS UICC Low Level Access: the cards as the host sees them through the
// modem. Its ATR, applications and files come from the scenario (by default
// a USIM and an ISIM whose files carry the slot's SIM's ICCID, IMSI, own
// numbers and the home operator's name). Logical channels are opened by
// application, up to uicc.max_channels; APDUs are answered by the
// scenario's script (uicc.apdus), else by a small card: SELECT (by AID,
// file ID or path), READ BINARY, READ RECORD and STATUS over the file
// system, 6A82 for what it cannot find and 6D00 for other instructions.
//
// Up to MBIMEx 3.0 every command is for the card in the active slot. At
// MBIMEx 4.0 the ATR, open-channel, close-channel, APDU,
// terminal-capability and reset commands carry a SlotId, which selects the
// card, the inactive slot's included (an empty query means the active
// slot); each slot's card has its own channels, capabilities and
// pass-through state. The application list and file access CIDs stay with
// the active slot.

func init() {
	Handle(ul.UUID, ul.CIDAtr, handleUICCATR)
	Handle(ul.UUID, ul.CIDOpenChannel, handleUICCOpenChannel)
	Handle(ul.UUID, ul.CIDCloseChannel, handleUICCCloseChannel)
	Handle(ul.UUID, ul.CIDApdu, handleUICCAPDU)
	Handle(ul.UUID, ul.CIDTerminalCapability, handleUICCTerminalCapability)
	Handle(ul.UUID, ul.CIDReset, handleUICCReset)
	Handle(ul.UUID, ul.CIDApplicationList, handleUICCApplicationList)
	Handle(ul.UUID, ul.CIDFileStatus, handleUICCFileStatus)
	Handle(ul.UUID, ul.CIDReadBinary, handleUICCReadBinary)
	Handle(ul.UUID, ul.CIDReadRecord, handleUICCReadRecord)
	registerScenarioCheck(func(s *Scenario) error { return s.UICC.check() })
}

// UICCConfig is the card (scenario key uicc). The same card answers in
// whichever slot is active; files left out are made from that slot's SIM.
type UICCConfig struct {
	// ATR is the answer to reset (hex).
	ATR mbim.Bytes `json:"atr"`
	// Applications on the card. Omitted: a USIM and an ISIM.
	Applications []UICCApplication `json:"applications"`
	// ActiveApplication is the index of the application the modem uses.
	ActiveApplication uint32 `json:"active_application"`
	// MaxChannels is how many logical channels can be open besides the
	// basic one (3).
	MaxChannels uint32 `json:"max_channels"`
	// APDUs script the card: a command (hex; a trailing "*" matches any
	// rest) and its response (data and status words, hex). They are
	// looked up before the built-in behaviour.
	APDUs []UICCAPDU `json:"apdus"`
	// Files make the file system. Omitted: EF.DIR and EF.ICCID under the
	// MF, EF.IMSI, EF.AD, EF.SPN and EF.MSISDN in the USIM.
	Files []UICCFile `json:"files"`
}

// UICCApplication is one application (an ADF).
type UICCApplication struct {
	Type ul.UiccApplicationType `json:"type"` // usim, isim, csim, mf-sim...
	AID  mbim.Bytes             `json:"aid"`
	Name string                 `json:"name"`
	// PINRefs are the application's PIN key references (01: PIN1, 81:
	// PIN2).
	PINRefs mbim.Bytes `json:"pin_refs"`
	// SelectResponse is what a SELECT of the application returns (its
	// FCP), without status words.
	SelectResponse mbim.Bytes `json:"select_response"`
}

// UICCAPDU is one scripted command and its response.
type UICCAPDU struct {
	Command  string     `json:"command"`
	Response mbim.Bytes `json:"response"`
}

// UICCFile is one elementary file.
type UICCFile struct {
	// App is the AID of the application whose ADF holds the file; empty
	// for a file under the MF.
	App mbim.Bytes `json:"app"`
	// Path is the file's path from the MF or the ADF, 2 bytes per file ID
	// (hex: "2FE2", "3F002FE2", "6F07", "7FFF6F07").
	Path mbim.Bytes `json:"path"`
	// Structure is transparent, linear or cyclic (linear when Records are
	// given, else transparent).
	Structure ul.UiccFileStructure `json:"structure"`
	// Data is the contents of a transparent file; Records those of a
	// record file (all of one size).
	Data    mbim.Bytes   `json:"data"`
	Records []mbim.Bytes `json:"records"`
	// Read and Update are the access conditions: unknown (always), pin1,
	// pin2, adm, nev (never). Defaults: always, adm.
	Read   bc.PinType `json:"read"`
	Update bc.PinType `json:"update"`
}

var (
	aidUSIM = mbim.Bytes{0xa0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xff, 0x49, 0xff, 0x05, 0x89}
	aidISIM = mbim.Bytes{0xa0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04, 0xff, 0x49, 0xff, 0x05, 0x89}
)

func (c *UICCConfig) check() error {
	if c.ATR == nil {
		c.ATR, _ = hex.DecodeString("3b9f96801fc78031a073be21136743200718000001a5")
	}
	if c.Applications == nil {
		c.Applications = []UICCApplication{
			{Type: ul.UiccApplicationTypeUsim, AID: aidUSIM, Name: "USIM", PINRefs: mbim.Bytes{0x01, 0x81},
				SelectResponse: adfFCP(aidUSIM)},
			{Type: ul.UiccApplicationTypeIsim, AID: aidISIM, Name: "ISIM", PINRefs: mbim.Bytes{0x01},
				SelectResponse: adfFCP(aidISIM)},
		}
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = 3
	}
	if c.MaxChannels > 19 {
		return fmt.Errorf("uicc.max_channels %d: a UICC has at most 19 logical channels", c.MaxChannels)
	}
	if len(c.Applications) > 0 && int(c.ActiveApplication) >= len(c.Applications) {
		return fmt.Errorf("uicc.active_application %d: there are %d applications", c.ActiveApplication, len(c.Applications))
	}
	for i, a := range c.Applications {
		if len(a.AID) < 5 || len(a.AID) > 16 {
			return fmt.Errorf("uicc.applications[%d]: aid %s: want 5 to 16 bytes", i, a.AID)
		}
	}
	for i, a := range c.APDUs {
		cmd := strings.TrimSuffix(a.Command, "*")
		minLen := 8
		if cmd != a.Command {
			minLen = 2
		}
		if _, err := hex.DecodeString(cmd); err != nil || len(cmd) < minLen {
			return fmt.Errorf("uicc.apdus[%d]: command %q: want a command APDU in hex, or its start followed by *", i, a.Command)
		}
		if len(a.Response) < 2 {
			return fmt.Errorf("uicc.apdus[%d]: response %s: want data and two status words", i, a.Response)
		}
	}
	for i := range c.Files {
		f := &c.Files[i]
		if len(f.Path) < 2 || len(f.Path)%2 != 0 {
			return fmt.Errorf("uicc.files[%d]: path %s: want file IDs of 2 bytes", i, f.Path)
		}
		f.defaults()
		for j, r := range f.Records {
			if len(r) != len(f.Records[0]) {
				return fmt.Errorf("uicc.files[%d]: record %d has %d bytes, record 1 %d", i, j+1, len(r), len(f.Records[0]))
			}
		}
	}
	return nil
}

// defaults fills in the structure and the update condition.
func (f *UICCFile) defaults() {
	if f.Structure == ul.UiccFileStructureUnknown {
		f.Structure = ul.UiccFileStructureTransparent
		if len(f.Records) > 0 {
			f.Structure = ul.UiccFileStructureLinear
		}
	}
	if f.Update == bc.PinTypeUnknown {
		f.Update = bc.PinTypeAdm
	}
}

// adfFCP is the FCP template a SELECT of an ADF returns: file descriptor
// (DF), file ID 7FFF, DF name and life cycle status (TS 102 221 11.1.1.3).
func adfFCP(aid []byte) mbim.Bytes {
	body := []byte{0x82, 0x02, 0x78, 0x21, 0x83, 0x02, 0x7f, 0xff, 0x84, byte(len(aid))}
	body = append(append(body, aid...), 0x8a, 0x01, 0x05)
	return append(mbim.Bytes{0x62, byte(len(body))}, body...)
}

// ---- the card's state

type uiccChannel struct {
	app   int // application selected (-1: the MF)
	file  *uiccFile
	group uint32
}

type uiccFile struct {
	app  int    // -1: under the MF
	path []byte // without 3F00 / 7FFF
	UICCFile
}

type uiccState struct {
	slot        uint32
	files       []*uiccFile
	channels    map[uint32]*uiccChannel // 0 is the basic channel
	capability  []ul.TerminalCapabilityInfo
	passThrough ul.UiccPassThroughStatus
}

// uicc returns the state of the card in a slot (each slot's card keeps its
// own until a device reset).
func uicc(m *Modem, slot uint32) *uiccState {
	return m.Ext(fmt.Sprintf("uicc-%d", slot), func() any {
		st := &uiccState{slot: slot}
		st.reset(m)
		st.files = m.uiccFiles(slot)
		return st
	}).(*uiccState)
}

// reset puts the card in its state after an ATR: only the basic channel,
// with the active application selected.
func (st *uiccState) reset(m *Modem) {
	st.channels = map[uint32]*uiccChannel{0: {app: int(m.sc.UICC.ActiveApplication)}}
	if len(m.sc.UICC.Applications) == 0 {
		st.channels[0].app = -1
	}
}

// uiccFiles builds the file system of a slot's card: the scenario's files,
// else defaults made from the slot's SIM.
func (m *Modem) uiccFiles(slot uint32) []*uiccFile {
	c := m.sc.UICC
	files := c.Files
	if files == nil {
		files = m.defaultUICCFiles(slot)
	}
	var out []*uiccFile
	for _, f := range files {
		f.defaults()
		uf := &uiccFile{app: -1, UICCFile: f}
		if len(f.App) > 0 {
			uf.app = m.uiccApp(f.App)
			if uf.app < 0 {
				m.log("uicc: file %s: no application %s", f.Path, f.App)
				continue
			}
		}
		uf.path = trimPath(f.Path)
		for i := range uf.Records {
			uf.Records[i] = slices.Clone(uf.Records[i])
		}
		uf.Data = slices.Clone(uf.Data)
		out = append(out, uf)
	}
	return out
}

// trimPath drops the MF (3F00) and current ADF (7FFF) that start a path.
func trimPath(p []byte) []byte {
	for len(p) >= 2 && (bytes.HasPrefix(p, []byte{0x3f, 0x00}) || bytes.HasPrefix(p, []byte{0x7f, 0xff})) {
		p = p[2:]
	}
	return p
}

func (m *Modem) defaultUICCFiles(slot uint32) []UICCFile {
	sim := m.sims[slot].cfg
	iccid := sim.ICCID
	for len(iccid) < 20 {
		iccid += "F"
	}
	var dir []mbim.Bytes
	for _, a := range m.sc.UICC.Applications {
		r := append([]byte{0x61, byte(4 + len(a.AID) + len(a.Name)), 0x4f, byte(len(a.AID))}, a.AID...)
		r = append(append(r, 0x50, byte(len(a.Name))), a.Name...)
		dir = append(dir, padFF(r, 38))
	}
	imsiParity := "1"
	if len(sim.IMSI)%2 == 1 {
		imsiParity = "9"
	}
	imsi := append([]byte{byte((len(sim.IMSI) + 2) / 2)}, bcdSwapped(imsiParity+sim.IMSI)...)
	var msisdn []mbim.Bytes
	for _, n := range sim.OwnNumbers {
		num := encodeAddress(n) // digits, TON/NPI, BCD
		r := padFF([]byte("Own number"), 12)
		r = append(r, byte(len(num)-1))
		r = append(r, padFF(num[1:], 11)...)
		msisdn = append(msisdn, append(r, 0xff, 0xff))
	}
	if len(msisdn) == 0 {
		msisdn = []mbim.Bytes{padFF(nil, 26)}
	}
	spn, _ := gsm7Septets(m.sc.Network.Home.Name)
	mnc := byte(len(m.sc.Network.Home.PLMN) - 3)
	usim := aidUSIM
	if len(m.sc.UICC.Applications) > 0 {
		usim = m.sc.UICC.Applications[m.sc.UICC.ActiveApplication].AID
	}
	return []UICCFile{
		{Path: mbim.Bytes{0x2f, 0x00}, Records: dir, Read: bc.PinTypeUnknown, Update: bc.PinTypeAdm},
		{Path: mbim.Bytes{0x2f, 0xe2}, Data: bcdSwapped(iccid), Read: bc.PinTypeUnknown, Update: bc.PinTypeNev},
		{App: usim, Path: mbim.Bytes{0x6f, 0x07}, Data: imsi, Read: bc.PinTypePin1, Update: bc.PinTypeAdm},
		{App: usim, Path: mbim.Bytes{0x6f, 0xad}, Data: mbim.Bytes{0x00, 0x00, 0x00, mnc}, Read: bc.PinTypeUnknown, Update: bc.PinTypeAdm},
		{App: usim, Path: mbim.Bytes{0x6f, 0x46}, Data: append([]byte{0x01}, padFF(spn, 16)...), Read: bc.PinTypeUnknown, Update: bc.PinTypeAdm},
		{App: usim, Path: mbim.Bytes{0x6f, 0x40}, Records: msisdn, Read: bc.PinTypePin1, Update: bc.PinTypePin1},
	}
}

func padFF(b []byte, n int) []byte {
	out := slices.Clone(b)
	for len(out) < n {
		out = append(out, 0xff)
	}
	return out[:n]
}

// uiccApp finds the application an AID (or a leading part of one)
// selects; -1 if none.
func (m *Modem) uiccApp(aid []byte) int {
	if len(aid) == 0 {
		return -1
	}
	for i, a := range m.sc.UICC.Applications {
		if bytes.HasPrefix(a.AID, aid) {
			return i
		}
	}
	return -1
}

// findFile resolves a path relative to application app (-1: the MF).
func (st *uiccState) findFile(app int, path []byte) *uiccFile {
	abs := bytes.HasPrefix(path, []byte{0x3f, 0x00})
	p := path
	if abs {
		p = path[2:]
		if bytes.HasPrefix(p, []byte{0x7f, 0xff}) {
			abs = false // 3F00 7FFF: the current ADF
		}
	}
	p = trimPath(p)
	var candidates []int
	if abs {
		candidates = []int{-1}
	} else {
		candidates = []int{app, -1}
	}
	for _, a := range candidates {
		for _, f := range st.files {
			if f.app == a && bytes.Equal(f.path, p) {
				return f
			}
		}
	}
	return nil
}

// cardReady is the status of commands that need the card in a slot.
func (m *Modem) cardReady(slot uint32) mbim.Status {
	switch m.sims[slot].state {
	case SIMNotInserted:
		return mbim.StatusSIMNotInserted
	case SIMBlocked:
		return mbim.StatusBadSIM
	}
	return mbim.StatusNone
}

// uiccAllowed reports whether an access condition is met now on the card
// in a slot.
func (m *Modem) uiccAllowed(slot uint32, cond bc.PinType) bool {
	switch cond {
	case bc.PinTypeUnknown:
		return true
	case bc.PinTypePin1, bc.PinTypeCustom, bc.PinTypePin2:
		return m.sims[slot].state == SIMReady
	}
	return false // adm, nev, ...
}

// uiccSlot returns the slot a request is for: the SlotId of the MBIMEx 4.0
// layouts, else (and for an MBIMEx 4.0 query sent empty) the active slot.
// ok is false for a slot the modem does not have.
func (m *Modem) uiccSlot(r *Request) (slot uint32, ok bool) {
	slot = m.slot
	switch x := r.Info.(type) {
	case *ul.AtrQueryV4:
		slot = x.SlotId
	case *ul.OpenChannelSetV4:
		slot = x.SlotId
	case *ul.CloseChannelSetV4:
		slot = x.SlotId
	case *ul.ApduSetV4:
		slot = x.SlotId
	case *ul.TerminalCapabilitySetV4:
		slot = x.SlotId
	case *ul.TerminalCapabilityQueryV4:
		slot = x.SlotId
	case *ul.ResetSetV4:
		slot = x.SlotId
	case *ul.ResetQueryV4:
		slot = x.SlotId
	}
	return slot, int(slot) < len(m.sims)
}

// uiccCard resolves the slot of a request and checks that its card can
// answer; the status says why not.
func (m *Modem) uiccCard(r *Request) (uint32, mbim.Status) {
	slot, ok := m.uiccSlot(r)
	if !ok {
		return 0, mbim.StatusInvalidParameters
	}
	return slot, m.cardReady(slot)
}

// swField gives status words as MBIM carries them: SW1 and SW2 in the
// first two bytes of a UINT32.
func swField(sw uint16) uint32 { return uint32(sw>>8) | uint32(sw&0xff)<<8 }

const (
	swOK             = 0x9000
	swWrongLength    = 0x6700
	swSecurity       = 0x6982
	swIncompatible   = 0x6981
	swNoEFSelected   = 0x6986
	swFileNotFound   = 0x6a82
	swRecordNotFound = 0x6a83
	swWrongP1P2      = 0x6b00
	swINSUnknown     = 0x6d00
)

// ---- the card's APDUs

// apdu runs a command APDU on channel ch and returns the response (data
// and status words).
func (m *Modem) uiccRunAPDU(st *uiccState, ch *uiccChannel, cmd []byte) []byte {
	sw := func(data []byte, sw uint16) []byte { return append(slices.Clone(data), byte(sw>>8), byte(sw)) }
	h := strings.ToLower(hex.EncodeToString(cmd))
	for _, a := range m.sc.UICC.APDUs {
		c := strings.ToLower(a.Command)
		if c == h || (strings.HasSuffix(c, "*") && strings.HasPrefix(h, strings.TrimSuffix(c, "*"))) {
			return slices.Clone(a.Response)
		}
	}
	if len(cmd) < 4 {
		return sw(nil, swWrongLength)
	}
	ins, p1, p2 := cmd[1], cmd[2], cmd[3]
	var data []byte
	le := -1
	switch {
	case len(cmd) == 5:
		le = int(cmd[4])
	case len(cmd) > 5:
		n := int(cmd[4])
		if len(cmd) < 5+n {
			return sw(nil, swWrongLength)
		}
		data = cmd[5 : 5+n]
		if len(cmd) > 5+n {
			le = int(cmd[5+n])
		}
	}
	switch ins {
	case 0xa4: // SELECT
		switch p1 {
		case 0x04: // by DF name (AID)
			app := m.uiccApp(data)
			if app < 0 {
				return sw(nil, swFileNotFound)
			}
			ch.app, ch.file = app, nil
			if p2&0x0c == 0x0c {
				return sw(nil, swOK)
			}
			return sw(m.sc.UICC.Applications[app].SelectResponse, swOK)
		case 0x00, 0x08, 0x09: // by file ID, path from the MF, path from the current DF
			path := data
			if p1 == 0x08 {
				path = append([]byte{0x3f, 0x00}, data...)
			}
			if bytes.Equal(path, []byte{0x3f, 0x00}) {
				ch.app, ch.file = -1, nil
				return sw(nil, swOK)
			}
			if bytes.Equal(path, []byte{0x7f, 0xff}) {
				ch.file = nil
				return sw(nil, swOK)
			}
			f := st.findFile(ch.app, path)
			if f == nil {
				return sw(nil, swFileNotFound)
			}
			ch.file = f
			if p2&0x0c == 0x0c {
				return sw(nil, swOK)
			}
			return sw(fcp(f), swOK)
		}
		return sw(nil, swWrongP1P2)
	case 0xb0: // READ BINARY
		f := ch.file
		switch {
		case f == nil:
			return sw(nil, swNoEFSelected)
		case f.Structure != ul.UiccFileStructureTransparent:
			return sw(nil, swIncompatible)
		case !m.uiccAllowed(st.slot, f.Read):
			return sw(nil, swSecurity)
		}
		off := int(p1&0x7f)<<8 | int(p2)
		if off > len(f.Data) {
			return sw(nil, swWrongP1P2)
		}
		n := le
		if n <= 0 {
			n = 256
			if le < 0 {
				n = len(f.Data) - off
			}
		}
		end := min(off+n, len(f.Data))
		return sw(f.Data[off:end], swOK)
	case 0xb2: // READ RECORD
		f := ch.file
		switch {
		case f == nil:
			return sw(nil, swNoEFSelected)
		case f.Structure == ul.UiccFileStructureTransparent:
			return sw(nil, swIncompatible)
		case !m.uiccAllowed(st.slot, f.Read):
			return sw(nil, swSecurity)
		case p2&0x07 != 0x04 || p1 == 0 || int(p1) > len(f.Records):
			return sw(nil, swRecordNotFound)
		}
		return sw(f.Records[p1-1], swOK)
	case 0xf2: // STATUS
		return sw(nil, swOK)
	}
	return sw(nil, swINSUnknown)
}

// fcp is a small file control parameters template (TS 102 221 11.1.1.3).
func fcp(f *uiccFile) []byte {
	var desc []byte
	switch f.Structure {
	case ul.UiccFileStructureTransparent:
		desc = []byte{0x82, 0x02, 0x41, 0x21}
	case ul.UiccFileStructureCyclic:
		desc = []byte{0x82, 0x05, 0x46, 0x21, 0x00, byte(recordSize(f)), byte(len(f.Records))}
	default:
		desc = []byte{0x82, 0x05, 0x42, 0x21, 0x00, byte(recordSize(f)), byte(len(f.Records))}
	}
	id := f.Path[len(f.Path)-2:]
	body := append(desc, 0x83, 0x02, id[0], id[1])
	size := fileSize(f)
	body = append(body, 0x80, 0x02, byte(size>>8), byte(size))
	return append([]byte{0x62, byte(len(body))}, body...)
}

func recordSize(f *uiccFile) int {
	if len(f.Records) == 0 {
		return 0
	}
	return len(f.Records[0])
}

func fileSize(f *uiccFile) int {
	if f.Structure == ul.UiccFileStructureTransparent {
		return len(f.Data)
	}
	return recordSize(f) * len(f.Records)
}

// ---- handlers

func handleUICCATR(m *Modem, r *Request) Reply {
	if _, s := m.uiccCard(r); s != mbim.StatusNone {
		return Fail(s)
	}
	return OK(&ul.AtrResponse{Atr: slices.Clone(m.sc.UICC.ATR)})
}

func handleUICCOpenChannel(m *Modem, r *Request) Reply {
	slot, st0 := m.uiccCard(r)
	if st0 != mbim.StatusNone {
		return Fail(st0)
	}
	var s ul.OpenChannelSet
	switch x := r.Info.(type) {
	case *ul.OpenChannelSet:
		s = *x
	case *ul.OpenChannelSetV4:
		s = ul.OpenChannelSet{AppId: x.AppId, SelectP2Arg: x.SelectP2Arg, ChannelGroup: x.ChannelGroup}
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	st := uicc(m, slot)
	var id uint32
	for i := uint32(1); i <= m.sc.UICC.MaxChannels; i++ {
		if _, used := st.channels[i]; !used {
			id = i
			break
		}
	}
	if id == 0 {
		return Fail(mbim.StatusMSNoLogicalChannels)
	}
	ch := &uiccChannel{app: -1, group: s.ChannelGroup}
	cmd := append([]byte{0x00 | byte(min(id, 3)), 0xa4, 0x04, byte(s.SelectP2Arg), byte(len(s.AppId))}, s.AppId...)
	resp := m.uiccRunAPDU(st, ch, cmd)
	sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	out := &ul.OpenChannelResponse{Status: swField(sw), Response: resp[:len(resp)-2]}
	if sw>>8 != 0x90 && sw>>8 != 0x61 && sw>>8 != 0x91 {
		m.log("uicc %d: open channel: SELECT %s: %04X", slot, s.AppId, sw)
		return Reply{Status: mbim.StatusMSSelectFailed, Info: out}
	}
	st.channels[id] = ch
	out.Channel = id
	m.log("uicc %d: channel %d open on %s (group %d)", slot, id, s.AppId, s.ChannelGroup)
	return OK(out)
}

func handleUICCCloseChannel(m *Modem, r *Request) Reply {
	slot, st0 := m.uiccCard(r)
	if st0 != mbim.StatusNone {
		return Fail(st0)
	}
	var s ul.CloseChannelSet
	switch x := r.Info.(type) {
	case *ul.CloseChannelSet:
		s = *x
	case *ul.CloseChannelSetV4:
		s = ul.CloseChannelSet{Channel: x.Channel, ChannelGroup: x.ChannelGroup}
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	st := uicc(m, slot)
	if s.Channel == 0 {
		// Channel 0 with a group: close the group's channels.
		n := 0
		for id, ch := range st.channels {
			if id != 0 && s.ChannelGroup != 0 && ch.group == s.ChannelGroup {
				delete(st.channels, id)
				n++
			}
		}
		if n == 0 {
			return Fail(mbim.StatusMSInvalidLogicalChannel)
		}
		m.log("uicc %d: %d channels of group %d closed", slot, n, s.ChannelGroup)
		return OK(&ul.CloseChannelResponse{Status: swField(swOK)})
	}
	if _, open := st.channels[s.Channel]; !open {
		return Fail(mbim.StatusMSInvalidLogicalChannel)
	}
	delete(st.channels, s.Channel)
	m.log("uicc %d: channel %d closed", slot, s.Channel)
	return OK(&ul.CloseChannelResponse{Status: swField(swOK)})
}

func handleUICCAPDU(m *Modem, r *Request) Reply {
	slot, st0 := m.uiccCard(r)
	if st0 != mbim.StatusNone {
		return Fail(st0)
	}
	var channel uint32
	var command []byte
	switch x := r.Info.(type) {
	case *ul.ApduSet:
		channel, command = x.Channel, x.Command
	case *ul.ApduSetV4:
		channel, command = x.Channel, x.Command
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	st := uicc(m, slot)
	ch, open := st.channels[channel]
	if !open {
		return Fail(mbim.StatusMSInvalidLogicalChannel)
	}
	if len(command) < 4 || len(command) > 261 {
		return Fail(mbim.StatusInvalidParameters)
	}
	resp := m.uiccRunAPDU(st, ch, command)
	sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	m.log("uicc %d: channel %d: %X -> %X", slot, channel, command, resp)
	return OK(&ul.ApduResponse{Status: swField(sw), Response: resp[:len(resp)-2]})
}

func handleUICCTerminalCapability(m *Modem, r *Request) Reply {
	slot, st0 := m.uiccCard(r)
	if st0 != mbim.StatusNone {
		return Fail(st0)
	}
	st := uicc(m, slot)
	var set []ul.TerminalCapabilityInfo
	switch x := r.Info.(type) {
	case *ul.TerminalCapabilitySet:
		set = x.TerminalCapability
	case *ul.TerminalCapabilitySetV4:
		set = x.TerminalCapability
	}
	if r.IsSet() {
		st.capability = nil
		for _, c := range set {
			st.capability = append(st.capability, ul.TerminalCapabilityInfo{TerminalCapabilityData: slices.Clone(c.TerminalCapabilityData)})
		}
		m.log("uicc %d: %d terminal capabilities", slot, len(st.capability))
	}
	out := &ul.TerminalCapabilityResponse{}
	for _, c := range st.capability {
		out.TerminalCapability = append(out.TerminalCapability, ul.TerminalCapabilityInfo{TerminalCapabilityData: slices.Clone(c.TerminalCapabilityData)})
	}
	return OK(out)
}

// handleUICCReset resets the card (logical channels close) and sets
// whether the host takes it over (pass-through).
func handleUICCReset(m *Modem, r *Request) Reply {
	slot, st0 := m.uiccCard(r)
	if st0 != mbim.StatusNone {
		return Fail(st0)
	}
	st := uicc(m, slot)
	if r.IsSet() {
		var action ul.UiccPassThroughAction
		switch x := r.Info.(type) {
		case *ul.ResetSet:
			action = x.PassThroughAction
		case *ul.ResetSetV4:
			action = x.PassThroughAction
		default:
			return Fail(mbim.StatusInvalidParameters)
		}
		switch action {
		case ul.UiccPassThroughActionEnable:
			st.passThrough = ul.UiccPassThroughStatusEnabled
		case ul.UiccPassThroughActionDisable:
			st.passThrough = ul.UiccPassThroughStatusDisabled
		default:
			return Fail(mbim.StatusInvalidParameters)
		}
		st.reset(m)
		m.log("uicc %d: card reset, pass-through %s", slot, st.passThrough)
	}
	return OK(&ul.ResetResponse{PassThroughStatus: st.passThrough})
}

func handleUICCApplicationList(m *Modem, r *Request) Reply {
	if s := m.cardReady(m.slot); s != mbim.StatusNone {
		return Fail(s)
	}
	out := &ul.ApplicationListResponse{Version: 1, ActiveApplicationIndex: m.sc.UICC.ActiveApplication}
	for _, a := range m.sc.UICC.Applications {
		out.Applications = append(out.Applications, ul.UiccApplication{ApplicationType: a.Type, ApplicationId: slices.Clone(a.AID),
			ApplicationName: a.Name, PinKeyReferenceCount: uint32(len(a.PINRefs)), PinKeyReferences: slices.Clone(a.PINRefs)})
	}
	// The size of the list after the fixed part (version, count, active
	// index, size).
	out.ApplicationListSizeBytes = uint32(out.SizeMBIM() - 16)
	return OK(out)
}

// uiccFileFor resolves the application and path of a file request; the
// status words say why there is none.
func (m *Modem) uiccFileFor(aid, path []byte) (*uiccFile, uint16) {
	app := m.uiccApp(aid)
	if app < 0 && len(aid) > 0 {
		return nil, swFileNotFound
	}
	f := uicc(m, m.slot).findFile(app, path)
	if f == nil {
		return nil, swFileNotFound
	}
	return f, swOK
}

func handleUICCFileStatus(m *Modem, r *Request) Reply {
	if s := m.cardReady(m.slot); s != mbim.StatusNone {
		return Fail(s)
	}
	q, ok := r.Info.(*ul.FileStatusQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	f, sw := m.uiccFileFor(q.ApplicationId, q.FilePath)
	out := &ul.FileStatusResponse{Version: 1, StatusWord1: uint32(sw >> 8), StatusWord2: uint32(sw & 0xff)}
	if f == nil {
		return OK(out)
	}
	out.FileAccessibility = ul.UiccFileAccessibilityShareable
	out.FileType = ul.UiccFileTypeWorkingEf
	out.FileStructure = f.Structure
	out.FileItemCount, out.FileItemSize = 1, uint32(len(f.Data))
	if f.Structure != ul.UiccFileStructureTransparent {
		out.FileItemCount, out.FileItemSize = uint32(len(f.Records)), uint32(recordSize(f))
	}
	out.AccessConditionRead, out.AccessConditionUpdate = f.Read, f.Update
	out.AccessConditionActivate, out.AccessConditionDeactivate = bc.PinTypeAdm, bc.PinTypeAdm
	return OK(out)
}

// handleUICCReadBinary reads (query) or updates (set, with Data) a
// transparent file.
func handleUICCReadBinary(m *Modem, r *Request) Reply {
	if s := m.cardReady(m.slot); s != mbim.StatusNone {
		return Fail(s)
	}
	q, ok := r.Info.(*ul.ReadBinarySet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	resp := func(sw uint16, data []byte) Reply {
		return OK(&ul.ReadBinaryResponse{Version: 1, StatusWord1: uint32(sw >> 8), StatusWord2: uint32(sw & 0xff), Data: data})
	}
	f, sw := m.uiccFileFor(q.ApplicationId, q.FilePath)
	switch {
	case f == nil:
		return resp(sw, nil)
	case f.Structure != ul.UiccFileStructureTransparent:
		return resp(swIncompatible, nil)
	case int(q.ReadOffset) > len(f.Data):
		return resp(swWrongP1P2, nil)
	}
	if r.IsSet() {
		if !m.uiccAllowed(m.slot, f.Update) {
			return resp(swSecurity, nil)
		}
		if int(q.ReadOffset)+len(q.Data) > len(f.Data) {
			return resp(swWrongLength, nil)
		}
		copy(f.Data[q.ReadOffset:], q.Data)
		m.log("uicc: %X updated at %d", []byte(q.FilePath), q.ReadOffset)
		return resp(swOK, nil)
	}
	if !m.uiccAllowed(m.slot, f.Read) {
		return resp(swSecurity, nil)
	}
	end := len(f.Data)
	if q.ReadSize != 0 {
		end = min(end, int(q.ReadOffset+q.ReadSize))
	}
	return resp(swOK, slices.Clone(f.Data[q.ReadOffset:end]))
}

// handleUICCReadRecord reads (query) or updates (set, with Data) a record.
func handleUICCReadRecord(m *Modem, r *Request) Reply {
	if s := m.cardReady(m.slot); s != mbim.StatusNone {
		return Fail(s)
	}
	q, ok := r.Info.(*ul.ReadRecordSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	resp := func(sw uint16, data []byte) Reply {
		return OK(&ul.ReadRecordResponse{Version: 1, StatusWord1: uint32(sw >> 8), StatusWord2: uint32(sw & 0xff), Data: data})
	}
	f, sw := m.uiccFileFor(q.ApplicationId, q.FilePath)
	switch {
	case f == nil:
		return resp(sw, nil)
	case f.Structure == ul.UiccFileStructureTransparent:
		return resp(swIncompatible, nil)
	case q.RecordNumber == 0 || int(q.RecordNumber) > len(f.Records):
		return resp(swRecordNotFound, nil)
	}
	rec := f.Records[q.RecordNumber-1]
	if r.IsSet() {
		if !m.uiccAllowed(m.slot, f.Update) {
			return resp(swSecurity, nil)
		}
		if len(q.Data) != len(rec) {
			return resp(swWrongLength, nil)
		}
		copy(rec, q.Data)
		m.log("uicc: %X record %d updated", []byte(q.FilePath), q.RecordNumber)
		return resp(swOK, nil)
	}
	if !m.uiccAllowed(m.slot, f.Read) {
		return resp(swSecurity, nil)
	}
	return resp(swOK, slices.Clone(rec))
}

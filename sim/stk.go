package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gombim/gombim/catalog/stk"
	"github.com/gombim/gombim/mbim"
)

// SIM Toolkit (MBIM 1.0 section 10.5.42 to 10.5.44): the host says which
// proactive command types it handles (PAC set); the modem reports how each
// is handled, sends the SIM's SET UP MENU once the host takes it, and plays
// the scenario's script: an envelope (a menu selection...) or a terminal
// response can be answered with status words and followed by another
// proactive command (DISPLAY TEXT...), sent as a PAC indication.

func init() {
	Handle(stk.UUID, stk.CIDPac, handleSTKPac)
	Handle(stk.UUID, stk.CIDTerminalResponse, handleSTKTerminalResponse)
	Handle(stk.UUID, stk.CIDEnvelope, handleSTKEnvelope)
	RegisterEvent("stk", stkEvent)
	registerScenarioCheck(func(s *Scenario) error { return s.STK.check() })
}

// STKConfig is the SIM's toolkit application (scenario key stk).
type STKConfig struct {
	// SetupMenu is the SET UP MENU proactive command (BER-TLV, hex) sent
	// when the host takes that command type. Omitted: a "SIM Toolkit"
	// menu with Balance and Settings.
	SetupMenu mbim.Bytes `json:"setup_menu"`
	// Script answers envelopes and terminal responses. Omitted: the menu
	// selections of the default menu, each answered by a DISPLAY TEXT.
	Script []STKStep `json:"script"`
	// EnvelopeTags are the envelope tags the modem supports (hex, one
	// byte each; default d1 d3 d4 d6 d7: SMS-PP download, menu selection,
	// call control, event download, timer expiration).
	EnvelopeTags mbim.Bytes `json:"envelope_tags"`
}

// STKStep is one scripted answer.
type STKStep struct {
	// On is envelope or terminal-response; Match the start of the data
	// (hex) it answers.
	On    string     `json:"on"`
	Match mbim.Bytes `json:"match"`
	// SW are the status words (default 9000, or 91xx when Then follows).
	SW mbim.Bytes `json:"sw"`
	// Then is the proactive command that follows (hex).
	Then mbim.Bytes `json:"then"`
}

// Proactive command types (ETSI TS 102 223 9.4).
const (
	stkDisplayText   = 0x21
	stkSetUpMenu     = 0x25
	stkMenuSelection = 0xd3
)

// stkCommand builds a proactive command: command details, device
// identities (UICC to dest) and the other TLVs.
func stkCommand(typ, qual, dest byte, tlvs ...[]byte) mbim.Bytes {
	body := []byte{0x81, 0x03, 0x01, typ, qual, 0x82, 0x02, 0x81, dest}
	for _, t := range tlvs {
		body = append(body, t...)
	}
	return append(mbim.Bytes{0xd0}, append(berLength(len(body)), body...)...)
}

func berLength(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	return []byte{0x81, byte(n)}
}

func stkTLV(tag byte, v []byte) []byte {
	return append(append([]byte{tag}, berLength(len(v))...), v...)
}

// stkDisplay is a DISPLAY TEXT of 8-bit text, for the display (02).
func stkDisplay(text string) mbim.Bytes {
	return stkCommand(stkDisplayText, 0x80, 0x02, stkTLV(0x8d, append([]byte{0x04}, text...)))
}

// stkMenuSelect is the envelope a host sends when the user picks item.
func stkMenuSelect(item byte) mbim.Bytes {
	return mbim.Bytes{stkMenuSelection, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90, 0x01, item}
}

func (c *STKConfig) check() error {
	if c.SetupMenu == nil {
		c.SetupMenu = stkCommand(stkSetUpMenu, 0x00, 0x82, stkTLV(0x85, []byte("SIM Toolkit")),
			stkTLV(0x8f, append([]byte{0x01}, "Balance"...)), stkTLV(0x8f, append([]byte{0x02}, "Settings"...)))
	}
	if c.Script == nil {
		c.Script = []STKStep{
			{On: "envelope", Match: stkMenuSelect(1), Then: stkDisplay("Balance: 10.00 EUR")},
			{On: "envelope", Match: stkMenuSelect(2), Then: stkDisplay("No settings to change")},
		}
	}
	if c.EnvelopeTags == nil {
		c.EnvelopeTags = mbim.Bytes{0xd1, 0xd3, 0xd4, 0xd6, 0xd7}
	}
	if _, err := stkType(c.SetupMenu); err != nil {
		return fmt.Errorf("stk.setup_menu: %v", err)
	}
	for i, s := range c.Script {
		if s.On != "envelope" && s.On != "terminal-response" {
			return fmt.Errorf("stk.script[%d]: on %q: want envelope or terminal-response", i, s.On)
		}
		if len(s.SW) != 0 && len(s.SW) != 2 {
			return fmt.Errorf("stk.script[%d]: sw %s: want two bytes", i, s.SW)
		}
		if len(s.Then) > 0 {
			if _, err := stkType(s.Then); err != nil {
				return fmt.Errorf("stk.script[%d]: then: %v", i, err)
			}
		}
	}
	return nil
}

// stkType finds the type of a proactive command (in its command details).
func stkType(cmd []byte) (byte, error) {
	if len(cmd) < 2 || cmd[0] != 0xd0 {
		return 0, fmt.Errorf("%X is not a proactive command (tag D0)", cmd)
	}
	b := cmd[2:]
	if cmd[1] == 0x81 {
		b = skip(cmd, 3)
	}
	for len(b) >= 2 {
		tag, n := b[0]&0x7f, int(b[1])
		if len(b) < 2+n {
			break
		}
		if tag == 0x01 && n == 3 {
			return b[3], nil
		}
		b = b[2+n:]
	}
	return 0, fmt.Errorf("%X has no command details", cmd)
}

type stkState struct {
	hostControl []byte // 32 bytes: the types the host handles
}

func stkOf(m *Modem) *stkState {
	return m.Ext("stk", func() any { return &stkState{hostControl: make([]byte, 32)} }).(*stkState)
}

func (st *stkState) hostTakes(typ byte) bool { return st.hostControl[typ/8]&(1<<(typ%8)) != 0 }

// stkUI are the command types that need a user interface: the modem has
// none, the host may take them.
var stkUI = []byte{0x15, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28}

// stkModem are the types the modem handles itself (the host may take them
// over); the ones in stkNotify it can tell the host about.
var (
	stkModem  = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12, 0x13, 0x14, 0x26, 0x27, 0x40, 0x41, 0x42, 0x43, 0x44}
	stkNotify = []byte{0x10, 0x11, 0x12, 0x13, 0x14}
)

func (m *Modem) pacSupport() *stk.PacResponse {
	st := stkOf(m)
	p := make(mbim.Bytes, 256)
	for _, t := range stkUI {
		p[t] = byte(stk.StkPacProfileNotHandledByFunctionMayBeHandledByHost)
		if st.hostTakes(t) {
			p[t] = byte(stk.StkPacProfileHandledByHostFunctionNotAbleToHandle)
		}
	}
	for _, t := range stkModem {
		switch {
		case st.hostTakes(t):
			p[t] = byte(stk.StkPacProfileHandledByHostFunctionAbleToHandle)
		case slices.Contains(stkNotify, t):
			p[t] = byte(stk.StkPacProfileHandledByFunctionNotificationToHostPossible)
		default:
			p[t] = byte(stk.StkPacProfileHandledByFunctionOnlyTransparentToHost)
		}
	}
	return &stk.PacResponse{PacSupport: p}
}

// sendProactive gives the host a proactive command: for it to handle if it
// takes that type, else as a notification.
func (m *Modem) sendProactive(cmd []byte) {
	typ, err := stkType(cmd)
	if err != nil {
		m.log("stk: %v", err)
		return
	}
	pt := stk.StkPacTypeNotification
	if stkOf(m).hostTakes(typ) {
		pt = stk.StkPacTypeProactiveCommand
	}
	m.log("stk: proactive command %02X (%s)", typ, pt)
	m.Notify(stk.UUID, stk.CIDPac, &stk.PacNotify{PacType: pt, DataBuffer: slices.Clone(cmd)})
}

func handleSTKPac(m *Modem, r *Request) Reply {
	if s := m.simStatus(); s != mbim.StatusNone {
		return Fail(s)
	}
	if s, ok := r.Info.(*stk.PacSet); ok {
		st := stkOf(m)
		menuBefore := st.hostTakes(stkSetUpMenu)
		st.hostControl = pad(s.PacHostControl, 32)
		m.log("stk: the host handles % X", []byte(st.hostControl))
		if !menuBefore && st.hostTakes(stkSetUpMenu) {
			m.sendProactive(m.sc.STK.SetupMenu)
		}
	}
	return OK(m.pacSupport())
}

// stkScript finds the step that answers data.
func (m *Modem) stkScript(on string, data []byte) (STKStep, bool) {
	for _, s := range m.sc.STK.Script {
		if s.On == on && bytes.HasPrefix(data, s.Match) {
			return s, true
		}
	}
	return STKStep{}, false
}

// stkStatusWords are a step's status words: 9000, or 91xx when a proactive
// command of xx bytes follows.
func stkStatusWords(s STKStep) uint16 {
	switch {
	case len(s.SW) == 2:
		return uint16(s.SW[0])<<8 | uint16(s.SW[1])
	case len(s.Then) > 0:
		return 0x9100 | uint16(min(len(s.Then), 0xff))
	}
	return 0x9000
}

func handleSTKTerminalResponse(m *Modem, r *Request) Reply {
	if s := m.simStatus(); s != mbim.StatusNone {
		return Fail(s)
	}
	s, ok := r.Info.(*stk.TerminalResponseSet)
	if !ok || len(s.Response) < 3 {
		return Fail(mbim.StatusInvalidParameters)
	}
	step, _ := m.stkScript("terminal-response", s.Response)
	sw := stkStatusWords(step)
	m.log("stk: terminal response %X: %04X", []byte(s.Response), sw)
	if len(step.Then) > 0 {
		m.sendProactive(step.Then)
	}
	// StatusWords: SW1 SW2 as a number (0x9000).
	return OK(&stk.TerminalResponseResponse{StatusWords: uint32(sw)})
}

func (m *Modem) envelopeSupport() *stk.EnvelopeResponse {
	b := make(mbim.Bytes, 32)
	for _, t := range m.sc.STK.EnvelopeTags {
		b[t/8] |= 1 << (t % 8)
	}
	return &stk.EnvelopeResponse{EnvelopeSupport: b}
}

func handleSTKEnvelope(m *Modem, r *Request) Reply {
	if s := m.simStatus(); s != mbim.StatusNone {
		return Fail(s)
	}
	if s, ok := r.Info.(*stk.EnvelopeSet); ok {
		if len(s.Data) < 2 || !bytes.Contains(m.sc.STK.EnvelopeTags, s.Data[:1]) {
			return Fail(mbim.StatusInvalidParameters)
		}
		step, _ := m.stkScript("envelope", s.Data)
		m.log("stk: envelope %X: %04X", []byte(s.Data), stkStatusWords(step))
		if len(step.Then) > 0 {
			m.sendProactive(step.Then)
		}
	}
	return OK(m.envelopeSupport())
}

// stkEvent is the SIM sending a proactive command: data {"command": "hex"}.
func stkEvent(m *Modem, ev Event) {
	var d struct {
		Command mbim.Bytes `json:"command"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || len(d.Command) == 0 {
		m.log("timeline: stk data %s: want {\"command\": \"hex\"} (%v)", ev.Data, err)
		return
	}
	if m.simStatus() == mbim.StatusNone {
		m.sendProactive(d.Command)
	}
}

package sim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gombim/gombim/catalog/ussd"
	"github.com/gombim/gombim/mbim"
)

// USSD (MBIM 1.0 section 10.5.34): sessions with a scripted network. A
// request the scenario knows is answered after ussd.delay; a reply with a
// menu keeps the session open (action required) until the host continues
// with one of the menu's entries, cancels, or ussd.timeout passes.

func init() {
	Handle(ussd.UUID, ussd.CIDUssd, handleUSSD)
	RegisterEvent("ussd", ussdEvent)
	registerScenarioCheck(func(s *Scenario) error { return s.USSD.check() })
}

// USSDConfig is the network's USSD script (scenario key ussd).
type USSDConfig struct {
	// Codes are the requests the network answers. Omitted: *100#
	// (balance) and *101# (a menu).
	Codes []USSDCode `json:"codes"`
	// Unknown is the reply to any other request; empty: the network ends
	// the session (terminated-by-network).
	Unknown string `json:"unknown"`
	// Delay is the network's round trip (100ms).
	Delay Duration `json:"delay"`
	// Timeout ends a session that waits for the user this long (60s),
	// with a network-timeout indication.
	Timeout Duration `json:"timeout"`
}

// USSDCode is one request and the network's reply.
type USSDCode struct {
	// Request is what the user sends ("*100#", or "1" in a menu); "*"
	// alone matches anything.
	Request string `json:"request"`
	Reply   string `json:"reply"`
	// Menu, if not empty, keeps the session open for one of its entries.
	Menu []USSDCode `json:"menu"`
}

func (c *USSDConfig) check() error {
	if c.Codes == nil {
		c.Codes = []USSDCode{
			{Request: "*100#", Reply: "Your balance is 10.00 EUR, valid until 31/12"},
			{Request: "*101#", Reply: "1. Data balance\n2. Buy 1 GB", Menu: []USSDCode{
				{Request: "1", Reply: "You have 2.5 GB left"},
				{Request: "2", Reply: "1 GB for 5.00 EUR. 1. Confirm 2. Cancel", Menu: []USSDCode{
					{Request: "1", Reply: "Done: 1 GB added"},
					{Request: "2", Reply: "Cancelled"},
				}},
			}},
		}
	}
	if c.Delay == 0 {
		c.Delay = Duration(100 * time.Millisecond)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(60 * time.Second)
	}
	var walk func(l []USSDCode, path string) error
	walk = func(l []USSDCode, path string) error {
		for i, code := range l {
			p := fmt.Sprintf("%s[%d]", path, i)
			if code.Request == "" {
				return fmt.Errorf("%s: request is required", p)
			}
			if len(code.Reply) > 182 {
				return fmt.Errorf("%s: reply longer than 182 characters", p)
			}
			if err := walk(code.Menu, p+".menu"); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c.Codes, "ussd.codes")
}

type ussdState struct {
	menu []USSDCode // the open session's choices; nil: no session
	gen  int        // counts sessions, to time them out
}

func ussdSession(m *Modem) *ussdState {
	return m.Ext("ussd", func() any { return &ussdState{} }).(*ussdState)
}

func ussdReply(resp ussd.UssdResponse, state ussd.UssdSessionState, text string) *ussd.UssdResponseMessage {
	r := &ussd.UssdResponseMessage{Response: resp, SessionState: state}
	if text != "" {
		r.DataCodingScheme, r.Payload = ussdEncode(text)
	}
	return r
}

// findUSSD finds the entry of l that req selects.
func findUSSD(l []USSDCode, req string) (USSDCode, bool) {
	for _, c := range l {
		if c.Request == req {
			return c, true
		}
	}
	for _, c := range l {
		if c.Request == "*" {
			return c, true
		}
	}
	return USSDCode{}, false
}

// answer is the network's reply to req in the open session (or a new one):
// the state changes when it arrives. Modem locked.
func (m *Modem) ussdAnswer(st *ussdState, l []USSDCode, req string, state ussd.UssdSessionState) *ussd.UssdResponseMessage {
	code, ok := findUSSD(l, req)
	st.gen++
	if !ok {
		st.menu = nil
		if u := m.sc.USSD.Unknown; u != "" {
			m.log("ussd: %q unknown", req)
			return ussdReply(ussd.UssdResponseNoActionRequired, state, u)
		}
		m.log("ussd: %q unknown: the network ends the session", req)
		return ussdReply(ussd.UssdResponseTerminatedByNetwork, state, "")
	}
	m.log("ussd: %q -> %q", req, code.Reply)
	if len(code.Menu) == 0 {
		st.menu = nil
		return ussdReply(ussd.UssdResponseNoActionRequired, state, code.Reply)
	}
	st.menu = code.Menu
	m.ussdTimeout(st)
	return ussdReply(ussd.UssdResponseActionRequired, state, code.Reply)
}

// ussdTimeout ends the session if it still waits for the user after the
// scenario's timeout.
func (m *Modem) ussdTimeout(st *ussdState) {
	gen, epoch := st.gen, m.epoch
	m.After(m.sc.USSD.Timeout.D(), func(m *Modem) {
		if m.epoch != epoch || st.gen != gen || st.menu == nil {
			return
		}
		st.menu = nil
		st.gen++
		m.log("ussd: session timed out")
		m.Notify(ussd.UUID, ussd.CIDUssd, ussdReply(ussd.UssdResponseNetworkTimeout, ussd.UssdSessionStateExistingSession, ""))
	})
}

func handleUSSD(m *Modem, r *Request) Reply {
	s, ok := r.Info.(*ussd.UssdSet)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	if !m.radioOn() {
		return Fail(mbim.StatusRadioPowerOff)
	}
	if !m.registered() {
		return Fail(mbim.StatusNotRegistered)
	}
	if len(s.Payload) > 160 {
		return Fail(mbim.StatusParameterTooLong)
	}
	st := ussdSession(m)
	req := ussdDecode(s.DataCodingScheme, s.Payload)
	switch s.Action {
	case ussd.UssdActionInitiate:
		if st.menu != nil {
			m.log("ussd: a new request releases the open session")
		}
		st.menu, st.gen = nil, st.gen+1
		gen := st.gen
		return Reply{After: m.sc.USSD.Delay.D(), Later: func(m *Modem) Reply {
			if st.gen != gen {
				return OK(ussdReply(ussd.UssdResponseTerminatedByNetwork, ussd.UssdSessionStateNewSession, ""))
			}
			return OK(m.ussdAnswer(st, m.sc.USSD.Codes, req, ussd.UssdSessionStateNewSession))
		}}
	case ussd.UssdActionContinue:
		if st.menu == nil {
			return Fail(mbim.StatusFailure)
		}
		menu := st.menu
		st.gen++
		gen := st.gen
		return Reply{After: m.sc.USSD.Delay.D(), Later: func(m *Modem) Reply {
			if st.gen != gen {
				return OK(ussdReply(ussd.UssdResponseTerminatedByNetwork, ussd.UssdSessionStateExistingSession, ""))
			}
			return OK(m.ussdAnswer(st, menu, req, ussd.UssdSessionStateExistingSession))
		}}
	case ussd.UssdActionCancel:
		if st.menu != nil {
			m.log("ussd: session cancelled")
		}
		st.menu, st.gen = nil, st.gen+1
		return OK(ussdReply(ussd.UssdResponseNoActionRequired, ussd.UssdSessionStateExistingSession, ""))
	}
	return Fail(mbim.StatusInvalidParameters)
}

// ussdEvent is a network-initiated USSD message: {"type": "ussd", "text":
// "..."}; data {"menu": [codes]} makes it wait for the user's answer.
func ussdEvent(m *Modem, ev Event) {
	if !m.registered() {
		return
	}
	var d struct {
		Menu []USSDCode `json:"menu"`
	}
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			m.log("timeline: ussd data %s: %v", ev.Data, err)
			return
		}
	}
	st := ussdSession(m)
	st.gen++
	st.menu = d.Menu
	resp := ussd.UssdResponseNoActionRequired
	if len(d.Menu) > 0 {
		resp = ussd.UssdResponseActionRequired
		m.ussdTimeout(st)
	}
	m.log("ussd: network says %q", ev.Text)
	m.Notify(ussd.UUID, ussd.CIDUssd, ussdReply(resp, ussd.UssdSessionStateNewSession, ev.Text))
}

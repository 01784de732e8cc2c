package sim

import (
	"testing"
	"time"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/ussd"
	"github.com/gombim/gombim/mbim"
)

func ussdSet(action ussd.UssdAction, text string) *ussd.UssdSet {
	dcs, p := ussdEncode(text)
	return &ussd.UssdSet{Action: action, DataCodingScheme: dcs, Payload: p}
}

func TestUSSD(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.USSD.Timeout = Duration(300 * time.Millisecond)
		s.USSD.Delay = Duration(20 * time.Millisecond)
	}))
	c := dial(t, path)
	c.open()
	send := func(action ussd.UssdAction, text string) (mbim.Status, *ussd.UssdResponseMessage, string) {
		t.Helper()
		msg, info := c.command(ussd.UUID, ussd.CIDUssd, mbim.CommandSet, ussdSet(action, text))
		if info == nil {
			return msg.Status, nil, ""
		}
		r := info.(*ussd.UssdResponseMessage)
		return msg.Status, r, ussdDecode(r.DataCodingScheme, r.Payload)
	}
	if _, r, text := send(ussd.UssdActionInitiate, "*100#"); r.Response != ussd.UssdResponseNoActionRequired ||
		r.SessionState != ussd.UssdSessionStateNewSession || text != "Your balance is 10.00 EUR, valid until 31/12" {
		t.Errorf("*100#: %+v %q", r, text)
	}
	if st, _, _ := send(ussd.UssdActionContinue, "1"); st != mbim.StatusFailure {
		t.Errorf("continue without a session: %s", st)
	}
	// A menu two levels deep.
	if _, r, text := send(ussd.UssdActionInitiate, "*101#"); r.Response != ussd.UssdResponseActionRequired || text != "1. Data balance\n2. Buy 1 GB" {
		t.Errorf("*101#: %+v %q", r, text)
	}
	if _, r, text := send(ussd.UssdActionContinue, "2"); r.Response != ussd.UssdResponseActionRequired ||
		r.SessionState != ussd.UssdSessionStateExistingSession || text != "1 GB for 5.00 EUR. 1. Confirm 2. Cancel" {
		t.Errorf("*101# 2: %+v %q", r, text)
	}
	if _, r, text := send(ussd.UssdActionContinue, "1"); r.Response != ussd.UssdResponseNoActionRequired || text != "Done: 1 GB added" {
		t.Errorf("*101# 2 1: %+v %q", r, text)
	}
	// Unknown codes: the network ends the session.
	if _, r, _ := send(ussd.UssdActionInitiate, "*999#"); r.Response != ussd.UssdResponseTerminatedByNetwork {
		t.Errorf("*999#: %+v", r)
	}
	// Cancel.
	send(ussd.UssdActionInitiate, "*101#")
	if _, r, _ := send(ussd.UssdActionCancel, ""); r.Response != ussd.UssdResponseNoActionRequired {
		t.Errorf("cancel: %+v", r)
	}
	if st, _, _ := send(ussd.UssdActionContinue, "1"); st != mbim.StatusFailure {
		t.Errorf("continue after cancel: %s", st)
	}
	// A session left waiting times out, with an indication.
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: ussd.UUID}}})
	send(ussd.UssdActionInitiate, "*101#")
	if n := c.expectIndication(ussd.UUID, ussd.CIDUssd).(*ussd.UssdResponseMessage); n.Response != ussd.UssdResponseNetworkTimeout {
		t.Errorf("timeout indication %+v", n)
	}
	// Network-initiated, with a menu of its own (UCS-2).
	mo.Inject(Event{Type: "ussd", Text: "Пополнить? 1. Да", Data: []byte(`{"menu":[{"request":"1","reply":"OK"}]}`)})
	n := c.expectIndication(ussd.UUID, ussd.CIDUssd).(*ussd.UssdResponseMessage)
	if n.Response != ussd.UssdResponseActionRequired || n.DataCodingScheme != dcsUSSDUCS2 || ussdDecode(n.DataCodingScheme, n.Payload) != "Пополнить? 1. Да" {
		t.Errorf("network-initiated %+v", n)
	}
	if _, r, text := send(ussd.UssdActionContinue, "1"); r.Response != ussd.UssdResponseNoActionRequired || text != "OK" {
		t.Errorf("answer to the network: %+v %q", r, text)
	}
	// Not registered.
	mo.Inject(Event{Type: "radio-off"})
	if st, _, _ := send(ussd.UssdActionInitiate, "*100#"); st != mbim.StatusRadioPowerOff {
		t.Errorf("radio off: %s", st)
	}
}

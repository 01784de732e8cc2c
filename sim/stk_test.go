package sim

import (
	"bytes"
	"testing"

	"github.com/gombim/gombim/catalog/auth"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/stk"
	"github.com/gombim/gombim/mbim"
)

func TestSTK(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.STK.Script = append(filled().STK.Script, STKStep{On: "terminal-response", Match: mustHex("810301212082028281"),
			SW: mustHex("9000")})
	}))
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: stk.UUID}}})
	_, info := c.command(stk.UUID, stk.CIDPac, mbim.CommandQuery, nil)
	p := info.(*stk.PacResponse).PacSupport
	if stk.StkPacProfile(p[stkSetUpMenu]) != stk.StkPacProfileNotHandledByFunctionMayBeHandledByHost ||
		stk.StkPacProfile(p[0x13]) != stk.StkPacProfileHandledByFunctionNotificationToHostPossible ||
		stk.StkPacProfile(p[0x01]) != stk.StkPacProfileHandledByFunctionOnlyTransparentToHost {
		t.Errorf("PAC support before the host takes anything: % x", p[:0x30])
	}
	// The host takes the UI commands: the SIM's menu comes.
	ctl := make(mbim.Bytes, 32)
	for _, typ := range []byte{0x21, 0x22, 0x23, 0x24, 0x25} {
		ctl[typ/8] |= 1 << (typ % 8)
	}
	_, info = c.command(stk.UUID, stk.CIDPac, mbim.CommandSet, &stk.PacSet{PacHostControl: ctl})
	if p := info.(*stk.PacResponse).PacSupport; stk.StkPacProfile(p[stkSetUpMenu]) != stk.StkPacProfileHandledByHostFunctionNotAbleToHandle {
		t.Errorf("PAC support after the set: % x", p[:0x30])
	}
	n := c.expectIndication(stk.UUID, stk.CIDPac).(*stk.PacNotify)
	if n.PacType != stk.StkPacTypeProactiveCommand || !bytes.Equal(n.DataBuffer, mo.Scenario().STK.SetupMenu) ||
		!bytes.Contains(n.DataBuffer, []byte("Balance")) {
		t.Errorf("SET UP MENU %+v", n)
	}
	// The user picks Balance: DISPLAY TEXT follows.
	_, info = c.command(stk.UUID, stk.CIDEnvelope, mbim.CommandSet, &stk.EnvelopeSet{Data: stkMenuSelect(1)})
	if e := info.(*stk.EnvelopeResponse); e.EnvelopeSupport[0xd3/8]&(1<<(0xd3%8)) == 0 {
		t.Errorf("envelope support % x", e.EnvelopeSupport)
	}
	n = c.expectIndication(stk.UUID, stk.CIDPac).(*stk.PacNotify)
	if typ, _ := stkType(n.DataBuffer); typ != stkDisplayText || !bytes.Contains(n.DataBuffer, []byte("Balance: 10.00 EUR")) {
		t.Errorf("DISPLAY TEXT %+v", n)
	}
	// The host's terminal response.
	_, info = c.command(stk.UUID, stk.CIDTerminalResponse, mbim.CommandSet, &stk.TerminalResponseSet{
		Response: mustHex("810301212082028281830100")})
	if tr := info.(*stk.TerminalResponseResponse); tr.StatusWords != 0x9000 {
		t.Errorf("terminal response %+v", tr)
	}
	// An envelope the modem does not support.
	if msg, _ := c.command(stk.UUID, stk.CIDEnvelope, mbim.CommandSet, &stk.EnvelopeSet{Data: mustHex("d90100")}); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("unsupported envelope: %s", msg.Status)
	}
	// A proactive command from the timeline, for a type the host does not
	// take: a notification.
	mo.Inject(Event{Type: "stk", Data: []byte(`{"command":"d00d8103011300820281838b0100"}`)})
	if n := c.expectIndication(stk.UUID, stk.CIDPac).(*stk.PacNotify); n.PacType != stk.StkPacTypeNotification {
		t.Errorf("SEND SHORT MESSAGE %+v", n)
	}
}

func TestAuth(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) {
		s.Auth.AKA = append(filled().Auth.AKA,
			AKAVector{RAND: mustHex("00112233445566778899aabbccddeeff"), AUTN: mustHex("ffeeddccbbaa99887766554433221100"),
				AUTS: mustHex("0102030405060708090a0b0c0d0e")},
			AKAVector{RAND: mustHex("00112233445566778899aabbccddeeff"), AUTN: mustHex("00000000000000000000000000000000"),
				NetworkName: "WLAN", RES: mustHex("01020304"), IK: make(mbim.Bytes, 16), CK: make(mbim.Bytes, 16)})
		s.Auth.SIM = []SIMVector{{RAND: mustHex("0123456789abcdef0123456789abcdef"), SRES: mustHex("11223344"), Kc: mustHex("0102030405060708")}}
	}))
	c := dial(t, path)
	c.open()
	// Milenage test set 1.
	_, info := c.command(auth.UUID, auth.CIDAka, mbim.CommandQuery, &auth.AkaQuery{Rand: mustHex("23553cbe9637a89d218ae64dae47bf35"),
		Autn: mustHex("55f328b43577b9b94a9ffac354dfafb3")})
	if r := info.(*auth.AkaResponse); r.ResLen != 8 || r.Res.String() != "a54211d5e3ba50bf0000000000000000" ||
		r.CipheringKey.String() != "b40ba9a3c58b2a05bbf0d987b21bf8cb" || r.IntegratingKey.String() != "f769bcd751044604127672711c6d3441" {
		t.Errorf("AKA %+v", r)
	}
	msg, info := c.command(auth.UUID, auth.CIDAka, mbim.CommandQuery, &auth.AkaQuery{Rand: mustHex("00112233445566778899aabbccddeeff"),
		Autn: mustHex("ffeeddccbbaa99887766554433221100")})
	if r, _ := info.(*auth.AkaResponse); msg.Status != mbim.StatusAuthSyncFailure || r == nil || r.Auts.String() != "0102030405060708090a0b0c0d0e" {
		t.Errorf("synchronisation failure: %s %+v", msg.Status, info)
	}
	if msg, _ := c.command(auth.UUID, auth.CIDAka, mbim.CommandQuery, &auth.AkaQuery{Rand: make(mbim.Bytes, 16), Autn: make(mbim.Bytes, 16)}); msg.Status != mbim.StatusAuthIncorrectAUTN {
		t.Errorf("unknown challenge: %s", msg.Status)
	}
	// AKA': the vector for its network name only.
	q := &auth.AkapQuery{Rand: mustHex("00112233445566778899aabbccddeeff"), Autn: make(mbim.Bytes, 16), NetworkName: "WLAN"}
	if _, info := c.command(auth.UUID, auth.CIDAkap, mbim.CommandQuery, q); info.(*auth.AkapResponse).ResLen != 4 {
		t.Errorf("AKA' %+v", info)
	}
	q.NetworkName = "other"
	if msg, _ := c.command(auth.UUID, auth.CIDAkap, mbim.CommandQuery, q); msg.Status != mbim.StatusAuthIncorrectAUTN {
		t.Errorf("AKA' for another network: %s", msg.Status)
	}
	// GSM: a vector, and derived values (stable).
	sq := &auth.SimQuery{Rand1: mustHex("0123456789abcdef0123456789abcdef"), Rand2: make(mbim.Bytes, 16), Rand3: make(mbim.Bytes, 16), N: 2}
	_, info = c.command(auth.UUID, auth.CIDSim, mbim.CommandQuery, sq)
	r1 := info.(*auth.SimResponse)
	if r1.Sres1 != 0x44332211 || r1.Kc1 != 0x0807060504030201 || r1.Sres2 == 0 || r1.Sres3 != 0 {
		t.Errorf("GSM %+v", r1)
	}
	_, info = c.command(auth.UUID, auth.CIDSim, mbim.CommandQuery, sq)
	if r2 := info.(*auth.SimResponse); *r2 != *r1 {
		t.Errorf("GSM answers change: %+v %+v", r1, r2)
	}
	sq.N = 4
	if msg, _ := c.command(auth.UUID, auth.CIDSim, mbim.CommandQuery, sq); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("N 4: %s", msg.Status)
	}
}

// filled is the default scenario with the defaults of the service keys
// filled in.
func filled() *Scenario {
	sc := DefaultScenario()
	if err := sc.Check(); err != nil {
		panic(err)
	}
	return sc
}

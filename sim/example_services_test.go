package sim

import (
	"testing"

	"github.com/gombim/gombim/catalog/auth"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	ul "github.com/gombim/gombim/catalog/msuicclowlevelaccess"
	pb "github.com/gombim/gombim/catalog/phonebook"
	"github.com/gombim/gombim/catalog/sms"
	"github.com/gombim/gombim/catalog/ussd"
	"github.com/gombim/gombim/mbim"
)

// The example scenario's service keys work as documented.
func TestExampleScenarioServices(t *testing.T) {
	sc, err := LoadScenario("../examples/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	sc.Timeline, sc.Faults = nil, nil
	mo, path := startUnix(t, sc)
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDPin, mbim.CommandSet, &bc.PinSet{PinType: bc.PinTypePin1, PinOperation: bc.PinOperationEnter, Pin: "1234"})
	waitRegistered(t, mo)

	_, info := c.command(sms.UUID, sms.CIDRead, mbim.CommandQuery, &sms.ReadQuery{Format: sms.SmsFormatPdu, Flag: sms.SmsFlagAll})
	msgs := info.(*sms.ReadResponse).PduMessages
	if len(msgs) != 4 {
		t.Fatalf("example SMS store: %+v", msgs)
	}
	if d := smsPDUText(t, msgs[3]); d.Text != "Call me back please" || d.SMSC != "+12063130004" {
		t.Errorf("the example's PDU message: %+v", d)
	}
	_, info = c.command(pb.UUID, pb.CIDRead, mbim.CommandQuery, &pb.ReadQuery{FilterFlag: pb.PhonebookFlagAll})
	if e := info.(*pb.ReadResponse).Entries; len(e) != 3 || e[2].Name != "Home" || e[2].EntryIndex != 3 {
		t.Errorf("example phonebook %+v", e)
	}
	_, info = c.command(ussd.UUID, ussd.CIDUssd, mbim.CommandSet, ussdSet(ussd.UssdActionInitiate, "#225#"))
	if r := info.(*ussd.UssdResponseMessage); ussdDecode(r.DataCodingScheme, r.Payload) != "Your balance is $23.45. Next bill: 03/28" {
		t.Errorf("example USSD %+v", r)
	}
	aid := mustHex("a0000000871002ff33ff0189")
	_, info = c.command(ul.UUID, ul.CIDReadBinary, mbim.CommandQuery, &ul.ReadBinaryQuery{Version: 1, ApplicationId: aid, FilePath: mustHex("7fff6f07")})
	if r := info.(*ul.ReadBinaryResponse); r.Data.String() != "083911841032547698" {
		t.Errorf("example EF.IMSI %+v", r)
	}
	_, info = c.command(ul.UUID, ul.CIDOpenChannel, mbim.CommandSet, &ul.OpenChannelSet{AppId: aid})
	if r := info.(*ul.OpenChannelResponse); r.Channel != 1 || r.Response[0] != 0x62 {
		t.Errorf("example open channel %+v", r)
	}
	q := &auth.AkapQuery{Rand: mustHex("4a3b2c1d0e0f1a2b3c4d5e6f708192a3"), Autn: mustHex("b4c5d6e7f8091a2b3c4d5e6f70819203"), NetworkName: "WLAN"}
	if _, info := c.command(auth.UUID, auth.CIDAkap, mbim.CommandQuery, q); info.(*auth.AkapResponse).ResLen != 4 {
		t.Errorf("example AKA' %+v", info)
	}
}

package sim

import (
	"testing"
	"time"

	"github.com/gombim/gombim/catalog/atds"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/mssar"
	"github.com/gombim/gombim/mbim"
)

func TestSARTransmissionIndications(t *testing.T) {
	_, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: mssar.UUID}}})
	msg, _ := c.command(mssar.UUID, mssar.CIDTransmissionStatus, mbim.CommandSet, &mssar.TransmissionStatusSet{
		ChannelNotification: mssar.TransmissionNotificationStatusEnabled, HysteresisTimer: 9})
	if msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("hysteresis 9: %s", msg.Status)
	}
	c.command(mssar.UUID, mssar.CIDTransmissionStatus, mbim.CommandSet, &mssar.TransmissionStatusSet{
		ChannelNotification: mssar.TransmissionNotificationStatusEnabled, HysteresisTimer: 1})
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandActivate, AccessString: "internet"})
	if n := c.expectIndication(mssar.UUID, mssar.CIDTransmissionStatus).(*mssar.TransmissionStatusResponse); n.TransmissionStatus != mssar.TransmissionStateActive {
		t.Errorf("after connect: %+v", n)
	}
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandDeactivate})
	start := time.Now()
	if n := c.expectIndication(mssar.UUID, mssar.CIDTransmissionStatus).(*mssar.TransmissionStatusResponse); n.TransmissionStatus != mssar.TransmissionStateInactive {
		t.Errorf("after disconnect: %+v", n)
	}
	if el := time.Since(start); el < 700*time.Millisecond {
		t.Errorf("inactive %v after the disconnect, before the 1 s hysteresis", el)
	}
}

func TestATDS(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) { s.Timings.Scan = Duration(50 * time.Millisecond) }))
	c := dial(t, path)
	c.open()
	_, info := c.command(atds.UUID, atds.CIDOperators, mbim.CommandQuery, nil)
	ops := info.(*atds.OperatorsResponse).Providers
	if len(ops) != 3 || ops[1].ProviderName != "Partner Net" || ops[0].PlmnMode != atds.AtdsProviderPlmnModeLte ||
		ops[2].ProviderState&bc.ProviderStateForbidden == 0 || ops[0].ProviderState&bc.ProviderStateRegistered == 0 {
		t.Errorf("operators %+v", ops)
	}
	_, info = c.command(atds.UUID, atds.CIDRat, mbim.CommandQuery, nil)
	if r := info.(*atds.RatResponse); r.Mode != atds.AtdsRatModeAutomatic {
		t.Errorf("rat %+v", r)
	}
	_, info = c.command(atds.UUID, atds.CIDRat, mbim.CommandSet, &atds.RatSet{Mode: atds.AtdsRatMode4gOnly})
	if r := info.(*atds.RatResponse); r.Mode != atds.AtdsRatMode4gOnly {
		t.Errorf("rat after set %+v", r)
	}
	_, info = c.command(atds.UUID, atds.CIDRegisterState, mbim.CommandQuery, nil)
	if r := info.(*atds.RegisterStateResponse); r.RegisterState != bc.RegisterStateHome || r.ProviderId != "00101" {
		t.Errorf("register state %+v", r)
	}
}

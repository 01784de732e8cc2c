package sim

import (
	"testing"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

func TestPinInfoEx2(t *testing.T) {
	_, path := startUnix(t, scenario(func(s *Scenario) { s.SIMs[0].State = SIMPINLocked }))
	c := dial(t, path)
	c.open()
	_, info := c.command(ms.UUID, ms.CIDPinInfoEx2, mbim.CommandQuery, &ms.PinInfoEx2Query{Version: 1, AppId: aidUSIM})
	if p := info.(*ms.PinInfoEx2Response); p.PinType != bc.PinTypePin1 || p.PinState != bc.PinStateLocked || p.RemainingAttempts != 3 {
		t.Errorf("query %+v", p)
	}
	msg, info := c.command(ms.UUID, ms.CIDPinInfoEx2, mbim.CommandSet, &ms.PinInfoEx2Set{PinType: bc.PinTypePin1,
		PinOperation: bc.PinOperationEnter, Pin: "0000", AppId: aidUSIM})
	if p, _ := info.(*ms.PinInfoEx2Response); msg.Status != mbim.StatusFailure || p == nil || p.RemainingAttempts != 2 {
		t.Errorf("wrong PIN: %s %+v", msg.Status, info)
	}
	_, info = c.command(ms.UUID, ms.CIDPinInfoEx2, mbim.CommandSet, &ms.PinInfoEx2Set{PinType: bc.PinTypePin1,
		PinOperation: bc.PinOperationEnter, Pin: "1234", AppId: aidISIM})
	if p := info.(*ms.PinInfoEx2Response); p.PinState != bc.PinStateUnlocked {
		t.Errorf("right PIN: %+v", p)
	}
	_, info = c.command(bc.UUID, bc.CIDSubscriberReadyStatus, mbim.CommandQuery, nil)
	if s := info.(*bc.SubscriberReadyStatusResponse); s.ReadyState != bc.SubscriberReadyStateInitialized {
		t.Errorf("after PIN ex2 enter: %s", s.ReadyState)
	}
	if msg, _ := c.command(ms.UUID, ms.CIDPinInfoEx2, mbim.CommandQuery, &ms.PinInfoEx2Query{Version: 1, AppId: mustHex("a0000000ff")}); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("unknown application: %s", msg.Status)
	}
}

func TestNetworkDenylistAndMulticarrier(t *testing.T) {
	_, path := startUnix(t, nil)
	c := dial(t, path)
	c.open()
	_, info := c.command(ms.UUID, ms.CIDNetworkDenylist, mbim.CommandQuery, nil)
	if d := info.(*ms.NetworkDenylistInfo); d.DenylistState != ms.NetworkDenylistStateNotActuated || len(d.DenylistProviders) != 0 {
		t.Errorf("initial denylist %+v", d)
	}
	_, info = c.command(ms.UUID, ms.CIDNetworkDenylist, mbim.CommandSet, &ms.NetworkDenylistSet{DenylistProviders: []ms.NetworkDenylistProvider{
		{Mcc: 1, Mnc: 1, NetworkDenylistType: ms.NetworkDenylistTypeSim}, {Mcc: 310, Mnc: 260, NetworkDenylistType: ms.NetworkDenylistTypeNetwork}}})
	if d := info.(*ms.NetworkDenylistInfo); d.DenylistState != ms.NetworkDenylistStateSimProviderActuated || len(d.DenylistProviders) != 2 {
		t.Errorf("denylist with the home network %+v", d)
	}

	_, info = c.command(bc.UUID, bc.CIDMulticarrierProviders, mbim.CommandQuery, nil)
	if p := info.(*bc.MulticarrierProvidersResponse); len(p.Providers) != 1 || p.Providers[0].ProviderId != "00101" {
		t.Errorf("multicarrier providers %+v", p)
	}
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: bc.UUID, Cids: []uint32{bc.CIDMulticarrierProviders}}}})
	c.command(bc.UUID, bc.CIDMulticarrierProviders, mbim.CommandSet, &bc.MulticarrierProvidersSet{Providers: []bc.Provider{
		{ProviderId: "310260", ProviderName: "T-Mobile"}, {ProviderId: "00102"}}})
	if p := c.expectIndication(bc.UUID, bc.CIDMulticarrierProviders).(*bc.MulticarrierProvidersResponse); len(p.Providers) != 2 || p.Providers[0].ProviderName != "T-Mobile" {
		t.Errorf("multicarrier indication %+v", p)
	}
	if msg, _ := c.command(bc.UUID, bc.CIDMulticarrierProviders, mbim.CommandSet, &bc.MulticarrierProvidersSet{Providers: []bc.Provider{{ProviderId: "x"}}}); msg.Status != mbim.StatusInvalidParameters {
		t.Errorf("bad provider id: %s", msg.Status)
	}
}

func TestUEPolicy(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) { s.UEPolicy = mustHex("0011223344") }))
	c := dial(t, path)
	c.open()
	if msg, _ := c.command(ms.UUID, ms.CIDUePolicy, mbim.CommandQuery, &ms.UePolicyQueryV4{}); msg.Status != mbim.StatusNoDeviceSupport {
		t.Errorf("UE policy before MBIMEx 4.0: %s", msg.Status)
	}
	c.command(ms.UUID, ms.CIDVersion, mbim.CommandQuery, &ms.VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: 0x0400})
	c.v = mbim.MBIMEx4
	_, info := c.command(ms.UUID, ms.CIDUePolicy, mbim.CommandQuery, &ms.UePolicyQueryV4{})
	if p := info.(*ms.UePolicyResponseV4); len(p.UnnamedIes) != 1 || p.UnnamedIes[0].Type != mbim.TLVUEPolicies || p.UnnamedIes[0].Data.String() != "0011223344" {
		t.Errorf("UE policy %+v", p)
	}
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: ms.UUID, Cids: []uint32{ms.CIDUePolicy}}}})
	mo.Inject(Event{Type: "ue-policy", Data: []byte(`{"policy":"aabb"}`)})
	if p := c.expectIndication(ms.UUID, ms.CIDUePolicy).(*ms.UePolicyResponseV4); p.UnnamedIes[0].Data.String() != "aabb" {
		t.Errorf("UE policy indication %+v", p)
	}
}

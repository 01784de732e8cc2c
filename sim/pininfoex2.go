package sim

import (
	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

// MS Basic Connect Extensions PIN info ex2: the PIN state and operations
// of one UICC application, by AID. The applications of the card (see
// uicc.go) share the SIM's PIN1, so this is Basic Connect's PIN for any
// application the card has.

func init() {
	Handle(ms.UUID, ms.CIDPinInfoEx2, handlePinInfoEx2)
}

func pinEx2(r Reply) Reply {
	p, ok := r.Info.(*bc.PinResponse)
	if !ok {
		return Fail(r.Status)
	}
	return Reply{Status: r.Status, Info: &ms.PinInfoEx2Response{PinType: p.PinType, PinState: p.PinState,
		RemainingAttempts: p.RemainingAttempts}}
}

func handlePinInfoEx2(m *Modem, r *Request) Reply {
	var aid []byte
	var set *ms.PinInfoEx2Set
	switch v := r.Info.(type) {
	case *ms.PinInfoEx2Query:
		aid = v.AppId
	case *ms.PinInfoEx2Set:
		aid, set = v.AppId, v
	default:
		return Fail(mbim.StatusInvalidParameters)
	}
	if len(aid) > 0 && m.uiccApp(aid) < 0 {
		return Fail(mbim.StatusInvalidParameters)
	}
	// Basic Connect's PIN does the work.
	pr := &Request{Service: bc.UUID, CID: bc.CIDPin, Type: mbim.CommandQuery, Version: r.Version}
	if set != nil {
		pr.Type = mbim.CommandSet
		pr.Info = &bc.PinSet{PinType: set.PinType, PinOperation: set.PinOperation, Pin: set.Pin, NewPin: set.NewPin}
	}
	return pinEx2(handlePin(m, pr))
}

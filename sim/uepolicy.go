package sim

import (
	"encoding/json"
	"slices"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
)

// MS Basic Connect Extensions UE policy (MBIMEx 4.0): the UE policies
// (URSP rules) the network sent, as the scenario's ue_policy bytes in a
// UE-policies TLV; a ue-policy timeline event sends new ones.

func init() {
	Handle(ms.UUID, ms.CIDUePolicy, handleUEPolicy)
	RegisterEvent("ue-policy", uePolicyEvent)
}

type uePolicyState struct{ policy mbim.Bytes }

func uePolicy(m *Modem) *uePolicyState {
	return m.Ext("ue-policy", func() any { return &uePolicyState{policy: slices.Clone(m.sc.UEPolicy)} }).(*uePolicyState)
}

func (m *Modem) uePolicyInfo() *ms.UePolicyResponseV4 {
	out := &ms.UePolicyResponseV4{}
	if p := uePolicy(m).policy; len(p) > 0 {
		out.UnnamedIes = []mbim.TLV{{Type: mbim.TLVUEPolicies, Data: slices.Clone(p)}}
	}
	return out
}

func handleUEPolicy(m *Modem, r *Request) Reply {
	if !m.registered() {
		return Fail(mbim.StatusNotRegistered)
	}
	return OK(m.uePolicyInfo())
}

// uePolicyEvent is the network sending UE policies: data {"policy": "hex"}.
func uePolicyEvent(m *Modem, ev Event) {
	var d struct {
		Policy mbim.Bytes `json:"policy"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		m.log("timeline: ue-policy data %s: %v", ev.Data, err)
		return
	}
	uePolicy(m).policy = d.Policy
	if m.Version() >= mbim.MBIMEx4 {
		m.Notify(ms.UUID, ms.CIDUePolicy, m.uePolicyInfo())
	}
}

package mbim

import (
	"encoding/json"
	"testing"
)

// TestTLVTypeNames pins the nickname of every known information element
// type: libmbim 1.28's (MbimTlvType) for 0-17, and for the MBIMEx 4.0
// types 18-21 nicknames of Wireshark 4.0's names (OS_ID, 3GPP_REL_VERSION,
// URSP_RULES_TD_ONLY, SESSION_ID) in libmbim's style.
func TestTLVTypeNames(t *testing.T) {
	want := []struct {
		typ  TLVType
		v    uint16
		nick string
	}{
		{TLVInvalid, 0, "invalid"},
		{TLVUEPolicies, 1, "ue-policites"}, // libmbim's spelling
		{TLVSingleNSSAI, 2, "single-nssai"},
		{TLVAllowedNSSAI, 3, "allowed-nssai"},
		{TLVCfgNSSAI, 4, "cfg-nssai"},
		{TLVDfltCfgNSSAI, 5, "dflt-cfg-nssai"},
		{TLVPrecfgDfltCfgNSSAI, 6, "precfg-dflt-cfg-nssai"},
		{TLVRejNSSAI, 7, "rej-nssai"},
		{TLVLADN, 8, "ladn"},
		{TLVTAI, 9, "tai"},
		{TLVWCharStr, 10, "wchar-str"},
		{TLVUint16Tbl, 11, "uint16-tbl"},
		{TLVEAPPacket, 12, "eap-packet"},
		{TLVPCO, 13, "pco"},
		{TLVRouteSelectionDescriptors, 14, "route-selection-descriptors"},
		{TLVTrafficParameters, 15, "traffic-parameters"},
		{TLVWakeCommand, 16, "wake-command"},
		{TLVWakePacket, 17, "wake-packet"},
		{TLVOSID, 18, "osid"},
		{TLV3GPPRelVersion, 19, "3gpp-rel-version"},
		{TLVURSPRulesTDOnly, 20, "ursp-rules-td-only"},
		{TLVSessionID, 21, "session-id"},
	}
	if len(want) != len(tlvNames) {
		t.Fatalf("%d names, %d checked", len(tlvNames), len(want))
	}
	for _, w := range want {
		if uint16(w.typ) != w.v {
			t.Errorf("%s = %d, want %d", w.nick, w.typ, w.v)
		}
		if s := w.typ.String(); s != w.nick {
			t.Errorf("TLVType(%d).String() = %q, want %q", w.v, s, w.nick)
		}
		var back TLVType
		if err := back.UnmarshalText([]byte(w.nick)); err != nil || back != w.typ {
			t.Errorf("UnmarshalText(%q) = %d, %v", w.nick, back, err)
		}
	}
	// Unknown types print and parse as numbers.
	if s := TLVType(22).String(); s != "0x16" {
		t.Errorf("TLVType(22) = %q", s)
	}
	for _, in := range []string{"0x16", "22"} {
		var back TLVType
		if err := back.UnmarshalText([]byte(in)); err != nil || back != 22 {
			t.Errorf("UnmarshalText(%q) = %d, %v", in, back, err)
		}
	}
	var bad TLVType
	if err := bad.UnmarshalText([]byte("os-id")); err == nil {
		t.Error("an unknown nickname parsed")
	}
	// In JSON, an element's type is its nickname.
	j, err := json.Marshal(TLV{Type: TLVSessionID, Data: Bytes{1, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	var back TLV
	if err := json.Unmarshal(j, &back); err != nil || back.Type != TLVSessionID || string(j) != `{"Type":"session-id","Data":"01000000"}` {
		t.Errorf("JSON %s -> %+v, %v", j, back, err)
	}
}

package mbim

import (
	"encoding/hex"
	"testing"
)

// Context type UUIDs as 32 hex digits in wire order, checked against
// libmbim's mbim-uuid.c and Microsoft's MBB class driver headers.
var contextVectors = []struct {
	name string
	hex  string
	v    *UUID
}{
	{"none", "b43f758ca5604b46b35ec5869641fb54", &ContextTypeNone},
	{"internet", "7e5e2a7e4e6f7272736b656e7e5e2a7e", &ContextTypeInternet},
	{"vpn", "9b9f7bbe895244b783acca41318df7a0", &ContextTypeVPN},
	{"voice", "889182940ef443968ccaa8588fbc02b2", &ContextTypeVoice},
	{"video-share", "05a2a7167c344b4d9a91c5ef0c7aaacc", &ContextTypeVideoShare},
	{"purchase", "b3272496ac6c422ba8c0acf687a27217", &ContextTypePurchase},
	{"ims", "21610d0130744bce9425b53a07d697d6", &ContextTypeIMS},
	{"mms", "4672666472696bc69624d1d35389aca9", &ContextTypeMMS},
	{"local", "a57a9afcb09f45d7bb40033c39f60db9", &ContextTypeLocal},
	{"admin", "5f7e4c2ee80b40a9a239f0abcfd11f4b", &ContextTypeAdmin},
	{"app", "74d88a3ddfbd47999a8c7310a37bb2ee", &ContextTypeApp},
	{"xcap", "50d378a7baa54a50b8723fe5bb463411", &ContextTypeXCAP},
	{"tethering", "5e4e060148dc4e2bacb808b4016bbaac", &ContextTypeTethering},
	{"emergency-calling", "5f41adb8204e4d319da8b3c970e360f2", &ContextTypeEmergencyCalling},
}

func TestContextTypes(t *testing.T) {
	list := ContextTypes()
	if len(list) != len(contextVectors) {
		t.Fatalf("ContextTypes() has %d entries, want %d", len(list), len(contextVectors))
	}
	for i, v := range contextVectors {
		raw, err := hex.DecodeString(v.hex)
		if err != nil {
			t.Fatal(err)
		}
		var want UUID
		copy(want[:], raw)
		if *v.v != want {
			t.Errorf("%s: exported var = %v, want %v", v.name, *v.v, want)
		}
		if list[i].Name != v.name || list[i].UUID != want {
			t.Errorf("ContextTypes()[%d] = %+v, want %s %v", i, list[i], v.name, want)
		}
		if nick, ok := LookupContextType(want); !ok || nick != v.name {
			t.Errorf("LookupContextType(%v) = %q, %v", want, nick, ok)
		}
		if u, ok := ContextTypeByName(v.name); !ok || u != want {
			t.Errorf("ContextTypeByName(%q) = %v, %v", v.name, u, ok)
		}
	}
	if _, ok := LookupContextType(UUID{}); ok {
		t.Error("zero UUID has a context type name")
	}
	if _, ok := LookupContextType(basicConnect); ok {
		t.Error("service UUID has a context type name")
	}
	if u, ok := ContextTypeByName("Video-Share"); !ok || u != ContextTypeVideoShare {
		t.Error("ContextTypeByName is case-sensitive")
	}
	for _, bad := range []string{"", "invalid", "internet ", "web"} {
		if _, ok := ContextTypeByName(bad); ok {
			t.Errorf("ContextTypeByName(%q) succeeded", bad)
		}
	}
	// The returned slice is a copy.
	list[0].Name = "changed"
	if ContextTypes()[0].Name != "none" {
		t.Error("ContextTypes() exposes the internal table")
	}
}

func TestContextTypeNamesMatchLibmbim(t *testing.T) {
	members := girEnum(t, "ContextType")
	seen := 0
	for _, m := range members {
		if m.Nick == "invalid" {
			continue // the zero UUID
		}
		seen++
		if want := mkenumsNick(t, m.Identifier, "MBIM_CONTEXT_TYPE_"); want != m.Nick {
			t.Errorf("GIR nick %q differs from identifier %s", m.Nick, m.Identifier)
		}
		if _, ok := ContextTypeByName(m.Nick); !ok {
			t.Errorf("libmbim context type %q missing", m.Nick)
		}
	}
	if seen != len(contextVectors) {
		t.Errorf("GIR names %d context types, we have %d", seen, len(contextVectors))
	}
}

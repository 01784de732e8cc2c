package catalog

import (
	"strings"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// TestPeerListKeys checks the keys of the differential tests' lists (of
// Wireshark and of libmbim): each names a layout we have, and one with
// "@X.Y" a version at which that layout is in effect. A key that names
// nothing would never be used, and the question or defect it records would
// pass for settled; this catches those left behind when definitions
// change (a new MBIMEx variant takes a version away from the older
// layout).
func TestPeerListKeys(t *testing.T) {
	layouts := map[string]layoutRef{}
	cids := map[string]bool{}
	for _, l := range allLayouts() {
		layouts[l.name()] = l
		cids[cidOf(l.name())] = true
	}
	check := func(list, key string) {
		t.Helper()
		base, _, _ := strings.Cut(key, "#")
		name, ver, hasVer := strings.Cut(base, "@")
		l, ok := layouts[name]
		if !ok {
			t.Errorf("%s: %q names no layout", list, key)
			return
		}
		if !hasVer {
			return
		}
		for _, v := range []mbim.Version{mbim.MBIMEx1, mbim.MBIMEx2, mbim.MBIMEx3, mbim.MBIMEx4} {
			if v.String() == ver {
				if d, _ := l.cid.Layout(l.desc.Kind, v); d != l.desc {
					t.Errorf("%s: %q: the layout is not in effect at MBIMEx %s", list, key, ver)
				}
				return
			}
		}
		t.Errorf("%s: %q: no MBIMEx version %q", list, key, ver)
	}
	for k := range wiresharkDiscrepancies {
		check("wiresharkDiscrepancies", k)
	}
	for k := range wiresharkOpen {
		check("wiresharkOpen", k)
	}
	for k := range wiresharkRejects {
		check("wiresharkRejects", k)
	}
	for k := range wiresharkExpertOK {
		check("wiresharkExpertOK", k)
	}
	for k := range wiresharkFixups {
		check("wiresharkFixups", k)
	}
	for k := range wiresharkExtraFields {
		check("wiresharkExtraFields", k)
	}
	for k := range knownDiscrepancies {
		check("knownDiscrepancies", k)
	}
	for k := range libmbimRepeatsFirstElement {
		check("libmbimRepeatsFirstElement", k)
	}
	for k := range libmbimReadsToEnd {
		check("libmbimReadsToEnd", k)
	}
	for k := range libmbimMisreads {
		check("libmbimMisreads", k)
	}
	for k := range wiresharkCIDAliases {
		if !cids[k] {
			t.Errorf("wiresharkCIDAliases: %q names no CID with a payload", k)
		}
	}
}

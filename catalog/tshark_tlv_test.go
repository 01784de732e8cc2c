package catalog

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gombim/gombim/internal/mbimtest"
	"github.com/gombim/gombim/mbim"
)

// TestWiresharkTLVTypes compares the information element types Wireshark
// knows (the value names of mbim.control.tlv_ie.type) with mbim.TLVType:
// the same numbers, and our nickname is Wireshark's name in lower case
// with '-' for '_', except where libmbim's nickname differs.
func TestWiresharkTLVTypes(t *testing.T) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tshark is required in CI: %v", err)
		}
		t.Skip(mbimtest.ErrNoTshark)
	}
	cmd := exec.Command(bin, "-G", "values")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+os.TempDir()+"/gombim-tshark-empty-profile")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -G values: %v", err)
	}
	// Where our nicknames (libmbim's, or libmbim-style from Microsoft's
	// MBIM_TLV_TYPE_OSID) are not Wireshark's names.
	renamed := map[string]string{"UNKNOWN": "invalid", "UE_POLICIES": "ue-policites", "OS_ID": "osid"}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 4 || f[0] != "V" || f[1] != "mbim.control.tlv_ie.type" {
			continue
		}
		v, err := strconv.ParseUint(f[2], 10, 16)
		if err != nil {
			t.Fatalf("tshark -G values: %q", l)
		}
		want, ok := renamed[f[3]]
		if !ok {
			want = strings.ReplaceAll(strings.ToLower(f[3]), "_", "-")
		}
		if got := mbim.TLVType(v).String(); got != want {
			t.Errorf("type %d: ours %q, Wireshark %s (want %q)", v, got, f[3], want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("tshark lists no values of mbim.control.tlv_ie.type")
	}
	t.Logf("Wireshark names %d information element types", n)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// gombim runs the command line args with stdin and returns what it wrote
// and its exit code.
func gombim(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// repoRoot returns the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// vectorFile returns the path of the shared Basic Connect vectors. Outside
// CI a missing file skips the test; in CI it fails it.
func vectorFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", "vectors", "basic-connect.hex")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("test vectors missing in CI: %v", err)
		}
		t.Skipf("test vectors not available: %v", err)
	}
	return p
}

// hexOf encodes a message for an input line.
func hexOf(b []byte) string { return hex.EncodeToString(b) }

// registerStateDone builds the register-state COMMAND_DONE of the vectors.
func registerStateDone(t *testing.T, tid uint32) []byte {
	t.Helper()
	b, err := catalog.Build(mbim.TypeCommandDone, tid, basicconnect.UUID, 9, 0, mbim.StatusNone,
		&basicconnect.RegisterStateResponse{
			RegisterState:        basicconnect.RegisterStateHome,
			RegisterMode:         basicconnect.RegisterModeAutomatic,
			AvailableDataClasses: basicconnect.DataClassLte,
			CurrentCellularClass: basicconnect.CellularClassGsm,
			ProviderId:           "310260",
			ProviderName:         "T-Mobile",
			RoamingText:          "roaming text long enough to need three fragments",
		})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fragment3 splits msg into 3 fragments.
func fragment3(t *testing.T, msg []byte) [][]byte {
	t.Helper()
	const hdr = mbim.HeaderLen + mbim.FragmentHeaderLen
	mct := hdr + (len(msg)-hdr+2)/3
	if mct < mbim.MinControlTransfer {
		t.Fatalf("message of %d bytes too short for 3 fragments", len(msg))
	}
	frags, err := mbim.Fragment(nil, msg, mct)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 3 {
		t.Fatalf("%d fragments, want 3", len(frags))
	}
	return frags
}

// jsonLines parses every output line as one JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("output line is not one JSON object: %v\n%s", err, sc.Text())
		}
		objs = append(objs, m)
	}
	return objs
}

// field returns obj["fields"][name].
func field(obj map[string]any, name string) any {
	f, _ := obj["fields"].(map[string]any)
	return f[name]
}

// hasField reports whether text output has a field line "  Name: value".
func hasField(out, name, value string) bool {
	re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + `:\s+` + regexp.QuoteMeta(value) + `$`)
	return re.MatchString(out)
}

func TestDecodeVectorsText(t *testing.T) {
	path := vectorFile(t)
	out, errOut, code := gombim(t, "", "decode", path)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, name := range []string{"device_caps", "register_state", "ip_configuration", "visible_providers", "signal_state"} {
		if !strings.Contains(out, "\n"+name+":\ncommand-done (transaction 7)\n") && !strings.HasPrefix(out, name+":\n") {
			t.Errorf("no message named %s in\n%s", name, out)
		}
	}
	if n := strings.Count(out, "\n\n"); n != 4 {
		t.Errorf("%d blank lines between 5 messages, want 4", n)
	}
	for _, f := range [][2]string{
		{"CID", "register-state (9)"},
		{"Status", "none"},
		{"RegisterState", "home"},
		{"ProviderId", `"310260"`},
		{"ProviderName", `"T-Mobile"`},
		{"HardwareInfo", `"EM7455"`},
		{"IPv4Address", "10.64.1.2"},
		{"IPv6Gateway", "2001:db80::2"},
		{"Rssi", "20"},
	} {
		if !hasField(out, f[0], f[1]) {
			t.Errorf("no field %s: %s in\n%s", f[0], f[1], out)
		}
	}
}

func TestDecodeVectorsJSON(t *testing.T) {
	data, err := os.ReadFile(vectorFile(t))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := gombim(t, string(data), "decode", "--json", "-")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	objs := jsonLines(t, out)
	if len(objs) != 5 {
		t.Fatalf("%d objects, want 5:\n%s", len(objs), out)
	}
	for _, o := range objs {
		if o["type"] != "command-done" || o["service"] != "basic-connect" || o["status"] != "none" || o["fields"] == nil {
			t.Errorf("unexpected object %v", o)
		}
	}
	rs := objs[1]
	if rs["name"] != "register_state" || rs["line"] != 2.0 || rs["cid"] != "register-state" {
		t.Errorf("register_state object: %v", rs)
	}
	if field(rs, "RegisterState") != "home" || field(rs, "ProviderId") != "310260" || field(rs, "ProviderName") != "T-Mobile" {
		t.Errorf("register_state fields: %v", rs["fields"])
	}
	if got := field(objs[3], "Providers"); got == nil || len(got.([]any)) != 8 {
		t.Errorf("visible_providers: %v", got)
	}
	// The name comes first, then the catalog's keys in their order.
	if !strings.HasPrefix(out, `{"line":1,"name":"device_caps","type":"command-done",`) {
		t.Errorf("first line: %.80s", out)
	}
}

func TestDecodeFragments(t *testing.T) {
	frags := fragment3(t, registerStateDone(t, 42))
	// Colons, spaces and a comment on the middle fragment.
	mid := hexOf(frags[1])
	var spaced []string
	for i := 0; i < len(mid); i += 2 {
		spaced = append(spaced, mid[i:i+2])
	}
	in := "reg\t" + hexOf(frags[0]) + "\n" +
		strings.Join(spaced[:10], ":") + " " + strings.Join(spaced[10:], " ") + "  # fragment 2\n" +
		hexOf(frags[2]) + "\n"

	out, errOut, code := gombim(t, in, "decode")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q, output\n%s", code, errOut, out)
	}
	if !strings.HasPrefix(out, "reg:\ncommand-done (transaction 42)\n") || strings.Count(out, "command-done") != 1 {
		t.Errorf("want one message named after its first fragment, got\n%s", out)
	}
	if !hasField(out, "ProviderName", `"T-Mobile"`) || !hasField(out, "RoamingText", `"roaming text long enough to need three fragments"`) {
		t.Errorf("fields not decoded:\n%s", out)
	}

	out, _, code = gombim(t, in, "decode", "--json")
	objs := jsonLines(t, out)
	if code != exitOK || len(objs) != 1 {
		t.Fatalf("exit %d, %d objects:\n%s", code, len(objs), out)
	}
	if o := objs[0]; o["line"] != 3.0 || o["name"] != "reg" || o["transaction_id"] != 42.0 || field(o, "ProviderId") != "310260" {
		t.Errorf("object: %v", o)
	}
}

func TestDecodeFragmentErrors(t *testing.T) {
	frags := fragment3(t, registerStateDone(t, 5))
	valid := hexOf(registerStateDone(t, 6))
	tests := []struct {
		name  string
		lines []string
		want  []string // substrings of the error lines, in order
	}{
		{"incomplete at the end", []string{hexOf(frags[0]), hexOf(frags[1]), valid},
			[]string{`line 1: error: command-done transaction 5: the input ended before its last fragment`}},
		{"out of order", []string{hexOf(frags[0]), hexOf(frags[2]), hexOf(frags[1]), valid},
			[]string{`line 2: error: command-done transaction 5: fragment out of sequence: got fragment 2 of 3, want fragment 1`,
				`line 3: error: command-done transaction 5: fragment out of sequence: fragment 1 of 3 arrived without the fragments before it`}},
		{"continuation alone", []string{hexOf(frags[2]), valid},
			[]string{`line 1: error: command-done transaction 5: fragment out of sequence: fragment 2 of 3 arrived without`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, code := gombim(t, strings.Join(tt.lines, "\n")+"\n", "decode")
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
			}
			var errs []string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "line ") {
					errs = append(errs, l)
				}
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("error lines %q, want %d", errs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(errs[i], w) {
					t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
				}
			}
			if !strings.Contains(out, "command-done (transaction 6)") {
				t.Errorf("the valid message after the errors was not decoded:\n%s", out)
			}
		})
	}
}

// malformed mixes valid messages with broken lines; the valid ones are on
// lines 3, 5 and 11.
func malformed(t *testing.T) string {
	valid := hexOf(registerStateDone(t, 1))
	open := "01000000100000000100000000100000" // OPEN, MaxControlTransfer 4096
	short := registerStateDone(t, 2)
	badLen := append([]byte(nil), short...)
	badLen[4]++ // MessageLength one more than the bytes
	badBuf := append([]byte(nil), short...)
	badBuf[44] = 0xff // InformationBufferLength beyond the message
	unknownType := "05000000 0c000000 01000000"
	return strings.Join([]string{
		"# capture with damage",
		"",
		"ok1\t" + valid,
		"zz\t03 00 00 8g", // bad character
		"  " + open + "  ",
		"0300008",                       // odd number of digits
		"03000080",                      // shorter than a header
		"len\t" + hexOf(badLen),         // MessageLength mismatch
		hexOf(badBuf),                   // information buffer length
		unknownType,                     // unknown message type
		"ok2\t" + valid + " # trailing", // valid again
		"name only\t",                   // nothing after the name
	}, "\n") + "\n"
}

func TestDecodeMalformedText(t *testing.T) {
	out, errOut, code := gombim(t, malformed(t), "decode")
	if code != exitFailed || errOut != "" {
		t.Fatalf("exit %d (want %d), stderr %q", code, exitFailed, errOut)
	}
	want := []string{
		"ok1:\ncommand-done (transaction 1)\n",
		"line 4 (zz): error: invalid character 'g' at column 14; each line must be hex bytes of one MBIM message, optionally preceded by a name and a TAB\n",
		"open (transaction 1)\n  MaxControlTransfer: 4096\n",
		"line 6: error: odd number of hex digits (7); each line must be hex bytes of one MBIM message, optionally preceded by a name and a TAB\n",
		"line 7: error: header at offset 0: need 12 bytes, have 4; the bytes are not a valid MBIM control message",
		"line 8 (len): error: command-done transaction 2: length mismatch:",
		"line 9: error: command-done: information buffer length at offset 44:",
		"line 10: error: message type at offset 0: unknown message type 0x00000005",
		"ok2:\ncommand-done (transaction 1)\n",
		"line 12 (name only): error: no hex digits;",
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing, or out of order: %q\nin:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	if n := strings.Count(out, "ProviderName:         \"T-Mobile\""); n != 2 {
		t.Errorf("%d decoded register-state messages, want 2", n)
	}
}

func TestDecodeMalformedJSON(t *testing.T) {
	out, _, code := gombim(t, malformed(t), "decode", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	objs := jsonLines(t, out)
	var msgLines, errLines []float64
	for _, o := range objs {
		if _, ok := o["type"]; ok {
			msgLines = append(msgLines, o["line"].(float64))
			continue
		}
		if e, _ := o["error"].(string); e == "" || len(o) > 3 {
			t.Errorf("error object %v", o)
		}
		errLines = append(errLines, o["line"].(float64))
	}
	if want := []float64{3, 5, 11}; !equal(msgLines, want) {
		t.Errorf("messages on lines %v, want %v", msgLines, want)
	}
	if want := []float64{4, 6, 7, 8, 9, 10, 12}; !equal(errLines, want) {
		t.Errorf("errors on lines %v, want %v", errLines, want)
	}
	if objs[1]["name"] != "zz" {
		t.Errorf("error object of a named line lacks the name: %v", objs[1])
	}
	if !strings.Contains(out, `{"line":6,"error":"odd number of hex digits (7); each line must be hex bytes of one MBIM message, optionally preceded by a name and a TAB"}`) {
		t.Errorf("odd-digit error:\n%s", out)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeSyntax(t *testing.T) {
	msg := hexOf(registerStateDone(t, 9))
	var colons []string
	for i := 0; i < len(msg); i += 2 {
		colons = append(colons, strings.ToUpper(msg[i:i+2]))
	}
	in := "# a comment line\r\n" +
		"\r\n" +
		"   \t  \n" +
		"   # indented comment\n" +
		"0x" + msg + "\r\n" + // 0x prefix, CRLF
		strings.Join(colons, ":") + "\n" + // upper case, colons
		"with spaces\t" + strings.Join(colons, " ") + "\t# tab before the comment\n" +
		strings.Join(colons, "-") // dashes, no final newline
	out, errOut, code := gombim(t, in, "decode", "--json")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q, output\n%s", code, errOut, out)
	}
	objs := jsonLines(t, out)
	if len(objs) != 4 {
		t.Fatalf("%d objects, want 4:\n%s", len(objs), out)
	}
	for i, line := range []float64{5, 6, 7, 8} {
		if objs[i]["line"] != line || field(objs[i], "ProviderId") != "310260" {
			t.Errorf("object %d: %v", i, objs[i])
		}
	}
	if objs[2]["name"] != "with spaces" {
		t.Errorf("name %v", objs[2]["name"])
	}
	if _, ok := objs[0]["name"]; ok {
		t.Errorf("unnamed line has a name: %v", objs[0])
	}
}

func TestDecodeUnknownService(t *testing.T) {
	svc := mbim.MustParseUUID("01234567-89ab-cdef-0123-456789abcdef")
	m := mbim.Message{Type: mbim.TypeCommandDone, TransactionID: 3, Service: svc, CID: 77,
		Status: mbim.StatusNone, InformationBuffer: []byte{0xde, 0xad, 0xbe, 0xef}}
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A known service with an unknown CID, as an indication.
	ind := mbim.Message{Type: mbim.TypeIndicateStatus, TransactionID: 0, Service: basicconnect.UUID, CID: 999,
		InformationBuffer: []byte{1, 2}}
	bi, err := ind.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	in := hexOf(b) + "\n" + hexOf(bi) + "\n"

	out, _, code := gombim(t, in, "decode")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, w := range []string{
		"Service: 01234567-89ab-cdef-0123-456789abcdef\n  CID: 77\n",
		"InformationBuffer: deadbeef\n",
		"indicate-status (transaction 0)\n  Service: basic-connect\n  CID: 999\n",
		"InformationBuffer: 0102\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}

	out, _, code = gombim(t, in, "decode", "--json")
	objs := jsonLines(t, out)
	if code != exitOK || len(objs) != 2 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if o := objs[0]; o["service"] != svc.String() || o["cid"] != 77.0 || o["information_buffer"] != "deadbeef" {
		t.Errorf("unknown service: %v", o)
	}
	if o := objs[1]; o["service"] != "basic-connect" || o["cid"] != 999.0 || o["information_buffer"] != "0102" {
		t.Errorf("unknown CID: %v", o)
	}
}

// versionMsg builds an MS Basic Connect Extensions VERSION message.
func versionMsg(t *testing.T, typ mbim.MessageType, status mbim.Status, ext mbim.Version) string {
	t.Helper()
	m := mbim.Message{Type: typ, TransactionID: 2, Service: basicConnectExt, CID: cidVersion,
		CommandType: mbim.CommandQuery, Status: status,
		InformationBuffer: []byte{0x00, 0x01, byte(ext), byte(ext >> 8)}}
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return hexOf(b)
}

func TestDecodeFollowsVersionExchange(t *testing.T) {
	host := func(v mbim.Version) string { return versionMsg(t, mbim.TypeCommand, 0, v) }
	dev := func(v mbim.Version) string { return versionMsg(t, mbim.TypeCommandDone, mbim.StatusNone, v) }
	ind := func(v mbim.Version) string { return versionMsg(t, mbim.TypeIndicateStatus, 0, v) }
	failed := versionMsg(t, mbim.TypeCommandDone, mbim.StatusFailure, mbim.MBIMEx3)
	tests := []struct {
		name  string
		flag  string
		lines []string
		want  mbim.Version
	}{
		{"default", "", nil, mbim.MBIMEx1},
		{"flag only", "3.0", nil, mbim.MBIMEx3},
		{"host command alone changes nothing", "", []string{host(mbim.MBIMEx3)}, mbim.MBIMEx1},
		{"device lower than host", "", []string{host(mbim.MBIMEx3), dev(mbim.MBIMEx2)}, mbim.MBIMEx2},
		{"host lower than device", "", []string{host(mbim.MBIMEx2), dev(mbim.MBIMEx4)}, mbim.MBIMEx2},
		{"equal", "", []string{host(mbim.MBIMEx3), dev(mbim.MBIMEx3)}, mbim.MBIMEx3},
		{"host command beats the flag", "2.0", []string{host(mbim.MBIMEx4), dev(mbim.MBIMEx3)}, mbim.MBIMEx3},
		{"no host command: device alone", "", []string{dev(mbim.MBIMEx3)}, mbim.MBIMEx3},
		{"no host command: flag caps", "2", []string{dev(mbim.MBIMEx3)}, mbim.MBIMEx2},
		{"no host command: flag above device", "4.0", []string{dev(mbim.MBIMEx3)}, mbim.MBIMEx3},
		{"failed response keeps the version", "2.0", []string{host(mbim.MBIMEx3), failed}, mbim.MBIMEx2},
		{"indication", "", []string{host(mbim.MBIMEx4), ind(mbim.MBIMEx3)}, mbim.MBIMEx3},
		{"device says 0", "", []string{dev(0)}, mbim.MBIMEx1},
		{"renegotiation", "", []string{host(mbim.MBIMEx3), dev(mbim.MBIMEx3), host(mbim.MBIMEx2), dev(mbim.MBIMEx3)}, mbim.MBIMEx2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &decodeOptions{mbimex: versionFlag{v: mbim.MBIMEx1}}
			if tt.flag != "" {
				if err := opts.mbimex.Set(tt.flag); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			d := newStreamDecoder(bufio.NewWriter(&out), opts)
			in := strings.Join(tt.lines, "\n")
			if err := d.run(context.Background(), strings.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			if d.failed {
				t.Errorf("a line failed:\n%s", out.String())
			}
			if d.version != tt.want {
				t.Errorf("version %s, want %s", d.version, tt.want)
			}
		})
	}
}

func TestDecodeVersionedLayout(t *testing.T) {
	v2, err := catalog.Build(mbim.TypeCommandDone, 8, basicconnect.UUID, 9, 0, mbim.StatusNone,
		&basicconnect.RegisterStateResponseV2{
			RegisterState:        basicconnect.RegisterStateHome,
			ProviderId:           "310260",
			PreferredDataClasses: basicconnect.DataClassLte,
		})
	if err != nil {
		t.Fatal(err)
	}
	line := "rs\t" + hexOf(v2) + "\n"
	exchange := versionMsg(t, mbim.TypeCommand, 0, mbim.MBIMEx3) + "\n" +
		versionMsg(t, mbim.TypeCommandDone, mbim.StatusNone, mbim.MBIMEx2) + "\n"

	check := func(name, in string, args []string, wantV2 bool) {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := gombim(t, in, append([]string{"decode", "--json"}, args...)...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
			}
			objs := jsonLines(t, out)
			rs := objs[len(objs)-1]
			_, hasPref := rs["fields"].(map[string]any)["PreferredDataClasses"]
			if hasPref != wantV2 || (rs["mbimex"] == "2.0") != wantV2 {
				t.Errorf("MBIMEx 2.0 layout used: %v, want %v: %v", hasPref, wantV2, rs)
			}
		})
	}
	check("default 1.0", line, nil, false)
	check("--mbimex 2.0", line, []string{"--mbimex", "2.0"}, true)
	check("--mbimex=3 picks the 2.0 layout", line, []string{"--mbimex=3"}, true)
	check("negotiated in the input", exchange+line, nil, true)
}

func TestDecodeLongLine(t *testing.T) {
	valid := hexOf(registerStateDone(t, 4))
	long := strings.Repeat("00", maxLineLen/2+1)
	in := long + "\n" + valid + "\n" + long // the last line has no newline
	out, _, code := gombim(t, in, "decode", "--json")
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	objs := jsonLines(t, out)
	if len(objs) != 3 || objs[0]["line"] != 1.0 || objs[1]["line"] != 2.0 || objs[2]["line"] != 3.0 {
		t.Fatalf("objects %v", objs)
	}
	if e, _ := objs[0]["error"].(string); !strings.HasPrefix(e, "line is longer than 1048576 bytes;") {
		t.Errorf("error %q", e)
	}
	if field(objs[1], "ProviderName") != "T-Mobile" {
		t.Errorf("line after the long one: %v", objs[1])
	}
	if _, ok := objs[2]["error"]; !ok {
		t.Errorf("last line: %v", objs[2])
	}

	// A line exactly at the limit is accepted (and is then bad hex).
	atLimit := strings.Repeat("0", maxLineLen)
	out, _, _ = gombim(t, atLimit+"\r\n", "decode", "--json")
	if want := `{"line":1,"error":"message type at offset 0: unknown message type 0x00000000`; !strings.HasPrefix(out, want) {
		t.Errorf("line at the limit: %.200s", out)
	}
}

func TestLineReaderBoundsMemory(t *testing.T) {
	const huge = 16 << 20
	r := strings.NewReader(strings.Repeat("a", huge) + "\nshort\n")
	lr := lineReader{r: bufio.NewReaderSize(r, 4096), max: 1000}
	line, tooLong, err := lr.next()
	if err != nil || !tooLong || line != nil {
		t.Fatalf("long line: %q %v %v", line, tooLong, err)
	}
	if cap(lr.buf) > 8192 {
		t.Errorf("buffered %d bytes for a line over the limit of 1000", cap(lr.buf))
	}
	line, tooLong, err = lr.next()
	if err != nil || tooLong || string(line) != "short" {
		t.Fatalf("next line: %q %v %v", line, tooLong, err)
	}
	if _, _, err := lr.next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"decode", "--bogus"}, exitUsage, "gombim decode: flag provided but not defined: -bogus\nRun 'gombim help decode' for usage.\n"},
		{[]string{"decode", "--mbimex", "x"}, exitUsage, `invalid MBIMEx version "x": want 1.0, 2.0, 3.0 or 4.0`},
		{[]string{"decode", "--mbimex", "0.5"}, exitUsage, "the lowest is 1.0"},
		{[]string{"decode", "--mbimex"}, exitUsage, "flag needs an argument"},
		{[]string{"decode", "a", "b"}, exitUsage, "too many arguments (2); give one FILE, or - or nothing for standard input"},
		{[]string{"decode", filepath.Join(t.TempDir(), "missing.hex")}, exitDevice, "no such file or directory; check the path, or pass - to read standard input"},
	}
	for _, tt := range tests {
		out, errOut, code := gombim(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.err) || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stderr containing %q", tt.args, code, out, errOut, tt.code, tt.err)
		}
	}
}

func TestDecodeFlagsAfterFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "in.hex")
	if err := os.WriteFile(f, []byte(hexOf(registerStateDone(t, 1))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := gombim(t, "", "decode", f, "--json")
	if code != exitOK || !strings.HasPrefix(out, `{"line":1,`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// After "--" everything is a file name.
	_, errOut, code = gombim(t, "", "decode", "--", "--json")
	if code != exitDevice || !strings.Contains(errOut, "open --json") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestDecodeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"decode"}, strings.NewReader("00\n"), &out, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestDecodeWriteError(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"decode"}, strings.NewReader(hexOf(registerStateDone(t, 1))), failWriter{}, &errb)
	if code != exitDevice || !strings.Contains(errb.String(), "writing the output: broken pipe") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

// TestEndToEnd builds the command and runs it as a process.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gombim")
	build := exec.Command(goTool, "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", bin, "./cmd/gombim")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	good := filepath.Join(dir, "good.hex")
	bad := filepath.Join(dir, "bad.hex")
	valid := "register_state\t" + hexOf(registerStateDone(t, 7)) + "\n"
	if err := os.WriteFile(good, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(valid+"not hex\n"+valid), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{[]string{"decode", "--json", good}, 0, `"name":"register_state","type":"command-done"`, ""},
		{[]string{"decode", "--json", bad}, 1, `{"line":2,"error":"invalid character 'n' at column 1;`, ""},
		{[]string{"decode", "--json", "--bogus", good}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"decode", filepath.Join(dir, "missing")}, 3, "", "no such file or directory"},
		{[]string{"--version"}, 0, "gombim v0.0.0-test\n", ""},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, tt.args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("gombim %q: exit %d, stdout %q, stderr %q; want exit %d", tt.args, code, out.String(), errb.String(), tt.code)
		}
		if tt.code == 0 && tt.args[0] == "decode" {
			jsonLines(t, out.String())
		}
	}

	// Standard input.
	cmd := exec.Command(bin, "decode", "-")
	cmd.Stdin = strings.NewReader(valid)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `ProviderName:         "T-Mobile"`) {
		t.Errorf("stdin: %v\n%s", err, out)
	}
}

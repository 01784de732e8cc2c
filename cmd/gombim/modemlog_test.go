package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/sim"
)

// logDir reads a log directory back: the data files concatenated in
// index order (checked against the index), and the index.
func logDir(t *testing.T, dir string) ([]byte, *modemlog.Index) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, modemlog.IndexName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := modemlog.ReadIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, fs := range ix.Files() {
		b, err := os.ReadFile(filepath.Join(dir, fs.Name))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); !fs.Closed || fs.Size != int64(len(b)) || fs.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: the index says %+v, the file has %d bytes", fs.Name, fs, len(b))
		}
		all = append(all, b...)
	}
	var indexed int64
	for _, s := range ix.Segments() {
		if s.Truncated {
			t.Fatalf("truncated segment %+v", s)
		}
		indexed += s.Size
	}
	if indexed != int64(len(all)) {
		t.Fatalf("the index covers %d bytes, the files hold %d", indexed, len(all))
	}
	return all, ix
}

// simStream is the first n bytes the simulated modem logs on DSS session
// id with the default scenario.
func simStream(t *testing.T, n int, id uint64) []byte {
	sc := sim.DefaultScenario()
	c, err := sim.NewLogContent(sc.Logging.Content, sc.Logging.Seed+id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	c.Read(b)
	return b
}

func hasEvent(ix *modemlog.Index, substr string) bool {
	for _, r := range ix.Records {
		if r.Type == modemlog.RecEvent && strings.Contains(r.Reason, substr) {
			return true
		}
	}
	return false
}

// gombim -d sim modem-log works out of the box, and what it writes is
// the simulated modem's log stream, whole.
func TestModemLogSim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	out, errOut, code := gombim(t, "", "-d", "sim", "modem-log", "--out", dir, "--duration", "1500ms", "--level", "lab-low", "--segment-kib", "16")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"data source: raw NTB stream from unix socket @gombim-sim-",
		"--source auto with -d sim: the simulated modem serves its log data as raw NTBs",
		"the modem advertises ModemFileTransfer: DSS payload 0x2 (device to host), at most 1 instance; at most 1 DSS session",
		"asked for segments of at most 16 KiB, flushed within 1000 ms, level lab-low (version 1); the modem took it as asked",
		"DSS session 0 activated on ModemFileTransfer",
		"1.5s passed: deactivating the DSS session",
		"DSS session 0 deactivated",
		" segments (0 truncated), 1 file, ",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "DSS session 0 deactivated; index "+filepath.Join(dir, "index.jsonl")) {
		t.Errorf("summary: %q", out)
	}
	data, ix := logDir(t, dir)
	if len(data) < 500_000 || !bytes.Equal(data, simStream(t, len(data), 0)) {
		t.Fatalf("%d bytes on disk: not the modem's log stream", len(data))
	}
	for _, s := range ix.Segments() {
		if s.Size > 16<<10 || s.Session != 0 {
			t.Fatalf("segment %+v", s)
		}
	}
	var source string
	for _, r := range ix.Records {
		if r.Type == modemlog.RecSource {
			source = r.Source
		}
	}
	if !hasEvent(ix, "DSS session 0 deactivated") || !hasEvent(ix, "the modem took it as asked") ||
		!strings.HasPrefix(source, "modem log stream (DSS session 0 on ModemFileTransfer) from raw NTB stream from unix socket @gombim-sim-") {
		t.Fatalf("index records %+v", ix.Records[:4])
	}
}

func TestModemLogJSON(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := gombim(t, "", "--json", "-d", "sim", "modem-log", "--out", dir, "--duration", "1200ms")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	kinds := map[string]int{}
	var summary map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		typ, _ := v["type"].(string)
		kind, _ := v["kind"].(string)
		kinds[typ+"/"+kind]++
		if typ == "summary" {
			summary = v
		}
		if kind == "config" {
			if c := v["config"].(map[string]any); c["max_segment_kib"] != 64.0 || c["level"] != "prod" {
				t.Errorf("config %v", c)
			}
		}
	}
	if kinds["event/activated"] != 1 || kinds["event/deactivated"] != 1 || kinds["progress/"] == 0 || summary == nil {
		t.Fatalf("lines %v\n%s", kinds, out)
	}
	data, _ := logDir(t, dir)
	if summary["bytes"] != float64(len(data)) || summary["deactivated"] != true {
		t.Fatalf("summary %v, %d bytes on disk", summary, len(data))
	}
}

// SIGINT (the command's context) stops it the same way, exit 0.
func TestModemLogInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-d", "sim", "modem-log", "--out", dir, "--quiet"}, nil, &out, &errOut)
	}()
	time.Sleep(1200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitOK || !strings.Contains(errOut.String(), "interrupted: deactivating the DSS session") {
			t.Fatalf("exit %d\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("modem-log did not stop when interrupted")
	}
	if strings.Contains(errOut.String(), "Mbit/s") {
		t.Errorf("--quiet printed progress:\n%s", errOut.String())
	}
	data, _ := logDir(t, dir)
	if len(data) == 0 || !bytes.Equal(data, simStream(t, len(data), 0)) {
		t.Fatalf("%d bytes on disk: not the modem's log stream", len(data))
	}
}

func TestModemLogNotSupported(t *testing.T) {
	for _, c := range []struct{ scenario, want string }{
		{`{"device_services": {"dss": []}}`, "DEVICE_SERVICES lists no ModemFileTransfer service (0ebb1ceb-af2d-484d-8df3-53bc51fd162c)"},
		{`{"device_services": {"max_dss_sessions": 0, "dss": [{"uuid": "0ebb1ceb-af2d-484d-8df3-53bc51fd162c", "payload": 2, "max_instances": 1}]}}`, "MaxDssSessions 0"},
		{`{"modem_logging": {"ntb_socket": "off"}}`, "the simulated modem has no log data socket"},
	} {
		_, errOut, code := gombim(t, "", "-d", scenario(t, c.scenario), "modem-log", "--out", t.TempDir())
		if code == exitOK || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d\n%s", c.scenario, code, errOut)
		}
	}
}

func TestModemLogUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"modem-log"}, "give the log directory with --out DIR"},
		{[]string{"modem-log", "--out", "x", "--level", "loud"}, `level "loud": want one of prod, lab-verbose, lab-medium, lab-low, oem`},
		{[]string{"modem-log", "--out", "x", "--source", "usb"}, `--source "usb": want auto, netdev:IFACE or ntb:PATH`},
		{[]string{"modem-log", "--out", "x", "--netdev-mode", "magic"}, "want auto, vlan or parent"},
		{[]string{"modem-log", "--out", "x", "--dss-session", "300"}, "DSS session ids that carry data are 0-255"},
		{[]string{"modem-log", "--out", "x", "--duration", "-1s"}, "must be positive"},
		{[]string{"modem-log", "--out", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"pco", "--count", "2"}, "--count goes with --watch"},
	} {
		_, errOut, code := gombim(t, "", append([]string{"-d", "sim"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, errOut)
		}
	}
	// Without a modem, auto cannot find a network interface.
	fakeDiscovery(t)
	_, errOut, code := gombim(t, "", "-d", "sim", "modem-log", "--out", t.TempDir(), "--source", "netdev:nonexistent0", "--duration", "1s")
	if code != exitDevice || !strings.Contains(errOut, `network interface "nonexistent0" not found`) {
		t.Errorf("netdev: exit %d\n%s", code, errOut)
	}
}

func TestPCOCommand(t *testing.T) {
	// Not connected: explained.
	_, errOut, code := gombim(t, "", "-d", "sim", "pco")
	if code != exitFailed || !strings.Contains(errOut, "session 0 is not connected (the modem answered context-not-activated)") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	// The generic form still works.
	_, errOut, code = gombim(t, "", "-d", "sim", "pco", "query", "SessionId=0")
	if code != exitFailed || !strings.Contains(errOut, "ms-basic-connect-extensions pco query: the modem answered context-not-activated") {
		t.Fatalf("generic: exit %d, %q", code, errOut)
	}

	// A connected Verizon modem on a socket.
	sc := sim.DefaultScenario()
	sc.Network.Home.PLMN = "311480"
	sc.PCO.PLMN, sc.PCO.Value = "", []byte{5}
	m, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "modem.sock")
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := m.StartUnix(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); wait() }()
	dev := "unix:" + path
	if _, errOut, code := gombim(t, "", "-d", dev, "connect", "--apn", "internet"); code != exitOK {
		t.Fatalf("connect: %d %s", code, errOut)
	}
	out, errOut, code := gombim(t, "", "-d", dev, "pco")
	if code != exitOK || !strings.Contains(out, "PCO of session 0 (complete, 10 bytes): 27 08 80 ff 00 04 13 01 84 05\n") ||
		!strings.Contains(out, "  0xff00 operator-specific: mcc 311 mnc 480 value 05 (not provisioned: activation required)\n") ||
		!strings.Contains(out, "Verizon subscription state 5: not provisioned: activation required\n") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = gombim(t, "", "-d", dev, "pco", "--json")
	var r struct {
		Session uint32
		Type    string
		Raw     string
		PCO     struct {
			Entries []struct {
				ID    string
				Name  string
				Value struct{ MCC, MNC, Value, Meaning string }
			}
		}
		Verizon *struct {
			State   int
			Meaning string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if r.Type != "complete" || r.Raw != "270880ff000413018405" || len(r.PCO.Entries) != 1 || r.PCO.Entries[0].Name != "operator-specific" ||
		r.PCO.Entries[0].Value.MNC != "480" || r.Verizon == nil || r.Verizon.State != 5 {
		t.Fatalf("%+v", r)
	}

	// --watch: the timeline's changes, one of them malformed.
	var wout, werr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(context.Background(), []string{"-d", dev, "pco", "--watch", "--count", "2"}, nil, &wout, &werr)
	}()
	time.Sleep(500 * time.Millisecond)
	m.Inject(sim.Event{Type: "pco", Data: []byte(`{"value": "03"}`)})
	m.Inject(sim.Event{Type: "pco", Data: []byte(`{"raw": "27 06 80 ff 00 09 13 01", "partial": true}`)})
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("watch: exit %d\n%s", code, werr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("watch did not end after 2 indications:\n%s%s", wout.String(), werr.String())
	}
	for _, want := range []string{
		"value 03 (out of data: allowance used up, data blocked)",
		"PCO of session 0 (partial, 8 bytes): 27 06 80 ff 00 09 13 01",
		"malformed PCO: pco: container 1 (id 0xff00) at offset 3: length 9 beyond end of buffer (2 bytes left)",
	} {
		if !strings.Contains(wout.String(), want) {
			t.Errorf("watch output lacks %q:\n%s", want, wout.String())
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gombim/gombim/proxy"
	"github.com/gombim/gombim/transport"
)

// End to end: the gombim binary, a simulated modem on a pty served by
// another gombim process ("gombim sim --pty"), and the proxies (gombim's
// own and libmbim's mbim-proxy) as processes of their own.

// buildGombim builds the command (static, as released) into dir.
func buildGombim(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "gombim")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess starts a long-running process, stopped with SIGTERM at the
// end of the test.
func startProcess(tb testing.TB, name string, args ...string) *bytes.Buffer {
	tb.Helper()
	var out syncBuffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			tb.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return &out.b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitUntil polls f for up to 10 s.
func waitUntil(tb testing.TB, what string, f func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	tb.Fatalf("timed out waiting for %s", what)
}

// startSimPTY runs "gombim sim --pty LINK" with the default scenario less
// the SMS service, and waits for LINK.
func startSimPTY(tb testing.TB, bin string) string {
	tb.Helper()
	dir := tb.TempDir()
	link, sc := filepath.Join(dir, "modem"), filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(sc, []byte(noSMSScenario), 0o644); err != nil {
		tb.Fatal(err)
	}
	startProcess(tb, bin, "sim", "--pty", link, "--scenario", sc)
	waitUntil(tb, "the simulator's pty", func() bool { _, err := os.Stat(link); return err == nil })
	return link
}

// exe runs the binary and returns its output and exit code.
func exe(tb testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		tb.Fatalf("%s %q: %v", bin, args, err)
	}
	return out.String(), errb.String(), code
}

// e2eCase is one command run against a device and what it must print.
type e2eCase struct {
	args []string
	code int
	out  []string
	err  []string
}

var e2eCases = []e2eCase{
	{[]string{"status"}, exitOK, []string{"Device ID:       356938035643809", `Registration:    home on "Test Network" (00101)`, "MBIMEx:          4.0"}, nil},
	{[]string{"basic-connect", "device-caps", "query"}, exitOK, []string{`FirmwareInfo:    "SIM.01.02.03"`}, nil},
	{[]string{"--json", "register-state", "query"}, exitOK, []string{`"cid":"register-state","status":"none","mbimex":"2.0","fields":{"NwError":"none","RegisterState":"home"`}, nil},
	{[]string{"connect", "--apn", "internet"}, exitOK, []string{"IPv4 address:  10.64.0.2/30", "IPv6 address:  2001:db8:64::2/64"}, nil},
	{[]string{"status"}, exitOK, []string{`Connections:     session 0: activated, ipv4v6, internet, APN "internet"; 10.64.0.2/30, 2001:db8:64::2/64`}, nil},
	{[]string{"disconnect"}, exitOK, []string{"session 0 (deactivated)"}, nil},
	{[]string{"ms-basic-connect-extensions", "modem-logging-config", "set", "LevelConfig=lab-verbose", "MaxSegmentSize=64"}, exitOK, []string{"LevelConfig:    lab-verbose"}, nil},
	{[]string{"-v", "radio-state", "query"}, exitOK, []string{"SwRadioState: on"}, []string{">>> send", "<<< recv"}},
	{[]string{"sms", "configuration", "query"}, exitFailed, nil, []string{"the modem answered no-device-support"}},
	{[]string{"radio-state", "set", "RadioState=sideways"}, exitUsage, nil, []string{`unknown RadioSwitchState "sideways"`}},
}

func runE2E(t *testing.T, bin string, dev []string, cases []e2eCase) {
	t.Helper()
	for _, tt := range cases {
		args := append(append([]string(nil), dev...), tt.args...)
		out, errOut, code := exe(t, bin, args...)
		if code != tt.code {
			t.Errorf("gombim %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, tt.code, out, errOut)
			continue
		}
		for _, w := range tt.out {
			if !strings.Contains(out, w) {
				t.Errorf("gombim %q: stdout lacks %q:\n%s", args, w, out)
			}
		}
		for _, w := range tt.err {
			if !strings.Contains(errOut, w) {
				t.Errorf("gombim %q: stderr lacks %q:\n%s", args, w, errOut)
			}
		}
	}
}

func TestE2EPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGombim(t, t.TempDir())
	link := startSimPTY(t, bin)
	runE2E(t, bin, []string{"-d", link}, e2eCases)

	// bash completion, as a shell runs it, with the binary in PATH.
	script := `source <(gombim completion bash)
COMP_LINE="gombim -d sim basic-connect radio-state set RadioState=o"
COMP_POINT=${#COMP_LINE}
_gombim
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "off\non\n" {
		t.Errorf("bash completion: %v, %q", err, out)
	}

	// The device missing: exit 3.
	_, errOut, code := exe(t, bin, "-d", link+"-gone", "status")
	if code != exitDevice || !strings.Contains(errOut, "gombim devices") {
		t.Errorf("missing device: exit %d, %q", code, errOut)
	}
}

// inNetns re-runs the test alone in a network namespace of its own
// (abstract sockets such as @mbim-proxy belong to one), so that no other
// test and no proxy running on the machine is in the way. It returns true
// in the child, which runs the test body.
func inNetns(t *testing.T) bool {
	t.Helper()
	const env = "GOMBIM_CLI_TEST_NETNS"
	if os.Getenv(env) == t.Name() {
		return true
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(err.Error(), "operation not permitted") {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot create a network namespace (need root): %v", err)
		}
		t.Skipf("cannot create a network namespace (need root): %v", err)
	}
	t.Logf("in a network namespace of its own:\n%s", out)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("skipped in the namespace")
	}
	return false
}

func waitForProxy(t *testing.T) {
	waitUntil(t, "the proxy's socket", func() bool {
		c, err := transport.DialUnix(proxy.DefaultSocket, true)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// proxyCases run through a proxy: the same as directly, and a monitor
// that sees what another client does.
func testThroughProxy(t *testing.T, bin, link string) {
	runE2E(t, bin, []string{"--proxy", "-d", link}, e2eCases)

	// Two clients at once: a monitor sees the radio-state indication
	// caused by another gombim.
	mon := exec.Command(bin, "--proxy", "-d", link, "--json", "basic-connect", "radio-state", "watch")
	var monOut, monErr syncBuffer
	mon.Stdout, mon.Stderr = &monOut, &monErr
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	defer mon.Process.Kill()
	var out, errOut string
	var code int
	waitUntil(t, "an indication seen by the watching client", func() bool {
		out, errOut, code = exe(t, bin, "--proxy", "-d", link, "radio-state", "set", "RadioState=off")
		if code != exitOK {
			return true
		}
		exe(t, bin, "--proxy", "-d", link, "radio-state", "set", "RadioState=on")
		return strings.Contains(monOut.String(), `"SwRadioState":"off"`)
	})
	if code != exitOK {
		t.Fatalf("radio-state set: exit %d: %s %s", code, out, errOut)
	}
	mon.Process.Signal(syscall.SIGINT)
	if err := mon.Wait(); err != nil {
		t.Errorf("watch through the proxy after SIGINT: %v\n%s", err, monErr.String())
	}
	var v map[string]any
	line, _, _ := strings.Cut(monOut.String(), "\n")
	if err := json.Unmarshal([]byte(line), &v); err != nil || v["cid"] != "radio-state" {
		t.Errorf("watch output %q: %v", line, err)
	}
}

func TestE2EGombimProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if !inNetns(t) {
		return
	}
	bin := buildGombim(t, t.TempDir())
	link := startSimPTY(t, bin)

	// No proxy running: exit 3 and how to start one.
	_, errOut, code := exe(t, bin, "--proxy", "-d", link, "status")
	if code != exitDevice || !strings.Contains(errOut, "start a proxy first: 'gombim proxy &'") {
		t.Errorf("without a proxy: exit %d, %q", code, errOut)
	}

	startProcess(t, bin, "proxy", "--empty-timeout", "0")
	waitForProxy(t)
	testThroughProxy(t, bin, link)

	// A device the proxy cannot open: exit 3.
	_, errOut, code = exe(t, bin, "--proxy", "-d", link+"-gone", "status")
	if code != exitDevice || !strings.Contains(errOut, "the proxy could not open") {
		t.Errorf("missing device through the proxy: exit %d, %q", code, errOut)
	}
}

func TestE2ELibmbimProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const mbimProxy = "/usr/libexec/mbim-proxy"
	if _, err := os.Stat(mbimProxy); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (apt-get install libmbim-proxy): %v", mbimProxy, err)
		}
		t.Skipf("%s not installed: %v", mbimProxy, err)
	}
	if !inNetns(t) {
		return
	}
	bin := buildGombim(t, t.TempDir())
	link := startSimPTY(t, bin)
	startProcess(t, mbimProxy, "--no-exit")
	waitForProxy(t)
	testThroughProxy(t, bin, link)
}

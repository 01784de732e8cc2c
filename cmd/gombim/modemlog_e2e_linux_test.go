package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/internal/netnstest"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/sim"
)

// End to end with the gombim binary: "gombim modem-log" in a process of
// its own against a simulated modem served by the test (so that the test
// sees what the modem sent), over the modem's NTB socket and over a veth
// pair in a network namespace, across rotations, a device reset, a
// suspend, and SIGTERM or SIGINT. The files on disk must hold exactly the
// bytes the modem sent (length and SHA-256), and the DSS session must be
// closed on the modem afterwards.

// logSim serves a simulated modem on a Unix socket for the test.
func logSim(t *testing.T, sc *sim.Scenario) (*sim.Modem, string) {
	t.Helper()
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
	t.Cleanup(func() {
		m.CloseLogData()
		cancel()
		wait()
	})
	return m, path
}

// modemLogProcess is a running "gombim modem-log".
type modemLogProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    syncBuffer
	errOut syncBuffer
	done   chan struct{}
}

func startModemLog(t *testing.T, name string, args ...string) *modemLogProcess {
	t.Helper()
	p := &modemLogProcess{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("gombim modem-log stderr:\n%s", p.errOut.String())
		}
	})
	return p
}

// waitFor waits up to 20 s for f.
func (p *modemLogProcess) waitFor(what string, f func() bool) {
	p.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !f(); time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.done:
			p.t.Fatalf("gombim modem-log exited while waiting for %s:\n%s", what, p.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (p *modemLogProcess) stderrHas(s string) func() bool {
	return func() bool { return strings.Contains(p.errOut.String(), s) }
}

// stop sends sig and waits for exit status 0.
func (p *modemLogProcess) stop(sig syscall.Signal) {
	p.t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("gombim modem-log did not exit after %v", sig)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != exitOK {
		p.t.Fatalf("gombim modem-log exited %d after %v:\n%s", code, sig, p.errOut.String())
	}
}

// sentBytes is how much the modem has sent on the output so far.
func sentBytes(m *sim.Modem, output string) int64 {
	ls := m.LogStreams()
	if len(ls) == 0 {
		return 0
	}
	o, _ := ls[len(ls)-1].Output(output)
	return o.Bytes
}

// compareWithModem checks that dir holds exactly what the modem sent on
// output in its one logging session, and that the session is closed.
func compareWithModem(t *testing.T, m *sim.Modem, output, dir string) *modemlog.Index {
	t.Helper()
	var ls []sim.LogStream
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ls = m.LogStreams()
		if len(ls) == 1 && !ls[0].Closed.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the modem's logging session did not end: %+v (DSS sessions %v)", ls, m.DSSSessions())
		}
	}
	if s := m.DSSSessions(); len(s) != 0 {
		t.Fatalf("DSS sessions still open on the modem: %v", s)
	}
	sent, ok := ls[0].Output(output)
	if !ok {
		t.Fatalf("no output %q: %+v", output, ls[0].Outputs)
	}
	data, ix := logDir(t, dir)
	sum := sha256.Sum256(data)
	if int64(len(data)) != sent.Bytes || hex.EncodeToString(sum[:]) != sent.SHA256 || int64(len(ix.Segments())) != sent.Segments {
		t.Fatalf("on disk: %d bytes in %d segments, sha256 %x\nthe modem sent: %+v", len(data), len(ix.Segments()), sum, sent)
	}
	if !hasEvent(ix, "deactivated") {
		t.Fatal("the index records no deactivation")
	}
	t.Logf("%d bytes in %d segments over %d files, sha256 %x: what the modem sent (it generated %d bytes)",
		len(data), sent.Segments, len(ix.Files()), sum, ls[0].Generated.Bytes)
	return ix
}

// Over the simulated modem's NTB socket, with a reset and a suspend on
// the way, stopped by SIGTERM.
func TestModemLogBinaryNTBSocket(t *testing.T) {
	bin := buildGombim(t, t.TempDir())
	sc := sim.DefaultScenario()
	sc.Logging.Rate = 4 << 20
	sc.Logging.Content = sim.LogRandom
	m, path := logSim(t, sc)
	addr, err := m.LogSocket()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := startModemLog(t, bin, "-d", "unix:"+path, "modem-log", "--out", dir, "--source", "ntb:"+addr,
		"--max-file-mib", "1", "--segment-kib", "32", "--level", "lab-verbose")
	p.waitFor("DSS session activated", p.stderrHas("DSS session 0 activated"))
	if !strings.Contains(p.errOut.String(), "data source: raw NTB stream from unix socket "+addr) ||
		!strings.Contains(p.errOut.String(), "the raw NTB stream "+addr+" (--source)") {
		t.Fatalf("the data source is not said:\n%s", p.errOut.String())
	}
	p.waitFor("2 MiB", func() bool { return sentBytes(m, "unix") > 2<<20 })

	// A device reset: the control session goes away, the DSS session and
	// the data stay; gombim opens the control session again.
	m.Inject(sim.Event{Type: "reset"})
	p.waitFor("the reconnection", p.stderrHas("DSS session 0 is still open on the modem"))
	if c := m.LoggingConfig(); c.MaxSegmentSize != 32 {
		t.Fatalf("the configuration was not set again after the reset: %+v", c)
	}
	at := sentBytes(m, "unix")
	p.waitFor("2 MiB more", func() bool { return sentBytes(m, "unix") > at+2<<20 })

	// A suspend: the modem forgets the MBIM session; deactivating finds
	// out and opens it again.
	m.Inject(sim.Event{Type: "suspend"})
	at = sentBytes(m, "unix")
	p.waitFor("1 MiB more", func() bool { return sentBytes(m, "unix") > at+1<<20 })

	p.stop(syscall.SIGTERM)
	if !strings.Contains(p.errOut.String(), "not-opened") || !strings.Contains(p.out.String(), "DSS session 0 deactivated") {
		t.Fatalf("stderr:\n%s\nstdout:\n%s", p.errOut.String(), p.out.String())
	}
	ix := compareWithModem(t, m, "unix", dir)
	if len(ix.Files()) < 4 {
		t.Errorf("%d files: no rotation", len(ix.Files()))
	}
	for _, s := range ix.Segments() {
		if s.Size > 64<<10 {
			t.Fatalf("segment %+v larger than the modem's segment size", s)
		}
	}
}

// Over a veth pair in a network namespace, as cdc_mbim presents DSS data
// (VLAN 256+session), with a reset, stopped by SIGINT.
func TestModemLogBinaryVeth(t *testing.T) {
	bin := buildGombim(t, t.TempDir())
	for _, mode := range []string{"vlan", "parent", "auto"} {
		t.Run(mode, func(t *testing.T) {
			ns := netnstest.New(t)
			ns.Veth("mdm0", "wwan0", 9000)
			if mode == "vlan" {
				if err := ns.VLANSupported("wwan0"); err != nil {
					if os.Getenv("GOMBIM_REQUIRE_VLAN") != "" {
						t.Fatal("GOMBIM_REQUIRE_VLAN is set but the kernel cannot create 802.1Q VLAN links")
					}
					t.Skip("the kernel cannot create 802.1Q VLAN links (no CONFIG_VLAN_8021Q/8021q module); the parent and auto modes cover this kernel")
				}
			}
			sc := sim.DefaultScenario()
			sc.Logging.NTBSocket = "off"
			sc.Logging.Rate = 2 << 20
			m, path := logSim(t, sc)
			var prod *datapath.EthernetProducer
			if err := ns.Do(func() (err error) {
				prod, err = datapath.NewEthernetProducer("mdm0", datapath.EthernetProducerOptions{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			m.AddLogOutput(prod)
			dir := t.TempDir()
			p := startModemLog(t, "ip", "netns", "exec", ns.Name, bin, "-d", "unix:"+path, "modem-log", "--out", dir,
				"--source", "netdev:wwan0", "--netdev-mode", mode, "--max-file-mib", "1", "--dss-session", "3")
			p.waitFor("DSS session activated", p.stderrHas("DSS session 3 activated"))
			for _, want := range []string{"the network interface wwan0 (--source)", "VLAN 259 (DSS session 3)", "the modem chose segment size 8 KiB instead of 64 KiB"} {
				if !strings.Contains(p.errOut.String(), want) {
					t.Fatalf("stderr lacks %q:\n%s", want, p.errOut.String())
				}
			}
			p.waitFor("1.5 MiB", func() bool { return sentBytes(m, "mdm0") > 1536<<10 })
			m.Inject(sim.Event{Type: "reset"})
			p.waitFor("the reconnection", p.stderrHas("still open on the modem"))
			at := sentBytes(m, "mdm0")
			p.waitFor("1.5 MiB more", func() bool { return sentBytes(m, "mdm0") > at+1536<<10 })
			p.stop(syscall.SIGINT)
			ix := compareWithModem(t, m, "mdm0", dir)
			if len(ix.Files()) < 3 {
				t.Errorf("%d files: no rotation", len(ix.Files()))
			}
			if out, _ := ns.IP("link", "show"); strings.Contains(out, "dss") {
				t.Errorf("a VLAN link was left behind:\n%s", out)
			}
		})
	}
}

// "gombim -d sim modem-log --out DIR --duration 5s" works out of the box:
// the files hold the simulated modem's log stream, whole.
func TestModemLogBinarySimDuration(t *testing.T) {
	bin := buildGombim(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "logs")
	start := time.Now()
	cmd := exec.Command(bin, "-d", "sim", "modem-log", "--out", dir, "--duration", "5s")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if d := time.Since(start); d < 5*time.Second || d > 12*time.Second {
		t.Errorf("ran for %v", d)
	}
	data, ix := logDir(t, dir)
	if len(data) < 2<<20 || !bytes.Equal(data, simStream(t, len(data), 0)) {
		t.Fatalf("%d bytes on disk: not the simulated modem's log stream", len(data))
	}
	if !hasEvent(ix, "DSS session 0 deactivated") || strings.Count(errOut.String(), "Mbit/s") < 4 {
		t.Fatalf("stderr:\n%s", errOut.String())
	}
	t.Logf("%s", out.String())
}

// Both sides as gombim processes in a network namespace: "gombim sim"
// with modem_logging.netdev writing on one end of a veth pair, "gombim
// modem-log" reading the other; the files hold the modem's log stream.
func TestModemLogBinaryBothSides(t *testing.T) {
	bin := buildGombim(t, t.TempDir())
	ns := netnstest.New(t)
	ns.Veth("mdm0", "wwan0", 1500)
	dir := t.TempDir()
	sc, path := filepath.Join(dir, "scenario.json"), filepath.Join(dir, "modem.sock")
	if err := os.WriteFile(sc, []byte(`{"modem_logging": {"netdev": "mdm0", "ntb_socket": "off", "rate": 500000}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "ip", "netns", "exec", ns.Name, bin, "sim", "--unix", path, "--scenario", sc)
	waitUntil(t, "the simulator's socket", func() bool { _, err := os.Stat(path); return err == nil })
	logs := filepath.Join(dir, "logs")
	p := startModemLog(t, "ip", "netns", "exec", ns.Name, bin, "-d", "unix:"+path, "modem-log", "--out", logs,
		"--source", "netdev:wwan0", "--duration", "3s")
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("gombim modem-log did not stop after --duration")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, p.errOut.String())
	}
	if !strings.Contains(p.errOut.String(), "the modem chose segment size 1 KiB instead of 64 KiB") {
		t.Errorf("the modem should cap segments to the 1500-byte MTU:\n%s", p.errOut.String())
	}
	data, ix := logDir(t, logs)
	if len(data) < 500_000 || !bytes.Equal(data, simStream(t, len(data), 0)) {
		t.Fatalf("%d bytes on disk: not the modem's log stream", len(data))
	}
	for _, s := range ix.Segments() {
		if s.Size > 1024 {
			t.Fatalf("segment %+v larger than 1 KiB", s)
		}
	}
}

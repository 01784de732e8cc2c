package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/logging"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/session"
	"github.com/gombim/gombim/sim"
	"github.com/gombim/gombim/transport"
)

const modemLogUsage = `Usage: gombim modem-log --out DIR [--level LEVEL] [--segment-kib N]
                        [--flush-ms N] [--max-file-mib N] [--max-files N]
                        [--duration D] [--source SOURCE] [GLOBAL OPTIONS]

Record the modem's own log stream (Microsoft's "MB modem logging with
DSS") to files, until --duration has passed or SIGINT/SIGTERM (Ctrl-C).

gombim checks that the modem advertises logging (DEVICE_SERVICES: the
ModemFileTransfer DSS service, 0ebb1ceb-af2d-484d-8df3-53bc51fd162c, with
device-to-host payload, and DSS sessions) and says why not when it does
not; sets MODEM_LOGGING_CONFIG (the values not given keep the modem's) and
reports what the modem chose, which may differ, and any configuration the
modem indicates later; opens the data source; activates a DSS session on
ModemFileTransfer (DSS CONNECT) and writes every log fragment it receives.
When stopped, it deactivates the DSS session, writes what still arrives,
and exits 0: nothing received is lost.

The files go to DIR: modem-log-<UTC time>-<NNNN>.bin, the fragments' bytes
back to back as the modem sent them (a vendor's log decoder reads them
directly), a new file past --max-file-mib, and index.jsonl, one JSON line
per fragment (file, offset, size) and per event. Later runs add to the
same directory.

If the modem is reset or suspended, the DSS session stays open on it:
gombim opens the control session again (retrying until the modem is
back), sets the configuration again, and keeps writing.

Options:
  --out DIR            directory for the log files and index.jsonl
  --level LEVEL        prod, lab-verbose, lab-medium, lab-low or oem
  --segment-kib N      the largest log fragment the modem sends, KiB
  --flush-ms N         the longest the modem holds log data, milliseconds
  --max-file-mib N     start a new file past N MiB (default 64)
  --max-files N        keep at most N files, deleting the oldest (default:
                       keep all)
  --duration D         stop after D, e.g. 30s or 10m (default: until
                       interrupted)
  --source SOURCE      where the log data arrives (default auto):
                         auto          the modem's network interface, found
                                       in sysfs; with -d sim, the simulated
                                       modem's NTB socket
                         netdev:IFACE  a cdc_mbim network interface, on which
                                       DSS session N is VLAN 256+N
                         ntb:PATH      a raw NTB byte stream: a Unix socket
                                       (@NAME: abstract), a FIFO or a file
  --netdev-mode MODE   auto (a VLAN link for the session when one exists or
                       can be created, else the interface itself), vlan, or
                       parent (the interface itself, by VLAN tag)
  --dss-session N      the DSS session id (default: the first of 0-7 that
                       the modem does not refuse as in use)
  --quiet              no progress lines

It prints the steps and, every second, the bytes, fragments and rate on
standard error, and a summary on standard output. With --json, the events,
the progress and the summary are JSON objects, one per line, on standard
output.

` + globalOptionsHelp + `
Exit status:
  0  stopped by --duration, SIGINT or SIGTERM; everything received was
     written and the DSS session deactivated
  1  the modem does not advertise modem logging, or refused the
     configuration or the DSS session
  2  usage error
  3  device, data source or disk error
  4  timeout

Examples:
  gombim -d sim modem-log --out /tmp/modem-logs --duration 5s
  gombim modem-log --out logs --level lab-verbose --flush-ms 500
  gombim -d /dev/cdc-wdm0 modem-log --out logs --source netdev:wwan0
`

func init() {
	register(&Command{
		Name:    "modem-log",
		Summary: "record the modem's log stream (modem logging over DSS) to files",
		Usage:   modemLogUsage,
		Run:     runModemLog,
	})
}

type modemLogOptions struct {
	out        string
	level      string
	segment    int
	flushMS    int
	maxFileMiB int
	maxFiles   int
	duration   time.Duration
	source     string
	netdevMode string
	dss        int
	quiet      bool
}

func runModemLog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("modem-log")
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	var o modemLogOptions
	var durationSet bool
	fs.StringVar(&o.out, "out", "", "")
	fs.StringVar(&o.level, "level", "", "")
	fs.IntVar(&o.segment, "segment-kib", 0, "")
	fs.IntVar(&o.flushMS, "flush-ms", 0, "")
	fs.IntVar(&o.maxFileMiB, "max-file-mib", 64, "")
	fs.IntVar(&o.maxFiles, "max-files", 0, "")
	fs.Var(durationFlag{&o.duration, &durationSet}, "duration", "")
	fs.StringVar(&o.source, "source", "auto", "")
	fs.StringVar(&o.netdevMode, "netdev-mode", "auto", "")
	fs.IntVar(&o.dss, "dss-session", logging.AutoSession, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q", pos[0])
	}
	cfg, mode, code := o.check(c, fs, stderr)
	if code != exitOK {
		return code
	}
	out := &logPrinter{c: c, stdout: stdout, stderr: stderr, json: g.json, quiet: o.quiet}

	// The built-in simulated modem is served on a socket of its own, so
	// that the control session can be opened again after a simulated reset
	// and the modem's log data socket can be found.
	var simModem *sim.Modem
	gd := g
	if g.device == "sim" || strings.HasPrefix(g.device, "sim:") {
		if g.proxy {
			return usageError(c, stderr, "the built-in simulated modem (-d %s) lives inside this command and cannot be reached through a proxy", g.device)
		}
		m, addr, stop, code := startModemLogSim(ctx, c, &g, stderr)
		if m == nil {
			return code
		}
		defer stop()
		simModem = m
		gd.device = addr
	}

	dev, code := gd.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	devs := []*device{dev}
	defer func() {
		for _, d := range devs {
			d.close()
		}
	}()
	name := g.device
	if name == "" {
		name = dev.path
	}

	openSource, _, err := chooseLogSource(o.source, mode, name, dev.path, simModem)
	if err != nil {
		fmt.Fprintf(stderr, "gombim modem-log: %v\n", err)
		return exitUsage
	}

	w, err := modemlog.Create(modemlog.Options{Dir: o.out, MaxFileBytes: int64(o.maxFileMiB) << 20, MaxFiles: o.maxFiles,
		Progress: out.progress})
	if err != nil {
		fmt.Fprintf(stderr, "gombim modem-log: %v\n", err)
		return exitDevice
	}
	out.w = w
	closeWriter := sync.OnceValue(w.Close)
	defer closeWriter()

	var devMu sync.Mutex
	opts := logging.Options{
		Config:     cfg,
		DSSSession: o.dss,
		Source: func(ctx context.Context, id uint8) (datapath.Source, error) {
			return openSource(ctx, id)
		},
		Reopen: func(ctx context.Context) (*session.Session, error) {
			var msg bytes.Buffer
			d, _ := gd.open(ctx, c, &msg)
			if d == nil {
				return nil, errors.New(strings.TrimPrefix(strings.TrimSpace(msg.String()), "gombim modem-log: "))
			}
			devMu.Lock()
			devs = append(devs, d)
			devMu.Unlock()
			return d.s, nil
		},
		Events: out.event,
	}
	out.info("modem logging on " + name)
	st, err := logging.Start(ctx, dev.s, opts)
	if err != nil {
		return out.startError(err, &g)
	}
	out.info(fmt.Sprintf("writing the log to %s (files of up to %d MiB%s); %s", o.out, o.maxFileMiB, maxFilesText(o.maxFiles), stopText(o.duration)))

	captured := make(chan error, 1)
	out.capturing.Store(true)
	go func() { captured <- w.Capture(context.Background(), st) }()

	var timer <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		timer = t.C
	}
	var captureErr error
	stopped := false
	select {
	case <-ctx.Done():
		out.info("interrupted: deactivating the DSS session, then writing what still arrives")
	case <-timer:
		out.info(fmt.Sprintf("%v passed: deactivating the DSS session, then writing what still arrives", o.duration))
	case captureErr = <-captured:
		stopped = true
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 3*g.timeout)
	stopErr := st.Stop(stopCtx)
	cancel()
	if !stopped {
		select {
		case captureErr = <-captured:
		case <-time.After(logging.DefaultDrainMax + 5*time.Second):
			st.Close() // unblocks the capture
			captureErr = <-captured
		}
	}
	closeErr := st.Close()
	wErr := closeWriter()
	stats := w.Stats()
	out.summary(stats, o.out, st, stopErr)

	switch {
	case captureErr != nil:
		fmt.Fprintf(stderr, "gombim modem-log: writing the log: %v\n", captureErr)
		return exitDevice
	case wErr != nil:
		fmt.Fprintf(stderr, "gombim modem-log: finishing the log files: %v\n", wErr)
		return exitDevice
	case stopErr != nil:
		fmt.Fprintf(stderr, "gombim modem-log: %s; everything received was written to %s\n", errText(stopErr), o.out)
		return exitCodeFor(stopErr)
	case closeErr != nil:
		fmt.Fprintf(stderr, "gombim modem-log: closing the data source: %v\n", closeErr)
	}
	return exitOK
}

// check validates the options and turns them into a configuration.
func (o *modemLogOptions) check(c *Command, fs *flag.FlagSet, stderr io.Writer) (logging.Config, datapath.NetdevMode, int) {
	var cfg logging.Config
	if o.out == "" {
		return cfg, 0, usageError(c, stderr, "give the log directory with --out DIR")
	}
	if o.level != "" {
		l, err := logging.ParseLevel(o.level)
		if err != nil {
			return cfg, 0, usageError(c, stderr, "--%v", err)
		}
		cfg.Level = &l
	}
	if o.segment < 0 || o.segment > 1<<22 {
		return cfg, 0, usageError(c, stderr, "--segment-kib %d: give a size in KiB, e.g. 64", o.segment)
	}
	cfg.MaxSegmentKiB = uint32(o.segment)
	if o.flushMS < 0 {
		return cfg, 0, usageError(c, stderr, "--flush-ms %d: give milliseconds, e.g. 1000", o.flushMS)
	}
	cfg.MaxFlushTime = time.Duration(o.flushMS) * time.Millisecond
	if o.maxFileMiB <= 0 {
		return cfg, 0, usageError(c, stderr, "--max-file-mib %d: give a positive number of MiB", o.maxFileMiB)
	}
	if o.maxFiles < 0 {
		return cfg, 0, usageError(c, stderr, "--max-files %d: give a positive number, or 0 to keep every file", o.maxFiles)
	}
	if o.dss != logging.AutoSession && (o.dss < 0 || o.dss > 255) {
		return cfg, 0, usageError(c, stderr, "--dss-session %d: DSS session ids that carry data are 0-255", o.dss)
	}
	var mode datapath.NetdevMode
	switch o.netdevMode {
	case "auto":
		mode = datapath.NetdevAuto
	case "vlan":
		mode = datapath.NetdevVLAN
	case "parent":
		mode = datapath.NetdevParent
	default:
		return cfg, 0, usageError(c, stderr, "--netdev-mode %q: want auto, vlan or parent", o.netdevMode)
	}
	if o.source != "auto" && !strings.HasPrefix(o.source, "netdev:") && !strings.HasPrefix(o.source, "ntb:") ||
		o.source == "netdev:" || o.source == "ntb:" {
		return cfg, 0, usageError(c, stderr, "--source %q: want auto, netdev:IFACE or ntb:PATH", o.source)
	}
	return cfg, mode, exitOK
}

func maxFilesText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", keeping the newest %d", n)
}

func stopText(d time.Duration) string {
	if d > 0 {
		return fmt.Sprintf("stopping after %v or at Ctrl-C", d)
	}
	return "press Ctrl-C to stop"
}

var modemLogSims atomic.Int64

// startModemLogSim creates the simulated modem of -d sim[:FILE] and serves
// it on a Unix socket; it returns the modem, the address for -d, and what
// stops it.
func startModemLogSim(ctx context.Context, c *Command, g *globalOptions, stderr io.Writer) (*sim.Modem, string, func(), int) {
	sc := sim.DefaultScenario()
	if file, ok := strings.CutPrefix(g.device, "sim:"); ok {
		var err error
		if sc, err = sim.LoadScenario(file); err != nil {
			return nil, "", nil, usageError(c, stderr, "-d %s: %v; see docs/simulator.md for the scenario format", g.device, err)
		}
	}
	m, err := sim.New(sc)
	if err != nil {
		return nil, "", nil, usageError(c, stderr, "-d %s: %v", g.device, err)
	}
	if g.verbose {
		m.SetLogger(func(format string, args ...any) { fmt.Fprintf(stderr, "sim: "+format+"\n", args...) })
	}
	n := modemLogSims.Add(1)
	addr := fmt.Sprintf("@gombim-modem-log-%d-%d", os.Getpid(), n)
	if runtime.GOOS != "linux" {
		addr = filepath.Join(os.TempDir(), fmt.Sprintf("gombim-modem-log-%d-%d.sock", os.Getpid(), n))
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	wait, err := m.StartUnix(sctx, addr)
	if err != nil {
		cancel()
		fmt.Fprintf(stderr, "gombim modem-log: starting the simulated modem: %v\n", err)
		return nil, "", nil, exitDevice
	}
	if !strings.HasPrefix(addr, "@") {
		addr = "unix:" + addr
	}
	return m, addr, func() {
		m.CloseLogData()
		cancel()
		wait()
	}, exitOK
}

// chooseLogSource returns what opens the data source for a DSS session,
// and why it was chosen.
func chooseLogSource(spec string, mode datapath.NetdevMode, name, path string, m *sim.Modem) (func(context.Context, uint8) (datapath.Source, error), string, error) {
	netdev := func(iface, why string) (func(context.Context, uint8) (datapath.Source, error), string, error) {
		return func(ctx context.Context, id uint8) (datapath.Source, error) {
			src, err := datapath.OpenNetdev(iface, datapath.NetdevOptions{Session: id, Mode: mode})
			if err != nil {
				return nil, err
			}
			return describedSource{src, why}, nil
		}, why, nil
	}
	ntbSource := func(p, why string) (func(context.Context, uint8) (datapath.Source, error), string, error) {
		return func(ctx context.Context, id uint8) (datapath.Source, error) {
			opts := datapath.NTBOptions{Session: id, MaxBlockSize: 2 << 20, Why: why}
			if fi, err := os.Stat(p); strings.HasPrefix(p, "@") || (err == nil && fi.Mode()&os.ModeSocket != 0) {
				return datapath.DialNTB(ctx, p, opts)
			}
			return datapath.OpenNTBFile(p, opts)
		}, why, nil
	}
	switch {
	case strings.HasPrefix(spec, "netdev:"):
		iface := strings.TrimPrefix(spec, "netdev:")
		return netdev(iface, fmt.Sprintf("the network interface %s (--source)", iface))
	case strings.HasPrefix(spec, "ntb:"):
		p := strings.TrimPrefix(spec, "ntb:")
		return ntbSource(p, fmt.Sprintf("the raw NTB stream %s (--source)", p))
	case m != nil:
		addr, err := m.LogSocket()
		if err != nil {
			return nil, "", fmt.Errorf("--source auto with -d %s: the simulated modem has no log data socket: %v; give --source", name, err)
		}
		return ntbSource(addr, fmt.Sprintf("--source auto with -d %s: the simulated modem serves its log data as raw NTBs on %s", name, addr))
	}
	iface, err := modemNetInterface(path)
	if err != nil {
		return nil, "", fmt.Errorf("--source auto: %v; give the modem's network interface with --source netdev:IFACE (see 'ip link'), or a raw NTB stream with --source ntb:PATH", err)
	}
	return netdev(iface, fmt.Sprintf("--source auto: %s is the network interface of %s (sysfs)", iface, path))
}

// describedSource adds why it was chosen to a source's description.
type describedSource struct {
	datapath.Source
	why string
}

func (s describedSource) Describe() string { return s.Source.Describe() + "; chosen: " + s.why }

// modemNetInterface finds the network interface of the modem whose
// control port is path, in sysfs.
func modemNetInterface(path string) (string, error) {
	devs, err := discover()
	if err != nil {
		return "", fmt.Errorf("looking for the modem in sysfs: %v", err)
	}
	want := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		want = p
	}
	var found *transport.Device
	for i, d := range devs {
		p := d.Path
		if q, err := filepath.EvalSymlinks(p); err == nil {
			p = q
		}
		if p == want || d.Path == path {
			found = &devs[i]
			break
		}
	}
	switch {
	case found == nil:
		return "", fmt.Errorf("%s is not an MBIM port found in sysfs, so its network interface is unknown", path)
	case len(found.NetInterfaces) == 0:
		return "", fmt.Errorf("sysfs shows no network interface for %s (%s)", path, describeDevice(*found))
	}
	return found.NetInterfaces[0], nil
}

// logPrinter reports what modem-log does: text on stderr, or JSON lines
// on stdout.
type logPrinter struct {
	c              *Command
	stdout, stderr io.Writer
	json, quiet    bool
	w              *modemlog.Writer
	capturing      atomic.Bool
	mu             sync.Mutex
}

func (p *logPrinter) jsonLine(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	p.stdout.Write(append(b, '\n'))
}

func (p *logPrinter) text(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, "gombim modem-log: %s\n", line)
}

func (p *logPrinter) info(line string) {
	if p.json {
		p.jsonLine(map[string]any{"type": "info", "time": time.Now().UTC(), "text": line})
		return
	}
	p.text(line)
}

func (p *logPrinter) event(e logging.Event) {
	if p.w != nil {
		switch e.Kind {
		case logging.EventSource:
			// The first source is recorded by Writer.Capture, with the
			// stream's description.
			if p.capturing.Load() {
				p.w.RecordEvent(modemlog.RecSource, e.Source, "opened again")
			}
		case logging.EventSupport:
		default:
			p.w.RecordEvent(modemlog.RecEvent, "", e.Text)
		}
	}
	if p.json {
		v := map[string]any{"type": "event", "kind": e.Kind, "time": e.Time.UTC(), "text": e.Text}
		if e.Config != nil {
			v["config"] = configJSON(*e.Config)
		}
		if e.Asked != nil {
			v["asked"] = configJSON(*e.Asked)
		}
		if e.Source != "" {
			v["source"] = e.Source
		}
		if e.Err != nil {
			v["error"] = e.Err.Error()
		}
		p.jsonLine(v)
		return
	}
	p.text(e.Text)
}

func configJSON(c ms.ModemLoggingConfig) map[string]any {
	return map[string]any{"version": c.Version, "max_segment_kib": c.MaxSegmentSize, "max_flush_ms": c.MaxFlushTime, "level": c.LevelConfig.String()}
}

func (p *logPrinter) progress(s modemlog.Stats) {
	if p.quiet {
		return
	}
	if p.json {
		p.jsonLine(map[string]any{"type": "progress", "time": time.Now().UTC(), "bytes": s.Bytes, "segments": s.Segments,
			"truncated": s.Truncated, "losses": s.Losses, "files": s.Files, "file": s.File,
			"rate_bps": int64(s.Rate * 8), "avg_rate_bps": int64(s.AvgRate * 8), "elapsed_s": s.Elapsed.Seconds()})
		return
	}
	p.text(s.String())
}

func (p *logPrinter) summary(s modemlog.Stats, dir string, st *logging.Stream, stopErr error) {
	deact := "deactivated"
	if stopErr != nil {
		deact = "not deactivated: " + stopErr.Error()
	}
	if p.json {
		p.jsonLine(map[string]any{"type": "summary", "dir": dir, "index": filepath.Join(dir, modemlog.IndexName), "bytes": s.Bytes,
			"segments": s.Segments, "truncated": s.Truncated, "losses": s.Losses, "files": s.Files, "deleted": s.Deleted,
			"elapsed_s": s.Elapsed.Seconds(), "avg_rate_bps": int64(s.AvgRate * 8), "dss_session": st.DSSSession(),
			"deactivated": stopErr == nil})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stdout, "%s: %s in %d segments (%d truncated), %d %s, %.1f Mbit/s on average over %v; DSS session %d %s; index %s\n",
		dir, modemLogSize(s.Bytes), s.Segments, s.Truncated, s.Files, modemLogPlural(s.Files, "file", "files"), s.AvgRate*8/1e6,
		s.Elapsed.Round(100*time.Millisecond), st.DSSSession(), deact, filepath.Join(dir, modemlog.IndexName))
}

func modemLogPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func modemLogSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// startError explains why logging could not start.
func (p *logPrinter) startError(err error, g *globalOptions) int {
	var ne *logging.NotSupportedError
	var se *mbim.StatusError
	switch {
	case errors.As(err, &ne):
		fmt.Fprintf(p.stderr, "gombim modem-log: %s\n", strings.TrimPrefix(err.Error(), "logging: "))
		return exitFailed
	case errors.As(err, &se):
		fmt.Fprintf(p.stderr, "gombim modem-log: %s\n", strings.TrimPrefix(errText(err), "logging: "))
		return exitFailed
	}
	return reportError(p.c, p.stderr, "starting modem logging", err, g)
}

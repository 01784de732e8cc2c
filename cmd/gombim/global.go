package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/proxycontrol"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/proxy"
	"github.com/gombim/gombim/session"
	"github.com/gombim/gombim/sim"
	"github.com/gombim/gombim/transport"
)

// defaultTimeout bounds each request (and the opening of the device) when
// --timeout is not given.
const defaultTimeout = 10 * time.Second

// globalOptionsHelp describes the options every device command takes; it
// is part of their usage texts and of the man page.
const globalOptionsHelp = `Global options (before or after the command):
  -d, --device PATH  the modem's control port: /dev/cdc-wdmN, /dev/wwanNmbimN,
                     a pty, a Unix socket path (or unix:PATH), @NAME for an
                     abstract socket, or "sim" for the built-in simulated
                     modem ("sim:FILE" with a scenario file); without -d,
                     the only MBIM port present is used
  --proxy            go through a running proxy on the abstract socket
                     mbim-proxy (gombim proxy, or libmbim's mbim-proxy that
                     ModemManager uses), which opens PATH for us
  --json             print JSON (the catalog's JSON form) instead of text
  --timeout D        wait at most D for each answer, e.g. 500ms, 30s
                     (default 10s; 60s for each step of connect)
  --mbimex VERSION   the highest MBIMEx version to negotiate (1.0, 2.0, 3.0
                     or 4.0; default 4.0); the message layouts follow the
                     version agreed with the modem
  -v, --verbose      show every message sent and received, as hex and
                     decoded, on standard error
`

// globalFlags lists the global options: name → whether it takes a value.
var globalFlags = map[string]bool{
	"d": true, "device": true, "timeout": true, "mbimex": true,
	"proxy": false, "json": false, "v": false, "verbose": false,
}

// globalOptions are the options of every command that talks to a modem.
type globalOptions struct {
	device     string
	proxy      bool
	json       bool
	timeout    time.Duration
	timeoutSet bool
	mbimex     versionFlag
	verbose    bool
	// unversioned: the command uses no layout that MBIMEx changes, so
	// the version need not be negotiated (one exchange less, as mbimcli
	// does) unless --mbimex asks for it.
	unversioned bool
	// servicesUnused: the command does not use what the modem lists in
	// DEVICE_SERVICES, so the query is left out (one exchange less, as
	// mbimcli does) when the version is not negotiated either; when it
	// is, DEVICE_SERVICES tells whether the modem knows VERSION at all.
	servicesUnused bool
}

type durationFlag struct {
	d   *time.Duration
	set *bool
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: write it like 500ms, 10s or 2m", s)
	}
	if d <= 0 {
		return fmt.Errorf("invalid duration %q: it must be positive", s)
	}
	*f.d, *f.set = d, true
	return nil
}

// define adds the global options to fs.
func (g *globalOptions) define(fs *flag.FlagSet) {
	g.timeout = defaultTimeout
	fs.StringVar(&g.device, "d", "", "")
	fs.StringVar(&g.device, "device", "", "")
	fs.BoolVar(&g.proxy, "proxy", false, "")
	fs.BoolVar(&g.json, "json", false, "")
	fs.Var(durationFlag{&g.timeout, &g.timeoutSet}, "timeout", "")
	fs.Var(&g.mbimex, "mbimex", "")
	fs.BoolVar(&g.verbose, "v", false, "")
	fs.BoolVar(&g.verbose, "verbose", false, "")
}

// splitGlobal takes the global options written before the command name
// off args: "gombim -d sim status" → (["-d", "sim"], ["status"]). It stops
// at the first argument that is not a global option.
func splitGlobal(args []string) (global, rest []string, err error) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" || a == "-h" || a == "-help" || a == "--help" {
			break
		}
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		takes, ok := globalFlags[name]
		if !ok {
			return nil, nil, fmt.Errorf("unknown option %s before the command; the global options are -d/--device, --proxy, --json, --timeout, --mbimex and -v/--verbose", a)
		}
		i++
		if name == "json" && !hasValue && i < len(args) && strings.HasPrefix(strings.TrimSpace(args[i]), "{") {
			i++ // --json '{...}': a request payload
			continue
		}
		if takes && !hasValue {
			if i == len(args) {
				return nil, nil, fmt.Errorf("option %s needs a value", a)
			}
			i++
		}
	}
	return args[:i], args[i:], nil
}

// device is an open session and what to undo when the command ends.
type device struct {
	s       *session.Session
	path    string // what was opened ("sim" for the simulated modem)
	cleanup []func()
}

func (d *device) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d.s.Close(ctx)
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
}

// cliError is a failure already explained for the user, with its exit
// code.
type cliError struct {
	code int
	msg  string
}

func (e *cliError) Error() string { return e.msg }

// open opens the session that the global options describe. On failure it
// has reported the problem on stderr and returns the exit code.
func (g *globalOptions) open(ctx context.Context, c *Command, stderr io.Writer) (*device, int) {
	if g.mbimex.set && g.mbimex.v > mbim.MBIMEx4 {
		return nil, usageError(c, stderr, "--mbimex %s: the highest MBIMEx version is 4.0", g.mbimex.v)
	}
	path := g.device
	if path == "" {
		p, err := discoverOne()
		if err != nil {
			var ce *cliError
			if errors.As(err, &ce) {
				fmt.Fprintf(stderr, "gombim %s: %s\n", c.Name, ce.msg)
				return nil, ce.code
			}
			fmt.Fprintf(stderr, "gombim %s: looking for modems: %v; give the device with -d PATH\n", c.Name, err)
			return nil, exitDevice
		}
		path = p
	}
	d := &device{path: path}
	opts := session.Options{
		RequestTimeout: g.timeout,
		OpenTimeout:    g.timeout,
		MaxMBIMEx:      session.DefaultMaxMBIMEx,
	}
	switch {
	case g.mbimex.set:
		opts.MaxMBIMEx = g.mbimex.v
	case g.unversioned:
		opts.MaxMBIMEx = mbim.MBIMEx1
	}
	opts.SkipDeviceServices = g.servicesUnused && opts.MaxMBIMEx == mbim.MBIMEx1
	if g.verbose {
		opts.Trace = tracer(stderr)
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	isSim := path == "sim" || strings.HasPrefix(path, "sim:")
	switch {
	case isSim && g.proxy:
		return nil, usageError(c, stderr, "the built-in simulated modem (-d %s) lives inside this command and cannot be reached through a proxy; run 'gombim sim --pty /tmp/simmodem' in another terminal and use -d /tmp/simmodem --proxy", path)
	case isSim:
		sc := sim.DefaultScenario()
		if file, ok := strings.CutPrefix(path, "sim:"); ok {
			var err error
			if sc, err = sim.LoadScenario(file); err != nil {
				return nil, usageError(c, stderr, "-d %s: %v; see docs/simulator.md for the scenario format", path, err)
			}
		}
		m, err := sim.New(sc)
		if err != nil {
			return nil, usageError(c, stderr, "-d %s: %v", path, err)
		}
		if g.verbose {
			m.SetLogger(func(format string, args ...any) { fmt.Fprintf(stderr, "sim: "+format+"\n", args...) })
		}
		// Dialled again after a device reset, as a real device is reopened.
		dial, stop := m.Dialer()
		opts.Dial = func(ctx context.Context, _ string, _ transport.Options) (transport.Conn, error) { return dial(ctx) }
		d.cleanup = append(d.cleanup, stop)
	case g.proxy:
		devPath := path
		if !strings.HasPrefix(path, "@") && !strings.HasPrefix(path, "unix") {
			if abs, err := filepath.Abs(path); err == nil {
				devPath = abs
			}
		}
		timeout := g.timeout
		opts.Dial = func(ctx context.Context, _ string, o transport.Options) (transport.Conn, error) {
			return dialProxy(ctx, devPath, timeout, o)
		}
	}
	s, err := session.OpenPath(ctx, path, opts)
	if err != nil {
		for _, f := range d.cleanup {
			f()
		}
		return nil, reportOpenError(c, stderr, path, g, err)
	}
	d.s = s
	return d, exitOK
}

// proxyError is a refusal by the proxy.
type proxyError struct {
	device string
	status mbim.Status
}

func (e *proxyError) Error() string {
	return fmt.Sprintf("the proxy could not open %s (it answered %s)", e.device, e.status)
}

// dialProxy connects to the proxy on the abstract socket mbim-proxy and
// sends libmbim's proxy-control CONFIGURATION (DevicePath, Timeout), as
// libmbim clients do before their OPEN. It returns the connection, ready
// for the session's OPEN.
func dialProxy(ctx context.Context, devPath string, timeout time.Duration, o transport.Options) (transport.Conn, error) {
	conn, err := transport.OpenContext(ctx, "@"+proxy.DefaultSocket, o)
	if err != nil {
		return nil, &proxyDialError{err}
	}
	secs := uint32((timeout + time.Second - 1) / time.Second)
	const tid = 1
	b, err := catalog.Build(mbim.TypeCommand, tid, proxycontrol.UUID, proxycontrol.CIDConfiguration, mbim.CommandSet, 0,
		&proxycontrol.ConfigurationSet{DevicePath: devPath, Timeout: secs})
	if err != nil {
		conn.Close()
		return nil, err
	}
	// The proxy opens the device before answering; bound the wait.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	timer := time.AfterFunc(timeout+2*time.Second, func() { conn.Close() })
	defer timer.Stop()
	if err := conn.WriteMessage(b); err != nil {
		conn.Close()
		return nil, &proxyDialError{err}
	}
	for {
		raw, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !timer.Stop() {
				return nil, fmt.Errorf("the proxy did not answer the configuration for %s within %v: %w", devPath, timeout, context.DeadlineExceeded)
			}
			return nil, &proxyDialError{err}
		}
		m, err := mbim.ParseMessage(raw)
		if err != nil || m.TransactionID != tid {
			continue // an indication (the proxy's VERSION) or noise
		}
		switch m.Type {
		case mbim.TypeCommandDone:
			if m.Status != mbim.StatusNone {
				conn.Close()
				return nil, &proxyError{devPath, m.Status}
			}
			return conn, nil
		case mbim.TypeFunctionError:
			conn.Close()
			return nil, fmt.Errorf("the proxy refused the configuration for %s: FUNCTION_ERROR %s", devPath, m.ErrorCode)
		}
	}
}

// proxyDialError is a failure to reach the proxy.
type proxyDialError struct{ err error }

func (e *proxyDialError) Error() string {
	return fmt.Sprintf("cannot reach the proxy on @%s: %v", proxy.DefaultSocket, e.err)
}
func (e *proxyDialError) Unwrap() error { return e.err }

// discoverOne returns the path of the only MBIM port on this machine.
func discoverOne() (string, error) {
	devs, err := discover()
	if err != nil {
		return "", err
	}
	switch len(devs) {
	case 0:
		return "", &cliError{exitDevice, "no MBIM modem found on this machine (no cdc-wdm port bound to cdc_mbim, no WWAN MBIM port); plug one in and check 'dmesg', give the device with -d PATH, or try the built-in simulated modem: gombim -d sim status"}
	case 1:
		return devs[0].Path, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d MBIM modems found; choose one with -d:", len(devs))
	for _, d := range devs {
		fmt.Fprintf(&b, "\n  gombim -d %s ...   (%s)", d.Path, describeDevice(d))
	}
	return "", &cliError{exitUsage, b.String()}
}

// discover is transport.Discover on the real sysfs; tests replace it.
var discover = func() ([]transport.Device, error) { return transport.Discover("") }

// tracer returns the session trace function for -v.
func tracer(w io.Writer) func(dir string, raw []byte, d *catalog.Decoded) {
	return func(dir string, raw []byte, d *catalog.Decoded) {
		var b strings.Builder
		arrow := ">>>"
		if dir == session.TraceRecv {
			arrow = "<<<"
		}
		fmt.Fprintf(&b, "%s %s %d bytes\n", arrow, dir, len(raw))
		for off := 0; off < len(raw); off += 32 {
			line := raw[off:min(off+32, len(raw))]
			b.WriteString("    ")
			for i := 0; i < len(line); i += 4 {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(hex.EncodeToString(line[i:min(i+4, len(line))]))
			}
			b.WriteByte('\n')
		}
		if d != nil {
			for _, l := range strings.Split(strings.TrimRight(d.String(), "\n"), "\n") {
				b.WriteString("    ")
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
		io.WriteString(w, b.String())
	}
}

// reportOpenError explains why the device could not be opened.
func reportOpenError(c *Command, stderr io.Writer, path string, g *globalOptions, err error) int {
	var pe *proxyError
	var pd *proxyDialError
	var busy *transport.BusyError
	code := exitCodeFor(err)
	hint := ""
	switch {
	case errors.As(err, &pe):
		code = exitDevice
		hint = "check the path and that the modem is present (gombim devices); the proxy's log says more"
	case errors.As(err, &pd):
		code = exitDevice
		hint = "start a proxy first: 'gombim proxy &' (or libmbim's /usr/libexec/mbim-proxy, which ModemManager starts), or run without --proxy"
	case errors.As(err, &busy):
		code = exitDevice
		hint = "" // the error says what to do
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOENT):
		code = exitDevice
		hint = "list the modems with 'gombim devices', or try the built-in simulated modem: gombim -d sim status"
	case errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EACCES):
		code = exitDevice
		hint = "run as root (sudo gombim ...), or give your user access to the port with a udev rule (see 'Using a real modem' in the README)"
	case errors.Is(err, syscall.ECONNREFUSED):
		code = exitDevice
		hint = "nothing is listening on that socket; start the simulator or proxy that should serve it"
	case code == exitTimeout:
		hint = fmt.Sprintf("the device did not answer OPEN within %v: check that %s is an MBIM control port (not a serial AT port) and that no other program uses it (with ModemManager running, use --proxy); or allow more time with --timeout", g.timeout, path)
	case code == exitInterrupted:
		fmt.Fprintf(stderr, "gombim %s: interrupted while opening %s\n", c.Name, path)
		return code
	case code == exitFailed:
		hint = "the device refused to open the MBIM session; reset or replug it and try again"
	default:
		code = exitDevice
		hint = "check that " + path + " is an MBIM control port and that the modem works (dmesg); 'gombim devices' lists the ports found"
	}
	msg := fmt.Sprintf("gombim %s: cannot open %s: %s", c.Name, path, errText(err))
	if hint != "" {
		msg += "; " + hint
	}
	fmt.Fprintln(stderr, msg)
	return code
}

// reportError explains a failed request (what: "basic-connect pin set")
// on stderr and returns its exit code.
func reportError(c *Command, stderr io.Writer, what string, err error, g *globalOptions) int {
	code := exitCodeFor(err)
	var se *mbim.StatusError
	var fe *session.FunctionError
	var ce *cliError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "gombim %s: %s\n", c.Name, ce.msg)
		return ce.code
	case errors.As(err, &se):
		fmt.Fprintf(stderr, "gombim %s: %s: the modem answered %s; %s\n", c.Name, what, se.Status, statusHint(se.Status))
	case errors.As(err, &fe):
		code = exitDevice
		fmt.Fprintf(stderr, "gombim %s: %s: the modem rejected the message with FUNCTION_ERROR %s; try again, and if it persists reset the modem (or report a bug with the output of -v)\n", c.Name, what, fe.Code)
	case errors.Is(err, session.ErrDeviceGone):
		fmt.Fprintf(stderr, "gombim %s: %s: %s\n", c.Name, what, errText(err))
	case code == exitTimeout:
		fmt.Fprintf(stderr, "gombim %s: %s: no answer from the modem within %v; the modem may be busy or hung: try again, allow more time with --timeout, or look at the exchange with -v\n", c.Name, what, g.timeout)
	case code == exitInterrupted:
		fmt.Fprintf(stderr, "gombim %s: %s: interrupted\n", c.Name, what)
	default:
		fmt.Fprintf(stderr, "gombim %s: %s: %s; run again with -v to see the messages exchanged\n", c.Name, what, errText(err))
	}
	return code
}

// statusHint says what to do after a failed status.
func statusHint(st mbim.Status) string {
	switch st {
	case mbim.StatusBusy:
		return "the modem is busy: try again in a moment"
	case mbim.StatusSIMNotInserted:
		return "insert a SIM card (or select a slot that has one), then try again"
	case mbim.StatusBadSIM:
		return "the SIM is not usable: check it in another device or replace it"
	case mbim.StatusPINRequired:
		return "enter the PIN first: gombim basic-connect pin set PinType=pin1 PinOperation=enter Pin=NNNN"
	case mbim.StatusPINFailure:
		return "the PIN was wrong: check 'gombim basic-connect pin query' for the attempts left before trying again"
	case mbim.StatusNotRegistered:
		return "register first: gombim basic-connect register-state set RegisterAction=automatic (or use 'gombim connect')"
	case mbim.StatusRadioPowerOff:
		return "turn the radio on: gombim basic-connect radio-state set RadioState=on"
	case mbim.StatusPacketServiceDetached:
		return "attach first: gombim basic-connect packet-service set PacketServiceAction=attach (or use 'gombim connect')"
	case mbim.StatusNoDeviceSupport:
		return "the modem does not support this command (at this MBIMEx version); 'gombim basic-connect device-services query' lists what it supports"
	case mbim.StatusInvalidParameters:
		return "the modem rejected the values: check them against 'gombim help SERVICE CID'"
	case mbim.StatusInvalidAccessString:
		return "the APN is not accepted: check the APN your operator gives"
	case mbim.StatusInvalidUserNamePassword:
		return "check --user, --password and --auth"
	case mbim.StatusMaxActivatedContexts:
		return "too many connections are active: disconnect one first (gombim disconnect --session N)"
	case mbim.StatusContextNotActivated:
		return "that session is not connected"
	case mbim.StatusNotInitialized:
		return "the SIM or modem is still initializing: wait a moment and try again"
	case mbim.StatusOperationNotAllowed:
		return "the modem does not allow this operation in its current state"
	}
	return "the modem refused the request; 'gombim status' shows its state, and -v the messages exchanged"
}

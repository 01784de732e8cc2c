package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/session"
	"github.com/gombim/gombim/transport"
)

// connectTimeout is the default bound of each step of connect (network
// registration and activation can take tens of seconds).
const connectTimeout = 60 * time.Second

// pollInterval is how often connect re-reads a state it waits for.
var pollInterval = 200 * time.Millisecond

const connectUsage = `Usage: gombim connect [--apn APN] [--user USER --password PASSWORD]
                      [--auth none|pap|chap|mschapv2] [--ip-type TYPE]
                      [--session N] [--context-type TYPE] [--pin PIN]
                      [GLOBAL OPTIONS]

Bring up a data connection, the whole sequence: wait until the SIM is ready
(entering --pin if the SIM asks for it), turn the radio on if it is off,
register on the network (automatic selection) and wait for it, attach to
the packet service, activate the context, and print its IP configuration.
Steps already done are skipped.

The modem only sets up the radio bearer: configure the network interface
(wwan0, wwp0s20f0u2i12, ...) with the addresses printed, or let a DHCP
client do it where the modem supports DHCP.

Options:
  --apn APN            access point name (default: empty, the network's
                       default)
  --user USER          user name for the APN, if the operator needs one
  --password PASSWORD  password for the APN
  --auth PROTOCOL      none, pap, chap or mschapv2 (default: chap when
                       --user is given, else none)
  --ip-type TYPE       default, ipv4, ipv6 or ipv4v6 (default: default,
                       which lets the modem choose)
  --session N          IP session id (default 0, the plain interface;
                       others map to VLANs of multiplexing drivers)
  --context-type TYPE  internet, ims, mms, ... or a UUID (default internet)
  --pin PIN            PIN1 to enter if the SIM is locked

` + globalOptionsHelp + `
Each step waits at most --timeout (60s by default for connect).

Exit status:
  0  connected; the IP configuration was printed
  1  the modem refused a step (status printed), or the SIM or network is in
     a state that prevents the connection (what to do is printed)
  2  usage error
  3  device or transport error
  4  a step did not complete in time

Examples:
  gombim -d sim connect --apn internet
  gombim connect --apn internet.operator --ip-type ipv4v6 --json
`

const disconnectUsage = `Usage: gombim disconnect [--session N] [GLOBAL OPTIONS]

Deactivate the data connection of IP session N (default 0) and print its
new state.

Options:
  --session N  IP session id (default 0)

` + globalOptionsHelp + `
Exit status:
  0  disconnected
  1  the modem refused (context-not-activated: the session was not
     connected)
  2  usage error
  3  device or transport error
  4  timeout
`

func init() {
	register(&Command{
		Name:    "connect",
		Summary: "register, attach and connect, then print the IP configuration",
		Usage:   connectUsage,
		Run:     runConnect,
	})
	register(&Command{
		Name:    "disconnect",
		Summary: "deactivate a data connection",
		Usage:   disconnectUsage,
		Run:     runDisconnect,
	})
}

// enumFlag is a flag holding a generated enumeration, parsed by nickname.
type enumFlag struct {
	set   bool
	parse func(string) error
	text  string
}

func (f *enumFlag) String() string { return f.text }
func (f *enumFlag) Set(s string) error {
	if err := f.parse(s); err != nil {
		return err
	}
	f.set, f.text = true, s
	return nil
}

func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("connect")
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	var p session.ConnectParams
	fs.StringVar(&p.APN, "apn", "", "")
	fs.StringVar(&p.User, "user", "", "")
	fs.StringVar(&p.Password, "password", "", "")
	pin := fs.String("pin", "", "")
	sessionID := fs.Uint("session", 0, "")
	auth := &enumFlag{parse: func(s string) (err error) { p.Auth, err = basicconnect.ParseAuthProtocol(s); return }}
	ipType := &enumFlag{parse: func(s string) (err error) { p.IPType, err = basicconnect.ParseContextIpType(s); return }}
	ctxType := &enumFlag{parse: func(s string) error {
		ct, err := mbim.ParseContextType(s)
		p.ContextType = mbim.UUID(ct)
		return err
	}}
	fs.Var(auth, "auth", "")
	fs.Var(ipType, "ip-type", "")
	fs.Var(ctxType, "context-type", "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		if pos[0] == "query" || pos[0] == "set" || pos[0] == "watch" {
			return usageError(c, stderr, "unexpected argument %q; for the CONNECT CID itself use 'gombim basic-connect connect %s'", pos[0], pos[0])
		}
		return usageError(c, stderr, "unexpected argument %q; give the APN with --apn", pos[0])
	}
	if *sessionID > 0xFFFFFFFF {
		return usageError(c, stderr, "--session %d is too large", *sessionID)
	}
	p.SessionID = uint32(*sessionID)
	if !auth.set && p.User != "" {
		p.Auth = basicconnect.AuthProtocolChap
	}
	if !g.timeoutSet {
		g.timeout = connectTimeout
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	s := dev.s
	progress := func(label, format string, a ...any) {
		if !g.json {
			fmt.Fprintf(stdout, "%-16s %s\n", label+":", fmt.Sprintf(format, a...))
		}
	}
	fail := func(what string, err error) int { return reportError(c, stderr, what, err, &g) }
	refuse := func(msg string) int {
		fmt.Fprintf(stderr, "gombim connect: %s\n", msg)
		return exitFailed
	}

	// 1. The SIM.
	pinEntered := false
	err := waitFor(ctx, g.timeout, "the SIM to be ready", func() (bool, error) {
		st, err := s.SubscriberStatus(ctx)
		if err != nil {
			return false, err
		}
		switch st.ReadyState {
		case basicconnect.SubscriberReadyStateInitialized:
			if st.SimICCID != "" {
				progress("SIM", "ready (ICCID %s)", st.SimICCID)
			} else {
				progress("SIM", "ready")
			}
			return true, nil
		case basicconnect.SubscriberReadyStateNotInitialized:
			return false, nil
		case basicconnect.SubscriberReadyStateDeviceLocked:
			if *pin == "" {
				return false, &cliError{exitFailed, "the SIM is locked; give its PIN with --pin (or enter it: gombim basic-connect pin set PinType=pin1 PinOperation=enter Pin=NNNN)"}
			}
			if pinEntered {
				return false, nil
			}
			pinEntered = true
			if r, err := s.EnterPIN(ctx, *pin); err != nil {
				left := ""
				if r != nil && r.RemainingAttempts != 0xFFFFFFFF {
					left = fmt.Sprintf(" (%d attempts left)", r.RemainingAttempts)
				}
				return false, &cliError{exitFailed, fmt.Sprintf("the SIM refused the PIN%s: %s; check it before trying again: a SIM blocks after 3 wrong PINs", left, errText(err))}
			}
			progress("PIN", "entered")
			return false, nil
		case basicconnect.SubscriberReadyStateSimNotInserted:
			return false, &cliError{exitFailed, "no SIM card is inserted (or the active slot is empty); insert one, or select the other slot: gombim ms-basic-connect-extensions device-slot-mappings set ..."}
		}
		return false, &cliError{exitFailed, fmt.Sprintf("the SIM is %s; it cannot be used to connect: check it in another device, or ask the operator", st.ReadyState)}
	})
	if err != nil {
		return fail("waiting for the SIM", err)
	}

	// 2. The radio.
	rs, err := s.RadioState(ctx)
	if err != nil {
		return fail("basic-connect radio-state query", err)
	}
	if rs.HwRadioState != basicconnect.RadioSwitchStateOn {
		return refuse("the modem's hardware radio switch is off (flight mode switch, or the kernel's rfkill); turn it on and try again")
	}
	if rs.SwRadioState != basicconnect.RadioSwitchStateOn {
		if _, err := s.SetRadioState(ctx, true); err != nil {
			return fail("turning the radio on", err)
		}
		progress("Radio", "turned on")
	}

	// 3. Registration.
	registerSent := false
	err = waitFor(ctx, g.timeout, "network registration", func() (bool, error) {
		reg, err := s.RegisterState(ctx)
		if err != nil {
			return false, err
		}
		switch reg.State {
		case basicconnect.RegisterStateHome, basicconnect.RegisterStateRoaming, basicconnect.RegisterStatePartner:
			progress("Registration", "%s on %q (%s)", reg.State, reg.ProviderName, reg.ProviderID)
			return true, nil
		case basicconnect.RegisterStateSearching:
			return false, nil
		case basicconnect.RegisterStateDenied:
			if registerSent {
				return false, &cliError{exitFailed, fmt.Sprintf("the network denied registration (network error %s); check that the SIM's subscription is active, or choose another network: gombim basic-connect register-state set RegisterAction=manual ProviderId=MCCMNC", reg.NwError)}
			}
		}
		if !registerSent {
			registerSent = true
			if _, err := s.Register(ctx); err != nil {
				return false, err
			}
		}
		return false, nil
	})
	if err != nil {
		return fail("registering", err)
	}

	// 4. Packet service.
	attachSent := false
	err = waitFor(ctx, g.timeout, "the packet service to attach", func() (bool, error) {
		ps, err := s.PacketServiceState(ctx)
		if err != nil {
			return false, err
		}
		if ps.State == basicconnect.PacketServiceStateAttached {
			progress("Packet service", "attached")
			return true, nil
		}
		if !attachSent && ps.State != basicconnect.PacketServiceStateAttaching {
			attachSent = true
			if _, err := s.Attach(ctx); err != nil {
				return false, err
			}
		}
		return false, nil
	})
	if err != nil {
		return fail("attaching", err)
	}

	// 5. Connect.
	conn, err := s.Connect(ctx, p)
	if err != nil {
		if conn != nil && conn.State != basicconnect.ActivationStateActivated {
			return refuse(fmt.Sprintf("the modem did not activate the connection to APN %q: it is %s (network error %s); check the APN, --user, --password and --auth your operator gives", p.APN, conn.State, basicconnect.NwError(conn.NwError)))
		}
		return fail(fmt.Sprintf("connecting to APN %q", p.APN), err)
	}
	if g.json {
		return writeJSON(stdout, stderr, c, connectionJSON(conn, p.APN))
	}
	fmt.Fprintf(stdout, "%-16s session %d, APN %q, %s, %s\n", "Connected:", conn.SessionID, p.APN, conn.IPType, conn.ContextType)
	if conn.IP != nil {
		io.WriteString(stdout, ipText(conn.IP))
	}
	if iface := netInterfaceOf(dev.path); iface != "" && conn.IP != nil && len(conn.IP.IPv4Addresses) > 0 {
		fmt.Fprintf(stdout, "Next: configure %s, e.g.\n  ip addr add %s dev %s && ip link set %s up", iface, conn.IP.IPv4Addresses[0], iface, iface)
		if conn.IP.IPv4Gateway.IsValid() {
			fmt.Fprintf(stdout, " && ip route add default via %s dev %s", conn.IP.IPv4Gateway, iface)
		}
		fmt.Fprintln(stdout)
	}
	return exitOK
}

// waitFor calls step until it reports done, an error, or timeout passed.
func waitFor(ctx context.Context, timeout time.Duration, what string, step func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := step()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s: %w", timeout, what, context.DeadlineExceeded)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// netInterfaceOf returns the network interface of a discovered device.
func netInterfaceOf(path string) string {
	devs, err := discover()
	if err != nil {
		return ""
	}
	for _, d := range devs {
		if d.Path == path && len(d.NetInterfaces) > 0 {
			return d.NetInterfaces[0]
		}
	}
	return ""
}

// ipText renders an IP configuration, one item per line.
func ipText(ip *session.IPConfig) string {
	var b strings.Builder
	item := func(label string, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-14s %s\n", label+":", v)
		}
	}
	addrs := func(as []netip.Addr) string {
		var s []string
		for _, a := range as {
			s = append(s, a.String())
		}
		return strings.Join(s, ", ")
	}
	prefixes := func(ps []netip.Prefix) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.String())
		}
		return strings.Join(s, ", ")
	}
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	mtu := func(m uint32) string {
		if m == 0 {
			return ""
		}
		return fmt.Sprint(m)
	}
	item("IPv4 address", prefixes(ip.IPv4Addresses))
	item("IPv4 gateway", addr(ip.IPv4Gateway))
	item("IPv4 DNS", addrs(ip.IPv4DNS))
	item("IPv4 MTU", mtu(ip.IPv4MTU))
	item("IPv6 address", prefixes(ip.IPv6Addresses))
	item("IPv6 gateway", addr(ip.IPv6Gateway))
	item("IPv6 DNS", addrs(ip.IPv6DNS))
	item("IPv6 MTU", mtu(ip.IPv6MTU))
	return b.String()
}

// ipFamilyJSON is one address family of an IP configuration.
type ipFamilyJSON struct {
	Addresses []netip.Prefix `json:"addresses"`
	Gateway   *netip.Addr    `json:"gateway,omitempty"`
	DNS       []netip.Addr   `json:"dns"`
	MTU       uint32         `json:"mtu,omitempty"`
}

func family(addrs []netip.Prefix, gw netip.Addr, dns []netip.Addr, mtu uint32) *ipFamilyJSON {
	if len(addrs) == 0 && !gw.IsValid() && len(dns) == 0 && mtu == 0 {
		return nil
	}
	f := &ipFamilyJSON{Addresses: addrs, DNS: dns, MTU: mtu}
	if f.Addresses == nil {
		f.Addresses = []netip.Prefix{}
	}
	if f.DNS == nil {
		f.DNS = []netip.Addr{}
	}
	if gw.IsValid() {
		f.Gateway = &gw
	}
	return f
}

// connectionJSON is the JSON output of connect and disconnect.
func connectionJSON(conn *session.Connection, apn string) any {
	out := struct {
		SessionID uint32        `json:"session_id"`
		State     string        `json:"state"`
		APN       *string       `json:"apn,omitempty"`
		IPType    string        `json:"ip_type"`
		IPv4      *ipFamilyJSON `json:"ipv4,omitempty"`
		IPv6      *ipFamilyJSON `json:"ipv6,omitempty"`
		Connect   mbim.Info     `json:"connect"`
		IPConfig  mbim.Info     `json:"ip_configuration,omitempty"`
	}{SessionID: conn.SessionID, State: conn.State.String(), IPType: conn.IPType.String(), Connect: conn.Info}
	if apn != "" || conn.State == basicconnect.ActivationStateActivated {
		out.APN = &apn
	}
	if ip := conn.IP; ip != nil {
		out.IPv4 = family(ip.IPv4Addresses, ip.IPv4Gateway, ip.IPv4DNS, ip.IPv4MTU)
		out.IPv6 = family(ip.IPv6Addresses, ip.IPv6Gateway, ip.IPv6DNS, ip.IPv6MTU)
		out.IPConfig = ip.Info
	}
	return out
}

// writeJSON prints v as one line of JSON.
func writeJSON(stdout, stderr io.Writer, c *Command, v any) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "gombim %s: encoding JSON: %v\n", c.Name, err)
		return exitDevice
	}
	if _, err := stdout.Write(b.Bytes()); err != nil {
		fmt.Fprintf(stderr, "gombim %s: writing the output: %v\n", c.Name, err)
		return exitDevice
	}
	return exitOK
}

func runDisconnect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("disconnect")
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	sessionID := fs.Uint("session", 0, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q; give the session with --session N", pos[0])
	}
	if *sessionID > 0xFFFFFFFF {
		return usageError(c, stderr, "--session %d is too large", *sessionID)
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	conn, err := dev.s.Disconnect(ctx, uint32(*sessionID))
	if err != nil {
		return reportError(c, stderr, fmt.Sprintf("disconnecting session %d", *sessionID), err, &g)
	}
	if g.json {
		return writeJSON(stdout, stderr, c, connectionJSON(conn, ""))
	}
	fmt.Fprintf(stdout, "Disconnected:    session %d (%s)\n", conn.SessionID, conn.State)
	return exitOK
}

// describeDevice summarises a discovered port for lists.
func describeDevice(d transport.Device) string {
	var parts []string
	if d.Manufacturer != "" || d.Product != "" {
		parts = append(parts, strings.TrimSpace(d.Manufacturer+" "+d.Product))
	}
	if d.VendorID != 0 || d.ProductID != 0 {
		parts = append(parts, fmt.Sprintf("%04x:%04x", d.VendorID, d.ProductID))
	}
	if d.Driver != "" {
		parts = append(parts, d.Driver)
	}
	if len(d.NetInterfaces) > 0 {
		parts = append(parts, "net "+strings.Join(d.NetInterfaces, ","))
	}
	if len(parts) == 0 {
		return d.Kind
	}
	return strings.Join(parts, ", ")
}

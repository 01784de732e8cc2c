package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/session"
)

const statusUsage = `Usage: gombim status [GLOBAL OPTIONS]

Show the modem's state on one screen: device identity and firmware, the
MBIMEx version agreed, SIM and PIN, radio, network registration, signal,
packet service and active connections with their addresses.

A query the modem refuses does not stop the others: its line says what
went wrong. With --json, one object with the catalog's JSON form of each
response (keys device_caps, subscriber_ready_status, pin, radio_state,
register_state, signal_state, packet_service, connections) and an
"errors" object for the queries that failed.

` + globalOptionsHelp + `
Exit status:
  0  the state was shown (some parts may be missing, see above)
  2  usage error
  3  device or transport error
  4  the modem stopped answering

Examples:
  gombim -d sim status
  gombim -d /dev/cdc-wdm0 status --json | jq .register_state
`

func init() {
	register(&Command{
		Name:    "status",
		Summary: "show device, SIM, registration, signal and connections on one screen",
		Usage:   statusUsage,
		Run:     runStatus,
	})
}

// statusReport is what status found out; nil parts failed.
type statusReport struct {
	Device        string                           `json:"device"`
	MBIMEx        string                           `json:"mbimex"`
	DeviceMBIMEx  string                           `json:"device_mbimex,omitempty"`
	Caps          *basicconnect.DeviceCapsResponse `json:"device_caps,omitempty"`
	Subscriber    mbim.Info                        `json:"subscriber_ready_status,omitempty"`
	PIN           *basicconnect.PinResponse        `json:"pin,omitempty"`
	Radio         *basicconnect.RadioStateResponse `json:"radio_state,omitempty"`
	Register      mbim.Info                        `json:"register_state,omitempty"`
	Signal        mbim.Info                        `json:"signal_state,omitempty"`
	PacketService mbim.Info                        `json:"packet_service,omitempty"`
	Connections   []connectionReport               `json:"connections"`
	Errors        map[string]string                `json:"errors,omitempty"`
	sub           *session.SubscriberStatus        `json:"-"`
	reg           *session.Registration            `json:"-"`
	sig           *session.Signal                  `json:"-"`
	ps            *session.PacketService           `json:"-"`
	conns         []*session.Connection            `json:"-"`
	ips           map[uint32]*session.IPConfig     `json:"-"`
}

type connectionReport struct {
	Connect mbim.Info                             `json:"connect"`
	IP      *basicconnect.IpConfigurationResponse `json:"ip_configuration,omitempty"`
}

// fatalQuery reports whether a failed query means the others will fail
// too: the device is gone, stopped answering, or we were interrupted.
func fatalQuery(err error) bool {
	code := exitCodeFor(err)
	return code == exitTimeout || code == exitInterrupted || errors.Is(err, session.ErrDeviceGone) || errors.Is(err, session.ErrClosed)
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("status")
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q; status takes only options", pos[0])
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	s := dev.s

	r := &statusReport{Device: dev.path, MBIMEx: s.MBIMEx().String(), Errors: map[string]string{}, ips: map[uint32]*session.IPConfig{}}
	if _, ext := s.DeviceVersion(); ext != 0 {
		r.DeviceMBIMEx = ext.String()
	}
	var fatal error
	// try runs one query unless an earlier one showed the device is lost.
	try := func(key string, f func() error) {
		if fatal != nil {
			return
		}
		if err := f(); err != nil {
			r.Errors[key] = errText(err)
			if fatalQuery(err) {
				fatal = err
			}
		}
	}
	try("device_caps", func() (err error) { r.Caps, err = s.DeviceCaps(ctx); return })
	try("subscriber_ready_status", func() (err error) {
		if r.sub, err = s.SubscriberStatus(ctx); err == nil {
			r.Subscriber = r.sub.Info
		}
		return
	})
	try("pin", func() (err error) { r.PIN, err = s.PINState(ctx); return })
	try("radio_state", func() (err error) { r.Radio, err = s.RadioState(ctx); return })
	try("register_state", func() (err error) {
		if r.reg, err = s.RegisterState(ctx); err == nil {
			r.Register = r.reg.Info
		}
		return
	})
	try("signal_state", func() (err error) {
		if r.sig, err = s.SignalState(ctx); err == nil {
			r.Signal = r.sig.Info
		}
		return
	})
	try("packet_service", func() (err error) {
		if r.ps, err = s.PacketServiceState(ctx); err == nil {
			r.PacketService = r.ps.Info
		}
		return
	})
	sessions := uint32(1)
	if r.Caps != nil {
		sessions = min(max(r.Caps.MaxSessions, 1), 8)
	}
	r.Connections = []connectionReport{}
	for id := uint32(0); id < sessions && fatal == nil; id++ {
		key := fmt.Sprintf("connect_session_%d", id)
		var conn *session.Connection
		try(key, func() (err error) { conn, err = s.ConnectionState(ctx, id); return })
		if conn == nil || conn.State != basicconnect.ActivationStateActivated {
			if id > 0 {
				delete(r.Errors, key) // sessions beyond the first need not exist
			}
			continue
		}
		r.conns = append(r.conns, conn)
		cr := connectionReport{Connect: conn.Info}
		try(fmt.Sprintf("ip_configuration_session_%d", id), func() error {
			ip, err := s.IPConfiguration(ctx, id)
			if err == nil {
				r.ips[id], cr.IP = ip, ip.Info
			}
			return err
		})
		r.Connections = append(r.Connections, cr)
	}

	if g.json {
		if len(r.Errors) == 0 {
			r.Errors = nil
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "gombim status: encoding JSON: %v\n", err)
			return exitDevice
		}
		stdout.Write(b.Bytes())
	} else {
		io.WriteString(stdout, r.text())
	}
	if fatal != nil {
		return reportError(c, stderr, "status", fatal, &g)
	}
	return exitOK
}

// text renders the report for people.
func (r *statusReport) text() string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-16s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	failed := func(key string) string {
		if e, ok := r.Errors[key]; ok {
			return "(unavailable: " + e + ")"
		}
		return "(not queried)"
	}
	if r.Caps != nil {
		line("Device", "%s: %s, firmware %s, hardware %s", r.Device, r.Caps.DeviceType, r.Caps.FirmwareInfo, r.Caps.HardwareInfo)
		line("Device ID", "%s", r.Caps.DeviceId)
		line("Capabilities", "%s; %s; up to %d sessions", r.Caps.DataClass, r.Caps.CellularClass, r.Caps.MaxSessions)
	} else {
		line("Device", "%s %s", r.Device, failed("device_caps"))
	}
	if r.DeviceMBIMEx != "" {
		line("MBIMEx", "%s (the modem supports %s)", r.MBIMEx, r.DeviceMBIMEx)
	} else {
		line("MBIMEx", "%s (not negotiated)", r.MBIMEx)
	}
	if s := r.sub; s != nil {
		parts := []string{s.ReadyState.String()}
		if s.SimICCID != "" {
			parts = append(parts, "ICCID "+s.SimICCID)
		}
		if s.SubscriberID != "" {
			parts = append(parts, "IMSI "+s.SubscriberID)
		}
		if len(s.TelephoneNumbers) > 0 {
			parts = append(parts, "number "+strings.Join(s.TelephoneNumbers, ", "))
		}
		line("SIM", "%s", strings.Join(parts, ", "))
	} else {
		line("SIM", "%s", failed("subscriber_ready_status"))
	}
	if p := r.PIN; p != nil {
		if p.PinState == basicconnect.PinStateLocked {
			attempts := ""
			if p.RemainingAttempts != 0xFFFFFFFF {
				attempts = fmt.Sprintf(", %d attempts left", p.RemainingAttempts)
			}
			line("PIN", "%s required%s (enter it: gombim basic-connect pin set PinType=%s PinOperation=enter Pin=NNNN)", p.PinType, attempts, p.PinType)
		} else {
			line("PIN", "%s", p.PinState)
		}
	} else {
		line("PIN", "%s", failed("pin"))
	}
	if rs := r.Radio; rs != nil {
		on := rs.HwRadioState == basicconnect.RadioSwitchStateOn && rs.SwRadioState == basicconnect.RadioSwitchStateOn
		state := "off"
		if on {
			state = "on"
		}
		line("Radio", "%s (hardware switch %s, software switch %s)", state, rs.HwRadioState, rs.SwRadioState)
	} else {
		line("Radio", "%s", failed("radio_state"))
	}
	if g := r.reg; g != nil {
		s := g.State.String()
		if g.ProviderName != "" || g.ProviderID != "" {
			s += fmt.Sprintf(" on %q (%s)", g.ProviderName, g.ProviderID)
		}
		if g.CurrentCellularClass != 0 {
			s += ", " + g.CurrentCellularClass.String()
		}
		if g.AvailableDataClasses != 0 {
			s += ", data classes " + g.AvailableDataClasses.String()
		}
		if g.NwError != 0 {
			s += ", network error " + g.NwError.String()
		}
		line("Registration", "%s", s)
	} else {
		line("Registration", "%s", failed("register_state"))
	}
	if sg := r.sig; sg != nil {
		s := "unknown"
		if dbm, ok := sg.DBm(); ok {
			s = fmt.Sprintf("%d dBm (RSSI %d/31)", dbm, sg.RSSI)
		}
		if sg.ErrorRate <= 7 {
			s += fmt.Sprintf(", error rate %d", sg.ErrorRate)
		}
		for _, x := range sg.RsrpSnr {
			s += "; " + x.SystemType.String()
			if x.Rsrp >= 1 && x.Rsrp <= 126 {
				s += fmt.Sprintf(" RSRP %d dBm", int(x.Rsrp)-157)
			}
			if x.Snr >= 1 && x.Snr <= 127 {
				s += fmt.Sprintf(" SNR %.1f dB", float64(x.Snr-1)/2-23)
			}
		}
		line("Signal", "%s", s)
	} else {
		line("Signal", "%s", failed("signal_state"))
	}
	if p := r.ps; p != nil {
		s := p.State.String()
		if p.UplinkSpeed != 0 || p.DownlinkSpeed != 0 {
			s += fmt.Sprintf(", up %s, down %s", bitrate(p.UplinkSpeed), bitrate(p.DownlinkSpeed))
		}
		line("Packet service", "%s", s)
	} else {
		line("Packet service", "%s", failed("packet_service"))
	}
	switch {
	case len(r.conns) == 0 && r.Errors["connect_session_0"] != "":
		line("Connections", "%s", failed("connect_session_0"))
	case len(r.conns) == 0:
		line("Connections", "none (connect with: gombim connect --apn APN)")
	}
	for i, c := range r.conns {
		label := ""
		if i == 0 {
			label = "Connections"
		}
		s := fmt.Sprintf("session %d: %s, %s, %s", c.SessionID, c.State, c.IPType, c.ContextType)
		if c.AccessString != "" {
			s += fmt.Sprintf(", APN %q", c.AccessString)
		}
		if ip := r.ips[c.SessionID]; ip != nil {
			var addrs []string
			for _, p := range append(append([]netip.Prefix(nil), ip.IPv4Addresses...), ip.IPv6Addresses...) {
				addrs = append(addrs, p.String())
			}
			if len(addrs) > 0 {
				s += "; " + strings.Join(addrs, ", ")
			}
		}
		if label == "" {
			fmt.Fprintf(&b, "%-16s %s\n", "", s)
		} else {
			line(label, "%s", s)
		}
	}
	return b.String()
}

// bitrate formats bits per second.
func bitrate(bps uint64) string {
	switch {
	case bps >= 1_000_000_000:
		return fmt.Sprintf("%.3g Gbit/s", float64(bps)/1e9)
	case bps >= 1_000_000:
		return fmt.Sprintf("%.3g Mbit/s", float64(bps)/1e6)
	case bps >= 1_000:
		return fmt.Sprintf("%.3g kbit/s", float64(bps)/1e3)
	}
	return fmt.Sprintf("%d bit/s", bps)
}

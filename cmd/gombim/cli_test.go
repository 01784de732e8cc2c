package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/sim"
	"github.com/gombim/gombim/transport"
)

// The command line run in-process against the built-in simulated modem
// (-d sim, or -d sim:FILE with a scenario).

// scenario writes a sim scenario file and returns "sim:PATH".
func scenario(t *testing.T, js string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return "sim:" + p
}

// liveSim serves a new simulated modem on a Unix socket until the end of
// the test and returns its path for -d. Once a host has set the modem's
// subscribe list (watch or monitor is listening), the signal changes to
// RSSI 3, then the radio goes off (a radio-state and a signal-state
// indication). The events follow the subscription: a timeline 100 ms
// after the start raced with opening and subscribing, and on a loaded
// machine watch missed the first event.
func liveSim(t *testing.T) string {
	t.Helper()
	m, err := sim.New(sim.DefaultScenario())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	// The modem logs each command as it takes it, locked: the events wait
	// until it has handled the subscribe list.
	m.SetLogger(func(format string, args ...any) {
		if strings.HasPrefix(fmt.Sprintf(format, args...), "<- set basic-connect device-service-subscribe-list ") {
			once.Do(func() {
				go func() {
					rssi := uint32(3)
					m.Inject(sim.Event{Type: "signal", RSSI: &rssi})
					m.Inject(sim.Event{Type: "radio-off"})
				}()
			})
		}
	})
	path := filepath.Join(t.TempDir(), "modem.sock")
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := m.StartUnix(ctx, path)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		wait()
	})
	return path
}

// fakeDiscovery makes discovery find the given modems (none without).
func fakeDiscovery(t *testing.T, devs ...transport.Device) {
	t.Helper()
	saved := discover
	t.Cleanup(func() { discover = saved })
	discover = func() ([]transport.Device, error) { return devs, nil }
}

const (
	pinLockedScenario = `{"sims":[{"state":"pin-locked","pin1":"1234","iccid":"89014103211118510720"}]}`
	dropScenario      = `{"faults":[{"kind":"drop","service":"basic-connect","cid":"radio-state"}]}`
	noSMSScenario     = `{"device_services":{"exclude":["sms"]}}`
)

func TestDeviceCommands(t *testing.T) {
	pinLocked := scenario(t, pinLockedScenario)
	filters := filepath.Join(t.TempDir(), "filters.json")
	os.WriteFile(filters, []byte(`[{"PacketFilter":"c0a80001","PacketMask":"ffffffff"}]`), 0o644)
	tests := []struct {
		name string
		args []string
		want []string // in stdout
		err  []string // in stderr
		code int
	}{
		{"status", []string{"-d", "sim", "status"}, []string{
			"Device:          sim: embedded, firmware SIM.01.02.03",
			"Device ID:       356938035643809",
			"MBIMEx:          4.0 (the modem supports 4.0)",
			"SIM:             initialized, ICCID 89014103211118510720, IMSI 001010123456789, number +15551234567",
			"PIN:             unlocked",
			"Radio:           on",
			`Registration:    home on "Test Network" (00101)`,
			"Signal:          -73 dBm (RSSI 20/31), error rate 0; lte RSRP -95 dBm SNR 12.0 dB",
			"Packet service:  attached, up 50 Mbit/s, down 150 Mbit/s",
			"Connections:     none",
		}, nil, exitOK},
		{"status options after", []string{"status", "--device", "sim", "--mbimex", "1.0"}, []string{"MBIMEx:          1.0"}, nil, exitOK},
		{"status pin locked", []string{"status", "-d", pinLocked}, []string{"SIM:             device-locked", "PIN:             pin1 required, 3 attempts left"}, nil, exitOK},
		{"connect", []string{"-d", "sim", "connect", "--apn", "internet"}, []string{
			"SIM:             ready (ICCID 89014103211118510720)",
			"Packet service:  attached",
			`Connected:       session 0, APN "internet", ipv4v6, internet`,
			"  IPv4 address:  10.64.0.2/30\n",
			"  IPv4 gateway:  10.64.0.1\n",
			"  IPv4 DNS:      10.64.0.10, 10.64.0.11\n",
			"  IPv4 MTU:      1500\n",
			"  IPv6 address:  2001:db8:64::2/64\n",
			"  IPv6 gateway:  2001:db8:64::1\n",
			"  IPv6 DNS:      2001:db8:64::10\n",
		}, nil, exitOK},
		{"connect session 2 ipv4", []string{"-d", "sim", "connect", "--apn", "internet", "--session", "2", "--ip-type", "ipv4"}, []string{`Connected:       session 2, APN "internet", ipv4, internet`, "IPv4 address:  10.64.0.4/30"}, nil, exitOK},
		{"connect with pin", []string{"-d", pinLocked, "connect", "--pin", "1234", "--apn", "internet"}, []string{"PIN:             entered", "IPv4 address:  10.64.0.2/30"}, nil, exitOK},
		{"connect mbimex 1", []string{"-d", "sim", "--mbimex", "1.0", "connect"}, []string{`Connected:       session 0, APN ""`}, nil, exitOK},
		{"disconnect", []string{"-d", "sim", "disconnect", "--session", "1"}, []string{"Disconnected:    session 1 (deactivated)"}, nil, exitOK},
		{"device-caps", []string{"-d", "sim", "basic-connect", "device-caps", "query"}, []string{"basic-connect device-caps query:\n  DeviceType:", `DeviceId:        "356938035643809"`}, nil, exitOK},
		{"alias register-state", []string{"-d", "sim", "register-state", "query"}, []string{"basic-connect register-state query (MBIMEx 2.0):\n", "RegisterState:        home"}, nil, exitOK},
		{"register-state v1", []string{"register-state", "query", "-d", "sim", "--mbimex", "1.0"}, []string{"basic-connect register-state query:\n", "RegisterState:        home"}, nil, exitOK},
		{"radio off", []string{"-d", "sim", "basic-connect", "radio-state", "set", "RadioState=off"}, []string{"SwRadioState: off"}, nil, exitOK},
		{"case-insensitive field", []string{"-d", "sim", "basic-connect", "radio-state", "set", "radiostate=OFF"}, []string{"SwRadioState: off"}, nil, exitOK},
		{"CID by number", []string{"-d", "sim", "basic-connect", "3", "query"}, []string{"basic-connect radio-state query:"}, nil, exitOK},
		{"modem logging", []string{"-d", "sim", "ms-basic-connect-extensions", "modem-logging-config", "set", "LevelConfig=lab-verbose", "MaxSegmentSize=64"}, []string{"MaxSegmentSize: 64", "LevelConfig:    lab-verbose"}, nil, exitOK},
		{"JSON object payload", []string{"-d", "sim", "ms-basic-connect-extensions", "modem-logging-config", "set", `{"LevelConfig":"lab-low","MaxSegmentSize":128}`, "MaxSegmentSize=32"}, []string{"MaxSegmentSize: 32", "LevelConfig:    lab-low"}, nil, exitOK},
		{"sys-caps", []string{"-d", "sim", "ms-basic-connect-extensions", "sys-caps", "query"}, []string{"NumberOfExecutors:"}, nil, exitOK},
		{"packet statistics", []string{"-d", "sim", "basic-connect", "packet-statistics", "query"}, []string{"basic-connect packet-statistics query:\n  InDiscards:"}, nil, exitOK},
		{"connect query", []string{"-d", "sim", "basic-connect", "connect", "query", "SessionId=0"}, []string{"ActivationState:", "deactivated"}, nil, exitOK},
		{"pin query", []string{"-d", "sim", "pin", "query"}, []string{"PinState:", "unlocked"}, nil, exitOK},
		{"firmware id", []string{"-d", "sim", "ms-firmware-id", "get", "query"}, []string{"FirmwareId: 4d8f2a1e-7c3b-4e5a-9d21-0f6b8c7a5e34"}, nil, exitOK},
		{"packet filters from a file", []string{"-d", "sim", "basic-connect", "ip-packet-filters", "set", "SessionId=0", "PacketFilters=@" + filters}, []string{"basic-connect ip-packet-filters set"}, nil, exitOK},
		{"flags value", []string{"-d", "sim", "--mbimex", "1.0", "basic-connect", "register-state", "set", "RegisterAction=automatic", "DataClass=lte|umts"}, []string{"RegisterState:"}, nil, exitOK},
		{"watch", []string{"-d", liveSim(t), "basic-connect", "signal-state", "watch", "--count", "1"}, []string{" basic-connect signal-state (MBIMEx 2.0):\n  Rssi:                   3\n"}, []string{"Watching basic-connect signal-state indications"}, exitOK},
		{"monitor", []string{"-d", liveSim(t), "monitor", "--count", "2"}, []string{"basic-connect signal-state", "basic-connect radio-state:\n  HwRadioState: on\n  SwRadioState: off\n"}, []string{"Monitoring indications"}, exitOK},
		{"verbose", []string{"-v", "-d", "sim", "basic-connect", "radio-state", "query"}, []string{"HwRadioState: on"}, []string{">>> send ", "<<< recv ", "    01000000 ", "command (transaction ", "CID: radio-state (3)"}, exitOK},

		// The modem says no: exit 1 with the status's name.
		{"wrong PIN", []string{"-d", pinLocked, "basic-connect", "pin", "set", "PinType=pin1", "PinOperation=enter", "Pin=0000"}, []string{"RemainingAttempts: 2"}, []string{"the modem answered failure"}, exitFailed},
		{"not connected", []string{"-d", "sim", "basic-connect", "ip-configuration", "query", "SessionId=0"}, nil, []string{"the modem answered context-not-activated; that session is not connected"}, exitFailed},
		{"unsupported service", []string{"-d", scenario(t, noSMSScenario), "sms", "configuration", "query"}, nil, []string{"the modem answered no-device-support; the modem does not support this command"}, exitFailed},
		{"connect pin locked", []string{"-d", pinLocked, "connect", "--apn", "internet"}, nil, []string{"the SIM is locked; give its PIN with --pin"}, exitFailed},
		{"connect wrong pin", []string{"-d", pinLocked, "connect", "--pin", "9999"}, nil, []string{"the SIM refused the PIN (2 attempts left)"}, exitFailed},

		// No answer: exit 4.
		{"timeout", []string{"-d", scenario(t, dropScenario), "--timeout", "300ms", "radio-state", "query"}, nil, []string{"basic-connect radio-state query: no answer from the modem within 300ms"}, exitTimeout},
		{"timeout in status", []string{"-d", scenario(t, dropScenario), "--timeout", "300ms", "status"}, []string{"Radio:           (unavailable: "}, []string{"no answer from the modem within 300ms"}, exitTimeout},

		// No device: exit 3.
		{"no such device", []string{"-d", "/nonexistent/cdc-wdm7", "status"}, nil, []string{"cannot open /nonexistent/cdc-wdm7", "gombim devices", "gombim -d sim status"}, exitDevice},
		{"not a socket", []string{"-d", "unix:/nonexistent/sock", "register-state", "query"}, nil, []string{"cannot open unix:/nonexistent/sock"}, exitDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := gombim(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q: stdout lacks %q:\n%s", tt.args, w, out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("%q: stderr lacks %q:\n%s", tt.args, w, errOut)
				}
			}
			if code != exitOK && !strings.Contains(errOut, "gombim") {
				t.Errorf("error without explanation: %q", errOut)
			}
		})
	}
}

// TestJSONOutput checks that --json prints valid JSON in the catalog's
// form for every kind of command.
func TestJSONOutput(t *testing.T) {
	for _, args := range [][]string{
		{"-d", "sim", "--json", "status"},
		{"--json", "-d", "sim", "connect", "--apn", "internet"},
		{"-d", "sim", "disconnect", "--json"},
		{"-d", "sim", "basic-connect", "register-state", "query", "--json"},
		{"-d", "sim", "--json", `{"RadioState":"off"}`, "radio-state", "set"},
		{"-d", "sim", "radio-state", "set", "--json", `{"RadioState":"off"}`},
		{"-d", liveSim(t), "--json", "basic-connect", "signal-state", "watch", "--count", "1"},
		{"-d", liveSim(t), "--json", "monitor", "--count", "2"},
		{"devices", "--json"},
	} {
		out, errOut, code := gombim(t, "", args...)
		if code != exitOK {
			t.Errorf("%q: exit %d: %s", args, code, errOut)
			continue
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		for _, l := range lines {
			var v any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Errorf("%q: invalid JSON %q: %v", args, l, err)
			}
		}
		switch args[len(args)-1] {
		case "status":
			var st map[string]json.RawMessage
			json.Unmarshal([]byte(out), &st)
			for _, k := range []string{"device", "mbimex", "device_caps", "subscriber_ready_status", "pin", "radio_state", "register_state", "signal_state", "packet_service", "connections"} {
				if _, ok := st[k]; !ok {
					t.Errorf("status --json lacks %q: %s", k, out)
				}
			}
			if !strings.Contains(out, `"RegisterState":"home"`) {
				t.Errorf("status --json: %s", out)
			}
		case "internet":
			var c struct {
				State string `json:"state"`
				IPv4  struct {
					Addresses []string `json:"addresses"`
					Gateway   string   `json:"gateway"`
				} `json:"ipv4"`
			}
			json.Unmarshal([]byte(out), &c)
			if c.State != "activated" || len(c.IPv4.Addresses) != 1 || c.IPv4.Addresses[0] != "10.64.0.2/30" || c.IPv4.Gateway != "10.64.0.1" {
				t.Errorf("connect --json: %s", out)
			}
		case "set":
			if !strings.Contains(out, `"cid":"radio-state","status":"none","fields":{"HwRadioState":"on","SwRadioState":"off"}`) {
				t.Errorf("radio-state set --json: %s", out)
			}
		case "query":
			if !strings.HasPrefix(out, `{"type":"command-done",`) || !strings.Contains(out, `"RegisterState":"home"`) {
				t.Errorf("register-state query --json: %s", out)
			}
		}
	}
}

// TestUsageErrors runs every usage error path: exit 2, nothing on stdout,
// and a message that says what to do.
func TestUsageErrors(t *testing.T) {
	fakeDiscovery(t)
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--bogus", "status"}, "unknown option --bogus before the command"},
		{[]string{"status", "--bogus"}, "gombim status: flag provided but not defined: -bogus"},
		{[]string{"status", "extra"}, `unexpected argument "extra"`},
		{[]string{"status", "--timeout", "soon"}, `invalid duration "soon"`},
		{[]string{"status", "--timeout", "-1s"}, "it must be positive"},
		{[]string{"status", "--mbimex", "9.0"}, `--mbimex 9.0: the highest MBIMEx version is 4.0`},
		{[]string{"status", "--mbimex", "x"}, `invalid MBIMEx version "x"`},
		{[]string{"-d", "sim", "--proxy", "status"}, "cannot be reached through a proxy"},
		{[]string{"-d", "sim:/nonexistent/scenario.json", "status"}, "-d sim:/nonexistent/scenario.json"},
		{[]string{"basic-connect"}, "give a CID and an operation"},
		{[]string{"basic-connect", "frob", "query"}, `unknown CID "frob" of basic-connect; the CIDs are: device-caps,`},
		{[]string{"basic-connect", "device-caps"}, "give an operation after device-caps: query"},
		{[]string{"basic-connect", "device-caps", "set"}, "basic-connect device-caps has no set; it supports: query"},
		{[]string{"basic-connect", "device-caps", "delete"}, `unknown operation "delete"`},
		{[]string{"basic-connect", "device-caps", "query", "Foo=1"}, "query: this request takes no fields"},
		{[]string{"basic-connect", "radio-state", "set"}, "set: give the fields to set (Field=Value ...)\nThe fields are:\n  RadioState  RadioSwitchState: off, on"},
		{[]string{"basic-connect", "radio-state", "set", "Foo=on"}, "set: unknown field \"Foo\"\nThe fields are:\n  RadioState  RadioSwitchState: off, on"},
		{[]string{"basic-connect", "radio-state", "set", "RadioState=maybe"}, `RadioState=maybe: unknown RadioSwitchState "maybe" (known: off, on)`},
		{[]string{"basic-connect", "radio-state", "set", "RadioState"}, `unexpected argument "RadioState": write fields as Field=Value`},
		{[]string{"basic-connect", "radio-state", "set", "{}", "{}"}, "give at most one JSON object"},
		{[]string{"basic-connect", "radio-state", "set", `{"Radio":1}`}, `the JSON object does not fit RadioStateSet: unknown field "Radio"`},
		{[]string{"basic-connect", "radio-state", "watch", "RadioState=on"}, "watch takes no fields"},
		{[]string{"basic-connect", "radio-state", "watch", "--count", "-1"}, "--count must not be negative"},
		{[]string{"ms-basic-connect-extensions", "modem-logging-config", "set", "MaxSegmentSize=big"}, "MaxSegmentSize=big: want an unsigned 32-bit number"},
		{[]string{"basic-connect", "ip-packet-filters", "set", "PacketFilters=[{"}, "PacketFilters=[{: want JSON"},
		{[]string{"basic-connect", "ip-packet-filters", "set", "PacketFilters=@/nonexistent.json"}, "give the path of a JSON file after @"},
		{[]string{"basic-connect", "connect", "set", "ContextType=nowhere"}, `unknown context type "nowhere"`},
		{[]string{"basic-connect", "ip-configuration", "query", "SessionId=-1"}, "SessionId=-1: want an unsigned 32-bit number"},
		{[]string{"at-command", "query"}, `"at-command" is a CID of several services; say which: gombim compal at-command`},
		{[]string{"connect", "query"}, "for the CONNECT CID itself use 'gombim basic-connect connect query'"},
		{[]string{"connect", "--auth", "kerberos"}, `unknown AuthProtocol "kerberos"`},
		{[]string{"connect", "--ip-type", "ipv5"}, `unknown ContextIpType "ipv5"`},
		{[]string{"connect", "--session", "4294967296"}, "--session 4294967296 is too large"},
		{[]string{"disconnect", "now"}, `unexpected argument "now"`},
		{[]string{"monitor", "all"}, `unexpected argument "all"`},
		{[]string{"monitor", "--count", "-2"}, "--count must not be negative"},
		{[]string{"devices", "x"}, `unexpected argument "x"`},
		{[]string{"completion"}, "give one shell: bash, zsh or fish"},
		{[]string{"completion", "tcsh"}, `unknown shell "tcsh"`},
		{[]string{"man", "x"}, `unexpected argument "x"`},
		{[]string{"help", "a", "b", "c"}, "too many arguments"},
	}
	for _, tt := range tests {
		out, errOut, code := gombim(t, "", tt.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.err)
		}
		if !strings.Contains(errOut, "Run 'gombim help") && !strings.Contains(errOut, "Run 'gombim") {
			t.Errorf("%q: the message does not say where the usage is: %q", tt.args, errOut)
		}
	}
}

// A usage error found only once the modem's MBIMEx version is known: a
// field of the 3.0 layout sent to a 1.0 modem.
func TestUsageErrorAfterNegotiation(t *testing.T) {
	out, errOut, code := gombim(t, "", "-d", "sim", "--mbimex", "1.0", "basic-connect", "connect", "set", "MediaPreference=3gpp")
	if code != exitUsage || out != "" || !strings.Contains(errOut, `set (at MBIMEx 1.0, the version agreed with the modem): unknown field "MediaPreference"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestDiscovery(t *testing.T) {
	fakeDiscovery(t)
	out, errOut, code := gombim(t, "", "status")
	if code != exitDevice || out != "" || !strings.Contains(errOut, "no MBIM modem found") || !strings.Contains(errOut, "gombim -d sim status") {
		t.Errorf("none: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = gombim(t, "", "devices")
	if code != exitOK || !strings.Contains(out, "No MBIM modem found") || !strings.Contains(out, "gombim -d sim status") {
		t.Errorf("devices, none: exit %d, %q", code, out)
	}
	out, _, code = gombim(t, "", "devices", "--json")
	if code != exitOK || out != "[]\n" {
		t.Errorf("devices --json, none: exit %d, %q", code, out)
	}

	two := []transport.Device{
		{Path: "/dev/cdc-wdm0", Kind: "cdc-wdm", Driver: "cdc_mbim", NetInterfaces: []string{"wwan0"}, Bus: "usb", VendorID: 0x1199, ProductID: 0x9071, USBPath: "2-3", Manufacturer: "Sierra Wireless", Product: "EM7455"},
		{Path: "/dev/wwan0mbim0", Kind: "wwan", Driver: "mhi-pci-generic", NetInterfaces: []string{"wwan1"}, Bus: "pci", PCISlot: "0000:01:00.0"},
	}
	fakeDiscovery(t, two...)
	out, errOut, code = gombim(t, "", "register-state", "query")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "2 MBIM modems found; choose one with -d:\n  gombim -d /dev/cdc-wdm0 ...   (Sierra Wireless EM7455, 1199:9071, cdc_mbim, net wwan0)\n  gombim -d /dev/wwan0mbim0 ...") {
		t.Errorf("two: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = gombim(t, "", "devices")
	for _, w := range []string{"PATH ", "/dev/cdc-wdm0    cdc-wdm  cdc_mbim", "wwan0", "usb 2-3", "1199:9071", "Sierra Wireless EM7455", "/dev/wwan0mbim0", "pci 0000:01:00.0"} {
		if code != exitOK || !strings.Contains(out, w) {
			t.Errorf("devices: exit %d, no %q in\n%s", code, w, out)
		}
	}
	out, _, _ = gombim(t, "", "devices", "--json")
	var got []transport.Device
	if err := json.Unmarshal([]byte(out), &got); err != nil || !reflect.DeepEqual(got, two) {
		t.Errorf("devices --json: %v\n%s", err, out)
	}

	// One modem: it is used. The fake path does not exist: exit 3.
	fakeDiscovery(t, transport.Device{Path: "/nonexistent/cdc-wdm3"})
	_, errOut, code = gombim(t, "", "status")
	if code != exitDevice || !strings.Contains(errOut, "cannot open /nonexistent/cdc-wdm3") {
		t.Errorf("one: exit %d, stderr %q", code, errOut)
	}
}

// TestOpenExchanges checks which queries follow OPEN: none for a CID whose
// layouts MBIMEx does not change (as mbimcli), DEVICE_SERVICES and VERSION
// when the version is negotiated, DEVICE_SERVICES where the command uses
// the modem's list.
func TestOpenExchanges(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string // the CIDs sent, in order
	}{
		{[]string{"basic-connect", "device-caps", "query"}, []string{"device-caps"}},
		{[]string{"radio-state", "set", "RadioState=on"}, []string{"radio-state"}},
		{[]string{"--mbimex", "1.0", "register-state", "query"}, []string{"register-state"}},
		{[]string{"register-state", "query"}, []string{"device-services", "version", "register-state"}},
		{[]string{"--mbimex", "2.0", "device-caps", "query"}, []string{"device-services", "version", "device-caps"}},
		{[]string{"radio-state", "watch", "--count", "1"}, []string{"device-service-subscribe-list", "device-service-subscribe-list"}},
		{[]string{"monitor", "--count", "1"}, []string{"device-services", "version", "device-service-subscribe-list"}},
	} {
		args := append([]string{"-v", "-d", liveSim(t)}, tt.args...)
		_, errOut, code := gombim(t, "", args...)
		if code != exitOK {
			t.Errorf("%q: exit %d: %s", tt.args, code, errOut)
			continue
		}
		var sent []string
		lines := strings.Split(errOut, "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, ">>> send ") {
				continue
			}
			for _, d := range lines[i+1:] {
				if strings.HasPrefix(d, ">>> ") || strings.HasPrefix(d, "<<< ") {
					break
				}
				if _, cid, ok := strings.Cut(d, "CID: "); ok {
					sent = append(sent, strings.Fields(cid)[0])
					break
				}
			}
		}
		if !reflect.DeepEqual(sent, tt.want) {
			t.Errorf("%q: sent %q, want %q", tt.args, sent, tt.want)
		}
	}
}

// TestInterrupt checks that watch ends with exit 0 when interrupted once
// it is watching, and with exit 130 when interrupted before (while the
// device is being opened).
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	// Interrupt once the command says it is watching: the device is open
	// and subscribed then, however long that took (a fixed delay is not
	// enough on a loaded machine, where opening may take longer).
	errOut := &signalWriter{want: "press Ctrl-C to stop", seen: make(chan struct{})}
	done := make(chan int)
	go func() { done <- run(ctx, []string{"-d", "sim", "signal-state", "watch"}, nil, &out, errOut) }()
	select {
	case <-errOut.seen:
	case code := <-done:
		t.Fatalf("watch ended by itself with exit %d: %s", code, errOut)
	case <-time.After(30 * time.Second):
		t.Fatalf("watch did not start: %s", errOut)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d: %s", code, errOut)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop when interrupted")
	}

	// Interrupted before it is watching.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	var errBuf bytes.Buffer
	if code := run(ctx, []string{"-d", "sim", "signal-state", "watch"}, nil, &out, &errBuf); code != exitInterrupted || !strings.Contains(errBuf.String(), "interrupted") {
		t.Errorf("interrupted while opening: exit %d, %q; want %d", code, errBuf.String(), exitInterrupted)
	}
}

// signalWriter collects what is written to it and closes seen when it
// contains want. It may be written from several goroutines.
type signalWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestEveryCIDHasAHelp checks the generated usage of every CID and the
// type description of every field of every request layout.
func TestEveryCIDHasAHelp(t *testing.T) {
	n := 0
	for _, s := range catalog.Services() {
		c := lookup(s.Name)
		if len(s.CIDs) == 0 {
			continue
		}
		if c == nil || c.Group != groupService {
			t.Errorf("service %s has no command", s.Name)
			continue
		}
		for i := range s.CIDs {
			cid := &s.CIDs[i]
			out, errOut, code := gombim(t, "", s.Name, cid.Name, "--help")
			if code != exitOK || errOut != "" || !strings.HasPrefix(out, "Usage: gombim "+s.Name+" "+cid.Name+" ") {
				t.Errorf("%s %s --help: exit %d, %q", s.Name, cid.Name, code, out)
			}
			if h, _, _ := gombim(t, "", "help", s.Name, cid.Name); h != out {
				t.Errorf("help %s %s differs from --help", s.Name, cid.Name)
			}
			for _, m := range cid.Messages {
				if m.New == nil {
					continue
				}
				for _, f := range fieldsOf(reflect.TypeOf(m.New())) {
					n++
					if d := describeType(f.typ); d == "" || strings.Contains(d, "main.") {
						t.Errorf("%s %s %s: type %v described as %q", s.Name, cid.Name, f.name, f.typ, d)
					}
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d fields seen", n)
	}
}

// TestEnumNames checks that the names of every enumeration and flag set
// can be listed (they come from the generated types' error messages).
func TestEnumNames(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t2 reflect.Type) {
		for t2.Kind() == reflect.Pointer || t2.Kind() == reflect.Slice {
			t2 = t2.Elem()
		}
		if seen[t2] {
			return
		}
		seen[t2] = true
		if t2.Kind() == reflect.Struct {
			for _, f := range fieldsOf(t2) {
				walk(f.typ)
			}
			return
		}
		if t2.PkgPath() != "" && strings.Contains(t2.PkgPath(), "/catalog/") && t2.Kind() >= reflect.Uint8 && t2.Kind() <= reflect.Uint64 {
			if e := enumOf(t2); e == nil || len(e.names) == 0 {
				t.Errorf("enumeration %v: no names found", t2)
			}
		}
	}
	for _, s := range catalog.Services() {
		for _, c := range s.CIDs {
			for _, m := range c.Messages {
				if m.New != nil {
					walk(reflect.TypeOf(m.New()))
				}
			}
		}
	}
}

// TestAliases checks that every CID name is either a command of its own,
// an alias of exactly one service, or reported as ambiguous.
func TestAliases(t *testing.T) {
	for _, s := range catalog.Services() {
		for _, c := range s.CIDs {
			svc, cands := resolveAlias(c.Name)
			switch {
			case svc != nil && cands != nil, svc == nil && len(cands) < 2:
				t.Errorf("%s: resolveAlias = %v, %v", c.Name, svc, cands)
			}
		}
	}
	if svc, _ := resolveAlias("register-state"); svc == nil || svc.Name != "basic-connect" {
		t.Errorf("register-state → %v", svc)
	}
	if svc, _ := resolveAlias("modem-logging-config"); svc == nil || svc.Name != "ms-basic-connect-extensions" {
		t.Errorf("modem-logging-config → %v", svc)
	}
}

func TestStatusHints(t *testing.T) {
	for st := mbim.Status(0); st < 60; st++ {
		if h := statusHint(st); h == "" {
			t.Errorf("%v: no hint", st)
		}
	}
	// Every error class has an explanation and the right code.
	g := &globalOptions{timeout: time.Second}
	c := lookup("status")
	for _, tt := range []struct {
		err  error
		code int
		want string
	}{
		{&mbim.StatusError{Status: mbim.StatusBusy}, exitFailed, "the modem answered busy; the modem is busy"},
		{context.DeadlineExceeded, exitTimeout, "no answer from the modem within 1s"},
		{context.Canceled, exitInterrupted, "interrupted"},
		{errors.New("boom"), exitDevice, "boom; run again with -v"},
		{&cliError{exitFailed, "told"}, exitFailed, "gombim status: told"},
	} {
		var b bytes.Buffer
		if code := reportError(c, &b, "x", tt.err, g); code != tt.code || !strings.Contains(b.String(), tt.want) {
			t.Errorf("%v: exit %d, %q", tt.err, code, b.String())
		}
	}
}

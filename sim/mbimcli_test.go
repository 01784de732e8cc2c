package sim

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog/mssar"
	"github.com/gombim/gombim/mbim"
)

// These tests drive the simulator with the real mbimcli (Debian's
// libmbim-utils 1.28) over a pty, as a modem's control port. mbimcli opens
// and closes the device on every run.

func mbimcliPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("mbimcli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mbimcli is required in CI (apt-get install libmbim-utils)")
		}
		t.Skip("mbimcli not installed (apt-get install libmbim-utils)")
	}
	return p
}

var (
	busyPTY    = regexp.MustCompile(`couldn't open the MbimDevice: Cannot open device file .*: Input/output error`)
	ptyRetries atomic.Int64
	logLine    = regexp.MustCompile(`^\[\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d\] `)
	// libmbim's own complaints about what it received: g_warning and
	// g_critical output, and parse failures.
	complaint = regexp.MustCompile(`(?i)\[warning\]|\[critical\]|-WARNING \*\*|-CRITICAL \*\*|couldn't parse|invalid (message|contents)|unexpected|malformed|truncated`)
)

// mbimcli runs mbimcli --verbose on link and returns what it prints
// without the debug log. It fails the test if libmbim complained about any
// message.
func mbimcli(t *testing.T, link string, args ...string) string {
	t.Helper()
	bin := mbimcliPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []byte
	for {
		cmd := exec.CommandContext(ctx, bin, append([]string{"-d", link, "--verbose"}, args...)...)
		out, _ = cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("mbimcli %s: timed out:\n%s", strings.Join(args, " "), out)
		}
		// The pty refuses opens (EIO) for the moment it takes to scrub
		// it after the previous client left (see transport.PTY); mbimcli
		// does not retry, so the test does, as a script would (for as
		// long as ctx lasts: the moment is longer on a loaded machine).
		if !busyPTY.Match(out) {
			break
		}
		ptyRetries.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if complaint.MatchString(l) {
			t.Errorf("mbimcli %s: libmbim complains: %s", strings.Join(args, " "), l)
		}
		if logLine.MatchString(l) || strings.HasPrefix(l, "<<<<<<") || strings.HasPrefix(l, ">>>>>>") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// step is one mbimcli run and what its output must contain.
type step struct {
	args []string
	want []string
	// check, if set, looks at the modem afterwards.
	check func(t *testing.T, m *Modem)
}

func run(t *testing.T, m *Modem, link string, steps []step) map[string]bool {
	t.Helper()
	actions := map[string]bool{}
	for _, s := range steps {
		out := mbimcli(t, link, s.args...)
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("mbimcli %s: output lacks %q:\n%s", strings.Join(s.args, " "), w, out)
			}
		}
		if s.check != nil {
			s.check(t, m)
		}
		for _, a := range s.args {
			if strings.HasPrefix(a, "--") && !strings.HasPrefix(a, "--device-open") && a != "--no-close" {
				actions[strings.SplitN(a, "=", 2)[0]] = true
				allActions.Store(strings.SplitN(a, "=", 2)[0], true)
			}
		}
	}
	return actions
}

func q(s string) string { return "'" + s + "'" }

// allActions collects the distinct mbimcli actions the tests ran.
var allActions sync.Map

// TestMain checks, after a full run with mbimcli installed, that the tests
// drove at least 40 distinct mbimcli actions (the acceptance criterion of
// the simulator).
func TestMain(m *testing.M) {
	code := m.Run()
	var n int
	var names []string
	allActions.Range(func(k, _ any) bool {
		n++
		names = append(names, k.(string))
		return true
	})
	if f := flag.Lookup("test.run"); code == 0 && n > 0 && f != nil && f.Value.String() == "" {
		slices.Sort(names)
		if testing.Verbose() {
			fmt.Printf("%d distinct mbimcli actions: %s\n", n, strings.Join(names, " "))
		}
		if n < 40 {
			fmt.Printf("FAIL: only %d distinct mbimcli actions ran, want at least 40\n", n)
			code = 1
		}
	}
	os.Exit(code)
}

func TestMbimcliBasicConnect(t *testing.T) {
	sc := DefaultScenario()
	m, link := startPTY(t, sc)
	d := sc.Device
	steps := []step{
		{args: []string{"--query-device-caps"}, want: []string{"Device ID: " + q(d.DeviceID), "Firmware info: " + q(d.Firmware),
			"Hardware info: " + q(d.Hardware), "Max sessions: '8'", "Data class: 'gprs, edge, umts, hsdpa, hsupa, lte'"}},
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'initialized'",
			"Subscriber ID: " + q(sc.SIMs[0].IMSI), "SIM ICCID: " + q(sc.SIMs[0].ICCID), "'+15551234567'"}},
		{args: []string{"--query-radio-state"}, want: []string{"Software radio state: 'on'"}},
		{args: []string{"--query-device-services"}, want: []string{"Service: 'basic-connect'", "Service: 'ms-basic-connect-extensions'",
			"Service: 'dss'", "Service: 'ms-firmware-id'", "[0ebb1ceb-af2d-484d-8df3-53bc51fd162c]", "DSS payload: 2", "Max DSS instances: 1",
			"connect (12)", "Max DSS sessions: '1'"}},
		{args: []string{"--query-pin-state"}, want: []string{"PIN state: 'unlocked'", "PIN type: 'pin1'", "Remaining attempts: '3'"}},
		{args: []string{"--query-pin-list"}, want: []string{"PIN1:", "Mode: 'disabled'", "Format: 'numeric'"}},
		{args: []string{"--query-home-provider"}, want: []string{"Provider ID: '00101'", "Provider name: 'Test Network'", "State: 'home, registered'"}},
		{args: []string{"--query-preferred-providers"}, want: []string{"Preferred providers (1)", "Provider ID: '00101'"}},
		{args: []string{"--query-visible-providers"}, want: []string{"Visible providers (3)", "Provider name: 'Partner Net'",
			"State: 'forbidden, visible'", "State: 'home, preferred, visible, registered'"}},
		{args: []string{"--query-registration-state"}, want: []string{"Register state: 'home'", "Provider ID: '00101'",
			"Register mode: 'automatic'", "Registration flags: 'packet-service-automatic-attach'"}},
		{args: []string{"--query-signal-state"}, want: []string{"RSSI [0-31,99]: '20'", "Error rate [0-7,99]: '0'"}},
		{args: []string{"--set-signal-state=signal-strength-interval=5,rssi-threshold=2,error-rate-threshold=3"},
			want: []string{"Signal strength interval: '5'", "RSSI threshold: '2'", "Error rate threshold: '3'"}},
		{args: []string{"--query-packet-service-state"}, want: []string{"Packet service state: 'attached'", "Uplink speed: '50000000 bps'"}},
		{args: []string{"--detach-packet-service"}, want: []string{"Successfully detached", "Packet service state: 'detached'"}},
		{args: []string{"--connect=access-string=internet"}, want: []string{"PacketServiceDetached"}},
		{args: []string{"--attach-packet-service"}, want: []string{"Successfully attached", "Packet service state: 'attached'"}},
		{args: []string{"--query-connection-state"}, want: []string{"Activation state: 'deactivated'"}},
		{args: []string{"--query-ip-configuration"}, want: []string{"ContextNotActivated"}},
		{args: []string{"--connect=access-string=internet,ip-type=ipv4v6"}, want: []string{"Successfully connected",
			"Activation state: 'activated'", "IP type: 'ipv4v6'", "Context type: 'internet'",
			"IP [0]: '10.64.0.2/30'", "IP [0]: '2001:db8:64::2/64'"}},
		{args: []string{"--query-ip-configuration"}, want: []string{"IPv4 configuration available: 'address, gateway, dns, mtu'",
			"IP [0]: '10.64.0.2/30'", "Gateway: '10.64.0.1'", "DNS [0]: '10.64.0.10'", "DNS [1]: '10.64.0.11'", "MTU: '1500'",
			"IP [0]: '2001:db8:64::2/64'", "Gateway: '2001:db8:64::1'", "DNS [0]: '2001:db8:64::10'"}},
		{args: []string{"--connect=session-id=1,access-string=ims,ip-type=ipv6,context-type=ims"}, want: []string{"Session ID: '1'",
			"IP type: 'ipv6'", "Context type: 'ims'", "IP [0]: '2001:db8:64::3/64'"}},
		{args: []string{"--query-ip-configuration=1"}, want: []string{"IP [0]: '2001:db8:64::3/64'"}},
		{args: []string{"--query-connection-state=1"}, want: []string{"Session ID: '1'", "Activation state: 'activated'"}},
		{args: []string{"--query-packet-statistics"}, want: []string{"Octets (in):"}, check: func(t *testing.T, m *Modem) {
			time.Sleep(20 * time.Millisecond)
			m.Lock()
			defer m.Unlock()
			if m.stats().inOctets == 0 {
				t.Error("packet statistics do not grow while connected")
			}
		}},
		{args: []string{"--ms-query-pco"}, want: []string{"PCO data type: 'complete'", "PCO data: '27 08 80 FF 00 04 00 F1 10 00'"}},
		{args: []string{"--set-ip-packet-filters=session-id=0,packet-filter=ff00ff00,packet-mask=ffffffff"},
			want: []string{"IP packet filters: (1)", "Packet filter : FF 00 FF 00"}},
		{args: []string{"--query-ip-packet-filters=0"}, want: []string{"IP packet filters: (1)", "Packet mask   : FF FF FF FF"}},
		{args: []string{"--disconnect=1"}, want: []string{"Successfully disconnected", "Activation state: 'deactivated'"}},
		{args: []string{"--disconnect"}, want: []string{"Successfully disconnected"}},
		{args: []string{"--query-ip-packet-filters=0"}, want: []string{"IP packet filters: (0)"}},
		{args: []string{"--set-radio-state=off"}, want: []string{"Software radio state: 'off'"}},
		{args: []string{"--query-radio-state"}, want: []string{"Hardware radio state: 'on'", "Software radio state: 'off'"}},
		{args: []string{"--query-registration-state"}, want: []string{"Register state: 'deregistered'"}},
		{args: []string{"--query-visible-providers"}, want: []string{"RadioPowerOff"}},
		{args: []string{"--query-signal-state"}, want: []string{"RSSI [0-31,99]: '99'"}},
		{args: []string{"--set-radio-state=on"}, want: []string{"Software radio state: 'on'"}},
		{args: []string{"--register-automatic"}, want: []string{"Successfully launched automatic registration", "Register state: 'home'"}},
		{args: []string{"--query-packet-service-state"}, want: []string{"Packet service state: 'attached'"}},
		{args: []string{"--query-provisioned-contexts"}, want: []string{"Provisioned contexts (2)", "Access string: 'internet'", "Context type: 'ims'"}},
		{args: []string{"--set-provisioned-contexts=context-id=3,context-type=internet,access-string=corp.example,auth=pap,username=u,password=p,compression=none,provider-id=00101"},
			want: []string{"Provisioned contexts (3)", "Access string: 'corp.example'", "Auth protocol: 'pap'"}},
		{args: []string{"--query-provisioned-contexts"}, want: []string{"Context ID 3:", "Username: 'u'"}},
		{args: []string{"--set-network-idle-hint=enabled"}, want: []string{"Network idle hint state: 'enabled'"}},
		{args: []string{"--query-network-idle-hint"}, want: []string{"Network idle hint state: 'enabled'"}},
		{args: []string{"--query-emergency-mode"}, want: []string{"Emergency mode: 'off'"}},
		// MBIM 1.0 has no emergency-mode set.
		{args: []string{"--set-emergency-mode=on"}, want: []string{"NoDeviceSupport"}},
		{args: []string{"--set-service-activation=0102"}, want: []string{"Service activation response received", "Network error: 'none'"}},
		{args: []string{"--ms-query-firmware-id"}, want: []string{"Firmware ID retrieved: " + q(d.FirmwareID.String())}},
		{args: []string{"--dss-connect=0ebb1ceb-af2d-484d-8df3-53bc51fd162c,1"}, want: []string{"Successfully connected"},
			check: func(t *testing.T, m *Modem) {
				if s := m.DSSSessions(); len(s) != 1 || s[0].Service != ModemFileTransfer || s[0].Session != 1 {
					t.Errorf("DSS sessions after connect: %v", s)
				}
			}},
		{args: []string{"--dss-connect=0ebb1ceb-af2d-484d-8df3-53bc51fd162c,2"}, want: []string{"DssInstanceLimit"}},
		{args: []string{"--dss-disconnect=0ebb1ceb-af2d-484d-8df3-53bc51fd162c,1"}, want: []string{"Successfully disconnected"},
			check: func(t *testing.T, m *Modem) {
				if s := m.DSSSessions(); len(s) != 0 {
					t.Errorf("DSS sessions after disconnect: %v", s)
				}
			}},
		{args: []string{"--dss-disconnect=0ebb1ceb-af2d-484d-8df3-53bc51fd162c,1"}, want: []string{"InvalidDeviceServiceOperation"}},
	}
	actions := run(t, m, link, steps)
	t.Logf("%d distinct Basic Connect/DSS/firmware ID actions", len(actions))
}

func TestMbimcliMSBasicConnectExtensions(t *testing.T) {
	sc := DefaultScenario()
	m, link := startPTY(t, sc)
	d := sc.Device
	steps := []step{
		{args: []string{"--ms-query-sys-caps"}, want: []string{"Number of executors: '1'", "Number of slots: '2'",
			fmt.Sprintf("Modem ID: '%d'", d.ModemID)}},
		// MBIMEx 1.0 session: MBIM_MS_DEVICE_CAPS_INFO_V2 layout.
		{args: []string{"--ms-query-device-caps"}, want: []string{"Device ID: " + q(d.DeviceID), "Executor Index: '0'"}},
		{args: []string{"--device-open-ms-mbimex-v2", "--ms-query-device-caps"}, want: []string{"Device ID: " + q(d.DeviceID)}},
		// MBIMEx 3.0: the V3 layout with band classes.
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-device-caps"}, want: []string{"LTE band class: '1, 3, 7, 20, 28'",
			"NR band class: '78'", "Device ID: " + q(d.DeviceID), "Firmware info: " + q(d.Firmware)}},
		{args: []string{"--ms-query-version=1.0,2.0"}, want: []string{"MBIM extended version : 2.00"}},
		{args: []string{"--ms-query-version=1.0,4.0"}, want: []string{"MBIM extended version : 4.00"}},
		{args: []string{"--ms-query-slot-info-status=0"}, want: []string{"Slot '0': 'state-active'"}},
		{args: []string{"--ms-query-slot-info-status=1"}, want: []string{"Slot '1': 'state-empty'"}},
		{args: []string{"--ms-query-device-slot-mappings"}, want: []string{"Executor '0': slot '0'"}},
		{args: []string{"--ms-set-device-slot-mappings=1"}, want: []string{"Executor '0': slot '1'"}},
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'sim-not-inserted'"}},
		{args: []string{"--ms-query-slot-info-status=0"}, want: []string{"Slot '0': 'state-off'"}},
		{args: []string{"--ms-set-device-slot-mappings=0"}, want: []string{"Executor '0': slot '0'"},
			check: func(t *testing.T, m *Modem) { waitRegistered(t, m) }},
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'initialized'"}},
		{args: []string{"--ms-query-lte-attach-configuration"}, want: []string{"Configuration 0:", "Roaming:       home",
			"Roaming:       non-partner", "Access string: internet"}},
		{args: []string{"--ms-query-lte-attach-info"}, want: []string{"v1.0 LTE attach info", "Attach state:  attached", "IP type:       ipv4v6"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-lte-attach-info"}, want: []string{"v3.0 LTE attach info",
			"Attach state:  attached", "Network error: none"}},
		{args: []string{"--ms-query-provisioned-contexts"}, want: []string{"Context ID 1:", "Roaming control: 'allow-all'", "Source: 'operator'"}},
		{args: []string{"--ms-set-provisioned-contexts=operation=default,context-type=internet,ip-type=ipv4,state=enabled,roaming-control=allow-all,media-type=all,source=user,auth=chap,compression=none,username=a,password=b,access-string=newapn"},
			want: []string{"Access string: 'newapn'", "Source: 'user'", "Auth protocol: 'chap'"}},
		{args: []string{"--query-provisioned-contexts"}, want: []string{"Access string: 'newapn'"}},
		{args: []string{"--ms-query-location-info-status"}, want: []string{"Location area code:  1234", "Tracking area code:  002345",
			"Cell ID:             001A2B3C"}},
		{args: []string{"--ms-query-base-stations-info"}, want: []string{"System type: lte", "LTE Serving cell:", "Provider id: 00101",
			"EARFCN: 1300", "RSRP: -95 dBm", "Neighboring LTE cells: 1"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-base-stations-info"}, want: []string{"System subtype: none",
			"Physical cell id: 101"}},
		// Not before MBIMEx 3.0.
		{args: []string{"--ms-query-registration-parameters"}, want: []string{"NoDeviceSupport"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-registration-parameters"}, want: []string{"MICO mode: disabled",
			"Default PDU activation: likely"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-set-registration-parameters=mico-mode=enabled,drx-cycle=64,ladn-info=requested,default-pdu-activation-hint=unlikely,re-register-if-needed=yes"},
			want: []string{"MICO mode: enabled", "DRX cycle: 64", "LADN information: requested", "Re-register if needed: yes"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-registration-parameters"}, want: []string{"MICO mode: enabled"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-modem-configuration"}, want: []string{"Status: 'completed'", "Name: 'generic-00101'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-wake-reason"}, want: []string{"Wake type: 'cid-indication'",
			"Service: 'a289cc33-bcbb-8b4f-b6b0-133ec2aae6df'"}},
		// MBIMEx 2.0 and 3.0 sessions of Basic Connect.
		{args: []string{"--device-open-ms-mbimex-v2", "--query-registration-state"}, want: []string{"Register state: 'home'"}},
		{args: []string{"--device-open-ms-mbimex-v2", "--query-signal-state"}, want: []string{"RSSI [0-31,99]: '20'", "RSRP: '-95 dBm'", "SNR: '12.0 dB'"}},
		{args: []string{"--device-open-ms-mbimex-v2", "--query-packet-service-state"}, want: []string{"Packet service state: 'attached'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--query-packet-service-state"}, want: []string{"Packet service state: 'attached'", "TAI PLMN MCC: '001'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--query-subscriber-ready-status"}, want: []string{"Ready state: 'initialized'",
			"Flags: 'sim-removability-known, sim-removable'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--connect=access-string=internet,ip-type=ipv4"}, want: []string{"Successfully connected",
			"IP type: 'ipv4'", "Access string: 'internet'", "IP [0]: '10.64.0.2/30'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--query-connection-state"}, want: []string{"Activation state: 'activated'", "Access string: 'internet'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--query-ip-packet-filters"}, want: []string{"IP packet filters: (0)"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--disconnect"}, want: []string{"Successfully disconnected"}},
	}
	actions := run(t, m, link, steps)
	t.Logf("%d distinct actions", len(actions))
}

func TestMbimcliPIN(t *testing.T) {
	sc := scenario(func(s *Scenario) {
		s.SIMs[0].State = SIMPINLocked
		s.SIMs[0].PIN1 = "1111"
		s.SIMs[0].PUK1 = "87654321"
	})
	m, link := startPTY(t, sc)
	steps := []step{
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'device-locked'", "SIM ICCID: " + q(sc.SIMs[0].ICCID)}},
		{args: []string{"--query-pin-state"}, want: []string{"PIN state: 'locked'", "PIN type: 'pin1'", "Remaining attempts: '3'"}},
		{args: []string{"--query-registration-state"}, want: []string{"Register state: 'deregistered'"}},
		{args: []string{"--connect=access-string=internet"}, want: []string{"PinRequired"}},
		{args: []string{"--enter-pin=0000"}, want: []string{"Failure"}},
		{args: []string{"--query-pin-state"}, want: []string{"Remaining attempts: '2'"}},
		{args: []string{"--enter-pin=1111"}, want: []string{"PIN operation successful", "PIN state: 'unlocked'", "Remaining attempts: '3'"}},
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'initialized'", "Subscriber ID: " + q(sc.SIMs[0].IMSI)}},
		{args: []string{"--change-pin=1111,2222"}, want: []string{"PIN operation successful"}},
		{args: []string{"--disable-pin=1111"}, want: []string{"Failure"}},
		{args: []string{"--disable-pin=2222"}, want: []string{"PIN operation successful"}},
		{args: []string{"--query-pin-list"}, want: []string{"Mode: 'disabled'"}},
		{args: []string{"--enable-pin=2222"}, want: []string{"PIN operation successful"}},
		{args: []string{"--query-pin-list"}, want: []string{"Mode: 'enabled'"}},
	}
	run(t, m, link, steps)

	// Three wrong PINs lock PIN1 behind the PUK: simulate a power cycle
	// into the locked state through the modem, then exhaust the PIN.
	m.Lock()
	m.activeSIM().state = SIMPINLocked
	m.Unlock()
	run(t, m, link, []step{
		{args: []string{"--enter-pin=0000"}, want: []string{"Failure"}},
		{args: []string{"--enter-pin=0000"}, want: []string{"Failure"}},
		{args: []string{"--enter-pin=0000"}, want: []string{"Failure"}},
		{args: []string{"--query-pin-state"}, want: []string{"PIN type: 'puk1'", "PIN state: 'locked'", "Remaining attempts: '10'"}},
		{args: []string{"--enter-puk=11111111,4444"}, want: []string{"Failure"}},
		{args: []string{"--query-pin-state"}, want: []string{"PIN type: 'puk1'", "Remaining attempts: '9'"}},
		{args: []string{"--enter-puk=87654321,4444"}, want: []string{"PIN operation successful", "PIN state: 'unlocked'"}},
		{args: []string{"--query-subscriber-ready-status"}, want: []string{"Ready state: 'initialized'"}},
		{args: []string{"--enter-pin=4444"}, want: []string{"PIN operation successful"}},
		{args: []string{"--register-automatic"}, want: []string{"Register state: 'home'"}},
	})
}

// A modem whose native MBIMEx is 2.0 answers a 3.0 host with 2.0, and
// libmbim then uses the 2.0 layouts.
func TestMbimcliNativeVersion(t *testing.T) {
	m, link := startPTY(t, scenario(func(s *Scenario) { s.MBIMEx = mbim.MBIMEx2 }))
	run(t, m, link, []step{
		{args: []string{"--ms-query-version=1.0,3.0"}, want: []string{"MBIM extended version : 2.00"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--ms-query-device-caps"}, want: []string{"Executor Index: '0'"}},
		{args: []string{"--device-open-ms-mbimex-v3", "--query-packet-service-state"}, want: []string{"Packet service state: 'attached'"}},
	})
	out := mbimcli(t, link, "--device-open-ms-mbimex-v3", "--ms-query-device-caps")
	if strings.Contains(out, "LTE band class") {
		t.Errorf("a 2.0 modem answered with the 3.0 device caps layout:\n%s", out)
	}
}

// The simulator survives a hundred mbimcli runs, each opening and closing
// the pty.
func TestMbimcliManyRuns(t *testing.T) {
	m, link := startPTY(t, nil)
	for i := 0; i < 100; i++ {
		arg := "--query-radio-state"
		want := "Software radio state: 'on'"
		if i%2 == 1 {
			arg, want = "--query-registration-state", "Register state: 'home'"
		}
		out := mbimcli(t, link, arg)
		if !strings.Contains(out, want) {
			t.Fatalf("run %d: %s lacks %q:\n%s", i, arg, want, out)
		}
	}
	t.Logf("100 runs; %d opens retried while the pty was being scrubbed (all runs so far)", ptyRetries.Load())
	_ = m
}

// waitRegistered waits until the modem has registered and attached again
// (after a SIM slot change, which takes the scenario's registration time).
func waitRegistered(t *testing.T, m *Modem) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		m.Lock()
		ok := m.registered() && m.attached()
		m.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the modem did not register again")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMbimcliPhonebook(t *testing.T) {
	m, link := startPTY(t, scenario(func(s *Scenario) {
		s.Phonebook = PhonebookConfig{MaxEntries: 10, MaxName: 12, Entries: []PhonebookEntry{
			{Index: 1, Name: "Voicemail", Number: "+15551230000"}, {Index: 4, Name: "Dr. Müller", Number: "+4930123456"}}}
	}))
	steps := []step{
		{args: []string{"--phonebook-query-configuration"}, want: []string{"Phonebook state: initialized", "Number of entries: 10",
			"used entries: 2", "max number length: 40", "max name : 12"}},
		{args: []string{"--phonebook-read-all"}, want: []string{"Successfully read phonebook entries (2)", "Entry index : 4",
			"Number: +4930123456", "Name: Dr. Müller"}},
		{args: []string{"--phonebook-read=1"}, want: []string{"entries (1)", "Name: Voicemail"}},
		{args: []string{"--phonebook-read=2"}, want: []string{"InvalidMemoryIndex"}},
		{args: []string{"--phonebook-write=Alice,+15550001111"}, want: []string{"Phonebook entry successfully written"}},
		{args: []string{"--phonebook-write=Bob,5551234,9"}, want: []string{"Phonebook entry successfully written"}},
		{args: []string{"--phonebook-write=A name far too long,5551234"}, want: []string{"ParameterTooLong"}},
		{args: []string{"--phonebook-read=2"}, want: []string{"Name: Alice", "Number: +15550001111"}},
		{args: []string{"--phonebook-read-all"}, want: []string{"entries (4)", "Entry index : 9", "Name: Bob"},
			check: func(t *testing.T, m *Modem) {
				if p := m.Phonebook(); len(p) != 4 || p[3] != (PhonebookEntry{9, "Bob", "5551234"}) {
					t.Errorf("phonebook %+v", p)
				}
			}},
		{args: []string{"--phonebook-delete=4"}, want: []string{"successfully deleted"}},
		{args: []string{"--phonebook-delete=4"}, want: []string{"InvalidMemoryIndex"}},
		{args: []string{"--phonebook-query-configuration"}, want: []string{"used entries: 3"}},
		{args: []string{"--phonebook-delete-all"}, want: []string{"successfully deleted"}},
		{args: []string{"--phonebook-read-all"}, want: []string{"entries (0)"}},
	}
	run(t, m, link, steps)
	// The phonebook is on the SIM: without one, there is none.
	m.Inject(Event{Type: "sim-removed"})
	run(t, m, link, []step{{args: []string{"--phonebook-query-configuration"}, want: []string{"SimNotInserted"}}})
}

func TestMbimcliUICC(t *testing.T) {
	sc := scenario(func(s *Scenario) {
		s.UICC.MaxChannels = 1
		s.UICC.APDUs = []UICCAPDU{{Command: "80CA9F7F00", Response: mustHex("9f7f0140019000")}}
	})
	m, link := startPTY(t, sc)
	usim := "application-id=A0000000871002FF49FF0589"
	steps := []step{
		{args: []string{"--ms-query-uicc-atr"}, want: []string{"response: 3B:9F:96:80:1F:C7:80:31:A0:73:BE:21:13:67:43:20:07:18:00:00:01:A5"}},
		{args: []string{"--ms-query-uicc-application-list"}, want: []string{"UICC applications: (2)", "Application 0: (active)",
			"Application type:        usim", "Application ID:          A0:00:00:00:87:10:02:FF:49:FF:05:89",
			"Application name:        USIM", "PIN key references:      01:81", "Application type:        isim"}},
		{args: []string{"--ms-set-uicc-open-channel=application-id=A0000000871004,channel-group=5"}, want: []string{"status: 144",
			"channel: 1", "response: 62:19:82:02:78:21:83:02:7F:FF:84:0C:A0:00:00:00:87:10:04"}},
		// One logical channel only: libmbim 1.28 does not know the MS
		// statuses, and prints their numbers.
		{args: []string{"--ms-set-uicc-open-channel=application-id=A0000000871002"}, want: []string{"0x87430001"}},
		{args: []string{"--ms-set-uicc-apdu=channel=1,command=80CA9F7F00"}, want: []string{"status: 144", "response: 9F:7F:01:40:01"}},
		{args: []string{"--ms-set-uicc-apdu=channel=1,command=00A4000C026F07"}, want: []string{"status: 33386"}}, // 6A 82: not in the ISIM
		{args: []string{"--ms-set-uicc-apdu=channel=1,secure-message=none,classbyte-type=inter-industry,command=00CB000000"},
			want: []string{"status: 109"}}, // 6D 00
		{args: []string{"--ms-set-uicc-apdu=channel=0,command=00A4080C047FFF6F07"}, want: []string{"status: 144"}},
		{args: []string{"--ms-set-uicc-apdu=channel=0,command=00B0000009"}, want: []string{"status: 144", "response: 08:09:10:10:10:32:54:76:98"}},
		{args: []string{"--ms-set-uicc-close-channel=channel-group=5"}, want: []string{"status: 144"}},
		{args: []string{"--ms-set-uicc-close-channel=channel=1"}, want: []string{"0x87430003"}},
		{args: []string{"--ms-query-uicc-file-status=" + usim + ",file-path=7FFF6F07"}, want: []string{"Status word 1: 144",
			"Status word 2: 0", "Structure: transparent", "Item size: 9", "Read: pin1", "Update: adm"}},
		{args: []string{"--ms-query-uicc-file-status=" + usim + ",file-path=3F002F00"}, want: []string{"Structure: linear",
			"Item count: 2", "Item size: 38"}},
		{args: []string{"--ms-query-uicc-file-status=" + usim + ",file-path=7FFF6F99"}, want: []string{"Status word 1: 106", "Status word 2: 130"}},
		{args: []string{"--ms-query-uicc-read-binary=" + usim + ",file-path=3F002FE2"}, want: []string{"Status word 1: 144",
			"Data: 98:10:14:30:12:11:81:15:70:02"}},
		{args: []string{"--ms-query-uicc-read-binary=" + usim + ",file-path=7FFF6FAD,read-offset=3,read-size=1"}, want: []string{"Data: 02"}},
		{args: []string{"--ms-query-uicc-read-record=" + usim + ",file-path=3F002F00,record-number=2"}, want: []string{"Status word 1: 144",
			"Data: 61:14:4F:0C:A0:00:00:00:87:10:04:FF:49:FF:05:89:50:04:49:53:49:4D:FF"}},
		{args: []string{"--ms-query-uicc-read-record=" + usim + ",file-path=3F002F00,record-number=3"}, want: []string{"Status word 1: 106",
			"Status word 2: 131"}},
		{args: []string{"--ms-query-uicc-terminal-capability"}, want: []string{"Terminal capability: (0)"}},
		// libmbim 1.28 reads each capability to the end of the buffer
		// (see catalog/libmbim_test.go): only where each one starts is
		// right.
		{args: []string{"--ms-set-uicc-terminal-capability=terminal-capability=A903830107,terminal-capability=A9028100"},
			want: []string{"Succesfully set terminal capability info"}},
		{args: []string{"--ms-query-uicc-terminal-capability"}, want: []string{"Terminal capability: (2)",
			"terminal capability      : A9:03:83:01:07", "terminal capability      : A9:02:81:00"}},
		{args: []string{"--ms-query-uicc-reset"}, want: []string{"pass through action: disabled"}},
		{args: []string{"--ms-set-uicc-open-channel=application-id=A0000000871002"}, want: []string{"channel: 1"}},
		{args: []string{"--ms-set-uicc-reset=enable"}, want: []string{"pass through action: enabled"}},
		{args: []string{"--ms-query-uicc-reset"}, want: []string{"pass through action: enabled"}},
		// The reset closed the channel.
		{args: []string{"--ms-set-uicc-apdu=channel=1,command=00F2000000"}, want: []string{"0x87430003"}},
		{args: []string{"--ms-set-uicc-reset=disable"}, want: []string{"pass through action: disabled"}},
	}
	run(t, m, link, steps)
}

func TestMbimcliSARATDSNITZAndReboot(t *testing.T) {
	sc := scenario(func(s *Scenario) {
		s.SAR = SARConfig{Mode: mssar.SarControlModeOs, Backoff: true, Antennas: 3, Indices: []uint32{1, 2, 3}, MaxBackoffIndex: 6}
		s.NITZ = NITZConfig{Offset: Duration(-36 * time.Hour), TimeZone: -300, DST: 60}
		s.Timings.Reset = Duration(100 * time.Millisecond)
	})
	m, link := startPTY(t, sc)
	steps := []step{
		{args: []string{"--ms-query-sar-config"}, want: []string{"Mode: os", "Backoff state: enabled", "Wi-Fi hardware state: integrated",
			"Config states: 3", "Antenna index: 2\n\t\t  Backoff index: 3"}},
		{args: []string{"--ms-set-sar-config=device,disabled,[{1,6},{2,0}]"}, want: []string{"Mode: device", "Backoff state: disabled",
			"Antenna index: 0\n\t\t  Backoff index: 1", "Antenna index: 1\n\t\t  Backoff index: 6", "Antenna index: 2\n\t\t  Backoff index: 0"}},
		{args: []string{"--ms-set-sar-config=os,enabled,[{0,7}]"}, want: []string{"InvalidParameters"}},
		{args: []string{"--ms-query-sar-config"}, want: []string{"Mode: device", "Antenna index: 1\n\t\t  Backoff index: 6"}},
		{args: []string{"--ms-query-transmission-status"}, want: []string{"notification: disabled", "status: inactive", "hysteresis timer: (3)"}},
		{args: []string{"--ms-set-transmission-status=enabled,1"}, want: []string{"notification: enabled", "hysteresis timer: (1)"}},
		{args: []string{"--connect=access-string=internet"}, want: []string{"Successfully connected"}},
		{args: []string{"--ms-query-transmission-status"}, want: []string{"notification: enabled", "status: active", "hysteresis timer: (1)"}},
		{args: []string{"--disconnect"}, want: []string{"Successfully disconnected"}},
		{args: []string{"--atds-query-signal"}, want: []string{"RSSI: -73 dBm", "BER: < 0.2%", "RSCP: unknown", "RSRQ: -10.00 dBm",
			"RSRP: -95 dBm", "RSSNR: 12 dB"}},
		{args: []string{"--atds-query-location"}, want: []string{"LAC: 1234", "TAC: 2345", "Cell ID: 1a2b3c"}},
		{args: []string{"--ms-query-nitz"}, want: []string{
			// libmbim prints the offset as the UINT32 of the specification:
			// -300 is 4294966996.
			"Time zone offset minutes: 4294966996", "Daylight saving time offset minutes: 60", "Data class: lte"}},
		{args: []string{"--ms-notify-host-shutdown"}, want: []string{"Successfully notified that host is shutting down"},
			check: func(t *testing.T, m *Modem) {
				if n := m.HostShutdowns(); n != 1 {
					t.Errorf("%d host shutdowns", n)
				}
			}},
		{args: []string{"--set-radio-state=off"}, want: []string{"Software radio state: 'off'"}},
		{args: []string{"--atds-query-signal"}, want: []string{"RSSI: unknown", "RSRP: unknown"}},
		{args: []string{"--ms-query-nitz"}, want: []string{"NotRegistered"}},
		// The reboot is a device reset: the device goes and comes back in
		// its power-up state (radio on, SAR as the scenario says). mbimcli
		// would close the device it asked to reboot, and time out.
		{args: []string{"--intel-modem-reboot", "--no-close"}, want: []string{"Successfully requested modem to reboot"},
			check: func(t *testing.T, m *Modem) { waitBack(t, m) }},
		{args: []string{"--query-radio-state"}, want: []string{"Software radio state: 'on'"}},
		{args: []string{"--ms-query-sar-config"}, want: []string{"Mode: os", "Antenna index: 1\n\t\t  Backoff index: 2"}},
	}
	run(t, m, link, steps)

	// The network time: the real clock 36 hours back, given in UTC.
	out := mbimcli(t, link, "--ms-query-nitz")
	want := m.NetworkTime()
	d := regexp.MustCompile(`Date: (\S+)\s+Time: (\S+)`).FindStringSubmatch(out)
	if d == nil {
		t.Fatalf("NITZ:\n%s", out)
	}
	got, err := time.Parse("02/01/2006 15:04:05", d[1]+" "+d[2])
	if err != nil || want.Sub(got).Abs() > 5*time.Second {
		t.Errorf("NITZ %s %s, network time %v (%v)", d[1], d[2], want.UTC(), err)
	}
}

// waitBack waits until the device is back after a device reset: served
// again (on a new pty, under the same link) by a connection made once the
// reset time was over.
func waitBack(t *testing.T, m *Modem) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m.Lock()
		back := m.host != nil && !m.host.since.Before(m.downTill)
		m.Unlock()
		if back {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the device did not come back after the reset")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Every service with handlers is advertised, with its CIDs.
func TestMbimcliDeviceServices(t *testing.T) {
	m, link := startPTY(t, nil)
	var want []string
	for _, s := range []string{"sms", "ussd", "phonebook", "stk", "auth", "ms-uicc-low-level-access", "ms-sar", "atds",
		"ms-voice-extensions", "intel-firmware-update", "ms-host-shutdown"} {
		want = append(want, "Service: "+q(s))
	}
	want = append(want, "open-channel (2)", "read-record (10)", "message-store-status (5)", "transmission-status (2)",
		"register-state (9)", "nitz (10)", "multicarrier-providers (24)",
		// libmbim 1.28 has no names for pin-info-ex2 and ue-policy.
		"unknown (14)", "unknown (20)")
	run(t, m, link, []step{{args: []string{"--query-device-services"}, want: want}})
}

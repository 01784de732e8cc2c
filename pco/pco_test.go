package pco

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// hx decodes a hex string in which spaces are allowed.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// ie wraps container bytes (hex) into a full IE: 27 <len> 80 <containers>.
func ie(t testing.TB, containers string) []byte {
	t.Helper()
	body := append([]byte{0x80}, hx(t, containers)...)
	return append([]byte{0x27, byte(len(body))}, body...)
}

func TestParseDecodedContainers(t *testing.T) {
	tests := []struct {
		name      string
		container string // one container, hex
		wantID    uint16
		wantName  string
		wantValue any
		wantText  string // Entry.String
	}{
		{"dns ipv4", "000d 04 08080404", 0x000D, "dns-server-ipv4", netip.MustParseAddr("8.8.4.4"), "0x000d dns-server-ipv4: 8.8.4.4"},
		{"dns ipv6", "0003 10 20014860486000000000000000008888", 0x0003, "dns-server-ipv6", netip.MustParseAddr("2001:4860:4860::8888"), "0x0003 dns-server-ipv6: 2001:4860:4860::8888"},
		{"pcscf ipv4", "000c 04 0a000001", 0x000C, "pcscf-ipv4", netip.MustParseAddr("10.0.0.1"), "0x000c pcscf-ipv4: 10.0.0.1"},
		{"pcscf ipv6", "0001 10 fd000000000000000000000000000001", 0x0001, "pcscf-ipv6", netip.MustParseAddr("fd00::1"), "0x0001 pcscf-ipv6: fd00::1"},
		{"dsmipv6 home agent", "0007 10 20010db8000000000000000000000001", 0x0007, "dsmipv6-home-agent-ipv6", netip.MustParseAddr("2001:db8::1"), "0x0007 dsmipv6-home-agent-ipv6: 2001:db8::1"},
		{"dsmipv6 ipv4 home agent", "0009 04 c0000201", 0x0009, "dsmipv6-home-agent-ipv4", netip.MustParseAddr("192.0.2.1"), "0x0009 dsmipv6-home-agent-ipv4: 192.0.2.1"},
		{"dsmipv6 home network prefix", "0008 11 20010db8000100000000000000000000 30", 0x0008, "dsmipv6-home-network-prefix", netip.MustParsePrefix("2001:db8:1::/48"), "0x0008 dsmipv6-home-network-prefix: 2001:db8:1::/48"},
		{"ipv4 link mtu", "0010 02 05dc", 0x0010, "ipv4-link-mtu", MTU(1500), "0x0010 ipv4-link-mtu: 1500"},
		{"non-ip link mtu", "0015 02 0578", 0x0015, "non-ip-link-mtu", MTU(1400), "0x0015 non-ip-link-mtu: 1400"},
		{"ethernet mtu", "0020 02 05ee", 0x0020, "ethernet-frame-payload-mtu", MTU(1518), "0x0020 ethernet-frame-payload-mtu: 1518"},
		{"unstructured mtu", "0021 02 0100", 0x0021, "unstructured-link-mtu", MTU(256), "0x0021 unstructured-link-mtu: 256"},
		{"policy control rejection code", "0004 01 07", 0x0004, "policy-control-rejection-code", RejectionCode(7), "0x0004 policy-control-rejection-code: 7"},
		{"bearer control ms only", "0005 01 01", 0x0005, "bearer-control-mode", BearerControlMSOnly, "0x0005 bearer-control-mode: ms-only"},
		{"bearer control ms/nw", "0005 01 02", 0x0005, "bearer-control-mode", BearerControlMSAndNetwork, "0x0005 bearer-control-mode: ms-and-network"},
		{"bearer control unknown", "0005 01 09", 0x0005, "bearer-control-mode", BearerControlMode(9), "0x0005 bearer-control-mode: unknown(9)"},
		{"msisdn international", "000e 07 91515521436 5f7", 0x000E, "msisdn",
			&MSISDN{HasHeader: true, TypeOfNumber: 1, NumberingPlan: 1, Digits: "15551234567"}, "0x000e msisdn: +15551234567"},
		{"msisdn even digits", "000e 03 81 2143", 0x000E, "msisdn",
			&MSISDN{HasHeader: true, TypeOfNumber: 0, NumberingPlan: 1, Digits: "1234"}, "0x000e msisdn: 1234"},
		{"msisdn bare tbcd", "000e 02 2143", 0x000E, "msisdn", &MSISDN{Digits: "1234"}, "0x000e msisdn: 1234"},
		{"verizon provisioned", "ff00 04 130184 00", 0xFF00, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{0}, Meaning: VerizonProvisioned.String()},
			"0xff00 operator-specific: mcc 311 mnc 480 value 00 (provisioned: subscription active, no restriction)"},
		{"verizon out of data", "ff00 04 130184 03", 0xFF00, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{3}, Meaning: VerizonOutOfData.String()},
			"0xff00 operator-specific: mcc 311 mnc 480 value 03 (out of data: allowance used up, data blocked)"},
		{"verizon unprovisioned", "ff00 04 130184 05", 0xFF00, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{5}, Meaning: VerizonUnprovisioned.String()},
			"0xff00 operator-specific: mcc 311 mnc 480 value 05 (not provisioned: activation required)"},
		{"verizon unknown state", "ff00 04 130184 07", 0xFF00, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{7}, Meaning: "unknown Verizon state 7"},
			"0xff00 operator-specific: mcc 311 mnc 480 value 07 (unknown Verizon state 7)"},
		{"verizon plmn in another container", "ff01 04 130184 05", 0xFF01, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{5}},
			"0xff01 operator-specific: mcc 311 mnc 480 value 05"},
		{"verizon plmn two-octet value", "ff00 05 130184 0500", 0xFF00, "operator-specific",
			&OperatorSpecific{MCC: "311", MNC: "480", Value: []byte{5, 0}},
			"0xff00 operator-specific: mcc 311 mnc 480 value 05 00"},
		{"operator two-digit mnc", "ffff 05 62f210 abcd", 0xFFFF, "operator-specific",
			&OperatorSpecific{MCC: "262", MNC: "01", Value: []byte{0xab, 0xcd}},
			"0xffff operator-specific: mcc 262 mnc 01 value ab cd"},
		{"operator plmn only", "ff10 03 62f210", 0xFF10, "operator-specific",
			&OperatorSpecific{MCC: "262", MNC: "01", Value: []byte{}},
			"0xff10 operator-specific: mcc 262 mnc 01 value (empty)"},
		{"dns request", "000d 00", 0x000D, "dns-server-ipv4", nil, "0x000d dns-server-ipv4: (empty)"},
		{"ipv4 mtu request", "0010 00", 0x0010, "ipv4-link-mtu", nil, "0x0010 ipv4-link-mtu: (empty)"},
		{"im cn flag", "0002 00", 0x0002, "im-cn-signaling-flag", nil, "0x0002 im-cn-signaling-flag: (empty)"},
		{"nbifom mode raw", "0014 01 01", 0x0014, "nbifom-mode", nil, "0x0014 nbifom-mode: 01"},
		{"pap raw", "c023 06 0100000600 00", 0xC023, "pap", nil, "0xc023 pap: 01 00 00 06 00 00"},
		{"ipcp raw", "8021 0a 0301000a81060000 0000", 0x8021, "ipcp", nil, "0x8021 ipcp: 03 01 00 0a 81 06 00 00 00 00"},
		{"unknown id", "0099 01 aa", 0x0099, "unknown", nil, "0x0099 unknown: aa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(ie(t, tc.container))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !p.HasIEI || !p.Extension || p.ConfigurationProtocol != 0 {
				t.Errorf("header = %+v", p)
			}
			if len(p.Entries) != 1 {
				t.Fatalf("got %d entries, want 1", len(p.Entries))
			}
			e := p.Entries[0]
			if e.ID != tc.wantID {
				t.Errorf("ID = 0x%04x, want 0x%04x", e.ID, tc.wantID)
			}
			if e.Name() != tc.wantName {
				t.Errorf("Name = %q, want %q", e.Name(), tc.wantName)
			}
			if got := e.Value(); !reflect.DeepEqual(got, tc.wantValue) {
				t.Errorf("Value = %#v, want %#v", got, tc.wantValue)
			}
			if got := e.String(); got != tc.wantText {
				t.Errorf("String = %q, want %q", got, tc.wantText)
			}
		})
	}
}

func TestMalformedContents(t *testing.T) {
	tests := []struct {
		name    string
		e       Entry
		wantErr string
	}{
		{"dns ipv4 short", Entry{ID: 0x000D, Contents: hx(t, "080808")}, "dns-server-ipv4 (0x000d): want 4 octets, got 3"},
		{"dns ipv6 short", Entry{ID: 0x0003, Contents: hx(t, "20014860")}, "dns-server-ipv6 (0x0003): want 16 octets, got 4"},
		{"mtu long", Entry{ID: 0x0010, Contents: hx(t, "05dc00")}, "ipv4-link-mtu (0x0010): want 2 octets, got 3"},
		{"bearer control long", Entry{ID: 0x0005, Contents: hx(t, "0102")}, "want 1 octets, got 2"},
		{"rejection code long", Entry{ID: 0x0004, Contents: hx(t, "0102")}, "want 1 octets, got 2"},
		{"prefix length too big", Entry{ID: 0x0008, Contents: hx(t, "20010db8000100000000000000000000 81")}, "prefix length 129 exceeds 128"},
		{"prefix short", Entry{ID: 0x0008, Contents: hx(t, "20010db8")}, "want 17 octets, got 4"},
		{"operator too short", Entry{ID: 0xFF00, Contents: hx(t, "1301")}, "PLMN needs 3 octets, have 2"},
		{"operator bad bcd", Entry{ID: 0xFF00, Contents: hx(t, "1a0184 05")}, "nibble 0xa is not a decimal digit"},
		{"msisdn filler low", Entry{ID: 0x000E, Contents: hx(t, "91 1f")}, "filler nibble in the low half"},
		{"msisdn filler early", Entry{ID: 0x000E, Contents: hx(t, "91 f1 21")}, "filler nibble before the last digit octet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.e.Decode()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tc.wantErr)
			}
			if v != nil || tc.e.Value() != nil {
				t.Errorf("malformed contents decoded to %#v", v)
			}
			if s := tc.e.String(); !strings.Contains(s, "(malformed: ") {
				t.Errorf("String = %q, want a malformed note", s)
			}
		})
	}
}

func TestVerizonPCOBytes(t *testing.T) {
	// 27 IEI, 08 length, 80 ext + PPP, ff00 container, 04 length,
	// 13 01 84 = MCC 311 / MNC 480, 05 = not provisioned.
	want := []byte{0x27, 0x08, 0x80, 0xFF, 0x00, 0x04, 0x13, 0x01, 0x84, 0x05}

	got, err := New(VerizonSubscription(VerizonUnprovisioned)).Marshal(true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal = % x, want % x", got, want)
	}

	p, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	state, ok := p.Verizon()
	if !ok || state != VerizonUnprovisioned {
		t.Errorf("Verizon() = %v, %v; want %v, true", state, ok, VerizonUnprovisioned)
	}

	// Value part only, as some callers strip the IEI.
	p, err = Parse(want[2:])
	if err != nil {
		t.Fatal(err)
	}
	if p.HasIEI {
		t.Error("HasIEI set for a value-part buffer")
	}
	if state, ok := p.Verizon(); !ok || state != VerizonUnprovisioned {
		t.Errorf("value part: Verizon() = %v, %v", state, ok)
	}

	for _, notVerizon := range []string{
		"ff00 04 62f210 05",   // other PLMN
		"ff01 04 130184 05",   // other container
		"ff00 05 130184 0500", // value not one octet
		"000d 04 13018405",    // not operator specific
		"ff00 02 1301",        // malformed
	} {
		p, err := Parse(ie(t, notVerizon))
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := p.Verizon(); ok {
			t.Errorf("%s: Verizon() = %v, true; want false", notVerizon, s)
		}
	}
}

func TestPLMN(t *testing.T) {
	tests := []struct {
		mcc, mnc string
		want     string
	}{
		{"311", "480", "130184"},
		{"262", "01", "62f210"},
		{"001", "01", "00f110"},
		{"310", "260", "130062"},
		{"999", "999", "999999"},
	}
	for _, tc := range tests {
		got, err := EncodePLMN(tc.mcc, tc.mnc)
		if err != nil {
			t.Fatalf("EncodePLMN(%s, %s): %v", tc.mcc, tc.mnc, err)
		}
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("EncodePLMN(%s, %s) = %x, want %s", tc.mcc, tc.mnc, got, tc.want)
		}
		mcc, mnc, err := DecodePLMN(got[:])
		if err != nil || mcc != tc.mcc || mnc != tc.mnc {
			t.Errorf("DecodePLMN(%x) = %s, %s, %v", got, mcc, mnc, err)
		}
	}
	for _, bad := range [][2]string{{"31", "480"}, {"3111", "480"}, {"31a", "480"}, {"311", "4"}, {"311", "4800"}, {"311", "4x0"}} {
		if _, err := EncodePLMN(bad[0], bad[1]); err == nil {
			t.Errorf("EncodePLMN(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	if _, _, err := DecodePLMN([]byte{0x13, 0x01}); err == nil {
		t.Error("DecodePLMN of 2 octets succeeded")
	}
	if _, _, err := DecodePLMN([]byte{0x13, 0x0f, 0x84}); err == nil {
		t.Error("DecodePLMN with MCC digit 0xf succeeded")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name        string
		in          []byte
		want        string // substring of the error
		sentinel    error
		wantEntries int
	}{
		{"empty", nil, "pco: buffer at offset 0: empty", ErrEmpty, 0},
		{"iei only", []byte{0x27}, "pco: IEI length at offset 1: missing", ErrTruncated, 0},
		{"iei length zero", []byte{0x27, 0x00}, "pco: configuration octet at offset 2: missing", ErrTruncated, 0},
		{"iei length too long", hx(t, "27 09 80 000d 04 08080808"), "pco: IEI length at offset 1: says 9 octets follow but only 8 do", ErrIEILength, 1},
		{"iei length too short", hx(t, "27 01 80 000d 04 08080808"), "pco: IEI length at offset 1: says 1 octets follow but 8 do (7 trailing bytes ignored)", ErrIEILength, 0},
		{"iei length beyond max", append([]byte{0x27, 252, 0x80, 0xff, 0x00, 248}, make([]byte, 248)...), "pco: IEI length at offset 1: 252 exceeds the maximum of 251", ErrTooLong, 1},
		{"extension bit missing", hx(t, "00 000d 04 08080808"), "pco: configuration octet at offset 0: extension bit (bit 8) not set in 0x00", ErrExtensionBit, 1},
		{"extension bit missing in ie", hx(t, "27 01 07"), "pco: configuration octet at offset 2: extension bit (bit 8) not set in 0x07", ErrExtensionBit, 0},
		{"one byte of identifier", hx(t, "80 00"), "pco: container 1 at offset 1: truncated identifier (1 byte left", ErrTruncated, 0},
		{"no length octet", hx(t, "80 000d"), "pco: container 1 (id 0x000d) at offset 1: length octet missing", ErrTruncated, 0},
		{"container beyond buffer", hx(t, "27 0c 80 0001 00 0002 00 000d 04 0808"), "pco: container 3 (id 0x000d) at offset 9: length 4 beyond end of buffer (2 bytes left)", ErrTruncated, 2},
		{"container beyond ie length", hx(t, "27 05 80 0010 02 05 dc"), "pco: container 1 (id 0x0010) at offset 3: length 2 beyond end of buffer (1 bytes left)", ErrTruncated, 0},
		{"second container truncated", hx(t, "80 000d 04 08080808 ff00 04 1301"), "pco: container 2 (id 0xff00) at offset 8: length 4 beyond end of buffer (2 bytes left)", ErrTruncated, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.in)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if p == nil {
				t.Fatal("Parse returned a nil PCO")
			}
			if len(p.Entries) != tc.wantEntries {
				t.Errorf("got %d partial entries, want %d: %v", len(p.Entries), tc.wantEntries, p.Entries)
			}
		})
	}
}

func TestParseErrorFieldsAndPartialResult(t *testing.T) {
	// Missing extension bit and a truncated second container: both are
	// reported and the first container survives.
	in := hx(t, "27 0d 00 000d 04 0a000001 000c 04 0a00")
	p, err := Parse(in)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	if !errors.Is(err, ErrExtensionBit) || !errors.Is(err, ErrTruncated) {
		t.Errorf("error %q should carry both ErrExtensionBit and ErrTruncated", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "configuration octet" || pe.Offset != 2 {
		t.Errorf("first ParseError = %+v", pe)
	}
	var last *ParseError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if errors.As(e, &last) && last.Field == "container" {
			break
		}
	}
	if last == nil || last.Index != 2 || last.Offset != 10 || !last.HasID || last.ID != 0x000C || last.Detail != "length 4 beyond end of buffer (2 bytes left)" {
		t.Errorf("container ParseError = %+v", last)
	}
	if len(p.Entries) != 1 || p.DNSServers()[0] != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("partial result = %v", p.Entries)
	}
	if !p.HasIEI || p.Extension {
		t.Errorf("header = %+v", p)
	}
}

func TestParseCopiesContents(t *testing.T) {
	in := ie(t, "000d 04 08080808")
	p, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	in[len(in)-1] = 0x09
	if got := p.Entries[0].Value(); got != netip.MustParseAddr("8.8.8.8") {
		t.Errorf("entry aliases the input buffer: %v", got)
	}
}

func TestConfigurationOctet(t *testing.T) {
	// Bits 5-7 are spare and ignored; bits 1-3 are the protocol.
	p, err := Parse([]byte{0xF5})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Extension || p.ConfigurationProtocol != 5 || p.HasIEI || len(p.Entries) != 0 {
		t.Errorf("got %+v", p)
	}
	if s := p.String(); !strings.Contains(s, "configuration protocol 5 unknown") {
		t.Errorf("String = %q", s)
	}
}

func TestRoundTrip(t *testing.T) {
	dns4, _ := DNSServer(netip.MustParseAddr("192.0.2.53"))
	dns6, _ := DNSServer(netip.MustParseAddr("2001:db8::53"))
	pcscf, _ := PCSCF(netip.MustParseAddr("198.51.100.7"))
	msisdn, _ := MSISDNContainer("+4915112345678")
	op, _ := OperatorSpecificContainer(0xFF42, "262", "01", []byte("hello"))
	p := New(
		Entry{ID: ProtocolIPCP, Contents: hx(t, "0301000a8106c0000235")},
		dns4, dns6, pcscf,
		IPv4LinkMTU(1430), NonIPLinkMTU(1358),
		SelectedBearerControlMode(BearerControlMSAndNetwork),
		msisdn, op,
		VerizonSubscription(VerizonOutOfData),
		Request(ContainerIMCNSignalingFlag),
	)
	for _, withIEI := range []bool{true, false} {
		b, err := p.Marshal(withIEI)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", withIEI, err)
		}
		if withIEI && (b[0] != IEI || int(b[1]) != len(b)-2 || b[2] != 0x80) {
			t.Errorf("Marshal(true) header = % x", b[:3])
		}
		if !withIEI && b[0] != 0x80 {
			t.Errorf("Marshal(false) starts with %#x", b[0])
		}
		q, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(%v)): %v", withIEI, err)
		}
		want := *p
		want.HasIEI = withIEI
		want.Entries = normalize(p.Entries)
		if !reflect.DeepEqual(*q, want) {
			t.Errorf("withIEI=%v: round trip\n got %v\nwant %v", withIEI, q, &want)
		}
	}

	b, _ := p.Marshal(true)
	q, _ := Parse(b)
	if got := q.DNSServers(); !reflect.DeepEqual(got, []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")}) {
		t.Errorf("DNSServers = %v", got)
	}
	if got := q.PCSCFAddresses(); !reflect.DeepEqual(got, []netip.Addr{netip.MustParseAddr("198.51.100.7")}) {
		t.Errorf("PCSCFAddresses = %v", got)
	}
	if e, ok := q.Find(ContainerIPv4LinkMTU); !ok || e.Value() != MTU(1430) {
		t.Errorf("Find(ipv4 mtu) = %v, %v", e, ok)
	}
	if e, ok := q.Find(ContainerMSISDN); !ok || e.Value().(*MSISDN).String() != "+4915112345678" {
		t.Errorf("Find(msisdn) = %v, %v", e, ok)
	}
	if _, ok := q.Find(0x1234); ok {
		t.Error("Find(0x1234) found something")
	}
	if s, ok := q.Verizon(); !ok || s != VerizonOutOfData {
		t.Errorf("Verizon() = %v, %v", s, ok)
	}
}

// normalize makes empty contents non-nil, as Parse returns them.
func normalize(in []Entry) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		out[i] = Entry{ID: e.ID, Contents: append([]byte{}, e.Contents...)}
	}
	return out
}

func TestMarshalErrors(t *testing.T) {
	big := func(n int) Entry { return Entry{ID: 0xFF00, Contents: make([]byte, n)} }
	tests := []struct {
		name    string
		p       *PCO
		withIEI bool
		want    string
	}{
		{"extension clear", &PCO{Entries: []Entry{Request(0x000D)}}, true, "extension bit must be set"},
		{"protocol too big", &PCO{Extension: true, ConfigurationProtocol: 8}, false, "configuration protocol 8 does not fit in 3 bits"},
		{"contents over 255", New(Request(0x000D), big(256)), false, "container 2 (id 0xff00): contents are 256 bytes, maximum is 255"},
		{"ie over 253", New(big(248)), true, "IE would be 254 octets, maximum with IEI and length is 253"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal(tc.withIEI)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Marshal = % x, %v; want error containing %q", b, err, tc.want)
			}
		})
	}

	// Boundaries: 247 octets of contents make a 253-octet IE; without the
	// IEI the size limit does not apply.
	b, err := New(big(247)).Marshal(true)
	if err != nil || len(b) != MaxIELength || b[1] != MaxValueLength {
		t.Errorf("247-octet container: len %d, err %v", len(b), err)
	}
	if _, err := New(big(248)).Marshal(false); err != nil {
		t.Errorf("value part of 252 octets: %v", err)
	}
	if _, err := New(big(255), big(255)).Marshal(false); err != nil {
		t.Errorf("value part with two 255-octet containers: %v", err)
	}
}

func TestBuilders(t *testing.T) {
	check := func(name string, e Entry, err error, wantID uint16, wantHex string) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if e.ID != wantID || hex.EncodeToString(e.Contents) != wantHex {
			t.Errorf("%s = 0x%04x %x, want 0x%04x %s", name, e.ID, e.Contents, wantID, wantHex)
		}
	}
	e, err := DNSServer(netip.MustParseAddr("8.8.8.8"))
	check("DNSServer v4", e, err, 0x000D, "08080808")
	e, err = DNSServer(netip.MustParseAddr("::ffff:1.2.3.4"))
	check("DNSServer mapped", e, err, 0x000D, "01020304")
	e, err = DNSServer(netip.MustParseAddr("2001:4860:4860::8844"))
	check("DNSServer v6", e, err, 0x0003, "20014860486000000000000000008844")
	e, err = PCSCF(netip.MustParseAddr("10.1.2.3"))
	check("PCSCF v4", e, err, 0x000C, "0a010203")
	e, err = PCSCF(netip.MustParseAddr("fd00::5"))
	check("PCSCF v6", e, err, 0x0001, "fd000000000000000000000000000005")
	check("IPv4LinkMTU", IPv4LinkMTU(1500), nil, 0x0010, "05dc")
	check("NonIPLinkMTU", NonIPLinkMTU(1280), nil, 0x0015, "0500")
	check("SelectedBearerControlMode", SelectedBearerControlMode(BearerControlMSOnly), nil, 0x0005, "01")
	check("Request", Request(ContainerMSISDN), nil, 0x000E, "")
	e, err = MSISDNContainer("+15551234567")
	check("MSISDN international", e, err, 0x000E, "91515521436"+"5f7")
	e, err = MSISDNContainer("1234")
	check("MSISDN national", e, err, 0x000E, "812143")
	e, err = MSISDNContainer("*#a")
	check("MSISDN tbcd symbols", e, err, 0x000E, "81bafc")
	e, err = OperatorSpecificContainer(0xFF00, "311", "480", []byte{0})
	check("OperatorSpecific", e, err, 0xFF00, "13018400")
	check("VerizonSubscription", VerizonSubscription(VerizonProvisioned), nil, 0xFF00, "13018400")

	errCases := []struct {
		name string
		err  error
		want string
	}{
		{"DNSServer invalid", second(DNSServer(netip.Addr{})), "invalid address"},
		{"PCSCF invalid", second(PCSCF(netip.Addr{})), "invalid address"},
		{"MSISDN empty", second(MSISDNContainer("+")), "has no digits"},
		{"MSISDN bad digit", second(MSISDNContainer("12-34")), "only 0-9 * # a b c"},
		{"MSISDN too long", second(MSISDNContainer(strings.Repeat("1", 509))), "too long"},
		{"operator id out of range", second(OperatorSpecificContainer(0xFEFF, "311", "480", nil)), "outside the operator specific range"},
		{"operator value too long", second(OperatorSpecificContainer(0xFF00, "311", "480", make([]byte, 253))), "maximum is 252"},
		{"operator bad mcc", second(OperatorSpecificContainer(0xFF00, "31", "480", nil)), `MCC "31"`},
		{"operator bad mnc", second(OperatorSpecificContainer(0xFF00, "311", "4", nil)), `MNC "4"`},
	}
	for _, tc := range errCases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
	if _, err := MSISDNContainer(strings.Repeat("1", 508)); err != nil {
		t.Errorf("508-digit MSISDN: %v", err)
	}
}

func second(_ Entry, err error) error { return err }

func TestNamesAndDescriptions(t *testing.T) {
	tests := []struct {
		id     uint16
		name   string
		dl, ul string
	}{
		{0x0001, "pcscf-ipv6", "P-CSCF IPv6 Address", "P-CSCF IPv6 Address Request"},
		{0x0004, "policy-control-rejection-code", "Policy Control rejection code", "Not supported"},
		{0x0005, "bearer-control-mode", "Selected Bearer Control Mode", "MS Support of Network Requested Bearer Control indicator"},
		{0x000A, "ip-allocation-via-nas", "Reserved", "IP address allocation via NAS signalling"},
		{0x000D, "dns-server-ipv4", "DNS Server IPv4 Address", "DNS Server IPv4 Address Request"},
		{0x0012, "pcscf-reselection-support", "Reserved", "P-CSCF Re-selection support"},
		{0x0013, "nbifom-indicator", "NBIFOM accepted indicator", "NBIFOM request indicator"},
		{0x0014, "nbifom-mode", "NBIFOM mode", "NBIFOM mode"},
		{0x0015, "non-ip-link-mtu", "Non-IP Link MTU", "Non-IP Link MTU Request"},
		{0x001A, "pdu-session-id", "Reserved", "PDU session ID"},
		{0x001B, "s-nssai", "S-NSSAI", "Reserved"},
		{0x0022, "5gsm-cause", "Reserved", "5GSM cause value"},
		{0x0024, "qos-flow-descriptions-two-octet-length", "QoS flow descriptions with the length of two octets", "QoS flow descriptions with the length of two octets support indicator"},
		{0xC021, "lcp", "Link Control Protocol (LCP)", "Link Control Protocol (LCP)"},
		{0xC223, "chap", "Challenge Handshake Authentication Protocol (CHAP)", "Challenge Handshake Authentication Protocol (CHAP)"},
		{0xFF00, "operator-specific", "Operator Specific Container", "Operator Specific Container"},
		{0xFFFF, "operator-specific", "Operator Specific Container", "Operator Specific Container"},
		{0x0025, "unknown", "Unknown (0x0025)", "Unknown (0x0025)"},
		{0xFEFF, "unknown", "Unknown (0xfeff)", "Unknown (0xfeff)"},
	}
	for _, tc := range tests {
		e := Entry{ID: tc.id}
		if e.Name() != tc.name {
			t.Errorf("0x%04x Name = %q, want %q", tc.id, e.Name(), tc.name)
		}
		if got := e.Description(NetworkToMS); got != tc.dl {
			t.Errorf("0x%04x downlink = %q, want %q", tc.id, got, tc.dl)
		}
		if got := e.Description(MSToNetwork); got != tc.ul {
			t.Errorf("0x%04x uplink = %q, want %q", tc.id, got, tc.ul)
		}
	}
	// Every container from 0x0001 to 0x0024 has a name.
	for id := uint16(1); id <= 0x24; id++ {
		if IDName(id) == "unknown" {
			t.Errorf("0x%04x has no name", id)
		}
	}
	if NetworkToMS.String() != "network-to-ms" || MSToNetwork.String() != "ms-to-network" || Direction(7).String() != "direction(7)" {
		t.Error("Direction.String")
	}
}

func TestJSON(t *testing.T) {
	dns, _ := DNSServer(netip.MustParseAddr("8.8.8.8"))
	msisdn, _ := MSISDNContainer("+15551234567")
	p := New(VerizonSubscription(VerizonUnprovisioned), dns, IPv4LinkMTU(1500),
		SelectedBearerControlMode(BearerControlMSOnly), msisdn, Request(ContainerPCSCFIPv4),
		Entry{ID: 0x000D, Contents: []byte{1, 2, 3}})
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"has_iei":true,"configuration_protocol":0,"extension":true,"entries":[` +
		`{"id":"0xff00","name":"operator-specific","description":"Operator Specific Container","contents":"13018405","value":{"mcc":"311","mnc":"480","value":"05","meaning":"not provisioned: activation required"}},` +
		`{"id":"0x000d","name":"dns-server-ipv4","description":"DNS Server IPv4 Address","contents":"08080808","value":"8.8.8.8"},` +
		`{"id":"0x0010","name":"ipv4-link-mtu","description":"IPv4 Link MTU","contents":"05dc","value":1500},` +
		`{"id":"0x0005","name":"bearer-control-mode","description":"Selected Bearer Control Mode","contents":"01","value":"ms-only"},` +
		`{"id":"0x000e","name":"msisdn","description":"MSISDN","contents":"91515521436` + `5f7","value":{"number":"+15551234567","type_of_number":1,"numbering_plan":1}},` +
		`{"id":"0x000c","name":"pcscf-ipv4","description":"P-CSCF IPv4 Address","contents":""},` +
		`{"id":"0x000d","name":"dns-server-ipv4","description":"DNS Server IPv4 Address","contents":"010203","malformed":"pco: dns-server-ipv4 (0x000d): want 4 octets, got 3"}]}`
	if string(got) != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}

	var back PCO
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		t.Errorf("JSON round trip\n got %v\nwant %v", &back, p)
	}

	// Other accepted forms of id and contents.
	var e Entry
	for _, in := range []string{`{"id":65280,"contents":"13 01 84 05"}`, `{"id":"65280","contents":"13:01:84:05"}`, `{"id":"0xFF00","contents":"13018405"}`} {
		e = Entry{}
		if err := json.Unmarshal([]byte(in), &e); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if e.ID != 0xFF00 || !bytes.Equal(e.Contents, []byte{0x13, 0x01, 0x84, 0x05}) {
			t.Errorf("%s: got %v", in, e)
		}
	}
	for in, wantErr := range map[string]string{
		`{"contents":"00"}`:               "missing id",
		`{"id":"0x10000"}`:                "want a 16-bit number",
		`{"id":-1}`:                       "want a 16-bit number",
		`{"id":"dns"}`:                    "want a 16-bit number",
		`{"id":"0x000d","contents":"0"}`:  "contents",
		`{"id":"0x000d","contents":"zz"}`: "contents",
		`[1]`:                             "pco: entry",
	} {
		if err := json.Unmarshal([]byte(in), &e); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error = %v, want it to contain %q", in, err, wantErr)
		}
	}
}

func TestFormat(t *testing.T) {
	p, err := Parse(ie(t, "000d 04 08080808 0010 02 05dc ff00 04 130184 03 0003 00 000d 02 0808"))
	if err != nil {
		t.Fatal(err)
	}
	want := "PCO (IE 0x27, configuration protocol 0 ppp, extension 1): 5 entries\n" +
		"  0x000d dns-server-ipv4: 8.8.8.8\n" +
		"  0x0010 ipv4-link-mtu: 1500\n" +
		"  0xff00 operator-specific: mcc 311 mnc 480 value 03 (out of data: allowance used up, data blocked)\n" +
		"  0x0003 dns-server-ipv6: (empty)\n" +
		"  0x000d dns-server-ipv4: 08 08 (malformed: dns-server-ipv4 (0x000d): want 4 octets, got 2)\n"
	var sb strings.Builder
	if err := p.Format(&sb); err != nil {
		t.Fatal(err)
	}
	if sb.String() != want {
		t.Errorf("Format\n got %q\nwant %q", sb.String(), want)
	}
	if p.String() != want {
		t.Errorf("String differs from Format")
	}

	one, _ := Parse([]byte{0x80, 0x00, 0x02, 0x00})
	if got := one.String(); got != "PCO (value part, configuration protocol 0 ppp, extension 1): 1 entry\n  0x0002 im-cn-signaling-flag: (empty)\n" {
		t.Errorf("String = %q", got)
	}
	if got := fmt.Sprint(p.Entries[2]); !strings.HasPrefix(got, "0xff00 operator-specific: mcc 311") {
		t.Errorf("fmt.Sprint(entry) = %q", got)
	}
}

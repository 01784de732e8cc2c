package mbim

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

const girPath = "/usr/share/gir-1.0/Mbim-1.0.gir"

type girMember struct {
	Name       string `xml:"name,attr"`
	Value      string `xml:"value,attr"`
	Identifier string `xml:"http://www.gtk.org/introspection/c/1.0 identifier,attr"`
	Nick       string `xml:"http://www.gtk.org/introspection/glib/1.0 nick,attr"`
}

// loadGIREnums returns the members of every enumeration in libmbim's GObject
// introspection file, keyed by enumeration name ("StatusError", ...). It
// skips the test when the file is not installed.
func loadGIREnums(t *testing.T) map[string][]girMember {
	t.Helper()
	f, err := os.Open(girPath)
	if err != nil {
		t.Skipf("libmbim introspection data not available: %v", err)
	}
	defer f.Close()
	var repo struct {
		Namespace struct {
			Enums []struct {
				Name    string      `xml:"name,attr"`
				Members []girMember `xml:"member"`
			} `xml:"enumeration"`
		} `xml:"namespace"`
	}
	if err := xml.NewDecoder(f).Decode(&repo); err != nil {
		t.Fatalf("parse %s: %v", girPath, err)
	}
	out := make(map[string][]girMember)
	for _, e := range repo.Namespace.Enums {
		out[e.Name] = e.Members
	}
	return out
}

func girEnum(t *testing.T, name string) []girMember {
	t.Helper()
	members := loadGIREnums(t)[name]
	if len(members) == 0 {
		t.Fatalf("%s: no enumeration %q", girPath, name)
	}
	return members
}

// mkenumsNick derives the glib-mkenums default nickname from a C identifier:
// strip the prefix, lower-case, '_' to '-'.
func mkenumsNick(t *testing.T, ident, prefix string) string {
	t.Helper()
	if !strings.HasPrefix(ident, prefix) {
		t.Fatalf("identifier %q lacks prefix %q", ident, prefix)
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(ident, prefix)), "_", "-")
}

func girValue(t *testing.T, m girMember) uint32 {
	t.Helper()
	v, err := strconv.ParseInt(m.Value, 10, 64)
	if err != nil {
		t.Fatalf("member %s: bad value %q", m.Identifier, m.Value)
	}
	return uint32(v)
}

func TestStatusNamesMatchLibmbim(t *testing.T) {
	members := girEnum(t, "StatusError")
	for _, m := range members {
		s := Status(girValue(t, m))
		if want := mkenumsNick(t, m.Identifier, "MBIM_STATUS_ERROR_"); s.String() != want {
			t.Errorf("%s (%d): String() = %q, want %q", m.Identifier, s, s.String(), want)
		}
		if got, err := ParseStatus(m.Nick); err != nil || got != s {
			t.Errorf("ParseStatus(libmbim nick %q) = %v, %v; want %d", m.Nick, got, err, s)
		}
		if e, _ := lookupStatus(s); e.libmbim != m.Nick {
			t.Errorf("%s: libmbim nickname recorded as %q, GIR says %q", m.Identifier, e.libmbim, m.Nick)
		}
	}
	// Every code we attribute to libmbim must be in the GIR.
	inGIR := make(map[Status]bool)
	for _, m := range members {
		inGIR[Status(girValue(t, m))] = true
	}
	for _, e := range statusNames {
		if e.libmbim != "" && !inGIR[e.code] {
			t.Errorf("%v (%d) claims libmbim nickname %q but is not in the GIR", e.code, e.code, e.libmbim)
		}
	}
	t.Logf("%d libmbim status codes checked; %d named in total", len(members), len(statusNames))
}

func TestProtocolErrorNamesMatchLibmbim(t *testing.T) {
	members := girEnum(t, "ProtocolError")
	if len(members) != len(protocolErrorNames) {
		t.Errorf("GIR has %d protocol errors, we have %d", len(members), len(protocolErrorNames))
	}
	for _, m := range members {
		e := ProtocolError(girValue(t, m))
		if want := mkenumsNick(t, m.Identifier, "MBIM_PROTOCOL_ERROR_"); e.String() != want {
			t.Errorf("%s: String() = %q, want %q", m.Identifier, e.String(), want)
		}
		if got, err := ParseProtocolError(m.Nick); err != nil || got != e {
			t.Errorf("ParseProtocolError(%q) = %v, %v", m.Nick, got, err)
		}
	}
}

func TestMessageTypeNamesMatchLibmbim(t *testing.T) {
	for _, m := range girEnum(t, "MessageType") {
		typ := MessageType(girValue(t, m))
		if typ == 0 {
			continue // MBIM_MESSAGE_TYPE_INVALID
		}
		if typ.String() != m.Nick {
			t.Errorf("%s: String() = %q, want %q", m.Identifier, typ.String(), m.Nick)
		}
	}
	for _, m := range girEnum(t, "MessageCommandType") {
		v, _ := strconv.ParseInt(m.Value, 10, 64)
		if v < 0 {
			continue // MBIM_MESSAGE_COMMAND_TYPE_UNKNOWN
		}
		if s := CommandType(v).String(); s != m.Nick {
			t.Errorf("%s: String() = %q, want %q", m.Identifier, s, m.Nick)
		}
	}
}

func TestStatusTable(t *testing.T) {
	// Values and names, independent of the GIR (Microsoft codes included).
	want := map[Status]string{
		StatusNone: "none", StatusBusy: "busy", StatusFailure: "failure", StatusSIMNotInserted: "sim-not-inserted",
		StatusBadSIM: "bad-sim", StatusPINRequired: "pin-required", StatusPINDisabled: "pin-disabled",
		StatusNotRegistered: "not-registered", StatusProvidersNotFound: "providers-not-found",
		StatusNoDeviceSupport: "no-device-support", StatusProviderNotVisible: "provider-not-visible",
		StatusDataClassNotAvailable: "data-class-not-available", StatusPacketServiceDetached: "packet-service-detached",
		StatusMaxActivatedContexts: "max-activated-contexts", StatusNotInitialized: "not-initialized",
		StatusVoiceCallInProgress: "voice-call-in-progress", StatusContextNotActivated: "context-not-activated",
		StatusServiceNotActivated: "service-not-activated", StatusInvalidAccessString: "invalid-access-string",
		StatusInvalidUserNamePassword: "invalid-user-name-pwd", StatusRadioPowerOff: "radio-power-off",
		StatusInvalidParameters: "invalid-parameters", StatusReadFailure: "read-failure", StatusWriteFailure: "write-failure",
		StatusDeniedPolicy: "denied-policy", StatusNoPhonebook: "no-phonebook", StatusParameterTooLong: "parameter-too-long",
		StatusSTKBusy: "stk-busy", StatusOperationNotAllowed: "operation-not-allowed", StatusMemoryFailure: "memory-failure",
		StatusInvalidMemoryIndex: "invalid-memory-index", StatusMemoryFull: "memory-full",
		StatusFilterNotSupported: "filter-not-supported", StatusDSSInstanceLimit: "dss-instance-limit",
		StatusInvalidDeviceServiceOperation: "invalid-device-service-operation",
		StatusAuthIncorrectAUTN:             "auth-incorrect-autn", StatusAuthSyncFailure: "auth-sync-failure",
		StatusAuthAMFNotSet: "auth-amf-not-set", StatusContextNotSupported: "context-not-supported",
		StatusShareabilityConditionError: "shareability-condition-error", StatusPINFailure: "pin-failure",
		StatusNoLTEAttachConfig: "no-lte-attach-config", StatusSessionAlreadyExists: "session-already-exists",
		StatusSMSUnknownSMSCAddress: "sms-unknown-smsc-address", StatusSMSNetworkTimeout: "sms-network-timeout",
		StatusSMSLangNotSupported: "sms-lang-not-supported", StatusSMSEncodingNotSupported: "sms-encoding-not-supported",
		StatusSMSFormatNotSupported: "sms-format-not-supported", StatusSMSMoreData: "sms-more-data",
		StatusMatchingPDUSessionFound:          "matching-pdu-session-found",
		StatusDissociationNeededForApplication: "dissociation-needed-for-application",
		StatusInvalidSlot:                      "invalid-slot", StatusNoMatchingURSPRule: "no-matching-ursp-rule",
		StatusNoDefaultURSPRule: "no-default-ursp-rule", StatusMSNoLogicalChannels: "ms-no-logical-channels",
		StatusMSSelectFailed: "ms-select-failed", StatusMSInvalidLogicalChannel: "ms-invalid-logical-channel",
	}
	codes := Statuses()
	if len(codes) != len(want) || len(codes) != 57 {
		t.Fatalf("Statuses() has %d codes, table %d, want 57", len(codes), len(want))
	}
	for i, s := range codes {
		if i > 0 && codes[i-1] >= s {
			t.Errorf("Statuses() not strictly ascending at %d", i)
		}
		if s.String() != want[s] {
			t.Errorf("%d: String() = %q, want %q", uint32(s), s.String(), want[s])
		}
		if !s.Known() {
			t.Errorf("%v not Known", s)
		}
		if got, err := ParseStatus(want[s]); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %v, %v", want[s], got, err)
		}
		if got, err := ParseStatus(strings.ToUpper(want[s])); err != nil || got != s {
			t.Errorf("ParseStatus(upper %q) = %v, %v", want[s], got, err)
		}
	}
	if StatusMSNoLogicalChannels != 0x87430001 || StatusMSSelectFailed != 0x87430002 || StatusMSInvalidLogicalChannel != 0x87430003 {
		t.Error("Microsoft UICC status values")
	}
	for _, s := range []Status{24 + 1000, 39 + 1000, 43, 99, 106, 199, 205, 0x87430000, 0x87430004, 0xffffffff} {
		if s.Known() {
			t.Errorf("%d unexpectedly known", uint32(s))
		}
		if s.String() != hex32(uint32(s)) {
			t.Errorf("String(%d) = %q", uint32(s), s.String())
		}
	}
}

func TestParseStatus(t *testing.T) {
	good := map[string]Status{
		"busy": StatusBusy, "Busy": StatusBusy, "SimNotInserted": StatusSIMNotInserted, "AuthIncorrectAuth": StatusAuthIncorrectAUTN,
		"auth-incorrect-autn": StatusAuthIncorrectAUTN, "InvalidUserNamePwd": StatusInvalidUserNamePassword,
		"0": StatusNone, "28": StatusOperationNotAllowed, "0x87430003": StatusMSInvalidLogicalChannel,
		"0X10": 16, "4294967295": 0xffffffff, "0x0000abcd": 0xabcd,
	}
	for in, want := range good {
		got, err := ParseStatus(in)
		if err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "nope", "-1", "+1", "4294967296", "0x", "0x1ffffffff", "busy ", " 1"} {
		if got, err := ParseStatus(in); err == nil {
			t.Errorf("ParseStatus(%q) = %v, want error", in, got)
		}
	}
	_, err := ParseStatus("nope")
	if err == nil || err.Error() != `mbim: unknown status "nope"` {
		t.Errorf("error text %v", err)
	}
}

func TestStatusText(t *testing.T) {
	type doc struct {
		S Status `json:"s"`
	}
	for _, s := range []Status{StatusNone, StatusSMSMoreData, StatusMSSelectFailed, 0x1234} {
		j, err := json.Marshal(doc{s})
		if err != nil {
			t.Fatal(err)
		}
		var back doc
		if err := json.Unmarshal(j, &back); err != nil || back.S != s {
			t.Errorf("JSON round trip of %v via %s = %v, %v", s, j, back.S, err)
		}
	}
	j, _ := json.Marshal(doc{StatusPINRequired})
	if string(j) != `{"s":"pin-required"}` {
		t.Errorf("json = %s", j)
	}
	var s Status
	if err := s.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("UnmarshalText(bogus) succeeded")
	}
}

func TestStatusErr(t *testing.T) {
	if err := StatusNone.Err(); err != nil {
		t.Errorf("StatusNone.Err() = %v", err)
	}
	err := StatusBusy.Err()
	if err == nil || err.Error() != "mbim: status busy (code 1)" {
		t.Errorf("StatusBusy.Err() = %v", err)
	}
	if got := Status(0x99).Err().Error(); got != "mbim: status 0x00000099" {
		t.Errorf("unknown status error = %q", got)
	}
	if got := StatusMSSelectFailed.Err().Error(); got != "mbim: status ms-select-failed (code 0x87430002)" {
		t.Errorf("ms status error = %q", got)
	}
	full := &StatusError{Status: StatusBusy, Service: basicConnect, CID: 9}
	wrapped := errors.Join(errors.New("context"), full)
	for _, target := range []*StatusError{
		{Status: StatusBusy},
		{Status: StatusBusy, Service: basicConnect},
		{Status: StatusBusy, CID: 9},
		{Status: StatusBusy, Service: basicConnect, CID: 9},
	} {
		if !errors.Is(wrapped, target) {
			t.Errorf("errors.Is(%v, %+v) = false", full, target)
		}
	}
	for _, target := range []*StatusError{
		{Status: StatusFailure},
		{Status: StatusBusy, Service: uiccService},
		{Status: StatusBusy, CID: 8},
	} {
		if errors.Is(wrapped, target) {
			t.Errorf("errors.Is(%v, %+v) = true", full, target)
		}
	}
	var se *StatusError
	if !errors.As(wrapped, &se) || se.CID != 9 {
		t.Error("errors.As StatusError")
	}
}

func TestProtocolError(t *testing.T) {
	want := []struct {
		code ProtocolError
		nick string
		text string
	}{
		{ErrTimeoutFragment, "timeout-fragment", "mbim: timeout waiting for fragment (protocol error 1)"},
		{ErrFragmentOutOfSequence, "fragment-out-of-sequence", "mbim: fragment out of sequence (protocol error 2)"},
		{ErrLengthMismatch, "length-mismatch", "mbim: length mismatch (protocol error 3)"},
		{ErrDuplicatedTID, "duplicated-tid", "mbim: duplicated transaction id (protocol error 4)"},
		{ErrNotOpened, "not-opened", "mbim: not opened (protocol error 5)"},
		{ErrUnknown, "unknown", "mbim: unknown error (protocol error 6)"},
		{ErrCancel, "cancel", "mbim: cancelled (protocol error 7)"},
		{ErrMaxTransfer, "max-transfer", "mbim: maximum control transfer exceeded (protocol error 8)"},
	}
	all := ProtocolErrors()
	if len(all) != len(want) {
		t.Fatalf("ProtocolErrors() = %v", all)
	}
	for i, w := range want {
		if all[i] != w.code || uint32(w.code) != uint32(i+1) {
			t.Errorf("ProtocolErrors()[%d] = %v", i, all[i])
		}
		if w.code.String() != w.nick || w.code.Error() != w.text {
			t.Errorf("%d: String %q Error %q", uint32(w.code), w.code.String(), w.code.Error())
		}
		b, _ := w.code.MarshalText()
		var back ProtocolError
		if err := back.UnmarshalText(b); err != nil || back != w.code {
			t.Errorf("text round trip %s = %v, %v", b, back, err)
		}
		var e error = w.code
		if !errors.Is(e, w.code) {
			t.Errorf("errors.Is(%v, itself) = false", w.code)
		}
	}
	if s := ProtocolError(0).String(); s != "invalid" {
		t.Errorf("0 = %q", s)
	}
	if s := ProtocolError(9).String(); s != "0x00000009" {
		t.Errorf("9 = %q", s)
	}
	if s := ProtocolError(9).Error(); s != "mbim: protocol error 0x00000009 (protocol error 9)" {
		t.Errorf("9 Error = %q", s)
	}
	for in, want := range map[string]ProtocolError{"FragmentOutOfSequence": 2, "duplicated-tid": 4, "MAX-TRANSFER": 8, "0x9": 9} {
		if got, err := ParseProtocolError(in); err != nil || got != want {
			t.Errorf("ParseProtocolError(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseProtocolError("nope"); err == nil {
		t.Error("ParseProtocolError(nope) succeeded")
	}
}

package mbim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Status is the status code carried by OPEN_DONE, CLOSE_DONE and
// COMMAND_DONE messages (MBIM 1.0 section 9.4.5, plus Microsoft extensions).
//
// String returns a kebab-case nickname. For the codes libmbim knows, the
// nickname is the libmbim C identifier with its MBIM_STATUS_ERROR_ prefix
// removed, lower-cased and with '_' replaced by '-' (the glib-mkenums
// convention, e.g. MBIM_STATUS_ERROR_SIM_NOT_INSERTED is "sim-not-inserted").
// libmbim's own MbimStatusError nicknames are CamelCase ("SimNotInserted");
// UnmarshalText and ParseStatus accept those too, as well as numbers.
// Codes without a name print as "0x%08x".
//
// Status is not itself an error (StatusNone would be a non-nil error); use
// Err to get one.
type Status uint32

// MBIM 1.0 status codes (libmbim MbimStatusError).
const (
	StatusNone                          Status = 0
	StatusBusy                          Status = 1
	StatusFailure                       Status = 2
	StatusSIMNotInserted                Status = 3
	StatusBadSIM                        Status = 4
	StatusPINRequired                   Status = 5
	StatusPINDisabled                   Status = 6
	StatusNotRegistered                 Status = 7
	StatusProvidersNotFound             Status = 8
	StatusNoDeviceSupport               Status = 9
	StatusProviderNotVisible            Status = 10
	StatusDataClassNotAvailable         Status = 11
	StatusPacketServiceDetached         Status = 12
	StatusMaxActivatedContexts          Status = 13
	StatusNotInitialized                Status = 14
	StatusVoiceCallInProgress           Status = 15
	StatusContextNotActivated           Status = 16
	StatusServiceNotActivated           Status = 17
	StatusInvalidAccessString           Status = 18
	StatusInvalidUserNamePassword       Status = 19
	StatusRadioPowerOff                 Status = 20
	StatusInvalidParameters             Status = 21
	StatusReadFailure                   Status = 22
	StatusWriteFailure                  Status = 23
	StatusNoPhonebook                   Status = 25
	StatusParameterTooLong              Status = 26
	StatusSTKBusy                       Status = 27
	StatusOperationNotAllowed           Status = 28
	StatusMemoryFailure                 Status = 29
	StatusInvalidMemoryIndex            Status = 30
	StatusMemoryFull                    Status = 31
	StatusFilterNotSupported            Status = 32
	StatusDSSInstanceLimit              Status = 33
	StatusInvalidDeviceServiceOperation Status = 34
	StatusAuthIncorrectAUTN             Status = 35
	StatusAuthSyncFailure               Status = 36
	StatusAuthAMFNotSet                 Status = 37
	StatusContextNotSupported           Status = 38
	StatusSMSUnknownSMSCAddress         Status = 100
	StatusSMSNetworkTimeout             Status = 101
	StatusSMSLangNotSupported           Status = 102
	StatusSMSEncodingNotSupported       Status = 103
	StatusSMSFormatNotSupported         Status = 104
)

// Status codes defined by Microsoft (Windows mobile broadband class driver
// and the MBIMEx / low-level UICC access extensions) that libmbim 1.28 does
// not list.
const (
	// StatusDeniedPolicy is reserved in MBIM 1.0; Windows and Qualcomm
	// firmware use it for MBIM_STATUS_DENIED_POLICY.
	StatusDeniedPolicy Status = 24

	// Microsoft extension additions (UICC file access, LTE attach
	// configuration, multiple sessions).
	StatusShareabilityConditionError Status = 39
	StatusPINFailure                 Status = 40
	StatusNoLTEAttachConfig          Status = 41
	StatusSessionAlreadyExists       Status = 42
	// StatusSMSMoreData is a partial success: the information buffer is
	// valid and more data follows. Err still reports it as an error.
	StatusSMSMoreData Status = 105

	// MBIMEx 4.0 (5G URSP) additions. Microsoft's name for 202 is
	// ..._ERROR_INVALID_SLOT; the nickname drops the ERROR as libmbim's
	// prefix does.
	StatusMatchingPDUSessionFound          Status = 200
	StatusDissociationNeededForApplication Status = 201
	StatusInvalidSlot                      Status = 202
	StatusNoMatchingURSPRule               Status = 203
	StatusNoDefaultURSPRule                Status = 204

	// Microsoft low-level UICC access failures.
	StatusMSNoLogicalChannels     Status = 0x87430001
	StatusMSSelectFailed          Status = 0x87430002
	StatusMSInvalidLogicalChannel Status = 0x87430003
)

type statusName struct {
	code    Status
	nick    string // kebab-case, what String returns
	libmbim string // libmbim's CamelCase MbimStatusError nickname, if any
}

// statusNames is sorted by code.
var statusNames = [...]statusName{
	{StatusNone, "none", "None"},
	{StatusBusy, "busy", "Busy"},
	{StatusFailure, "failure", "Failure"},
	{StatusSIMNotInserted, "sim-not-inserted", "SimNotInserted"},
	{StatusBadSIM, "bad-sim", "BadSim"},
	{StatusPINRequired, "pin-required", "PinRequired"},
	{StatusPINDisabled, "pin-disabled", "PinDisabled"},
	{StatusNotRegistered, "not-registered", "NotRegistered"},
	{StatusProvidersNotFound, "providers-not-found", "ProvidersNotFound"},
	{StatusNoDeviceSupport, "no-device-support", "NoDeviceSupport"},
	{StatusProviderNotVisible, "provider-not-visible", "ProviderNotVisible"},
	{StatusDataClassNotAvailable, "data-class-not-available", "DataClassNotAvailable"},
	{StatusPacketServiceDetached, "packet-service-detached", "PacketServiceDetached"},
	{StatusMaxActivatedContexts, "max-activated-contexts", "MaxActivatedContexts"},
	{StatusNotInitialized, "not-initialized", "NotInitialized"},
	{StatusVoiceCallInProgress, "voice-call-in-progress", "VoiceCallInProgress"},
	{StatusContextNotActivated, "context-not-activated", "ContextNotActivated"},
	{StatusServiceNotActivated, "service-not-activated", "ServiceNotActivated"},
	{StatusInvalidAccessString, "invalid-access-string", "InvalidAccessString"},
	{StatusInvalidUserNamePassword, "invalid-user-name-pwd", "InvalidUserNamePwd"},
	{StatusRadioPowerOff, "radio-power-off", "RadioPowerOff"},
	{StatusInvalidParameters, "invalid-parameters", "InvalidParameters"},
	{StatusReadFailure, "read-failure", "ReadFailure"},
	{StatusWriteFailure, "write-failure", "WriteFailure"},
	{StatusDeniedPolicy, "denied-policy", ""},
	{StatusNoPhonebook, "no-phonebook", "NoPhonebook"},
	{StatusParameterTooLong, "parameter-too-long", "ParameterTooLong"},
	{StatusSTKBusy, "stk-busy", "StkBusy"},
	{StatusOperationNotAllowed, "operation-not-allowed", "OperationNotAllowed"},
	{StatusMemoryFailure, "memory-failure", "MemoryFailure"},
	{StatusInvalidMemoryIndex, "invalid-memory-index", "InvalidMemoryIndex"},
	{StatusMemoryFull, "memory-full", "MemoryFull"},
	{StatusFilterNotSupported, "filter-not-supported", "FilterNotSupported"},
	{StatusDSSInstanceLimit, "dss-instance-limit", "DssInstanceLimit"},
	{StatusInvalidDeviceServiceOperation, "invalid-device-service-operation", "InvalidDeviceServiceOperation"},
	// libmbim's nickname really is "AuthIncorrectAuth" (for ..._AUTN).
	{StatusAuthIncorrectAUTN, "auth-incorrect-autn", "AuthIncorrectAuth"},
	{StatusAuthSyncFailure, "auth-sync-failure", "AuthSyncFailure"},
	{StatusAuthAMFNotSet, "auth-amf-not-set", "AuthAmfNotSet"},
	{StatusContextNotSupported, "context-not-supported", "ContextNotSupported"},
	{StatusShareabilityConditionError, "shareability-condition-error", ""},
	{StatusPINFailure, "pin-failure", ""},
	{StatusNoLTEAttachConfig, "no-lte-attach-config", ""},
	{StatusSessionAlreadyExists, "session-already-exists", ""},
	{StatusSMSUnknownSMSCAddress, "sms-unknown-smsc-address", "SmsUnknownSmscAddress"},
	{StatusSMSNetworkTimeout, "sms-network-timeout", "SmsNetworkTimeout"},
	{StatusSMSLangNotSupported, "sms-lang-not-supported", "SmsLangNotSupported"},
	{StatusSMSEncodingNotSupported, "sms-encoding-not-supported", "SmsEncodingNotSupported"},
	{StatusSMSFormatNotSupported, "sms-format-not-supported", "SmsFormatNotSupported"},
	{StatusSMSMoreData, "sms-more-data", ""},
	{StatusMatchingPDUSessionFound, "matching-pdu-session-found", ""},
	{StatusDissociationNeededForApplication, "dissociation-needed-for-application", ""},
	{StatusInvalidSlot, "invalid-slot", ""},
	{StatusNoMatchingURSPRule, "no-matching-ursp-rule", ""},
	{StatusNoDefaultURSPRule, "no-default-ursp-rule", ""},
	{StatusMSNoLogicalChannels, "ms-no-logical-channels", ""},
	{StatusMSSelectFailed, "ms-select-failed", ""},
	{StatusMSInvalidLogicalChannel, "ms-invalid-logical-channel", ""},
}

func lookupStatus(s Status) (statusName, bool) {
	i, ok := slices.BinarySearchFunc(statusNames[:], s, func(e statusName, t Status) int {
		switch {
		case e.code < t:
			return -1
		case e.code > t:
			return 1
		}
		return 0
	})
	if !ok {
		return statusName{}, false
	}
	return statusNames[i], true
}

// Statuses returns every named status code in ascending order.
func Statuses() []Status {
	out := make([]Status, len(statusNames))
	for i, e := range statusNames {
		out[i] = e.code
	}
	return out
}

// Known reports whether s has a name.
func (s Status) Known() bool {
	_, ok := lookupStatus(s)
	return ok
}

// String returns the kebab-case nickname of s, or "0x%08x" for unnamed codes.
func (s Status) String() string {
	if e, ok := lookupStatus(s); ok {
		return e.nick
	}
	return hex32(uint32(s))
}

// Err returns nil for StatusNone and a *StatusError (with no service) for
// any other status.
func (s Status) Err() error {
	if s == StatusNone {
		return nil
	}
	return &StatusError{Status: s}
}

// MarshalText implements encoding.TextMarshaler using String.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; see ParseStatus.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseStatus accepts a kebab-case nickname ("sim-not-inserted"), a libmbim
// CamelCase nickname ("SimNotInserted"), both case-insensitively, or a number
// (decimal, or hexadecimal with a 0x prefix). Any 32-bit number is accepted,
// named or not.
func ParseStatus(text string) (Status, error) {
	for _, e := range statusNames {
		if strings.EqualFold(text, e.nick) || (e.libmbim != "" && strings.EqualFold(text, e.libmbim)) {
			return e.code, nil
		}
	}
	if n, ok := parseUint32(text); ok {
		return Status(n), nil
	}
	return 0, fmt.Errorf("mbim: unknown status %q", text)
}

// StatusError is a failed status reported by the device, optionally with the
// device service and CID of the COMMAND_DONE that carried it.
type StatusError struct {
	Status  Status
	Service UUID   // zero for OPEN_DONE / CLOSE_DONE
	CID     uint32 // zero for OPEN_DONE / CLOSE_DONE
}

func (e *StatusError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "mbim: "...)
	if !e.Service.IsZero() || e.CID != 0 {
		b = append(b, "service "...)
		b = e.Service.appendText(b)
		b = append(b, " cid "...)
		b = strconv.AppendUint(b, uint64(e.CID), 10)
		b = append(b, ": "...)
	}
	b = append(b, "status "...)
	b = append(b, e.Status.String()...)
	if e.Status.Known() {
		b = append(b, " ("...)
		b = appendCode(b, uint32(e.Status))
		b = append(b, ')')
	}
	return string(b)
}

// Is reports whether target is a *StatusError with the same Status and,
// where the target sets them, the same Service and CID. So
//
//	errors.Is(err, &mbim.StatusError{Status: mbim.StatusBusy})
//
// matches a busy status from any service.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	if !ok {
		return false
	}
	return t.Status == e.Status &&
		(t.Service.IsZero() || t.Service == e.Service) &&
		(t.CID == 0 || t.CID == e.CID)
}

// ProtocolError is an MBIM protocol error code, as carried by HOST_ERROR and
// FUNCTION_ERROR messages (MBIM 1.0 section 9.3.4 / 9.4.4). It implements
// error; String returns the kebab-case nickname ("fragment-out-of-sequence"),
// the libmbim MbimProtocolError identifier in glib-mkenums form.
type ProtocolError uint32

// Protocol error codes.
const (
	ErrTimeoutFragment       ProtocolError = 1
	ErrFragmentOutOfSequence ProtocolError = 2
	ErrLengthMismatch        ProtocolError = 3
	ErrDuplicatedTID         ProtocolError = 4
	ErrNotOpened             ProtocolError = 5
	ErrUnknown               ProtocolError = 6
	ErrCancel                ProtocolError = 7
	ErrMaxTransfer           ProtocolError = 8
)

var protocolErrorNames = [...]struct {
	nick, libmbim, text string
}{
	{"invalid", "Invalid", "invalid protocol error"},
	{"timeout-fragment", "TimeoutFragment", "timeout waiting for fragment"},
	{"fragment-out-of-sequence", "FragmentOutOfSequence", "fragment out of sequence"},
	{"length-mismatch", "LengthMismatch", "length mismatch"},
	{"duplicated-tid", "DuplicatedTid", "duplicated transaction id"},
	{"not-opened", "NotOpened", "not opened"},
	{"unknown", "Unknown", "unknown error"},
	{"cancel", "Cancel", "cancelled"},
	{"max-transfer", "MaxTransfer", "maximum control transfer exceeded"},
}

// ProtocolErrors returns the defined protocol error codes (1 to 8).
func ProtocolErrors() []ProtocolError {
	return []ProtocolError{ErrTimeoutFragment, ErrFragmentOutOfSequence, ErrLengthMismatch,
		ErrDuplicatedTID, ErrNotOpened, ErrUnknown, ErrCancel, ErrMaxTransfer}
}

// String returns the nickname ("timeout-fragment", ...; 0 is "invalid"), or
// "0x%08x" for codes outside 0..8.
func (e ProtocolError) String() string {
	if int(e) < len(protocolErrorNames) {
		return protocolErrorNames[e].nick
	}
	return hex32(uint32(e))
}

func (e ProtocolError) description() string {
	if int(e) < len(protocolErrorNames) {
		return protocolErrorNames[e].text
	}
	return "protocol error " + hex32(uint32(e))
}

// Error returns e.g. "mbim: fragment out of sequence (protocol error 2)".
func (e ProtocolError) Error() string {
	return "mbim: " + e.description() + " (protocol error " + strconv.FormatUint(uint64(e), 10) + ")"
}

// MarshalText implements encoding.TextMarshaler using String.
func (e ProtocolError) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; see ParseProtocolError.
func (e *ProtocolError) UnmarshalText(b []byte) error {
	v, err := ParseProtocolError(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// ParseProtocolError accepts a kebab-case nickname, a libmbim CamelCase
// nickname ("FragmentOutOfSequence"), both case-insensitively, or a number.
func ParseProtocolError(text string) (ProtocolError, error) {
	for i, e := range protocolErrorNames {
		if strings.EqualFold(text, e.nick) || strings.EqualFold(text, e.libmbim) {
			return ProtocolError(i), nil
		}
	}
	if n, ok := parseUint32(text); ok {
		return ProtocolError(n), nil
	}
	return 0, fmt.Errorf("mbim: unknown protocol error %q", text)
}

// hex32 formats v as 0x%08x without fmt.
func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [10]byte
	b[0], b[1] = '0', 'x'
	for i := 9; i >= 2; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// appendCode appends "status N" in decimal for small codes and hex for the
// large vendor ranges.
func appendCode(b []byte, v uint32) []byte {
	b = append(b, "code "...)
	if v < 0x10000 {
		return strconv.AppendUint(b, uint64(v), 10)
	}
	return append(b, hex32(v)...)
}

// parseUint32 parses a decimal or 0x-prefixed hexadecimal 32-bit number.
func parseUint32(s string) (uint32, bool) {
	base := 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, base = s[2:], 16
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

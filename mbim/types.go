package mbim

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Info is implemented by every generated information-buffer type: the
// payload of a COMMAND (set or query), COMMAND_DONE or INDICATE_STATUS.
type Info interface {
	// UnmarshalMBIM decodes the information buffer b into the receiver.
	// Strings and arrays are copied; the receiver does not keep b.
	//
	// Every field is overwritten, so a value can be reused for message
	// after message (like protobuf's Unmarshal into a reused message): an
	// array the new message does not have comes back empty. Slices and
	// optional structures of the receiver are reused when their capacity
	// suffices (empty slices may then be non-nil: test with len), so in
	// steady state decoding into a reused value allocates only the one
	// buffer that all the message's strings share. Do not keep references
	// to the slices of a value you decode into again. On error the
	// receiver's contents are unspecified, but it can be reused.
	UnmarshalMBIM(b []byte) error
	// AppendMBIM appends the encoded information buffer to dst.
	AppendMBIM(dst []byte) ([]byte, error)
	// SizeMBIM returns the exact encoded size.
	SizeMBIM() int
}

// Marshal encodes an information buffer with a single allocation.
func Marshal(v Info) ([]byte, error) {
	return v.AppendMBIM(make([]byte, 0, v.SizeMBIM()))
}

// Bytes is a byte array field; it prints and marshals to JSON as hex.
type Bytes []byte

// String returns lower-case hex.
func (b Bytes) String() string { return hex.EncodeToString(b) }

// MarshalText implements encoding.TextMarshaler (hex).
func (b Bytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out, nil
}

// UnmarshalText accepts hex with optional ':', ' ' or '-' separators.
func (b *Bytes) UnmarshalText(t []byte) error {
	v, err := ParseHex(string(t))
	if err != nil {
		return err
	}
	if len(v) == 0 {
		v = nil
	}
	*b = v
	return nil
}

// ParseHex parses hex digits, ignoring spaces, tabs, ':' and '-' between
// bytes, and an optional 0x prefix.
func ParseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	out := make([]byte, 0, len(s)/2)
	var hi byte
	half := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == ':' || c == '-' || c == '\t':
			if half {
				return nil, fmt.Errorf("mbim: hex: odd digit before separator at position %d", i)
			}
			continue
		default:
			return nil, fmt.Errorf("mbim: hex: invalid character %q at position %d", c, i)
		}
		if half {
			out = append(out, hi<<4|v)
			half = false
		} else {
			hi = v
			half = true
		}
	}
	if half {
		return nil, fmt.Errorf("mbim: hex: odd number of digits")
	}
	return out, nil
}

// Version is an MBIM extensions (MBIMEx) version in BCD form as exchanged by
// MBIM_CID_VERSION: 0x0100 is 1.0, 0x0200 2.0, 0x0300 3.0, 0x0400 4.0.
type Version uint16

// Well-known versions.
const (
	MBIMEx1 Version = 0x0100
	MBIMEx2 Version = 0x0200
	MBIMEx3 Version = 0x0300
	MBIMEx4 Version = 0x0400
)

// Major returns the major number.
func (v Version) Major() int { return int(v >> 8) }

// Minor returns the minor number.
func (v Version) Minor() int { return int(v & 0xff) }

// String gives "2.0".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major(), v.Minor()) }

// MarshalText implements encoding.TextMarshaler.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := ParseVersion(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// ParseVersion parses "2", "2.0", "v2" or "0x0200".
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v")
	if strings.HasPrefix(t, "0x") {
		n, err := strconv.ParseUint(t[2:], 16, 16)
		if err != nil {
			return 0, fmt.Errorf("mbim: invalid MBIMEx version %q", s)
		}
		return Version(n), nil
	}
	maj, min, _ := strings.Cut(t, ".")
	a, err := strconv.ParseUint(maj, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("mbim: invalid MBIMEx version %q (want e.g. 1.0, 2.0, 3.0, 4.0)", s)
	}
	var b uint64
	if min != "" {
		if b, err = strconv.ParseUint(min, 10, 8); err != nil {
			return 0, fmt.Errorf("mbim: invalid MBIMEx version %q (want e.g. 1.0, 2.0, 3.0, 4.0)", s)
		}
	}
	return Version(a<<8 | b), nil
}

// TLVType is the type of an MBIMEx 3.0 information element (MBIM_TLV_IE).
type TLVType uint16

// TLV types. Types 0 to 17 (MBIMEx 3.0) are libmbim 1.28's, with its
// nicknames (typo "ue-policites" included); 18 to 21 (MBIMEx 4.0) are not in
// libmbim 1.28: their values and names are Wireshark 4.0's (packet-mbim.c
// TLV_TYPE_TYPE_OSID ... TLV_TYPE_TYPE_SESSION_ID, shown as OS_ID,
// 3GPP_REL_VERSION, URSP_RULES_TD_ONLY and SESSION_ID) and Microsoft's
// (MBIM_TLV_TYPE_OSID in MBIM_CID_MS_REGISTRATION_PARAMS), nicknamed in
// libmbim's style.
const (
	TLVInvalid                   TLVType = 0
	TLVUEPolicies                TLVType = 1
	TLVSingleNSSAI               TLVType = 2
	TLVAllowedNSSAI              TLVType = 3
	TLVCfgNSSAI                  TLVType = 4
	TLVDfltCfgNSSAI              TLVType = 5
	TLVPrecfgDfltCfgNSSAI        TLVType = 6
	TLVRejNSSAI                  TLVType = 7
	TLVLADN                      TLVType = 8
	TLVTAI                       TLVType = 9
	TLVWCharStr                  TLVType = 10
	TLVUint16Tbl                 TLVType = 11
	TLVEAPPacket                 TLVType = 12
	TLVPCO                       TLVType = 13
	TLVRouteSelectionDescriptors TLVType = 14
	TLVTrafficParameters         TLVType = 15
	TLVWakeCommand               TLVType = 16
	TLVWakePacket                TLVType = 17
	// TLVOSID is a 16-byte GUID identifying the host OS (the OSId of
	// MS registration-params).
	TLVOSID TLVType = 18
	// TLV3GPPRelVersion is a 3GPP release number (a 32-bit integer).
	TLV3GPPRelVersion TLVType = 19
	// TLVURSPRulesTDOnly is a list of URSP rules with only their traffic
	// descriptors.
	TLVURSPRulesTDOnly TLVType = 20
	// TLVSessionID is a data session ID (a 32-bit integer).
	TLVSessionID TLVType = 21
)

var tlvNames = [...]string{
	"invalid", "ue-policites", "single-nssai", "allowed-nssai", "cfg-nssai",
	"dflt-cfg-nssai", "precfg-dflt-cfg-nssai", "rej-nssai", "ladn", "tai",
	"wchar-str", "uint16-tbl", "eap-packet", "pco",
	"route-selection-descriptors", "traffic-parameters", "wake-command", "wake-packet",
	"osid", "3gpp-rel-version", "ursp-rules-td-only", "session-id",
}

// String returns libmbim's nickname, or the number.
func (t TLVType) String() string {
	if int(t) < len(tlvNames) {
		return tlvNames[t]
	}
	return "0x" + strconv.FormatUint(uint64(t), 16)
}

// MarshalText implements encoding.TextMarshaler.
func (t TLVType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText accepts a nickname or a number.
func (t *TLVType) UnmarshalText(b []byte) error {
	s := string(b)
	for i, n := range tlvNames {
		if n == s {
			*t = TLVType(i)
			return nil
		}
	}
	n, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		return fmt.Errorf("mbim: unknown TLV type %q", s)
	}
	*t = TLVType(n)
	return nil
}

// TLV is one MBIMEx information element: Type u16, Reserved u8,
// PaddingLength u8, DataLength u32, then the data padded to 4 bytes.
type TLV struct {
	Type TLVType `json:"Type"`
	Data Bytes   `json:"Data"`
}

// TLVHeaderLen is the size of an information element's header.
const TLVHeaderLen = 8

// String decodes a wchar-str element's text.
func (t TLV) String() string {
	if t.Type == TLVWCharStr {
		return decodeUTF16(t.Data)
	}
	return fmt.Sprintf("%s:%x", t.Type, []byte(t.Data))
}

// Size returns the encoded size including padding.
func (t TLV) Size() int { return TLVHeaderLen + Pad4(len(t.Data)) }

// AppendTLV appends one information element.
func AppendTLV(dst []byte, typ TLVType, data []byte) []byte {
	pad := Pad4(len(data)) - len(data)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(typ))
	dst = append(dst, 0, byte(pad))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	dst = append(dst, data...)
	for i := 0; i < pad; i++ {
		dst = append(dst, 0)
	}
	return dst
}

// StringTLV builds a wchar-str element.
func StringTLV(s string) TLV { return TLV{Type: TLVWCharStr, Data: AppendUTF16(nil, s)} }

// readTLV reads the element header at the read position and skips the
// element; the data is the n bytes at off of the current structure.
func (d *Decoder) readTLV(field string) (typ TLVType, off, n int, ok bool) {
	if d.err != nil {
		return 0, 0, 0, false
	}
	at := d.pos
	if !d.need(field, TLVHeaderLen) {
		return 0, 0, 0, false
	}
	typ = TLVType(binary.LittleEndian.Uint16(d.cur()[d.pos:]))
	pad := int(d.cur()[d.pos+3])
	size := binary.LittleEndian.Uint32(d.cur()[d.pos+4:])
	d.pos += TLVHeaderLen
	if uint64(size) > uint64(d.Remaining()) {
		d.Fail(field, at, "%s element claims %d data bytes, only %d left", typ, size, d.Remaining())
		return 0, 0, 0, false
	}
	off, n = d.pos, int(size)
	d.pos += n
	// Tolerate a missing or wrong padding at the very end of the buffer.
	if pad > d.Remaining() {
		pad = d.Remaining()
	}
	d.pos += pad
	if d.pos > d.ext {
		d.ext = d.pos
	}
	return typ, off, n, true
}

// TLV reads one information element of any type (data copied).
func (d *Decoder) TLV(field string) TLV {
	var t TLV
	d.TLVTo(&t, field)
	return t
}

// TLVTo reads one information element of any type into *dst, reusing the
// storage of dst.Data when it is large enough.
func (d *Decoder) TLVTo(dst *TLV, field string) {
	typ, off, n, ok := d.readTLV(field)
	if !ok {
		*dst = TLV{Data: dst.Data[:0]}
		return
	}
	dst.Type = typ
	dst.Data = append(dst.Data[:0], d.cur()[off:off+n]...)
}

// TLVString reads a wchar-str information element.
func (d *Decoder) TLVString(field string) string {
	at := d.pos
	typ, off, n, ok := d.readTLV(field)
	if !ok {
		return ""
	}
	if typ != TLVWCharStr {
		d.Fail(field, at, "expected a wchar-str information element, found %s", typ)
		return ""
	}
	return decodeUTF16(d.cur()[off : off+n])
}

// TLVStringTo reads a wchar-str information element into *dst, converted
// with the message's other strings (see Decoder).
func (d *Decoder) TLVStringTo(dst *string, field string) {
	at := d.pos
	typ, off, n, ok := d.readTLV(field)
	switch {
	case !ok:
		*dst = ""
	case typ != TLVWCharStr:
		d.Fail(field, at, "expected a wchar-str information element, found %s", typ)
		*dst = ""
	case n == 0:
		*dst = ""
	default:
		d.pend(dst, uint32(off), uint32(n), false)
	}
}

// TLVUint16Table reads a uint16-tbl information element.
func (d *Decoder) TLVUint16Table(field string) []uint16 {
	return d.TLVUint16TableTo(nil, field)
}

// TLVUint16TableTo reads a uint16-tbl information element into dst's
// storage when it is large enough.
func (d *Decoder) TLVUint16TableTo(dst []uint16, field string) []uint16 {
	at := d.pos
	typ, off, n, ok := d.readTLV(field)
	if !ok {
		return dst[:0]
	}
	if typ != TLVUint16Tbl {
		d.Fail(field, at, "expected a uint16-tbl information element, found %s", typ)
		return dst[:0]
	}
	if n/2 == 0 {
		return dst[:0]
	}
	dst = Resize(dst, n/2)
	for i := range dst {
		dst[i] = binary.LittleEndian.Uint16(d.cur()[off+2*i:])
	}
	return dst
}

// TLVList reads count information elements, or, with count < 0, every
// element up to the end of the buffer (MBIMEx "unnamed IEs").
func (d *Decoder) TLVList(field string, count int) []TLV {
	return d.TLVListTo(nil, field, count)
}

// TLVListTo is TLVList reusing the storage of dst and of its elements' data.
func (d *Decoder) TLVListTo(dst []TLV, field string, count int) []TLV {
	if d.err != nil {
		return dst[:0]
	}
	if count < 0 {
		dst = dst[:0]
		for d.Remaining() >= TLVHeaderLen && d.err == nil {
			if len(dst) < cap(dst) {
				dst = dst[:len(dst)+1]
			} else {
				dst = append(dst, TLV{})
			}
			d.TLVTo(&dst[len(dst)-1], field)
		}
		return dst
	}
	n := d.CheckCount(field, uint32(count), d.pos, TLVHeaderLen)
	if n == 0 {
		return dst[:0]
	}
	dst = Resize(dst, n)
	for i := range dst {
		d.TLVTo(&dst[i], field)
	}
	return dst
}

// TLV appends an information element at the end of the structure.
func (e *Encoder) TLV(t TLV) { e.buf = AppendTLV(e.buf, t.Type, t.Data) }

// TLVString appends a wchar-str element (an empty string gives an element
// with no data, which is how devices say "not set").
func (e *Encoder) TLVString(s string) {
	pad := Pad4(UTF16Len(s)) - UTF16Len(s)
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(TLVWCharStr))
	e.buf = append(e.buf, 0, byte(pad))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(UTF16Len(s)))
	e.buf = AppendUTF16(e.buf, s)
	for i := 0; i < pad; i++ {
		e.buf = append(e.buf, 0)
	}
}

// TLVUint16Table appends a uint16-tbl element.
func (e *Encoder) TLVUint16Table(v []uint16) {
	n := 2 * len(v)
	pad := Pad4(n) - n
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(TLVUint16Tbl))
	e.buf = append(e.buf, 0, byte(pad))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n))
	for _, x := range v {
		e.buf = binary.LittleEndian.AppendUint16(e.buf, x)
	}
	for i := 0; i < pad; i++ {
		e.buf = append(e.buf, 0)
	}
}

// TLVStringSize returns the encoded size of a wchar-str element.
func TLVStringSize(s string) int { return TLVHeaderLen + Pad4(UTF16Len(s)) }

// Caller sends a command and returns the response's information buffer. It
// is what generated request helpers (Query..., Set... in the catalog
// packages) need from a session; package session implements it.
//
// Command sends one COMMAND (ct is CommandQuery or CommandSet) for cid of
// service with the encoded information buffer info (nil for an empty one),
// waits for the matching COMMAND_DONE and returns its information buffer.
// resp is owned by the caller (it does not alias a buffer that the session
// reuses). When the device answers with a status other than StatusNone, err
// is a *StatusError (with Service and CID set) and resp still holds whatever
// information buffer came with it, since some failures carry one (for
// example the PIN response's remaining attempts). Any other failure
// (transport, timeout, context, a malformed or mismatched response) is
// returned as some other error with resp nil.
//
// MBIMEx returns the MBIM extensions version negotiated with the device
// (MBIMEx1 when none was negotiated). It picks which layout of a payload
// applies; generated helpers fail with a descriptive error, before sending
// anything, when called for a layout that the negotiated version does not
// select.
type Caller interface {
	Command(ctx context.Context, service UUID, cid uint32, ct CommandType, info []byte) (resp []byte, err error)
	MBIMEx() Version
}

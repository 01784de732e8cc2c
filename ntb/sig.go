package ntb

import "strconv"

// Format selects the 16-bit or the 32-bit NTB layout.
//
// The zero value means "not specified": a Parser accepts both layouts and a
// Builder uses NTB16.
type Format uint8

const (
	// NTB16 is the layout with an NTH16 header and NDP16 tables. Offsets and
	// lengths are 16 bits wide, so a block is at most 65535 bytes.
	NTB16 Format = 16
	// NTB32 is the layout with an NTH32 header and NDP32 tables.
	NTB32 Format = 32
)

// String returns "NTB16", "NTB32" or "Format(n)".
func (f Format) String() string {
	switch f {
	case NTB16:
		return "NTB16"
	case NTB32:
		return "NTB32"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Kind tells what an NDP (and so each datagram it points at) carries.
type Kind uint8

const (
	// Unknown is an NDP signature this package does not recognise.
	Unknown Kind = iota
	// IPS is an MBIM IP data stream ("IPS"/"ips" plus a session ID byte):
	// each datagram is a bare IPv4 or IPv6 packet for that session.
	IPS
	// DSS is an MBIM device service stream ("DSS"/"dss" plus a session ID
	// byte), e.g. a tunnelled serial or debug channel.
	DSS
	// NCM is a plain CDC NCM table ("NCM0"/"NCM1", "ncm0"/"ncm1") carrying
	// Ethernet frames. It has no session; the session value reported for it
	// is the trailing digit of the signature, 1 meaning that every datagram
	// ends with a CRC-32 (which this package neither checks nor adds).
	NCM
)

// String returns "IPS", "DSS", "NCM" or "Unknown".
func (k Kind) String() string {
	switch k {
	case IPS:
		return "IPS"
	case DSS:
		return "DSS"
	case NCM:
		return "NCM"
	case Unknown:
		return "Unknown"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Header signatures, as little-endian 32-bit values.
const (
	SignatureNTH16 uint32 = 0x484D434E // "NCMH"
	SignatureNTH32 uint32 = 0x686D636E // "ncmh"
)

// NDP signatures without their session byte (bits 24..31), and the CDC NCM
// ones, as little-endian 32-bit values.
const (
	SignatureIPS16    uint32 = 0x00535049 // "IPS" + session
	SignatureIPS32    uint32 = 0x00737069 // "ips" + session
	SignatureDSS16    uint32 = 0x00535344 // "DSS" + session
	SignatureDSS32    uint32 = 0x00737364 // "dss" + session
	SignatureNCM16    uint32 = 0x304D434E // "NCM0": NDP16, no CRC
	SignatureNCM32    uint32 = 0x306D636E // "ncm0": NDP32, no CRC
	SignatureNCM16CRC uint32 = 0x314D434E // "NCM1": NDP16, CRC-32 appended
	SignatureNCM32CRC uint32 = 0x316D636E // "ncm1": NDP32, CRC-32 appended
)

// Fixed structure sizes in bytes.
const (
	NTH16Length    = 12 // wHeaderLength of an NTH16
	NTH32Length    = 16 // wHeaderLength of an NTH32
	NDP16HeaderLen = 8  // NDP16 bytes before the first pointer entry
	NDP32HeaderLen = 16 // NDP32 bytes before the first pointer entry
	NDP16MinLength = 16 // smallest wLength of an NDP16 (header, one entry, terminator)
	NDP32MinLength = 32 // smallest wLength of an NDP32
)

// ParseSignature decodes an NDP signature. ok is false (and kind Unknown) for
// a value that is neither an MBIM IPS/DSS signature nor a CDC NCM one. is32
// reports whether the signature belongs to an NDP32.
func ParseSignature(sig uint32) (kind Kind, session uint8, is32 bool, ok bool) {
	session = uint8(sig >> 24)
	switch sig & 0x00FFFFFF {
	case SignatureIPS16:
		return IPS, session, false, true
	case SignatureIPS32:
		return IPS, session, true, true
	case SignatureDSS16:
		return DSS, session, false, true
	case SignatureDSS32:
		return DSS, session, true, true
	}
	switch sig {
	case SignatureNCM16:
		return NCM, 0, false, true
	case SignatureNCM16CRC:
		return NCM, 1, false, true
	case SignatureNCM32:
		return NCM, 0, true, true
	case SignatureNCM32CRC:
		return NCM, 1, true, true
	}
	return Unknown, 0, false, false
}

// Signature is the inverse of ParseSignature. It returns 0 for Unknown (or
// an undefined Kind) and for NCM with a session other than 0 or 1.
func Signature(kind Kind, session uint8, is32 bool) uint32 {
	var base uint32
	switch kind {
	case IPS:
		base = SignatureIPS16
		if is32 {
			base = SignatureIPS32
		}
	case DSS:
		base = SignatureDSS16
		if is32 {
			base = SignatureDSS32
		}
	case NCM:
		if session > 1 {
			return 0
		}
		base = SignatureNCM16
		if is32 {
			base = SignatureNCM32
		}
		return base + uint32(session)<<24
	default:
		return 0
	}
	return base | uint32(session)<<24
}

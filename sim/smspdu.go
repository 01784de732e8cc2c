package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// A small 3GPP TS 23.040 codec: enough to store received messages as
// SMS-DELIVER PDUs, to read back what the host sends (SMS-SUBMIT), and to
// pack USSD strings (TS 23.038 GSM 7-bit default alphabet, or UCS-2).

// gsm7Basic is the GSM 7-bit default alphabet (TS 23.038 6.2.1); 0x1b is
// the escape to the extension table.
var gsm7Basic = []rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsm7Ext is the extension table (after the escape).
var gsm7Ext = map[byte]rune{0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']',
	0x40: '|', 0x65: '€'}

var gsm7Index, gsm7ExtIndex = func() (map[rune]byte, map[rune]byte) {
	b, e := map[rune]byte{}, map[rune]byte{}
	for i, r := range gsm7Basic {
		if i != 0x1b {
			b[r] = byte(i)
		}
	}
	for k, r := range gsm7Ext {
		e[r] = k
	}
	return b, e
}()

// gsm7Septets returns s in septets of the default alphabet, or false if a
// character has none.
func gsm7Septets(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := gsm7Index[r]; ok {
			out = append(out, c)
		} else if c, ok := gsm7ExtIndex[r]; ok {
			out = append(out, 0x1b, c)
		} else {
			return nil, false
		}
	}
	return out, true
}

// gsm7Text decodes septets.
func gsm7Text(septets []byte) string {
	var sb strings.Builder
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7f
		if c == 0x1b && i+1 < len(septets) {
			i++
			if r, ok := gsm7Ext[septets[i]&0x7f]; ok {
				sb.WriteRune(r)
			} else {
				sb.WriteRune(' ')
			}
			continue
		}
		sb.WriteRune(gsm7Basic[c])
	}
	return sb.String()
}

// packSeptets packs septets LSB first, after fill bits of padding (to
// align them after a user data header).
func packSeptets(septets []byte, fill int) []byte {
	nbits := fill + 7*len(septets)
	out := make([]byte, (nbits+7)/8)
	bit := fill
	for _, s := range septets {
		for j := 0; j < 7; j++ {
			if s&(1<<j) != 0 {
				out[bit/8] |= 1 << (bit % 8)
			}
			bit++
		}
	}
	return out
}

// unpackSeptets reads n septets packed after fill bits.
func unpackSeptets(b []byte, fill, n int) []byte {
	out := make([]byte, 0, n)
	bit := fill
	for i := 0; i < n && (bit+7) <= len(b)*8; i++ {
		var s byte
		for j := 0; j < 7; j++ {
			if b[bit/8]&(1<<(bit%8)) != 0 {
				s |= 1 << j
			}
			bit++
		}
		out = append(out, s)
	}
	return out
}

func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return out
}

func ucs2Text(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

// Data coding schemes (TS 23.038 4): the SMS ones and the USSD (CBS) ones.
const (
	dcsGSM7     = 0x00
	dcs8Bit     = 0x04
	dcsUCS2     = 0x08
	dcsUSSDGSM7 = 0x0f // language unspecified, default alphabet
	dcsUSSDUCS2 = 0x48
)

// dcsAlphabet returns 0 (GSM 7-bit), 1 (8-bit data) or 2 (UCS-2) for an
// SMS or CBS data coding scheme.
func dcsAlphabet(dcs byte) int {
	switch {
	case dcs&0xc0 == 0x00, dcs&0xc0 == 0x40: // general data coding
		return int(dcs>>2) & 3
	case dcs&0xf0 == 0xf0:
		return int(dcs>>2) & 1
	case dcs&0xf0 == 0x00, dcs&0xf0 == 0x20, dcs&0xf0 == 0x30: // CBS language groups
		return 0
	case dcs&0xf0 == 0x10:
		if dcs&0x0f == 1 {
			return 2
		}
		return 0
	case dcs&0xf0 == 0xe0, dcs&0xf0 == 0xd0: // message waiting, UCS2 for 0xe0
		if dcs&0xf0 == 0xe0 {
			return 2
		}
		return 0
	}
	return 1
}

// ussdEncode encodes a USSD string, GSM 7-bit packed (DCS 0x0f) when it
// can, else UCS-2 (DCS 0x48).
func ussdEncode(s string) (dcs uint32, payload []byte) {
	if sep, ok := gsm7Septets(s); ok {
		p := packSeptets(sep, 0)
		// Seven spare bits would read as an extra '@': TS 23.038 6.1.2.3.1
		// fills them with a carriage return.
		if len(p)*8-7*len(sep) == 7 {
			p[len(p)-1] |= 0x0d << 1
		}
		return dcsUSSDGSM7, p
	}
	return dcsUSSDUCS2, ucs2(s)
}

// ussdDecode decodes a USSD payload of the given data coding scheme.
func ussdDecode(dcs uint32, p []byte) string {
	switch dcsAlphabet(byte(dcs)) {
	case 2:
		return ucs2Text(p)
	case 1:
		return string(p)
	}
	n := len(p) * 8 / 7
	sep := unpackSeptets(p, 0, n)
	if len(p)*8%7 == 0 && len(sep) > 0 && (sep[len(sep)-1] == 0x0d || sep[len(sep)-1] == 0) {
		sep = sep[:len(sep)-1]
	}
	return gsm7Text(sep)
}

// ---- addresses

// encodeAddress gives an address field: the length (digits, or semi-octets
// for an alphanumeric address), the type of address and the value.
func encodeAddress(addr string) []byte {
	digits := strings.TrimPrefix(addr, "+")
	if digits == "" || strings.Trim(digits, "0123456789*#") != "" {
		// Alphanumeric (TS 23.040 9.1.2.5): GSM 7-bit packed.
		sep, ok := gsm7Septets(addr)
		if !ok {
			sep, _ = gsm7Septets("?")
		}
		p := packSeptets(sep, 0)
		return append([]byte{byte((len(sep)*7 + 3) / 4), 0xd0}, p...)
	}
	toa := byte(0x81)
	if strings.HasPrefix(addr, "+") {
		toa = 0x91
	}
	return append([]byte{byte(len(digits)), toa}, bcdSwapped(digits)...)
}

// encodeSMSC gives the SMSC field that starts a PDU (length in octets).
func encodeSMSC(addr string) []byte {
	if addr == "" {
		return []byte{0}
	}
	a := encodeAddress(addr)
	return append([]byte{byte(len(a) - 1)}, a[1:]...)
}

// bcdSwapped packs digits two per octet, low nibble first, F-padded.
func bcdSwapped(digits string) []byte {
	nib := func(c byte) byte {
		switch c {
		case '*':
			return 0xa
		case '#':
			return 0xb
		}
		return c - '0'
	}
	out := make([]byte, 0, (len(digits)+1)/2)
	for i := 0; i < len(digits); i += 2 {
		b := nib(digits[i])
		if i+1 < len(digits) {
			b |= nib(digits[i+1]) << 4
		} else {
			b |= 0xf0
		}
		out = append(out, b)
	}
	return out
}

func bcdDigits(b []byte, n int) string {
	const d = "0123456789*#abc"
	var sb strings.Builder
	for _, x := range b {
		for _, v := range []byte{x & 0xf, x >> 4} {
			if sb.Len() < n && v != 0xf {
				sb.WriteByte(d[v])
			}
		}
	}
	return sb.String()
}

func decodeAddress(lenField, toa byte, v []byte) string {
	if toa&0x70 == 0x50 { // alphanumeric
		return gsm7Text(unpackSeptets(v, 0, int(lenField)*4/7))
	}
	s := bcdDigits(v, int(lenField))
	if toa&0x70 == 0x10 {
		s = "+" + s
	}
	return s
}

// ---- timestamps

func semiOctet(n int) byte { return byte(n%10)<<4 | byte(n/10%10) }

func fromSemiOctet(b byte) int { return int(b&0xf)*10 + int(b>>4) }

// encodeSCTS gives a service centre time stamp (TS 23.040 9.2.3.11).
func encodeSCTS(t time.Time) []byte {
	_, off := t.Zone()
	q := off / 900
	tz := semiOctet(abs(q))
	if q < 0 {
		tz |= 0x08
	}
	return []byte{semiOctet(t.Year() % 100), semiOctet(int(t.Month())), semiOctet(t.Day()), semiOctet(t.Hour()),
		semiOctet(t.Minute()), semiOctet(t.Second()), tz}
}

func decodeSCTS(b []byte) time.Time {
	q := fromSemiOctet(b[6] &^ 0x08)
	if b[6]&0x08 != 0 {
		q = -q
	}
	loc := time.FixedZone("", q*900)
	return time.Date(2000+fromSemiOctet(b[0]), time.Month(fromSemiOctet(b[1])), fromSemiOctet(b[2]), fromSemiOctet(b[3]),
		fromSemiOctet(b[4]), fromSemiOctet(b[5]), 0, loc)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ---- PDUs

// smsPDU is what the codec reads from a PDU.
type smsPDU struct {
	SMSC    string
	Submit  bool   // SMS-SUBMIT (else SMS-DELIVER)
	Addr    string // originator (deliver) or destination (submit)
	Ref     byte   // message reference (submit)
	DCS     byte
	Text    string
	Time    time.Time // deliver
	Concat  bool
	CRef    uint16 // concatenation reference, part count and number
	CTotal  byte
	CSeq    byte
	RawData []byte // user data of 8-bit messages
}

// smsParts splits text into the user data of one or more messages:
// (udh, septets or octets, dcs). Long texts become concatenated parts with
// reference ref.
func smsParts(text string, ref byte) (parts [][]byte, udhs [][]byte, dcs byte, gsm bool) {
	if sep, ok := gsm7Septets(text); ok {
		if len(sep) <= 160 {
			return [][]byte{sep}, [][]byte{nil}, dcsGSM7, true
		}
		for len(sep) > 0 {
			n := min(153, len(sep))
			if n < len(sep) && sep[n-1] == 0x1b { // do not split an escape
				n--
			}
			parts = append(parts, sep[:n])
			sep = sep[n:]
		}
		return parts, concatHeaders(ref, len(parts)), dcsGSM7, true
	}
	u := ucs2(text)
	if len(u) <= 140 {
		return [][]byte{u}, [][]byte{nil}, dcsUCS2, false
	}
	for len(u) > 0 {
		n := min(134, len(u))
		if n < len(u) && u[n-2]&0xfc == 0xd8 { // keep surrogate pairs together
			n -= 2
		}
		parts = append(parts, u[:n])
		u = u[n:]
	}
	return parts, concatHeaders(ref, len(parts)), dcsUCS2, false
}

func concatHeaders(ref byte, n int) [][]byte {
	h := make([][]byte, n)
	for i := range h {
		h[i] = []byte{0x05, 0x00, 0x03, ref, byte(n), byte(i + 1)}
	}
	return h
}

// appendUserData appends UDL and UD for one part.
func appendUserData(b, udh, data []byte, gsm bool) []byte {
	if !gsm {
		b = append(b, byte(len(udh)+len(data)))
		b = append(b, udh...)
		return append(b, data...)
	}
	fill := 0
	udhSeptets := 0
	if len(udh) > 0 {
		fill = (7 - len(udh)*8%7) % 7
		udhSeptets = (len(udh)*8 + fill) / 7
	}
	b = append(b, byte(udhSeptets+len(data)))
	b = append(b, udh...)
	return append(b, packSeptets(data, fill)...)
}

// deliverPDUs builds the SMS-DELIVER PDUs (with the SMSC address) of a
// received message; a long text gives concatenated parts.
func deliverPDUs(smsc, from, text string, ts time.Time, ref byte) [][]byte {
	parts, udhs, dcs, gsm := smsParts(text, ref)
	var out [][]byte
	for i, p := range parts {
		fo := byte(0x04) // SMS-DELIVER, no more messages waiting
		if udhs[i] != nil {
			fo |= 0x40
		}
		b := encodeSMSC(smsc)
		b = append(b, fo)
		b = append(b, encodeAddress(from)...)
		b = append(b, 0x00, dcs)
		b = append(b, encodeSCTS(ts)...)
		out = append(out, appendUserData(b, udhs[i], p, gsm))
	}
	return out
}

// submitPDUs builds SMS-SUBMIT PDUs (for sent and draft messages the
// scenario lists by text).
func submitPDUs(smsc, to, text string, ref byte) [][]byte {
	parts, udhs, dcs, gsm := smsParts(text, ref)
	var out [][]byte
	for i, p := range parts {
		fo := byte(0x01) // SMS-SUBMIT, no validity period
		if udhs[i] != nil {
			fo |= 0x40
		}
		b := encodeSMSC(smsc)
		b = append(b, fo, 0x00)
		b = append(b, encodeAddress(to)...)
		b = append(b, 0x00, dcs)
		out = append(out, appendUserData(b, udhs[i], p, gsm))
	}
	return out
}

var errShortPDU = errors.New("sms: PDU too short")

// parsePDU reads an SMS-DELIVER or SMS-SUBMIT PDU that starts with the
// SMSC address.
func parsePDU(b []byte) (smsPDU, error) {
	var p smsPDU
	if len(b) < 1 || len(b) < 1+int(b[0])+1 {
		return p, errShortPDU
	}
	if n := int(b[0]); n > 0 {
		p.SMSC = decodeAddress(byte((n-1)*2), b[1], b[2:1+n])
	}
	b = b[1+int(b[0]):]
	fo := b[0]
	b = b[1:]
	switch fo & 3 {
	case 0:
	case 1:
		p.Submit = true
		if len(b) < 1 {
			return p, errShortPDU
		}
		p.Ref = b[0]
		b = b[1:]
	default:
		return p, fmt.Errorf("sms: message type %d is neither SMS-DELIVER nor SMS-SUBMIT", fo&3)
	}
	if len(b) < 2 {
		return p, errShortPDU
	}
	alen := int(b[0])
	vlen := (alen + 1) / 2 // digits, or semi-octets of an alphanumeric address
	if len(b) < 2+vlen+2 {
		return p, errShortPDU
	}
	p.Addr = decodeAddress(b[0], b[1], b[2:2+vlen])
	b = b[2+vlen:]
	p.DCS = b[1]
	b = b[2:]
	if p.Submit {
		switch (fo >> 3) & 3 {
		case 2:
			b = skip(b, 1)
		case 1, 3:
			b = skip(b, 7)
		}
	} else {
		if len(b) < 7 {
			return p, errShortPDU
		}
		p.Time = decodeSCTS(b[:7])
		b = b[7:]
	}
	if len(b) < 1 {
		return p, errShortPDU
	}
	udl := int(b[0])
	ud := b[1:]
	alpha := dcsAlphabet(p.DCS)
	hdr := 0
	if fo&0x40 != 0 && len(ud) > 0 {
		hdr = 1 + int(ud[0])
		if hdr > len(ud) {
			return p, errShortPDU
		}
		h := ud[1:hdr]
		for len(h) >= 2 && len(h) >= 2+int(h[1]) {
			switch {
			case h[0] == 0x00 && h[1] == 3:
				p.Concat, p.CRef, p.CTotal, p.CSeq = true, uint16(h[2]), h[3], h[4]
			case h[0] == 0x08 && h[1] == 4:
				p.Concat, p.CRef, p.CTotal, p.CSeq = true, uint16(h[2])<<8|uint16(h[3]), h[4], h[5]
			}
			h = h[2+int(h[1]):]
		}
	}
	switch alpha {
	case 0:
		fill, skipSep := 0, 0
		if hdr > 0 {
			fill = (7 - hdr*8%7) % 7
			skipSep = (hdr*8 + fill) / 7
		}
		if hdr > len(ud) {
			return p, errShortPDU
		}
		p.Text = gsm7Text(unpackSeptets(ud[hdr:], fill, udl-skipSep))
	case 2:
		if udl > len(ud) {
			udl = len(ud)
		}
		p.Text = ucs2Text(ud[hdr:udl])
	default:
		if udl > len(ud) {
			udl = len(ud)
		}
		p.RawData = append([]byte(nil), ud[hdr:udl]...)
		p.Text = string(p.RawData)
	}
	return p, nil
}

// skip drops n bytes (all if fewer).
func skip(b []byte, n int) []byte {
	if n > len(b) {
		return nil
	}
	return b[n:]
}

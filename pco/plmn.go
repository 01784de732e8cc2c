package pco

import "fmt"

// EncodePLMN encodes an MCC (3 digits) and MNC (2 or 3 digits) in the
// 3-octet BCD form of TS 24.008 subclause 10.5.1.3, used at the start of
// operator specific containers:
//
//	octet 1: MCC digit 2 << 4 | MCC digit 1
//	octet 2: MNC digit 3 << 4 | MCC digit 3   (MNC digit 3 = 0xF for a 2-digit MNC)
//	octet 3: MNC digit 2 << 4 | MNC digit 1
//
// Verizon's 311/480 encodes as 13 01 84.
func EncodePLMN(mcc, mnc string) ([3]byte, error) {
	var out [3]byte
	if len(mcc) != 3 || !allDigits(mcc) {
		return out, fmt.Errorf("pco: MCC %q: want 3 decimal digits", mcc)
	}
	if (len(mnc) != 2 && len(mnc) != 3) || !allDigits(mnc) {
		return out, fmt.Errorf("pco: MNC %q: want 2 or 3 decimal digits", mnc)
	}
	d := func(s string, i int) byte { return s[i] - '0' }
	mnc3 := byte(0xF)
	if len(mnc) == 3 {
		mnc3 = d(mnc, 2)
	}
	out[0] = d(mcc, 1)<<4 | d(mcc, 0)
	out[1] = mnc3<<4 | d(mcc, 2)
	out[2] = d(mnc, 1)<<4 | d(mnc, 0)
	return out, nil
}

// DecodePLMN decodes the first three octets of b as written by EncodePLMN.
func DecodePLMN(b []byte) (mcc, mnc string, err error) {
	if len(b) < 3 {
		return "", "", fmt.Errorf("pco: PLMN needs 3 octets, have %d", len(b))
	}
	digits := [6]byte{
		b[0] & 0x0F, b[0] >> 4, b[1] & 0x0F, // MCC 1-3
		b[2] & 0x0F, b[2] >> 4, b[1] >> 4, // MNC 1-3
	}
	n := 6
	if digits[5] == 0xF {
		n = 5
	}
	buf := make([]byte, n)
	for i := range n {
		if digits[i] > 9 {
			return "", "", fmt.Errorf("pco: PLMN % x: nibble 0x%x is not a decimal digit", b[:3], digits[i])
		}
		buf[i] = '0' + digits[i]
	}
	return string(buf[:3]), string(buf[3:]), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

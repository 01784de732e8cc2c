package sim

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"
)

// milenage computes 3GPP TS 35.206's f1 (MAC-A), f2 (RES), f3 (CK), f4
// (IK) and f5 (AK) from the subscriber key K and OPc.
func milenage(t *testing.T, k, opc, rand, sqn, amf []byte) (mac, res, ck, ik, ak []byte) {
	t.Helper()
	blk, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(in []byte) []byte {
		out := make([]byte, 16)
		blk.Encrypt(out, in)
		return out
	}
	xor := func(a, b []byte) []byte {
		out := make([]byte, 16)
		for i := range out {
			out[i] = a[i] ^ b[i]
		}
		return out
	}
	// rot rotates a 128-bit value left by r bits (r a multiple of 8).
	rot := func(x []byte, r int) []byte {
		n := r / 8
		return append(append([]byte(nil), x[n:]...), x[:n]...)
	}
	cst := func(last byte) []byte { c := make([]byte, 16); c[15] = last; return c }
	temp := enc(xor(rand, opc))
	in1 := append(append(append(append([]byte(nil), sqn...), amf...), sqn...), amf...)
	out1 := xor(enc(xor(xor(temp, rot(xor(in1, opc), 64)), cst(0))), opc)
	out := func(r int, c byte) []byte { return xor(enc(xor(rot(xor(temp, opc), r), cst(c))), opc) }
	out2, out3, out4 := out(0, 1), out(32, 2), out(64, 4)
	return out1[:8], out2[8:], out3, out4, out2[:6]
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The AKA vector the simulated SIM has by default is what Milenage gives
// for the key and OPc of TS 35.207/35.208 test set 1: AUTN is SQN xor AK,
// AMF and MAC-A, and the answer is RES, CK and IK.
func TestDefaultAKAVectorIsMilenage(t *testing.T) {
	var c AuthConfig
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	v := c.AKA[0]
	k := unhex(t, "465b5ce8b199b49faa5f0a2ee238a6bc")
	opc := unhex(t, "cd63cb71954a9f4e48a5994e37a02baf")
	sqn, amf := unhex(t, "ff9bb4d0b607"), unhex(t, "b9b9")
	mac, res, ck, ik, ak := milenage(t, k, opc, v.RAND, sqn, amf)
	autn := make([]byte, 0, 16)
	for i := range sqn {
		autn = append(autn, sqn[i]^ak[i])
	}
	autn = append(append(autn, amf...), mac...)
	for _, x := range []struct {
		name      string
		got, want []byte
	}{{"AUTN", v.AUTN, autn}, {"RES", v.RES, res}, {"CK", v.CK, ck}, {"IK", v.IK, ik}} {
		if !bytes.Equal(x.got, x.want) {
			t.Errorf("%s = %x, Milenage gives %x", x.name, x.got, x.want)
		}
	}
}

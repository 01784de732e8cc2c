package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/gombim/gombim/catalog/auth"
	"github.com/gombim/gombim/mbim"
)

// Authentication (MBIM 1.0 section 10.5.39 to 10.5.41): the SIM answers
// AKA and AKA' challenges from the scenario's vectors (RAND and AUTN in,
// RES/IK/CK, or AUTS on a synchronisation failure, out); a challenge it has
// no vector for fails as a wrong AUTN would (auth-incorrect-autn). GSM
// authentication answers the scenario's SRES and Kc for a RAND, or values
// derived from the IMSI and the RAND.

func init() {
	Handle(auth.UUID, auth.CIDAka, handleAuthAKA)
	Handle(auth.UUID, auth.CIDAkap, handleAuthAKAP)
	Handle(auth.UUID, auth.CIDSim, handleAuthSIM)
	registerScenarioCheck(func(s *Scenario) error { return s.Auth.check() })
}

// AuthConfig holds the SIM's authentication vectors (scenario key auth).
type AuthConfig struct {
	// AKA vectors answer AKA and AKA' challenges. Omitted: 3GPP TS 35.207
	// (Milenage) test set 1.
	AKA []AKAVector `json:"aka"`
	// SIM vectors answer GSM challenges.
	SIM []SIMVector `json:"sim"`
}

// AKAVector is one UMTS challenge and the SIM's answer.
type AKAVector struct {
	RAND mbim.Bytes `json:"rand"` // 16 bytes
	AUTN mbim.Bytes `json:"autn"` // 16 bytes
	// NetworkName, if set, restricts the vector to AKA' with that network
	// name (empty: AKA, and AKA' with any name).
	NetworkName string `json:"network_name"`
	// The answer: RES (4 to 16 bytes), IK and CK (16 bytes); or AUTS (14
	// bytes) for a synchronisation failure; or Status, a failure
	// (auth-incorrect-autn, auth-amf-not-set...).
	RES    mbim.Bytes  `json:"res"`
	IK     mbim.Bytes  `json:"ik"`
	CK     mbim.Bytes  `json:"ck"`
	AUTS   mbim.Bytes  `json:"auts"`
	Status mbim.Status `json:"status"`
}

// SIMVector is one GSM challenge and the SIM's answer.
type SIMVector struct {
	RAND mbim.Bytes `json:"rand"` // 16 bytes
	SRES mbim.Bytes `json:"sres"` // 4 bytes
	Kc   mbim.Bytes `json:"kc"`   // 8 bytes
}

func (c *AuthConfig) check() error {
	if c.AKA == nil {
		c.AKA = []AKAVector{{
			RAND: hexBytes("23553cbe9637a89d218ae64dae47bf35"), AUTN: hexBytes("55f328b43577b9b94a9ffac354dfafb3"),
			RES: hexBytes("a54211d5e3ba50bf"), CK: hexBytes("b40ba9a3c58b2a05bbf0d987b21bf8cb"),
			IK: hexBytes("f769bcd751044604127672711c6d3441"),
		}}
	}
	for i, v := range c.AKA {
		switch {
		case len(v.RAND) != 16 || len(v.AUTN) != 16:
			return fmt.Errorf("auth.aka[%d]: rand and autn are 16 bytes", i)
		case v.Status != mbim.StatusNone || len(v.AUTS) > 0:
			if len(v.AUTS) > 0 && len(v.AUTS) != 14 {
				return fmt.Errorf("auth.aka[%d]: auts is 14 bytes", i)
			}
		case len(v.RES) < 4 || len(v.RES) > 16 || len(v.IK) != 16 || len(v.CK) != 16:
			return fmt.Errorf("auth.aka[%d]: want res (4 to 16 bytes), ik and ck (16 bytes), or auts, or status", i)
		}
	}
	for i, v := range c.SIM {
		if len(v.RAND) != 16 || len(v.SRES) != 4 || len(v.Kc) != 8 {
			return fmt.Errorf("auth.sim[%d]: want rand (16 bytes), sres (4) and kc (8)", i)
		}
	}
	return nil
}

func hexBytes(s string) mbim.Bytes {
	var b mbim.Bytes
	if err := b.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return b
}

func pad(b []byte, n int) mbim.Bytes {
	out := make(mbim.Bytes, n)
	copy(out, b)
	return out
}

// aka answers a challenge: the response fields, and the status.
func (m *Modem) aka(rand, autn []byte, akap bool, network string) (res, ik, ck, auts mbim.Bytes, resLen uint32, st mbim.Status) {
	if s := m.simStatus(); s != mbim.StatusNone {
		return nil, nil, nil, nil, 0, s
	}
	for _, v := range m.sc.Auth.AKA {
		if !bytes.Equal(v.RAND, rand) || !bytes.Equal(v.AUTN, autn) {
			continue
		}
		if v.NetworkName != "" && (!akap || v.NetworkName != network) {
			continue
		}
		switch {
		case len(v.AUTS) > 0:
			m.log("auth: synchronisation failure")
			return pad(nil, 16), pad(nil, 16), pad(nil, 16), pad(v.AUTS, 14), 0, mbim.StatusAuthSyncFailure
		case v.Status != mbim.StatusNone:
			m.log("auth: %s", v.Status)
			return nil, nil, nil, nil, 0, v.Status
		}
		m.log("auth: challenge answered")
		return pad(v.RES, 16), pad(v.IK, 16), pad(v.CK, 16), pad(nil, 14), uint32(len(v.RES)), mbim.StatusNone
	}
	m.log("auth: no vector for RAND %X: MAC failure", rand)
	return nil, nil, nil, nil, 0, mbim.StatusAuthIncorrectAUTN
}

func handleAuthAKA(m *Modem, r *Request) Reply {
	q, ok := r.Info.(*auth.AkaQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	res, ik, ck, auts, n, st := m.aka(q.Rand, q.Autn, false, "")
	if res == nil {
		return Fail(st)
	}
	return Reply{Status: st, Info: &auth.AkaResponse{Res: res, ResLen: n, IntegratingKey: ik, CipheringKey: ck, Auts: auts}}
}

func handleAuthAKAP(m *Modem, r *Request) Reply {
	q, ok := r.Info.(*auth.AkapQuery)
	if !ok {
		return Fail(mbim.StatusInvalidParameters)
	}
	res, ik, ck, auts, n, st := m.aka(q.Rand, q.Autn, true, q.NetworkName)
	if res == nil {
		return Fail(st)
	}
	return Reply{Status: st, Info: &auth.AkapResponse{Res: res, ResLen: n, IntegratingKey: ik, CipheringKey: ck, Auts: auts}}
}

// gsmAuth answers one GSM challenge: SRES and Kc as they are on the wire.
func (m *Modem) gsmAuth(rand []byte) (sres uint32, kc uint64) {
	for _, v := range m.sc.Auth.SIM {
		if bytes.Equal(v.RAND, rand) {
			return binary.LittleEndian.Uint32(v.SRES), binary.LittleEndian.Uint64(v.Kc)
		}
	}
	h := sha256.Sum256(slices.Concat([]byte("gombim-sim-a3a8"), []byte(m.activeSIM().cfg.IMSI), rand))
	return binary.LittleEndian.Uint32(h[:4]), binary.LittleEndian.Uint64(h[4:12])
}

func handleAuthSIM(m *Modem, r *Request) Reply {
	q, ok := r.Info.(*auth.SimQuery)
	if !ok || (q.N != 2 && q.N != 3) {
		return Fail(mbim.StatusInvalidParameters)
	}
	if s := m.simStatus(); s != mbim.StatusNone {
		return Fail(s)
	}
	out := &auth.SimResponse{N: q.N}
	out.Sres1, out.Kc1 = m.gsmAuth(q.Rand1)
	out.Sres2, out.Kc2 = m.gsmAuth(q.Rand2)
	if q.N == 3 {
		out.Sres3, out.Kc3 = m.gsmAuth(q.Rand3)
	}
	return OK(out)
}

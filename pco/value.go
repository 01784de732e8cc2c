package pco

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MTU is a link MTU in octets (containers 0x0010, 0x0015, 0x0020, 0x0021).
type MTU uint16

func (m MTU) String() string { return strconv.Itoa(int(m)) }

// RejectionCode is the one-octet policy control rejection code of
// container 0x0004 (network to MS).
type RejectionCode uint8

func (c RejectionCode) String() string { return strconv.Itoa(int(c)) }

// BearerControlMode is the selected bearer control mode of container
// 0x0005 (network to MS).
type BearerControlMode uint8

// Bearer control modes of TS 24.008.
const (
	BearerControlMSOnly       BearerControlMode = 1
	BearerControlMSAndNetwork BearerControlMode = 2
)

func (m BearerControlMode) String() string {
	switch m {
	case BearerControlMSOnly:
		return "ms-only"
	case BearerControlMSAndNetwork:
		return "ms-and-network"
	}
	return fmt.Sprintf("unknown(%d)", uint8(m))
}

// MarshalText encodes the mode as its String form.
func (m BearerControlMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// MSISDN is the decoded contents of container 0x000E (network to MS). The
// contents follow the MAP ISDN-AddressString layout that Wireshark decodes:
// an octet with bit 8 set carrying type of number (bits 5-7) and numbering
// plan (bits 1-4), then TBCD digits, low nibble first, 0xF as filler. When
// the first octet has bit 8 clear, the whole contents are taken as digits.
type MSISDN struct {
	HasHeader     bool
	TypeOfNumber  uint8 // 1 = international
	NumberingPlan uint8 // 1 = ISDN/telephony (E.164)
	Digits        string
}

// String returns the digits, prefixed with "+" for an international number.
func (m *MSISDN) String() string {
	if m.HasHeader && m.TypeOfNumber == 1 {
		return "+" + m.Digits
	}
	return m.Digits
}

// MarshalJSON encodes the number with its header fields.
func (m *MSISDN) MarshalJSON() ([]byte, error) {
	v := struct {
		Number        string `json:"number"`
		TypeOfNumber  *uint8 `json:"type_of_number,omitempty"`
		NumberingPlan *uint8 `json:"numbering_plan,omitempty"`
	}{Number: m.String()}
	if m.HasHeader {
		v.TypeOfNumber, v.NumberingPlan = &m.TypeOfNumber, &m.NumberingPlan
	}
	return json.Marshal(v)
}

// OperatorSpecific is the decoded contents of an operator specific
// container (0xFF00-0xFFFF): the PLMN of the operator and its value.
type OperatorSpecific struct {
	MCC   string
	MNC   string
	Value []byte
	// Meaning explains Value when the operator's format is known (Verizon
	// 311/480, container 0xFF00), empty otherwise.
	Meaning string
}

func (o *OperatorSpecific) String() string {
	s := fmt.Sprintf("mcc %s mnc %s value %s", o.MCC, o.MNC, hexOrEmpty(o.Value))
	if o.Meaning != "" {
		s += " (" + o.Meaning + ")"
	}
	return s
}

// MarshalJSON encodes the value as a hex string.
func (o *OperatorSpecific) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MCC     string `json:"mcc"`
		MNC     string `json:"mnc"`
		Value   string `json:"value"`
		Meaning string `json:"meaning,omitempty"`
	}{o.MCC, o.MNC, hex.EncodeToString(o.Value), o.Meaning})
}

// VerizonState is the subscription state Verizon (MCC 311, MNC 480) sends
// in operator specific container 0xFF00 as a one-octet value.
type VerizonState uint8

// Verizon subscription states, as interpreted by ChromeOS shill.
const (
	VerizonProvisioned   VerizonState = 0 // subscription active, no restriction
	VerizonOutOfData     VerizonState = 3 // data allowance used up, data blocked
	VerizonUnprovisioned VerizonState = 5 // line not activated yet
)

// Verizon's PLMN and container.
const (
	VerizonMCC       = "311"
	VerizonMNC       = "480"
	VerizonContainer = ContainerOperatorSpecificFirst
)

func (s VerizonState) String() string {
	switch s {
	case VerizonProvisioned:
		return "provisioned: subscription active, no restriction"
	case VerizonOutOfData:
		return "out of data: allowance used up, data blocked"
	case VerizonUnprovisioned:
		return "not provisioned: activation required"
	}
	return fmt.Sprintf("unknown Verizon state %d", uint8(s))
}

// Value returns the decoded contents of the entry, read with the
// network-to-MS meaning of its identifier (what MBIM_CID_PCO carries):
//
//   - netip.Addr for P-CSCF and DNS server addresses (0x0001, 0x0003,
//     0x000C, 0x000D) and DSMIPv6 home agent addresses (0x0007, 0x0009)
//   - netip.Prefix for the DSMIPv6 home network prefix (0x0008)
//   - MTU for the IPv4, non-IP, Ethernet and unstructured link MTUs
//     (0x0010, 0x0015, 0x0020, 0x0021)
//   - RejectionCode (0x0004), BearerControlMode (0x0005)
//   - *MSISDN (0x000E)
//   - *OperatorSpecific (0xFF00-0xFFFF)
//
// It returns nil for empty contents (requests), for identifiers whose
// contents are not decoded, and for contents that do not have the expected
// shape; Decode tells the last case apart.
func (e Entry) Value() any {
	v, err := e.Decode()
	if err != nil {
		return nil
	}
	return v
}

// Decode is Value with an error for contents that do not have the shape
// the identifier calls for (for example a 3-octet DNS IPv4 address).
func (e Entry) Decode() (any, error) {
	b := e.Contents
	if len(b) == 0 {
		return nil, nil
	}
	want := func(n int) error {
		if len(b) != n {
			return fmt.Errorf("pco: %s (0x%04x): want %d octets, got %d", e.Name(), e.ID, n, len(b))
		}
		return nil
	}
	switch e.ID {
	case ContainerPCSCFIPv6, ContainerDNSServerIPv6, ContainerDSMIPv6HomeAgent:
		if err := want(16); err != nil {
			return nil, err
		}
		return netip.AddrFrom16([16]byte(b)), nil
	case ContainerDSMIPv6IPv4HomeAgent, ContainerPCSCFIPv4, ContainerDNSServerIPv4:
		if err := want(4); err != nil {
			return nil, err
		}
		return netip.AddrFrom4([4]byte(b)), nil
	case ContainerDSMIPv6HomeNetworkPrefix:
		if err := want(17); err != nil {
			return nil, err
		}
		if b[16] > 128 {
			return nil, fmt.Errorf("pco: %s (0x%04x): prefix length %d exceeds 128", e.Name(), e.ID, b[16])
		}
		return netip.PrefixFrom(netip.AddrFrom16([16]byte(b[:16])), int(b[16])), nil
	case ContainerIPv4LinkMTU, ContainerNonIPLinkMTU, ContainerEthernetFramePayloadMTU, ContainerUnstructuredLinkMTU:
		if err := want(2); err != nil {
			return nil, err
		}
		return MTU(uint16(b[0])<<8 | uint16(b[1])), nil
	case ContainerPolicyControlRejectionCode:
		if err := want(1); err != nil {
			return nil, err
		}
		return RejectionCode(b[0]), nil
	case ContainerBearerControlMode:
		if err := want(1); err != nil {
			return nil, err
		}
		return BearerControlMode(b[0]), nil
	case ContainerMSISDN:
		m, err := decodeMSISDN(b)
		if err != nil {
			return nil, fmt.Errorf("pco: %s (0x%04x): %w", e.Name(), e.ID, err)
		}
		return m, nil
	}
	if IsOperatorSpecific(e.ID) {
		mcc, mnc, err := DecodePLMN(b)
		if err != nil {
			return nil, fmt.Errorf("pco: %s (0x%04x): %w", e.Name(), e.ID, err)
		}
		o := &OperatorSpecific{MCC: mcc, MNC: mnc, Value: append([]byte{}, b[3:]...)}
		if e.ID == VerizonContainer && mcc == VerizonMCC && mnc == VerizonMNC && len(o.Value) == 1 {
			o.Meaning = VerizonState(o.Value[0]).String()
		}
		return o, nil
	}
	return nil, nil
}

// Verizon returns the Verizon subscription state carried by p, if p holds
// a well-formed Verizon container (0xFF00, MCC 311, MNC 480, one-octet
// value). Unknown state values are returned as they are.
func (p *PCO) Verizon() (VerizonState, bool) {
	for _, e := range p.Entries {
		if e.ID != VerizonContainer {
			continue
		}
		if o, ok := e.Value().(*OperatorSpecific); ok && o.MCC == VerizonMCC && o.MNC == VerizonMNC && len(o.Value) == 1 {
			return VerizonState(o.Value[0]), true
		}
	}
	return 0, false
}

// DNSServers returns the DNS server addresses (IPv4 and IPv6 containers)
// in wire order.
func (p *PCO) DNSServers() []netip.Addr {
	return p.addrs(ContainerDNSServerIPv4, ContainerDNSServerIPv6)
}

// PCSCFAddresses returns the P-CSCF addresses (IPv4 and IPv6 containers)
// in wire order.
func (p *PCO) PCSCFAddresses() []netip.Addr {
	return p.addrs(ContainerPCSCFIPv4, ContainerPCSCFIPv6)
}

func (p *PCO) addrs(v4, v6 uint16) []netip.Addr {
	var out []netip.Addr
	for _, e := range p.Entries {
		if e.ID != v4 && e.ID != v6 {
			continue
		}
		if a, ok := e.Value().(netip.Addr); ok {
			out = append(out, a)
		}
	}
	return out
}

// TBCD digit set of TS 29.002 / 24.008 (0xF is the filler).
const tbcdDigits = "0123456789*#abc"

func decodeMSISDN(b []byte) (*MSISDN, error) {
	m := &MSISDN{}
	if b[0]&0x80 != 0 {
		m.HasHeader = true
		m.TypeOfNumber = b[0] >> 4 & 0x07
		m.NumberingPlan = b[0] & 0x0F
		b = b[1:]
	}
	var sb strings.Builder
	for i, c := range b {
		lo, hi := c&0x0F, c>>4
		if lo == 0xF {
			return nil, fmt.Errorf("filler nibble in the low half of digit octet %d", i+1)
		}
		sb.WriteByte(tbcdDigits[lo])
		if hi == 0xF {
			if i != len(b)-1 {
				return nil, fmt.Errorf("filler nibble before the last digit octet (octet %d of %d)", i+1, len(b))
			}
			break
		}
		sb.WriteByte(tbcdDigits[hi])
	}
	m.Digits = sb.String()
	return m, nil
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return fmt.Sprintf("% x", b)
}

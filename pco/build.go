package pco

import (
	"fmt"
	"net/netip"
	"strings"
)

// Request returns an entry with empty contents: the form the MS uses to ask
// the network for a container (DNS server, P-CSCF, MTU, MSISDN...).
func Request(id uint16) Entry { return Entry{ID: id} }

// DNSServer returns a DNS server address container: 0x000D for an IPv4
// address (IPv4-mapped IPv6 addresses included), 0x0003 for IPv6.
func DNSServer(addr netip.Addr) (Entry, error) {
	return addressContainer(ContainerDNSServerIPv4, ContainerDNSServerIPv6, addr)
}

// PCSCF returns a P-CSCF address container: 0x000C for an IPv4 address,
// 0x0001 for IPv6.
func PCSCF(addr netip.Addr) (Entry, error) {
	return addressContainer(ContainerPCSCFIPv4, ContainerPCSCFIPv6, addr)
}

func addressContainer(v4, v6 uint16, addr netip.Addr) (Entry, error) {
	if !addr.IsValid() {
		return Entry{}, fmt.Errorf("pco: invalid address for container 0x%04x/0x%04x", v4, v6)
	}
	if addr.Is4() || addr.Is4In6() {
		a := addr.Unmap().As4()
		return Entry{ID: v4, Contents: a[:]}, nil
	}
	a := addr.As16()
	return Entry{ID: v6, Contents: a[:]}, nil
}

// IPv4LinkMTU returns container 0x0010 carrying mtu.
func IPv4LinkMTU(mtu uint16) Entry { return mtuContainer(ContainerIPv4LinkMTU, mtu) }

// NonIPLinkMTU returns container 0x0015 carrying mtu.
func NonIPLinkMTU(mtu uint16) Entry { return mtuContainer(ContainerNonIPLinkMTU, mtu) }

func mtuContainer(id, mtu uint16) Entry {
	return Entry{ID: id, Contents: []byte{byte(mtu >> 8), byte(mtu)}}
}

// SelectedBearerControlMode returns container 0x0005 (network to MS)
// carrying mode.
func SelectedBearerControlMode(mode BearerControlMode) Entry {
	return Entry{ID: ContainerBearerControlMode, Contents: []byte{byte(mode)}}
}

// MSISDNContainer returns container 0x000E (network to MS) carrying number.
// A leading "+" marks an international number (header octet 0x91: type of
// number international, numbering plan E.164); otherwise the header is 0x81
// (type unknown, E.164). Digits are 0-9 and * # a b c.
func MSISDNContainer(number string) (Entry, error) {
	header := byte(0x81)
	digits := number
	if rest, ok := strings.CutPrefix(number, "+"); ok {
		header, digits = 0x91, rest
	}
	if digits == "" {
		return Entry{}, fmt.Errorf("pco: MSISDN %q has no digits", number)
	}
	if len(digits) > 2*(MaxContentsLength-1) {
		return Entry{}, fmt.Errorf("pco: MSISDN %q is too long", number)
	}
	out := []byte{header}
	for i := 0; i < len(digits); i += 2 {
		lo := strings.IndexByte(tbcdDigits, digits[i])
		hi := 0xF
		if i+1 < len(digits) {
			hi = strings.IndexByte(tbcdDigits, digits[i+1])
		}
		if lo < 0 || hi < 0 {
			return Entry{}, fmt.Errorf("pco: MSISDN %q: only 0-9 * # a b c are allowed", number)
		}
		out = append(out, byte(hi<<4|lo))
	}
	return Entry{ID: ContainerMSISDN, Contents: out}, nil
}

// OperatorSpecificContainer returns an operator specific container: id
// must lie in 0xFF00-0xFFFF, the contents are the PLMN of mcc/mnc (see
// EncodePLMN) followed by value, at most 252 octets.
func OperatorSpecificContainer(id uint16, mcc, mnc string, value []byte) (Entry, error) {
	if !IsOperatorSpecific(id) {
		return Entry{}, fmt.Errorf("pco: container id 0x%04x is outside the operator specific range 0xff00-0xffff", id)
	}
	if len(value) > MaxContentsLength-3 {
		return Entry{}, fmt.Errorf("pco: operator specific value is %d octets, maximum is %d", len(value), MaxContentsLength-3)
	}
	plmn, err := EncodePLMN(mcc, mnc)
	if err != nil {
		return Entry{}, err
	}
	return Entry{ID: id, Contents: append(plmn[:], value...)}, nil
}

// VerizonSubscription returns Verizon's container 0xFF00 for MCC 311,
// MNC 480 carrying state: ff00 04 13 01 84 <state>.
func VerizonSubscription(state VerizonState) Entry {
	e, err := OperatorSpecificContainer(VerizonContainer, VerizonMCC, VerizonMNC, []byte{byte(state)})
	if err != nil {
		panic("pco: Verizon container: " + err.Error()) // constants above are valid
	}
	return e
}

package datapath

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Ethernet framing of DSS data on a cdc_mbim network interface.
//
// On receive, cdc_mbim_process_dgram gives every datagram a dummy 14-byte
// Ethernet header: destination = the interface's own MAC address, source =
// 00:00:00:00:00:00, EtherType = ETH_P_802_3 (0x0001) for DSS (0x0800 or
// 0x86dd for IP sessions), and puts the VLAN tag (256+session for DSS) in
// the packet's metadata (__vlan_hwaccel_put_tag), not in the bytes. On
// transmit it accepts the tag out of band or in the frame (802.1Q), drops
// DSS frames whose EtherType is IPv4/IPv6, and strips the header.
const (
	EthHeaderLen     = 14     // destination, source, EtherType
	VLANEthHeaderLen = 18     // destination, source, 0x8100, TCI, EtherType
	EtherTypeVLAN    = 0x8100 // IEEE 802.1Q tag protocol identifier
	EtherTypeQinQ    = 0x88a8 // IEEE 802.1ad (service tag)
	// EtherTypeDSS is what cdc_mbim puts in the dummy header of DSS frames
	// it receives from the modem: ETH_P_802_3 (0x0001).
	EtherTypeDSS = 0x0001
)

var errShortFrame = errors.New("frame shorter than an Ethernet header")

// parseFrame takes apart a frame read from a packet socket (SOCK_RAW, so
// starting with the link-layer header). tci/tciValid are the out-of-band
// tag reported in PACKET_AUXDATA. An in-frame 802.1Q or 802.1ad tag is
// used when there is no out-of-band one (a VLAN link with reorder_hdr off,
// or a driver that does not strip tags). It returns the VLAN id (0 and
// tagged=false for an untagged frame) and the payload after the dummy
// header, a sub-slice of b.
func parseFrame(b []byte, tci uint16, tciValid bool) (vid uint16, tagged bool, payload []byte, err error) {
	if len(b) < EthHeaderLen {
		return 0, false, nil, errShortFrame
	}
	if tciValid {
		return tci & 0x0fff, true, b[EthHeaderLen:], nil
	}
	switch binary.BigEndian.Uint16(b[12:]) {
	case EtherTypeVLAN, EtherTypeQinQ:
		if len(b) < VLANEthHeaderLen {
			return 0, false, nil, errShortFrame
		}
		return binary.BigEndian.Uint16(b[14:]) & 0x0fff, true, b[VLANEthHeaderLen:], nil
	}
	return 0, false, b[EthHeaderLen:], nil
}

// putVLANHeader writes the 18-byte header of an 802.1Q-tagged frame
// carrying DSS session data, as cdc_mbim would present it to the host: the
// given destination, source 00:00:00:00:00:00, tag vid (priority 0) and
// EtherType ETH_P_802_3.
func putVLANHeader(h []byte, dst [6]byte, vid uint16) {
	_ = h[VLANEthHeaderLen-1]
	copy(h[0:6], dst[:])
	clear(h[6:12])
	binary.BigEndian.PutUint16(h[12:], EtherTypeVLAN)
	binary.BigEndian.PutUint16(h[14:], vid&0x0fff)
	binary.BigEndian.PutUint16(h[16:], EtherTypeDSS)
}

func vlanName(vid uint16) string { return "VLAN " + strconv.Itoa(int(vid)) }

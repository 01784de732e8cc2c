// Package datapath moves MBIM Device Service Stream (DSS) data between a
// modem and the host: where the bytes of a DSS session (for example the
// modem log stream of Microsoft's "MB modem logging with DSS") come from
// on the host, and how a simulated modem emits them.
//
// # Sources
//
// A Source delivers the datagrams of one DSS session, one at a time and
// without copying (Datagram.Data points into the source's buffer until the
// next read). Describe says which source is in use and why.
//
// NetdevSource reads a Linux network interface driven by cdc_mbim. The
// facts it relies on, from the kernel's Documentation/networking/cdc_mbim.rst
// and drivers/net/usb/cdc_mbim.c:
//
//   - The driver maps MBIM sessions to 802.1Q VLANs on the one wwanY
//     interface: IP session 0 is untagged (or VLAN 4094 once a link with
//     that id exists), IP sessions 1-255 are VLANs 1-255, DSS session N is
//     VLAN 256+N (256-511); VLANs 512-4093 are dropped. In rx_fixup the
//     VLAN id of a DSS NDP is the signature's 4th byte plus 256.
//   - Each received datagram gets a dummy 14-byte Ethernet header:
//     destination = the interface's MAC address, source = zero, EtherType
//     ETH_P_802_3 (0x0001) for DSS; the tag goes in the packet's metadata
//     (__vlan_hwaccel_put_tag), not in its bytes. Userspace strips the
//     header on receive and adds one on transmit (the driver drops DSS
//     frames whose EtherType is IPv4 or IPv6).
//   - Adding VLAN links for DSS sessions is optional: an application may
//     bind a packet socket to the master interface and use the VLAN tags,
//     preferably with a socket filter so that IP traffic is not copied.
//   - No DSS session can be up unless the interface carrying IP session 0
//     is up.
//
// OpenNetdev therefore either uses a VLAN link for the session (an
// existing one, or one it creates over rtnetlink like "ip link add link
// wwan0 name wwan0.dss1 addrgenmode none type vlan id 257", brings up, and
// deletes again on Close) and reads it with an AF_PACKET socket, or, in
// NetdevParent mode (or automatically when VLAN links cannot be created,
// e.g. a kernel without CONFIG_VLAN_8021Q), binds the AF_PACKET socket to
// the parent, where a classic BPF filter on the out-of-band tag
// (SKF_AD_VLAN_TAG) keeps only the session's frames and PACKET_AUXDATA
// (tp_vlan_tci) reports each frame's tag. Frames the kernel drops because
// the socket buffer is full (PACKET_STATISTICS) are reported as a
// *LossError.
//
// NTBSource parses a raw NTB byte stream with ntb.Reader: a Unix socket
// speaking raw NTBs (the simulator's data endpoint), a userspace bulk
// pipe, a capture file of concatenated NTBs. It keeps the datagrams of the
// session's DSS NDPs ("DSS"+id in NTB16, "dss"+id in NTB32) and skips the
// rest; a malformed block is skipped and reported as a *LossError.
//
// # Producers
//
// NTBStreamProducer packs datagrams into NTBs with ntb.Builder and writes
// them to a byte stream. EthernetProducer writes one 802.1Q-tagged frame
// per datagram (VLAN 256+session, cdc_mbim's dummy header) on an
// interface, such as one end of a veth pair, so that the other end looks
// like a cdc_mbim interface to a NetdevSource.
package datapath

package datapath

import (
	"errors"
	"net"
	"strconv"
)

// NetdevMode selects how a NetdevSource reaches the DSS frames on a
// cdc_mbim network interface.
type NetdevMode int

const (
	// NetdevAuto uses a VLAN link for the session if one exists, else
	// creates one; if that fails (a kernel without 802.1Q support, no
	// permission), it reads the parent interface directly as NetdevParent
	// does, and Describe says why.
	NetdevAuto NetdevMode = iota
	// NetdevVLAN requires a VLAN link for the session: an existing one, or
	// one created over rtnetlink and deleted again on Close.
	NetdevVLAN
	// NetdevParent never creates a link: a packet socket on the parent
	// interface picks the session's frames by their VLAN tag, reported out
	// of band in PACKET_AUXDATA (tp_vlan_tci), with a kernel socket filter
	// so that other sessions' traffic is not copied to user space.
	NetdevParent
)

func (m NetdevMode) String() string {
	switch m {
	case NetdevAuto:
		return "auto"
	case NetdevVLAN:
		return "vlan"
	case NetdevParent:
		return "parent"
	}
	return "NetdevMode(" + strconv.Itoa(int(m)) + ")"
}

// NetdevOptions configures OpenNetdev. The zero value reads DSS session 0
// in NetdevAuto mode.
type NetdevOptions struct {
	Session uint8
	// AnySession (NetdevParent only) delivers every DSS session's frames
	// (VLAN ids 256-511).
	AnySession bool
	Mode       NetdevMode
	// Name is the name for a VLAN link we create; the default is
	// "PARENT.dssN" (as in the kernel's cdc_mbim documentation), or
	// "mbimIdssN" (I the parent's index) when that exceeds 15 bytes.
	Name string
	// KeepLink leaves a VLAN link we created in place on Close.
	KeepLink bool
	// FrameBuffer is the largest frame read whole; longer frames are
	// delivered truncated (Datagram.Truncated). 0 means 64 KiB plus an
	// 802.1Q Ethernet header.
	FrameBuffer int
	// SocketBuffer is the socket receive buffer (SO_RCVBUFFORCE, else
	// SO_RCVBUF). 0 means 8 MiB.
	SocketBuffer int
}

// ErrLinkDown is returned (wrapped) by NetdevSource.ReadDatagram when the
// interface went down. It is not fatal: reading resumes when the interface
// comes back up. If the interface disappears instead, the error wraps
// io.EOF.
var ErrLinkDown = errors.New("network interface is down")

// EthernetProducerOptions configures an EthernetProducer.
type EthernetProducerOptions struct {
	// Dst is the destination MAC address of the frames. cdc_mbim uses the
	// host interface's own address; nil means broadcast, which every
	// receiver accepts.
	Dst net.HardwareAddr
}

// MinEthernetDatagram is the smallest datagram an EthernetProducer sends.
// The receiving kernel's 802.1Q untagging (skb_vlan_untag) reads two bytes
// past the inner EtherType and silently drops shorter tagged frames; a
// real cdc_mbim interface, which never has the tag in the frame, delivers
// 1-byte datagrams too.
const MinEthernetDatagram = 2

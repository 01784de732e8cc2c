package datapath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A minimal rtnetlink client: just what a DSS source needs to find,
// create, bring up and delete VLAN links. Messages are built and parsed by
// hand (host byte order, 4-byte attribute alignment, as in
// include/uapi/linux/netlink.h and rtnetlink.h).

var ne = binary.NativeEndian

// link is what we need to know about a network interface.
type link struct {
	Index  int
	Name   string
	Flags  uint32 // IFF_*
	MTU    uint32
	Parent int    // IFLA_LINK, 0 if none
	Kind   string // IFLA_INFO_KIND ("vlan", "veth", ...), "" if none
	VLANID int    // IFLA_VLAN_ID for kind "vlan", -1 otherwise
	// VLANProto is IFLA_VLAN_PROTOCOL (0x8100 for 802.1Q, 0x88a8 for
	// 802.1ad), 0 if not reported.
	VLANProto uint16
	Addr      []byte // IFLA_ADDRESS
}

func (l *link) up() bool { return l.Flags&unix.IFF_UP != 0 }

// NetlinkError is an error reported by the kernel for an rtnetlink
// request, with the extended ack message when there is one.
type NetlinkError struct {
	Op    string
	Errno syscall.Errno
	Msg   string // NLMSGERR_ATTR_MSG, e.g. "Unknown device type"
}

func (e *NetlinkError) Error() string {
	s := "rtnetlink " + e.Op + ": " + e.Errno.Error()
	if e.Msg != "" {
		s += " (" + e.Msg + ")"
	}
	return s
}

func (e *NetlinkError) Unwrap() error { return e.Errno }

// ---- message building ----

func nlAlign(n int) int { return (n + 3) &^ 3 }

// nlMsg builds one netlink message.
type nlMsg struct{ b []byte }

func newNLMsg(typ, flags uint16) *nlMsg {
	m := &nlMsg{b: make([]byte, unix.SizeofNlMsghdr, 128)}
	ne.PutUint16(m.b[4:], typ)
	ne.PutUint16(m.b[6:], flags)
	return m
}

// ifinfo appends a struct ifinfomsg.
func (m *nlMsg) ifinfo(index int32, flags, change uint32) {
	var h [unix.SizeofIfInfomsg]byte
	// ifi_family, pad, ifi_type are zero
	ne.PutUint32(h[4:], uint32(index))
	ne.PutUint32(h[8:], flags)
	ne.PutUint32(h[12:], change)
	m.b = append(m.b, h[:]...)
}

func (m *nlMsg) attr(typ uint16, data []byte) {
	start := len(m.b)
	m.b = append(m.b, 0, 0, 0, 0)
	ne.PutUint16(m.b[start:], uint16(unix.SizeofRtAttr+len(data)))
	ne.PutUint16(m.b[start+2:], typ)
	m.b = append(m.b, data...)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *nlMsg) u8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *nlMsg) u16(typ uint16, v uint16) {
	var b [2]byte
	ne.PutUint16(b[:], v)
	m.attr(typ, b[:])
}

func (m *nlMsg) u32(typ uint16, v uint32) {
	var b [4]byte
	ne.PutUint32(b[:], v)
	m.attr(typ, b[:])
}

// str appends a NUL-terminated string attribute.
func (m *nlMsg) str(typ uint16, s string) { m.attr(typ, append([]byte(s), 0)) }

// nest starts a nested attribute; end closes it.
func (m *nlMsg) nest(typ uint16) int {
	start := len(m.b)
	m.attr(typ, nil)
	return start
}

func (m *nlMsg) end(start int) { ne.PutUint16(m.b[start:], uint16(len(m.b)-start)) }

func (m *nlMsg) finish(seq uint32) []byte {
	ne.PutUint32(m.b[0:], uint32(len(m.b)))
	ne.PutUint32(m.b[8:], seq)
	return m.b
}

// newVLANMsg builds the RTM_NEWLINK request that creates VLAN id vid on
// parent, named name, with IPv6 address generation off (so the kernel does
// not send router solicitations, which cdc_mbim would drop on a DSS VLAN
// anyway). It is the same message as
// "ip link add link PARENT name NAME addrgenmode none type vlan id VID".
func newVLANMsg(parent int, name string, vid uint16, addrGenNone bool) *nlMsg {
	m := newNLMsg(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	m.ifinfo(0, 0, 0)
	if addrGenNone {
		af := m.nest(unix.IFLA_AF_SPEC)
		in6 := m.nest(unix.AF_INET6)
		m.u8(unix.IFLA_INET6_ADDR_GEN_MODE, in6AddrGenModeNone)
		m.end(in6)
		m.end(af)
	}
	m.u32(unix.IFLA_LINK, uint32(parent))
	m.str(unix.IFLA_IFNAME, name)
	li := m.nest(unix.IFLA_LINKINFO)
	m.attr(unix.IFLA_INFO_KIND, []byte("vlan"))
	data := m.nest(unix.IFLA_INFO_DATA)
	m.u16(unix.IFLA_VLAN_ID, vid)
	m.end(data)
	m.end(li)
	return m
}

// setUpMsg is "ip link set dev INDEX up|down".
func setUpMsg(index int, up bool) *nlMsg {
	m := newNLMsg(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	m.ifinfo(int32(index), flags, unix.IFF_UP)
	return m
}

// delLinkMsg is "ip link del dev INDEX".
func delLinkMsg(index int) *nlMsg {
	m := newNLMsg(unix.RTM_DELLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	m.ifinfo(int32(index), 0, 0)
	return m
}

// getLinkMsg asks for one link by index, or by name when index is 0, or
// for all links (dump) when both are empty.
func getLinkMsg(index int, name string) *nlMsg {
	flags := uint16(unix.NLM_F_REQUEST)
	if index == 0 && name == "" {
		flags |= unix.NLM_F_DUMP
	}
	m := newNLMsg(unix.RTM_GETLINK, flags)
	m.ifinfo(int32(index), 0, 0)
	if index == 0 && name != "" {
		m.str(unix.IFLA_IFNAME, name)
	}
	return m
}

// ---- parsing ----

var errNLShort = errors.New("truncated netlink message")

// nlMessages walks the netlink messages in b, calling fn with each
// header's type, flags, sequence number and payload.
func nlMessages(b []byte, fn func(typ, flags uint16, seq uint32, payload []byte) error) error {
	for len(b) > 0 {
		if len(b) < unix.SizeofNlMsghdr {
			return errNLShort
		}
		n := int(ne.Uint32(b))
		if n < unix.SizeofNlMsghdr || n > len(b) {
			return fmt.Errorf("netlink message length %d out of range (%d bytes left)", n, len(b))
		}
		if err := fn(ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:]), b[unix.SizeofNlMsghdr:n]); err != nil {
			return err
		}
		n = nlAlign(n)
		if n >= len(b) {
			break
		}
		b = b[n:]
	}
	return nil
}

// nlAttrs walks the attributes in b.
func nlAttrs(b []byte, fn func(typ uint16, data []byte)) error {
	for len(b) >= unix.SizeofRtAttr {
		n := int(ne.Uint16(b))
		if n < unix.SizeofRtAttr || n > len(b) {
			return fmt.Errorf("netlink attribute length %d out of range (%d bytes left)", n, len(b))
		}
		fn(ne.Uint16(b[2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER), b[unix.SizeofRtAttr:n])
		n = nlAlign(n)
		if n >= len(b) {
			return nil
		}
		b = b[n:]
	}
	if len(b) != 0 {
		return errNLShort
	}
	return nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseLink decodes the payload of an RTM_NEWLINK message.
func parseLink(p []byte) (link, error) {
	l := link{VLANID: -1}
	if len(p) < unix.SizeofIfInfomsg {
		return l, errNLShort
	}
	l.Index = int(int32(ne.Uint32(p[4:])))
	l.Flags = ne.Uint32(p[8:])
	var inner error
	err := nlAttrs(p[unix.SizeofIfInfomsg:], func(typ uint16, d []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			l.Name = cstring(d)
		case unix.IFLA_MTU:
			if len(d) >= 4 {
				l.MTU = ne.Uint32(d)
			}
		case unix.IFLA_LINK:
			if len(d) >= 4 {
				l.Parent = int(int32(ne.Uint32(d)))
			}
		case unix.IFLA_ADDRESS:
			l.Addr = append([]byte(nil), d...)
		case unix.IFLA_LINKINFO:
			if err := nlAttrs(d, func(typ uint16, d []byte) {
				switch typ {
				case unix.IFLA_INFO_KIND:
					l.Kind = cstring(d)
				case unix.IFLA_INFO_DATA:
					// Interpreted below once the kind is known; the
					// kernel puts KIND before DATA.
					if l.Kind != "vlan" {
						return
					}
					if err := nlAttrs(d, func(typ uint16, d []byte) {
						switch typ {
						case unix.IFLA_VLAN_ID:
							if len(d) >= 2 {
								l.VLANID = int(ne.Uint16(d))
							}
						case unix.IFLA_VLAN_PROTOCOL:
							if len(d) >= 2 {
								l.VLANProto = binary.BigEndian.Uint16(d)
							}
						}
					}); err != nil && inner == nil {
						inner = err
					}
				}
			}); err != nil && inner == nil {
				inner = err
			}
		}
	})
	if err == nil {
		err = inner
	}
	return l, err
}

// parseNLError decodes an NLMSG_ERROR payload: errno 0 is an ack.
func parseNLError(op string, flags uint16, p []byte) error {
	if len(p) < 4 {
		return errNLShort
	}
	code := int32(ne.Uint32(p))
	if code == 0 {
		return nil
	}
	e := &NetlinkError{Op: op, Errno: syscall.Errno(-code)}
	if flags&unix.NLM_F_ACK_TLVS != 0 && len(p) >= 4+unix.SizeofNlMsghdr {
		off := 4 + unix.SizeofNlMsghdr
		if flags&unix.NLM_F_CAPPED == 0 {
			off = 4 + int(ne.Uint32(p[4:]))
		}
		if off >= 4+unix.SizeofNlMsghdr && off <= len(p) {
			nlAttrs(p[off:], func(typ uint16, d []byte) {
				if typ == unix.NLMSGERR_ATTR_MSG {
					e.Msg = cstring(d)
				}
			})
		}
	}
	return e
}

// ---- the socket ----

// rtnl is a NETLINK_ROUTE socket. Its network namespace is the one of the
// thread that opened it, for its whole life.
type rtnl struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

func openRtnl() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, os.NewSyscallError("socket(AF_NETLINK)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind(AF_NETLINK)", err)
	}
	// Extended acks carry the kernel's explanation ("Unknown device
	// type"); capped acks leave out the echoed request. Both are optional.
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	return &rtnl{fd: fd, seq: 1, buf: make([]byte, 64<<10)}, nil
}

func (c *rtnl) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	return err
}

// do sends m and collects the replies until the ack (or NLMSG_DONE for a
// dump), calling fn for each RTM_NEWLINK payload.
func (c *rtnl) do(op string, m *nlMsg, fn func(payload []byte) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return ErrClosed
	}
	c.seq++
	seq := c.seq
	b := m.finish(seq)
	if err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto(AF_NETLINK)", err)
	}
	dump := ne.Uint16(b[6:])&unix.NLM_F_DUMP != 0
	ack := ne.Uint16(b[6:])&unix.NLM_F_ACK != 0
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("recvfrom(AF_NETLINK)", err)
		}
		done := false
		var result error
		perr := nlMessages(c.buf[:n], func(typ, flags uint16, s uint32, p []byte) error {
			if s != seq {
				return nil // a stale reply
			}
			switch typ {
			case unix.NLMSG_ERROR:
				result = parseNLError(op, flags, p)
				done = true
			case unix.NLMSG_DONE:
				done = true
			case unix.RTM_NEWLINK:
				if fn != nil {
					if err := fn(p); err != nil && result == nil {
						result = err
					}
				}
				if !dump && !ack {
					done = true
				}
			}
			return nil
		})
		if perr != nil {
			return fmt.Errorf("rtnetlink %s: %w", op, perr)
		}
		if done {
			return result
		}
	}
}

func (c *rtnl) links() ([]link, error) {
	var ls []link
	err := c.do("dump links", getLinkMsg(0, ""), func(p []byte) error {
		l, err := parseLink(p)
		if err != nil {
			return err
		}
		ls = append(ls, l)
		return nil
	})
	return ls, err
}

func (c *rtnl) linkBy(index int, name string) (link, error) {
	var l link
	found := false
	op := "get link " + name
	if index != 0 {
		op = fmt.Sprintf("get link %d", index)
	}
	err := c.do(op, getLinkMsg(index, name), func(p []byte) error {
		var err error
		l, err = parseLink(p)
		found = err == nil
		return err
	})
	if err == nil && !found {
		err = &NetlinkError{Op: op, Errno: unix.ENODEV}
	}
	return l, err
}

func (c *rtnl) newVLAN(parent int, name string, vid uint16) error {
	op := fmt.Sprintf("create VLAN %s (id %d)", name, vid)
	err := c.do(op, newVLANMsg(parent, name, vid, true), nil)
	if errors.Is(err, unix.EAFNOSUPPORT) {
		// No IPv6 in this kernel: nothing to switch off.
		err = c.do(op, newVLANMsg(parent, name, vid, false), nil)
	}
	return err
}

func (c *rtnl) setUp(index int, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return c.do(fmt.Sprintf("set link %d %s", index, state), setUpMsg(index, up), nil)
}

func (c *rtnl) delLink(index int) error {
	return c.do(fmt.Sprintf("delete link %d", index), delLinkMsg(index), nil)
}

// in6AddrGenModeNone is IN6_ADDR_GEN_MODE_NONE (include/uapi/linux/if_link.h).
const in6AddrGenModeNone = 1

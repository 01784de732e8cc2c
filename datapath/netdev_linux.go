package datapath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// NetdevSource reads one DSS session from a network interface driven by
// Linux's cdc_mbim, which presents DSS session N as 802.1Q VLAN id 256+N
// on the modem's interface, each datagram behind a dummy 14-byte Ethernet
// header that is stripped here.
type NetdevSource struct {
	nl      *rtnl
	pc      *packetConn
	opts    NetdevOptions
	parent  link
	readIf  link // the interface the packet socket is bound to
	vid     uint16
	viaVLAN bool
	created bool // we created readIf
	// Links whose IFF_UP we set and will clear again on Close.
	upped []link
	desc  string
	st    stats

	reportedDrops int64
	closeOnce     sync.Once
	closeErr      error
	closed        atomic.Bool
}

// OpenNetdev opens the DSS session opts.Session on the cdc_mbim interface
// parent (e.g. "wwan0"). It needs CAP_NET_RAW, and CAP_NET_ADMIN to create
// a VLAN link or bring an interface up. All sockets live in the network
// namespace of the calling thread.
func OpenNetdev(parent string, opts NetdevOptions) (src *NetdevSource, err error) {
	if opts.AnySession && opts.Mode != NetdevParent {
		return nil, errors.New("datapath: AnySession needs NetdevParent mode (a VLAN link carries one session)")
	}
	nl, err := openRtnl()
	if err != nil {
		return nil, fmt.Errorf("datapath: %w", err)
	}
	s := &NetdevSource{nl: nl, opts: opts, vid: DSSVLAN(opts.Session)}
	defer func() {
		if err != nil {
			s.undo()
			nl.Close()
		}
	}()
	s.parent, err = nl.linkBy(0, parent)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("datapath: network interface %q not found", parent)
		}
		return nil, fmt.Errorf("datapath: looking up %s: %w", parent, err)
	}
	sess := "DSS session " + strconv.Itoa(int(opts.Session))
	var why string
	switch opts.Mode {
	case NetdevParent:
		why = "no VLAN link wanted (parent mode)"
	case NetdevAuto, NetdevVLAN:
		v, found, ferr := s.findVLAN()
		switch {
		case ferr != nil:
			err = fmt.Errorf("listing links: %w", ferr)
		case found:
			s.readIf, s.viaVLAN = v, true
			s.desc = fmt.Sprintf("existing VLAN %s (id %d = %s) on %s, found over rtnetlink and left in place on Close", v.Name, s.vid, sess, s.parent.Name)
		default:
			s.readIf, err = s.createVLAN()
			if err == nil {
				s.viaVLAN, s.created = true, true
				keep := "deleted again on Close"
				if opts.KeepLink {
					keep = "kept after Close"
				}
				s.desc = fmt.Sprintf("VLAN %s (id %d = %s) on %s, created by gombim over rtnetlink because none existed (%s)", s.readIf.Name, s.vid, sess, s.parent.Name, keep)
			}
		}
		if err != nil {
			if opts.Mode == NetdevVLAN {
				return nil, fmt.Errorf("datapath: VLAN %d for %s on %s: %w%s", s.vid, sess, parent, err, vlanHint(err))
			}
			why = fmt.Sprintf("no VLAN link for it could be used: %v%s", err, vlanHint(err))
			err = nil
		}
	default:
		return nil, fmt.Errorf("datapath: unknown mode %v", opts.Mode)
	}

	// Frames only flow while the interfaces are up (cdc_mbim: no DSS
	// session can be up unless the IP session 0 device is up).
	if err = s.ensureUp(s.parent); err != nil {
		return nil, err
	}
	filter := dssFilter(-1)
	if s.viaVLAN {
		if err = s.ensureUp(s.readIf); err != nil {
			return nil, err
		}
		s.desc += "; reading it with an AF_PACKET socket and stripping cdc_mbim's dummy 14-byte Ethernet header"
	} else {
		s.readIf = s.parent
		vid := int(s.vid)
		what := fmt.Sprintf("VLAN %d (%s)", s.vid, sess)
		if opts.AnySession {
			vid = 0
			what = "VLANs 256-511 (every DSS session)"
		}
		filter = dssFilter(vid)
		s.desc = fmt.Sprintf("%s directly with an AF_PACKET socket, picking the frames of %s by their VLAN tag (PACKET_AUXDATA tp_vlan_tci, kernel socket filter) and stripping the dummy 14-byte Ethernet header, because %s", s.parent.Name, what, why)
	}
	for _, l := range s.upped {
		s.desc += fmt.Sprintf("; brought %s up (set down again on Close)", l.Name)
	}
	s.pc, err = openPacket(s.readIf.Index, s.readIf.Name, true, filter, opts.SocketBuffer, opts.FrameBuffer)
	if err != nil {
		return nil, fmt.Errorf("datapath: %s: %w", s.readIf.Name, err)
	}
	return s, nil
}

func vlanHint(err error) string {
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		return " (the kernel has no 802.1Q VLAN support: CONFIG_VLAN_8021Q / module 8021q)"
	case errors.Is(err, unix.EPERM):
		return " (creating links needs CAP_NET_ADMIN)"
	}
	return ""
}

// findVLAN looks for an 802.1Q link with our VLAN id on the parent.
func (s *NetdevSource) findVLAN() (link, bool, error) {
	ls, err := s.nl.links()
	if err != nil {
		return link{}, false, err
	}
	for _, l := range ls {
		if l.Kind == "vlan" && l.Parent == s.parent.Index && l.VLANID == int(s.vid) &&
			(l.VLANProto == 0 || l.VLANProto == EtherTypeVLAN) {
			return l, true, nil
		}
	}
	return link{}, false, nil
}

// vlanLinkName is the default name of the VLAN link for a session.
func vlanLinkName(parent string, parentIndex int, session uint8) string {
	n := parent + ".dss" + strconv.Itoa(int(session))
	if len(n) > unix.IFNAMSIZ-1 {
		n = "mbim" + strconv.Itoa(parentIndex) + "dss" + strconv.Itoa(int(session))
	}
	return n
}

func (s *NetdevSource) createVLAN() (link, error) {
	name := s.opts.Name
	if name == "" {
		name = vlanLinkName(s.parent.Name, s.parent.Index, s.opts.Session)
	}
	if len(name) > unix.IFNAMSIZ-1 || name == "" || strings.ContainsAny(name, "/: \t\n") {
		return link{}, fmt.Errorf("invalid interface name %q", name)
	}
	if err := s.nl.newVLAN(s.parent.Index, name, s.vid); err != nil {
		return link{}, err
	}
	l, err := s.nl.linkBy(0, name)
	if err != nil {
		return link{}, fmt.Errorf("created %s but cannot find it: %w", name, err)
	}
	if l.Kind != "vlan" || l.VLANID != int(s.vid) || l.Parent != s.parent.Index {
		return link{}, fmt.Errorf("created %s but it is %q id %d on %d", name, l.Kind, l.VLANID, l.Parent)
	}
	return l, nil
}

func (s *NetdevSource) ensureUp(l link) error {
	if l.up() {
		return nil
	}
	if err := s.nl.setUp(l.Index, true); err != nil {
		return fmt.Errorf("datapath: bringing %s up: %w", l.Name, err)
	}
	// A link we created is deleted on Close; no need to set it down.
	if !(s.created && l.Index == s.readIf.Index) {
		s.upped = append(s.upped, l)
	}
	return nil
}

// undo reverts what opening changed: deletes a VLAN link we created and
// sets down the links we brought up (in reverse order).
func (s *NetdevSource) undo() error {
	var errs []error
	if s.created && !s.opts.KeepLink {
		if err := s.nl.delLink(s.readIf.Index); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", s.readIf.Name, err))
		}
		s.created = false
	}
	for i := len(s.upped) - 1; i >= 0; i-- {
		l := s.upped[i]
		if err := s.nl.setUp(l.Index, false); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("setting %s down: %w", l.Name, err))
		}
	}
	s.upped = nil
	return errors.Join(errs...)
}

// Describe says which interface is read, how, and why.
func (s *NetdevSource) Describe() string { return s.desc }

// Interface returns the name of the interface the packet socket is bound
// to (the VLAN link, or the parent).
func (s *NetdevSource) Interface() string { return s.readIf.Name }

// ViaVLAN reports whether a VLAN link is read (rather than the parent).
func (s *NetdevSource) ViaVLAN() bool { return s.viaVLAN }

// Created reports whether OpenNetdev created the VLAN link.
func (s *NetdevSource) Created() bool { return s.created }

// Stats returns the source's counters.
func (s *NetdevSource) Stats() SourceStats { return s.st.snapshot() }

// ReadDatagram returns the next DSS datagram of the session.
func (s *NetdevSource) ReadDatagram(ctx context.Context) (Datagram, error) {
	if s.closed.Load() {
		return Datagram{}, ErrClosed
	}
	for {
		if d := s.pc.drops(false); d > 0 {
			s.st.drops.Add(d)
		}
		if total := s.st.drops.Load(); total > s.reportedDrops {
			n := total - s.reportedDrops
			s.reportedDrops = total
			return Datagram{}, &LossError{Source: s.desc, What: "frames dropped by the kernel (socket receive buffer full)", Count: n, Bytes: -1, Offset: -1}
		}
		fr, err := s.pc.recv(ctx)
		if err != nil {
			return Datagram{}, s.readError(err)
		}
		if fr.pktType == packetOutgoing {
			continue // our own transmissions, if the filter let them through
		}
		vid, tagged, payload, perr := parseFrame(fr.data, fr.tci, fr.tciValid)
		var ok bool
		switch {
		case perr != nil || len(payload) == 0:
		case s.viaVLAN:
			// The VLAN link removed the tag, unless reorder_hdr is off.
			ok = !tagged || vid == s.vid
		case s.opts.AnySession:
			ok = tagged && vid >= FirstDSSVLAN && vid < FirstDSSVLAN+256
		default:
			ok = tagged && vid == s.vid
		}
		if !ok {
			s.st.skipped.Add(1)
			continue
		}
		sess := s.opts.Session
		if tagged {
			sess = uint8(vid - FirstDSSVLAN)
		}
		hdr := len(fr.data) - len(payload)
		d := Datagram{Session: sess, Data: payload, Length: fr.length - hdr}
		s.st.delivered(d)
		return d, nil
	}
}

func (s *NetdevSource) readError(err error) error {
	switch {
	case errors.Is(err, ErrClosed) || s.closed.Load():
		return ErrClosed
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, unix.ENETDOWN):
		// Still there (down), or gone (unregistered: the socket is dead)?
		if _, lerr := s.nl.linkBy(s.readIf.Index, ""); errors.Is(lerr, unix.ENODEV) {
			return fmt.Errorf("datapath: %s went away (%w)", s.readIf.Name, io.EOF)
		}
		return fmt.Errorf("datapath: %s: %w", s.readIf.Name, ErrLinkDown)
	case errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO):
		return fmt.Errorf("datapath: %s went away: %v (%w)", s.readIf.Name, err, io.EOF)
	}
	return fmt.Errorf("datapath: reading %s: %w", s.readIf.Name, err)
}

// Close closes the socket and reverts what OpenNetdev changed: a VLAN link
// it created is deleted (unless KeepLink), links it brought up are set
// down.
func (s *NetdevSource) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		var errs []error
		if d := s.pc.drops(true); d > 0 {
			s.st.drops.Add(d)
		}
		errs = append(errs, s.pc.close())
		errs = append(errs, s.undo())
		errs = append(errs, s.nl.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("datapath: closing %s: %w", s.readIf.Name, err)
		}
	})
	return s.closeErr
}

// EthernetProducer writes DSS datagrams as cdc_mbim presents them to the
// host, on one end of a veth pair (or any Ethernet-like interface): one
// frame per datagram, tagged 802.1Q VLAN 256+session in the frame, with
// the dummy header (source 00:00:00:00:00:00, EtherType ETH_P_802_3).
// The receiving kernel moves the tag out of band, as cdc_mbim does with
// __vlan_hwaccel_put_tag. It is safe for concurrent use.
type EthernetProducer struct {
	pc     *packetConn
	ifname string
	mtu    int
	dst    [6]byte
	desc   string
	hdrs   sync.Pool
	closed atomic.Bool
}

// NewEthernetProducer opens an AF_PACKET socket for sending on ifname
// (which must be up). It lives in the calling thread's network namespace.
func NewEthernetProducer(ifname string, opts EthernetProducerOptions) (*EthernetProducer, error) {
	nl, err := openRtnl()
	if err != nil {
		return nil, fmt.Errorf("datapath: %w", err)
	}
	l, err := nl.linkBy(0, ifname)
	nl.Close()
	if err != nil {
		return nil, fmt.Errorf("datapath: looking up %s: %w", ifname, err)
	}
	p := &EthernetProducer{ifname: ifname, mtu: int(l.MTU)}
	p.dst = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if opts.Dst != nil {
		if len(opts.Dst) != 6 {
			return nil, fmt.Errorf("datapath: destination %v is not a 6-byte MAC address", opts.Dst)
		}
		copy(p.dst[:], opts.Dst)
	}
	p.pc, err = openPacket(l.Index, ifname, false, nil, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("datapath: %s: %w", ifname, err)
	}
	p.hdrs.New = func() any { return new([VLANEthHeaderLen]byte) }
	p.desc = fmt.Sprintf("802.1Q frames tagged VLAN 256+session (dummy Ethernet header as cdc_mbim builds it, destination %s) on %s via AF_PACKET",
		net.HardwareAddr(p.dst[:]), ifname)
	return p, nil
}

// Describe says where the frames go.
func (p *EthernetProducer) Describe() string { return p.desc }

// WriteDatagram sends one frame carrying d for DSS session. The interface
// MTU bounds the datagram size (the kernel refuses larger frames with
// EMSGSIZE), and datagrams shorter than MinEthernetDatagram are refused.
func (p *EthernetProducer) WriteDatagram(session uint8, d []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if len(d) < MinEthernetDatagram {
		return fmt.Errorf("datapath: %d-byte datagram: an 802.1Q-tagged frame needs at least %d payload bytes, or the receiving kernel drops it silently when it moves the tag out of band (skb_vlan_untag); cdc_mbim, which tags out of band, has no such limit", len(d), MinEthernetDatagram)
	}
	h := p.hdrs.Get().(*[VLANEthHeaderLen]byte)
	defer p.hdrs.Put(h)
	putVLANHeader(h[:], p.dst, DSSVLAN(session))
	if err := p.pc.send(h[:], d); err != nil {
		if errors.Is(err, unix.EMSGSIZE) {
			return fmt.Errorf("datapath: %d-byte datagram does not fit the MTU %d of %s: %w", len(d), p.mtu, p.ifname, err)
		}
		return fmt.Errorf("datapath: sending on %s: %w", p.ifname, err)
	}
	return nil
}

// MaxDatagram returns the interface MTU: the kernel accepts frames of up
// to MTU bytes plus the 18-byte 802.1Q Ethernet header.
func (p *EthernetProducer) MaxDatagram() int { return p.mtu }

// Flush does nothing: every datagram is sent at once.
func (p *EthernetProducer) Flush() error { return nil }

// Close closes the socket.
func (p *EthernetProducer) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	return p.pc.close()
}

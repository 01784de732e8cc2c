package datapath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gombim/gombim/internal/netnstest"
	"golang.org/x/sys/unix"
)

// The request bodies iproute2 6.1 sends (recorded with strace -xx) for
//
//	ip link add link va name va.257 addrgenmode none type vlan id 257
//	ip link add link va name va.257 type vlan id 257
//	ip link set va up
//	ip link del va
//
// with va at index 3. Little-endian host.
var iproute2Bodies = map[string]string{
	"add-addrgen": "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x10\x00\x1a\x00\x0c\x00\x0a\x00\x05\x00\x08\x00\x01\x00\x00\x00" +
		"\x08\x00\x05\x00\x03\x00\x00\x00\x0b\x00\x03\x00\x76\x61\x2e\x32\x35\x37\x00\x00" +
		"\x18\x00\x12\x00\x08\x00\x01\x00\x76\x6c\x61\x6e\x0c\x00\x02\x00\x06\x00\x01\x00\x01\x01\x00\x00",
	"add": "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x08\x00\x05\x00\x03\x00\x00\x00\x0b\x00\x03\x00\x76\x61\x2e\x32\x35\x37\x00\x00" +
		"\x18\x00\x12\x00\x08\x00\x01\x00\x76\x6c\x61\x6e\x0c\x00\x02\x00\x06\x00\x01\x00\x01\x01\x00\x00",
	"up":  "\x00\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00",
	"del": "\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
}

func TestNetlinkRequestsMatchIproute2(t *testing.T) {
	var x uint16 = 1
	if (*[2]byte)(unsafePointer(&x))[0] != 1 {
		t.Skip("recorded on a little-endian host")
	}
	cases := []struct {
		name  string
		m     *nlMsg
		typ   uint16
		flags uint16
	}{
		{"add-addrgen", newVLANMsg(3, "va.257", 257, true), unix.RTM_NEWLINK, 0x605},
		{"add", newVLANMsg(3, "va.257", 257, false), unix.RTM_NEWLINK, 0x605},
		{"up", setUpMsg(3, true), unix.RTM_NEWLINK, unix.NLM_F_REQUEST | unix.NLM_F_ACK},
		{"del", delLinkMsg(3), unix.RTM_DELLINK, unix.NLM_F_REQUEST | unix.NLM_F_ACK},
	}
	for _, c := range cases {
		b := c.m.finish(77)
		want := iproute2Bodies[c.name]
		if int(binary.LittleEndian.Uint32(b)) != len(b) || len(b) != 16+len(want) {
			t.Errorf("%s: nlmsg_len %d, message %d bytes, want %d", c.name, binary.LittleEndian.Uint32(b), len(b), 16+len(want))
		}
		if typ := binary.LittleEndian.Uint16(b[4:]); typ != c.typ {
			t.Errorf("%s: type %#x, want %#x", c.name, typ, c.typ)
		}
		if fl := binary.LittleEndian.Uint16(b[6:]); fl != c.flags {
			t.Errorf("%s: flags %#x, want %#x", c.name, fl, c.flags)
		}
		if seq := binary.LittleEndian.Uint32(b[8:]); seq != 77 {
			t.Errorf("%s: seq %d", c.name, seq)
		}
		if got := string(b[16:]); got != want {
			t.Errorf("%s: body differs from iproute2's:\n got % x\nwant % x", c.name, got, want)
		}
	}
}

// Our requests parse back with our parser (RTM_NEWLINK requests and
// replies share the ifinfomsg + attributes layout).
func TestParseLinkOfOwnRequest(t *testing.T) {
	b := newVLANMsg(12, "wwan0.dss1", 257, true).finish(1)
	var l link
	err := nlMessages(b, func(typ, flags uint16, seq uint32, p []byte) error {
		var err error
		l, err = parseLink(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "wwan0.dss1" || l.Parent != 12 || l.Kind != "vlan" || l.VLANID != 257 {
		t.Fatalf("parsed %+v", l)
	}
}

func TestParseNLError(t *testing.T) {
	p := make([]byte, 4+16)
	binary.NativeEndian.PutUint32(p, uint32(0xffffffff-uint32(unix.EOPNOTSUPP)+1))
	m := &nlMsg{b: p}
	m.str(unix.NLMSGERR_ATTR_MSG, "Unknown device type")
	err := parseNLError("create", unix.NLM_F_ACK_TLVS|unix.NLM_F_CAPPED, m.b)
	var ne *NetlinkError
	if !errors.As(err, &ne) || ne.Msg != "Unknown device type" || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("got %v", err)
	}
	if err.Error() != "rtnetlink create: operation not supported (Unknown device type)" {
		t.Errorf("Error() = %q", err)
	}
	binary.NativeEndian.PutUint32(p, 0)
	if err := parseNLError("x", 0, p); err != nil {
		t.Errorf("ack: %v", err)
	}
	if err := parseNLError("x", 0, p[:2]); err == nil {
		t.Error("short error message accepted")
	}
}

func TestVLANLinkName(t *testing.T) {
	if n := vlanLinkName("wwan0", 5, 1); n != "wwan0.dss1" {
		t.Errorf("got %q", n)
	}
	if n := vlanLinkName("wwp0s20f0u6i12", 17, 255); n != "mbim17dss255" {
		t.Errorf("got %q", n)
	}
}

// The rtnetlink client against the kernel, in a private namespace.
func TestRtnlLive(t *testing.T) {
	ns := netnstest.New(t)
	ns.Veth("va", "vb", 1500)
	var nl *rtnl
	if err := ns.Do(func() (err error) { nl, err = openRtnl(); return }); err != nil {
		t.Fatal(err)
	}
	defer nl.Close()

	va, err := nl.linkBy(0, "va")
	if err != nil {
		t.Fatal(err)
	}
	if va.Kind != "veth" || va.Index == 0 || !va.up() || va.MTU != 1500 || len(va.Addr) != 6 {
		t.Fatalf("va: %+v", va)
	}
	byIdx, err := nl.linkBy(va.Index, "")
	if err != nil || byIdx.Name != "va" {
		t.Fatalf("by index: %+v %v", byIdx, err)
	}
	if _, err := nl.linkBy(0, "nosuch"); !errors.Is(err, unix.ENODEV) {
		t.Fatalf("missing link: %v", err)
	}
	ls, err := nl.links()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range ls {
		names[l.Name] = true
	}
	if !names["lo"] || !names["va"] || !names["vb"] {
		t.Fatalf("dump: %v", names)
	}

	if err := nl.setUp(va.Index, false); err != nil {
		t.Fatal(err)
	}
	if out := ns.MustIP("link", "show", "va"); strings.Contains(out, ",UP") {
		t.Fatalf("va still up: %s", out)
	}
	if err := nl.setUp(va.Index, true); err != nil {
		t.Fatal(err)
	}

	err = nl.newVLAN(va.Index, "va.257", 257)
	if ns.VLANSupported("va") != nil {
		var ne *NetlinkError
		if !errors.As(err, &ne) || !errors.Is(err, unix.EOPNOTSUPP) {
			t.Fatalf("VLAN creation without kernel support: %v", err)
		}
		t.Logf("no 802.1Q in this kernel, as expected: %v", err)
	} else {
		if err != nil {
			t.Fatal(err)
		}
		out := ns.MustIP("-d", "link", "show", "va.257")
		if !strings.Contains(out, "vlan protocol 802.1Q id 257") || !strings.Contains(out, "addrgenmode none") {
			t.Fatalf("ip -d link: %s", out)
		}
		v, err := nl.linkBy(0, "va.257")
		if err != nil || v.Kind != "vlan" || v.VLANID != 257 || v.Parent != va.Index || v.VLANProto != EtherTypeVLAN {
			t.Fatalf("created link: %+v %v", v, err)
		}
		if err := nl.newVLAN(va.Index, "va.257", 257); !errors.Is(err, unix.EEXIST) {
			t.Fatalf("second creation: %v", err)
		}
		if err := nl.delLink(v.Index); err != nil {
			t.Fatal(err)
		}
	}

	if err := nl.delLink(va.Index); err != nil {
		t.Fatal(err)
	}
	if out, _ := ns.IP("link", "show"); strings.Contains(out, "va@") || strings.Contains(out, "vb@") {
		t.Fatalf("veth pair not deleted: %s", out)
	}
	if err := nl.delLink(va.Index); !errors.Is(err, unix.ENODEV) {
		t.Fatalf("deleting again: %v", err)
	}
}

func FuzzNetlinkLinks(f *testing.F) {
	f.Add(newVLANMsg(3, "va.257", 257, true).finish(1))
	f.Add(setUpMsg(3, true).finish(2))
	f.Add(getLinkMsg(0, "wwan0").finish(3))
	two := append(bytes.Clone(newVLANMsg(1, "a", 300, false).finish(1)), delLinkMsg(9).finish(2)...)
	f.Add(two)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		nlMessages(b, func(typ, flags uint16, seq uint32, p []byte) error {
			parseLink(p)
			parseNLError("fuzz", flags, p)
			return nil
		})
		parseLink(b)
	})
}

func FuzzParseAuxdata(f *testing.F) {
	// A real-looking control message: cmsghdr + tpacket_auxdata with a
	// valid VLAN tag.
	good := make([]byte, 40)
	binary.NativeEndian.PutUint64(good, 16+20)
	binary.NativeEndian.PutUint32(good[8:], unix.SOL_PACKET)
	binary.NativeEndian.PutUint32(good[12:], unix.PACKET_AUXDATA)
	binary.NativeEndian.PutUint32(good[16:], unix.TP_STATUS_VLAN_VALID)
	binary.NativeEndian.PutUint16(good[32:], 257)
	f.Add(good)
	f.Add(good[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseAuxdata(b)
	})
}

func TestParseAuxdata(t *testing.T) {
	if unix.SizeofCmsghdr != 16 {
		t.Skip("layout written for 64-bit hosts")
	}
	b := make([]byte, 40)
	binary.NativeEndian.PutUint64(b, 16+20)
	binary.NativeEndian.PutUint32(b[8:], unix.SOL_PACKET)
	binary.NativeEndian.PutUint32(b[12:], unix.PACKET_AUXDATA)
	binary.NativeEndian.PutUint32(b[16:], unix.TP_STATUS_VLAN_VALID)
	binary.NativeEndian.PutUint16(b[32:], 0x2101)
	if tci, ok := parseAuxdata(b); !ok || tci != 0x2101 {
		t.Fatalf("got %#x %v", tci, ok)
	}
	binary.NativeEndian.PutUint32(b[16:], 0)
	if _, ok := parseAuxdata(b); ok {
		t.Fatal("tag without TP_STATUS_VLAN_VALID accepted")
	}
	// Another control message first.
	other := make([]byte, 24)
	binary.NativeEndian.PutUint64(other, 16+4)
	binary.NativeEndian.PutUint32(other[8:], unix.SOL_SOCKET)
	binary.NativeEndian.PutUint32(b[16:], unix.TP_STATUS_VLAN_VALID)
	if tci, ok := parseAuxdata(append(other, b...)); !ok || tci != 0x2101 {
		t.Fatalf("after another message: %#x %v", tci, ok)
	}
}

package datapath

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gombim/gombim/internal/netnstest"
	"golang.org/x/sys/unix"
)

// A cdc_mbim stand-in: a veth pair in a private namespace. The simulated
// modem writes on "mdm0", the host reads "wwan0".
const (
	modemIf = "mdm0"
	hostIf  = "wwan0"
)

func newRig(t *testing.T, mtu int) *netnstest.NS {
	ns := netnstest.New(t)
	ns.Veth(modemIf, hostIf, mtu)
	return ns
}

func open(t *testing.T, ns *netnstest.NS, opts NetdevOptions) (*NetdevSource, *EthernetProducer) {
	t.Helper()
	var src *NetdevSource
	var prod *EthernetProducer
	err := ns.Do(func() (err error) {
		if src, err = OpenNetdev(hostIf, opts); err != nil {
			return err
		}
		prod, err = NewEthernetProducer(modemIf, EthernetProducerOptions{})
		return err
	})
	if err != nil {
		if src != nil {
			src.Close()
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { prod.Close(); src.Close() })
	return src, prod
}

func vlanSupport(t *testing.T, ns *netnstest.NS) bool {
	err := ns.VLANSupported(hostIf)
	if err != nil && os.Getenv("GOMBIM_REQUIRE_VLAN") != "" {
		t.Fatalf("GOMBIM_REQUIRE_VLAN is set: %v", err)
	}
	return err == nil
}

// rawFrame sends an arbitrary frame on the producer's interface: IP
// traffic and other noise that the source must not deliver.
func rawFrame(t *testing.T, p *EthernetProducer, vid uint16, etherType uint16, body []byte) {
	t.Helper()
	var h []byte
	h = append(h, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0)
	if vid != 0 {
		h = binary.BigEndian.AppendUint16(h, EtherTypeVLAN)
		h = binary.BigEndian.AppendUint16(h, vid)
	}
	h = binary.BigEndian.AppendUint16(h, etherType)
	if err := p.pc.send(h, body); err != nil {
		t.Fatal(err)
	}
}

// transfer sends n datagrams of session (sizes 1..max) while a reader
// goroutine collects them from src, with a window so the veth backlog is
// never overrun (veth has no flow control). noise, if set, is called
// between datagrams to send other traffic. It checks count, order, bytes
// and SHA-256.
func transfer(t *testing.T, src Source, p *EthernetProducer, session uint8, n, max int, noise func(i int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(max)))
	want := make([][]byte, n)
	sent := sha256.New()
	for i := range want {
		want[i] = payload(rng, i, max)
		if len(want[i]) < MinEthernetDatagram {
			want[i] = append(want[i], 0xEE)
		}
		sent.Write(want[i])
	}
	var received atomic.Int64
	type result struct {
		sum   []byte
		bytes int64
		err   error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	go func() {
		h := sha256.New()
		var total int64
		for i := 0; i < n; i++ {
			d, err := src.ReadDatagram(ctx)
			if err != nil {
				done <- result{err: err}
				return
			}
			if d.Session != session || d.Truncated() || !bytes.Equal(d.Data, want[i]) {
				done <- result{err: errors.New("datagram " + itoa(i) + " differs (session " + itoa(int(d.Session)) + ", " + itoa(len(d.Data)) + " bytes, want " + itoa(len(want[i])) + ")")}
				return
			}
			h.Write(d.Data)
			total += int64(len(d.Data))
			received.Add(1)
		}
		done <- result{sum: h.Sum(nil), bytes: total}
	}()
	var wantBytes int64
	for i, d := range want {
		for int64(i)-received.Load() > 64 {
			select {
			case r := <-done:
				t.Fatalf("reader stopped early: %v", r.err)
			default:
			}
			time.Sleep(50 * time.Microsecond)
		}
		if noise != nil {
			noise(i)
		}
		if err := p.WriteDatagram(session, d); err != nil {
			t.Fatal(err)
		}
		wantBytes += int64(len(d))
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.bytes != wantBytes || !bytes.Equal(r.sum, sent.Sum(nil)) {
		t.Fatalf("received %d bytes (sha256 %x), sent %d (sha256 %x)", r.bytes, r.sum, wantBytes, sent.Sum(nil))
	}
	t.Logf("%d datagrams, %d bytes, sha256 %x match", n, r.bytes, r.sum)
}

func itoa(i int) string { return strconvItoa(i) }

func TestNetdevParentMode(t *testing.T) {
	ns := newRig(t, 9000)
	src, prod := open(t, ns, NetdevOptions{Session: 1, Mode: NetdevParent})
	d := src.Describe()
	for _, s := range []string{"wwan0 directly", "VLAN 257 (DSS session 1)", "PACKET_AUXDATA", "no VLAN link wanted"} {
		if !strings.Contains(d, s) {
			t.Errorf("Describe() = %q, missing %q", d, s)
		}
	}
	if src.ViaVLAN() || src.Created() || src.Interface() != hostIf {
		t.Errorf("ViaVLAN %v Created %v Interface %q", src.ViaVLAN(), src.Created(), src.Interface())
	}
	// Other sessions and IP traffic are sent in between and must not
	// arrive; the kernel filter drops them, so Skipped stays 0.
	noise := func(i int) {
		switch i % 4 {
		case 0:
			prod.WriteDatagram(2, []byte("DSS session 2"))
		case 1:
			rawFrame(t, prod, 0, 0x0800, []byte("IP session 0 (untagged)"))
		case 2:
			rawFrame(t, prod, 1, 0x0800, []byte("IP session 1 (VLAN 1)"))
		case 3:
			rawFrame(t, prod, 600, 0x0001, []byte("VLAN 600, unmapped"))
		}
	}
	transfer(t, src, prod, 1, 3000, 8000, noise)
	if st := src.Stats(); st.Skipped != 0 || st.Datagrams != 3000 || st.Drops != 0 {
		t.Errorf("stats %+v (the kernel filter should keep other traffic away)", st)
	}

	// A cancelled read leaves the packet source usable.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, err := src.ReadDatagram(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled read: %v", err)
	}
	cancel()
	transfer(t, src, prod, 1, 10, 100, nil)
}

func TestNetdevAnySession(t *testing.T) {
	ns := newRig(t, 1500)
	if err := ns.Do(func() error {
		_, err := OpenNetdev(hostIf, NetdevOptions{AnySession: true})
		return err
	}); err == nil || !strings.Contains(err.Error(), "NetdevParent") {
		t.Fatalf("AnySession outside parent mode: %v", err)
	}
	src, prod := open(t, ns, NetdevOptions{AnySession: true, Mode: NetdevParent})
	if !strings.Contains(src.Describe(), "every DSS session") {
		t.Errorf("Describe() = %q", src.Describe())
	}
	rawFrame(t, prod, 0, 0x86dd, []byte("IPv6"))
	for _, s := range []uint8{0, 5, 255} {
		prod.WriteDatagram(s, []byte{s, s, s})
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, s := range []uint8{0, 5, 255} {
		d, err := src.ReadDatagram(ctx)
		if err != nil || d.Session != s || !bytes.Equal(d.Data, []byte{s, s, s}) {
			t.Fatalf("session %d: %+v %v", s, d, err)
		}
	}
}

func TestNetdevVLANMode(t *testing.T) {
	ns := newRig(t, 9000)
	if !vlanSupport(t, ns) {
		// Without 802.1Q the mode must fail, saying why.
		err := ns.Do(func() error {
			_, err := OpenNetdev(hostIf, NetdevOptions{Session: 1, Mode: NetdevVLAN})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "CONFIG_VLAN_8021Q") {
			t.Fatalf("VLAN mode without kernel support: %v", err)
		}
		t.Skip("the kernel cannot create 802.1Q VLAN links (no CONFIG_VLAN_8021Q/8021q module); the VLAN path was checked to fail clearly; set GOMBIM_REQUIRE_VLAN=1 to make this a failure")
	}

	src, prod := open(t, ns, NetdevOptions{Session: 1, Mode: NetdevVLAN})
	if !src.ViaVLAN() || !src.Created() || src.Interface() != "wwan0.dss1" {
		t.Fatalf("ViaVLAN %v Created %v Interface %q", src.ViaVLAN(), src.Created(), src.Interface())
	}
	if d := src.Describe(); !strings.Contains(d, "VLAN wwan0.dss1 (id 257 = DSS session 1) on wwan0, created by gombim over rtnetlink") {
		t.Errorf("Describe() = %q", d)
	}
	out := ns.MustIP("-d", "link", "show", "wwan0.dss1")
	if !strings.Contains(out, "wwan0.dss1@wwan0") || !strings.Contains(out, "vlan protocol 802.1Q id 257") || !strings.Contains(out, ",UP") {
		t.Fatalf("ip -d link show wwan0.dss1:\n%s", out)
	}
	t.Logf("ip -d link show wwan0.dss1:\n%s", out)
	noise := func(i int) {
		if i%3 == 0 {
			prod.WriteDatagram(2, []byte("DSS session 2"))
			rawFrame(t, prod, 0, 0x0800, []byte("IP session 0"))
		}
	}
	transfer(t, src, prod, 1, 3000, 8000, noise)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := ns.IP("-d", "link", "show", "wwan0.dss1"); err == nil {
		t.Fatalf("VLAN link still there after Close:\n%s", out)
	}

	// An existing (down) VLAN link is used, brought up, and left in place
	// (down again) after Close.
	ns.MustIP("link", "add", "link", hostIf, "name", "mylog", "type", "vlan", "id", "258")
	src, prod = open(t, ns, NetdevOptions{Session: 2})
	if src.Created() || src.Interface() != "mylog" || !strings.Contains(src.Describe(), "existing VLAN mylog (id 258 = DSS session 2)") ||
		!strings.Contains(src.Describe(), "brought mylog up") {
		t.Fatalf("existing link: %v %q %q", src.Created(), src.Interface(), src.Describe())
	}
	transfer(t, src, prod, 2, 200, 1000, nil)
	src.Close()
	out = ns.MustIP("-d", "link", "show", "mylog")
	if !strings.Contains(out, "id 258") || strings.Contains(out, ",UP") {
		t.Fatalf("existing link after Close:\n%s", out)
	}
}

func TestNetdevAuto(t *testing.T) {
	ns := newRig(t, 1500)
	supported := vlanSupport(t, ns)
	src, prod := open(t, ns, NetdevOptions{Session: 3})
	t.Logf("supported=%v: %s", supported, src.Describe())
	if supported {
		if !src.ViaVLAN() || !strings.Contains(src.Describe(), "created by gombim") {
			t.Fatalf("auto mode with 802.1Q support: %q", src.Describe())
		}
	} else {
		d := src.Describe()
		if src.ViaVLAN() || !strings.Contains(d, "wwan0 directly") || !strings.Contains(d, "no VLAN link for it could be used") ||
			!strings.Contains(d, "802.1Q") {
			t.Fatalf("auto mode without 802.1Q support: %q", d)
		}
		if out := ns.MustIP("link", "show"); strings.Contains(out, "dss") {
			t.Fatalf("a link was left behind:\n%s", out)
		}
	}
	transfer(t, src, prod, 3, 500, 1400, func(i int) {
		if i%2 == 0 {
			prod.WriteDatagram(4, []byte("session 4"))
		}
	})
}

func TestNetdevBringsParentUp(t *testing.T) {
	ns := newRig(t, 1500)
	ns.MustIP("link", "set", hostIf, "down")
	src, prod := open(t, ns, NetdevOptions{Mode: NetdevParent})
	if !strings.Contains(src.Describe(), "brought wwan0 up (set down again on Close)") {
		t.Errorf("Describe() = %q", src.Describe())
	}
	if out := ns.MustIP("link", "show", hostIf); !strings.Contains(out, ",UP") {
		t.Fatalf("not brought up: %s", out)
	}
	// Bringing wwan0 up turns mdm0's carrier on; mdm0 drops what it is
	// given until the kernel has noticed.
	ns.WaitUp(modemIf, hostIf)
	transfer(t, src, prod, 0, 50, 1000, nil)
	src.Close()
	if out := ns.MustIP("link", "show", hostIf); strings.Contains(out, ",UP") {
		t.Fatalf("not set down again: %s", out)
	}
}

func TestNetdevTruncated(t *testing.T) {
	ns := newRig(t, 1500)
	src, prod := open(t, ns, NetdevOptions{Mode: NetdevParent, FrameBuffer: 100})
	big := bytes.Repeat([]byte("x"), 500)
	prod.WriteDatagram(0, big)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	d, err := src.ReadDatagram(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Truncated() || d.Length != 500 || len(d.Data) != 100-EthHeaderLen {
		t.Fatalf("got %d of %d bytes, truncated %v", len(d.Data), d.Length, d.Truncated())
	}
	if st := src.Stats(); st.Truncated != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNetdevLinkDownAndGone(t *testing.T) {
	ns := newRig(t, 1500)
	src, prod := open(t, ns, NetdevOptions{Mode: NetdevParent})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	errc := make(chan error, 1)
	go func() {
		_, err := src.ReadDatagram(ctx)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ns.MustIP("link", "set", hostIf, "down")
	if err := <-errc; !errors.Is(err, ErrLinkDown) {
		t.Fatalf("link down: %v", err)
	}
	ns.MustIP("link", "set", hostIf, "up")
	ns.WaitUp(modemIf, hostIf) // frames sent on mdm0 before it is up again are lost
	transfer(t, src, prod, 0, 20, 500, nil)

	go func() {
		_, err := src.ReadDatagram(ctx)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ns.MustIP("link", "del", modemIf) // takes wwan0 with it, like unplugging the modem
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Fatalf("link gone: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("Close after the link went away: %v", err)
	}
}

func TestNetdevErrors(t *testing.T) {
	ns := newRig(t, 1500)
	err := ns.Do(func() error {
		_, err := OpenNetdev("nosuch0", NetdevOptions{})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), `"nosuch0" not found`) {
		t.Fatalf("missing interface: %v", err)
	}
	err = ns.Do(func() error {
		_, err := OpenNetdev(hostIf, NetdevOptions{Mode: NetdevVLAN, Name: "much-too-long-name"})
		return err
	})
	if err == nil {
		t.Fatal("invalid VLAN name accepted")
	}

	src, prod := open(t, ns, NetdevOptions{Mode: NetdevParent})
	if err := prod.WriteDatagram(0, make([]byte, 3000)); err == nil || !strings.Contains(err.Error(), "MTU 1500") {
		t.Fatalf("oversized datagram: %v", err)
	}
	if m := prod.MaxDatagram(); m != 1500 {
		t.Fatalf("MaxDatagram() = %d", m)
	}
	if err := prod.WriteDatagram(0, make([]byte, 1501)); err == nil {
		t.Fatal("MTU+1 accepted")
	}
	if err := prod.WriteDatagram(0, bytes.Repeat([]byte{9}, 1500)); err != nil {
		t.Fatalf("MTU-sized datagram: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	d, err := src.ReadDatagram(ctx)
	cancel()
	if err != nil || len(d.Data) != 1500 || d.Truncated() {
		t.Fatalf("MTU-sized datagram received as %d bytes: %v", len(d.Data), err)
	}
	if err := prod.WriteDatagram(0, nil); err == nil {
		t.Fatal("empty datagram accepted")
	}
	if err := prod.WriteDatagram(0, []byte{1}); err == nil || !strings.Contains(err.Error(), "skb_vlan_untag") {
		t.Fatalf("1-byte datagram: %v", err)
	}

	// Close unblocks a pending read.
	errc := make(chan error, 1)
	go func() {
		_, err := src.ReadDatagram(context.Background())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("read after Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not unblock ReadDatagram")
	}
	prod.Close()
	if err := prod.WriteDatagram(0, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// After cancellation, frames already queued on the socket are still
// delivered, then the context's error; the source stays usable.
func TestNetdevDrainsAfterCancel(t *testing.T) {
	ns := newRig(t, 1500)
	src, prod := open(t, ns, NetdevOptions{Mode: NetdevParent})
	for i := 0; i < 10; i++ {
		prod.WriteDatagram(0, []byte{byte(i), 0})
	}
	waitQueued(t, src, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 10; i++ {
		d, err := src.ReadDatagram(ctx)
		if err != nil || d.Data[0] != byte(i) {
			t.Fatalf("queued frame %d: %v %v", i, d.Data, err)
		}
	}
	if _, err := src.ReadDatagram(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the queue: %v", err)
	}
	transfer(t, src, prod, 0, 20, 500, nil)
}

// The read path of VLAN mode, minus the VLAN link this kernel may not be
// able to create: a VLAN-mode source assembled by hand on the parent, with
// the VLAN-mode socket filter (outgoing frames only). The right session is
// delivered and other VLANs are skipped in user space.
func TestNetdevVLANModeReadPath(t *testing.T) {
	ns := newRig(t, 1500)
	var s *NetdevSource
	var prod *EthernetProducer
	err := ns.Do(func() error {
		nl, err := openRtnl()
		if err != nil {
			return err
		}
		parent, err := nl.linkBy(0, hostIf)
		if err != nil {
			return err
		}
		pc, err := openPacket(parent.Index, hostIf, true, dssFilter(-1), 0, 0)
		if err != nil {
			return err
		}
		s = &NetdevSource{nl: nl, pc: pc, parent: parent, readIf: parent, vid: DSSVLAN(1), viaVLAN: true, opts: NetdevOptions{Session: 1}, desc: "hand-made"}
		prod, err = NewEthernetProducer(modemIf, EthernetProducerOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer prod.Close()
	transfer(t, s, prod, 1, 300, 1400, func(i int) {
		if i%3 == 0 {
			prod.WriteDatagram(2, []byte("session 2"))
		}
	})
	if st := s.Stats(); st.Skipped != 100 {
		t.Fatalf("stats %+v: the 100 session-2 frames should be skipped in user space", st)
	}

	// Frames the host itself transmits on the interface (towards the
	// modem) are dropped by the filter, not delivered as log data.
	var hostTx *EthernetProducer
	if err := ns.Do(func() (err error) { hostTx, err = NewEthernetProducer(hostIf, EthernetProducerOptions{}); return }); err != nil {
		t.Fatal(err)
	}
	defer hostTx.Close()
	hostTx.WriteDatagram(1, []byte("sent by the host"))
	prod.WriteDatagram(1, []byte("from the modem"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	d, err := s.ReadDatagram(ctx)
	if err != nil || string(d.Data) != "from the modem" {
		t.Fatalf("got %q %v", d.Data, err)
	}
}

// waitQueued waits until the kernel has queued n frames on the source's
// socket. A frame sent on the veth pair is usually queued before the send
// returns, but not always: when the receiving CPU's backlog is busy (other
// traffic on a loaded machine) the kernel finishes it later, in ksoftirqd.
// PACKET_STATISTICS counts the frames queued (and dropped), and resets
// the counts when read, which the source's own drop count does not miss
// here: nothing may be dropped.
func waitQueued(t *testing.T, src *NetdevSource, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	queued := 0
	for {
		var st *unix.TpacketStats
		var err error
		src.pc.rc.Control(func(fd uintptr) {
			st, err = unix.GetsockoptTpacketStats(int(fd), solPacket, unix.PACKET_STATISTICS)
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Drops != 0 {
			t.Fatalf("the kernel dropped %d frames", st.Drops)
		}
		queued += int(st.Packets)
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames queued on the socket, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

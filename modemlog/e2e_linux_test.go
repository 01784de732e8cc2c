package modemlog

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/internal/netnstest"
)

// The cdc_mbim path end to end inside a network namespace: the simulated
// modem writes 802.1Q frames tagged VLAN 256+N on one end of a veth pair;
// the host side is read by a NetdevSource (a VLAN link it creates, or the
// parent with PACKET_AUXDATA) and written by a Writer, across rotations.
func TestNetdevToFiles(t *testing.T) {
	for _, mode := range []datapath.NetdevMode{datapath.NetdevVLAN, datapath.NetdevParent, datapath.NetdevAuto} {
		t.Run(mode.String(), func(t *testing.T) {
			ns := netnstest.New(t)
			ns.Veth("mdm0", "wwan0", 9000)
			vlanOK := ns.VLANSupported("wwan0") == nil
			if mode == datapath.NetdevVLAN && !vlanOK {
				if os.Getenv("GOMBIM_REQUIRE_VLAN") != "" {
					t.Fatal("GOMBIM_REQUIRE_VLAN is set but the kernel cannot create 802.1Q VLAN links")
				}
				t.Skip("the kernel cannot create 802.1Q VLAN links (no CONFIG_VLAN_8021Q/8021q module); the parent and auto modes cover this kernel")
			}
			var src *datapath.NetdevSource
			var prod *datapath.EthernetProducer
			if err := ns.Do(func() (err error) {
				if src, err = datapath.OpenNetdev("wwan0", datapath.NetdevOptions{Session: 4, Mode: mode}); err != nil {
					return err
				}
				prod, err = datapath.NewEthernetProducer("mdm0", datapath.EthernetProducerOptions{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			t.Logf("source: %s", src.Describe())
			if src.ViaVLAN() {
				out := ns.MustIP("-d", "link", "show", "wwan0.dss4")
				if !strings.Contains(out, "vlan protocol 802.1Q id 260") {
					t.Fatalf("ip -d link show wwan0.dss4:\n%s", out)
				}
			}

			dir := t.TempDir()
			w, err := Create(Options{Dir: dir, MaxFileBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- w.Capture(ctx, src) }()

			ls := logStream{min: 2, max: 8000}
			const n = 2000
			buf := make([]byte, ls.max)
			for i := 0; i < n; i++ {
				// veth has no flow control: keep at most 64 frames in flight.
				for int64(i)-w.Stats().Segments > 64 {
					time.Sleep(20 * time.Microsecond)
				}
				if i%10 == 0 {
					prod.WriteDatagram(5, []byte("another DSS session"))
				}
				if err := prod.WriteDatagram(4, ls.fill(buf, i)); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(waitTimeout)
			for w.Stats().Segments < n && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			cancel()
			if err := <-errc; err != context.Canceled {
				t.Fatalf("Capture: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			viaVLAN := src.ViaVLAN()
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if viaVLAN {
				if out, err := ns.IP("-d", "link", "show", "wwan0.dss4"); err == nil {
					t.Fatalf("the VLAN link is still there after Close:\n%s", out)
				}
			}
			wantLen, wantSum := ls.digest(n)
			gotLen, gotSum, ix := filesDigest(t, dir)
			if gotLen != wantLen || !bytes.Equal(gotSum, wantSum) || len(ix.Segments()) != n {
				t.Fatalf("on disk: %d bytes in %d segments; sent %d bytes in %d", gotLen, len(ix.Segments()), wantLen, n)
			}
			if st := w.Stats(); st.Files < 3 {
				t.Errorf("only %d files: no rotation", st.Files)
			}
			t.Logf("%d bytes in %d segments over %d files, sha256 %x: equal to what was sent", gotLen, n, w.Stats().Files, gotSum)
		})
	}
}

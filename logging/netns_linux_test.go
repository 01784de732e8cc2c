package logging_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/internal/netnstest"
	"github.com/gombim/gombim/logging"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/sim"
)

// The cdc_mbim path: the simulated modem writes its log data as 802.1Q
// frames tagged VLAN 256+session on one end of a veth pair in a network
// namespace; the stream reads the other end like a cdc_mbim interface (a
// VLAN link, or the parent with PACKET_AUXDATA), across a rotation and a
// device reset.
func TestStreamOverVeth(t *testing.T) {
	for _, mode := range []datapath.NetdevMode{datapath.NetdevVLAN, datapath.NetdevParent, datapath.NetdevAuto} {
		t.Run(mode.String(), func(t *testing.T) {
			ns := netnstest.New(t)
			ns.Veth("mdm0", "wwan0", 9000)
			if mode == datapath.NetdevVLAN {
				if err := ns.VLANSupported("wwan0"); err != nil {
					if os.Getenv("GOMBIM_REQUIRE_VLAN") != "" {
						t.Fatal("GOMBIM_REQUIRE_VLAN is set but the kernel cannot create 802.1Q VLAN links")
					}
					t.Skip("the kernel cannot create 802.1Q VLAN links (no CONFIG_VLAN_8021Q/8021q module); the parent and auto modes cover this kernel")
				}
			}
			sc := sim.DefaultScenario()
			sc.Logging.NTBSocket = "off"
			sc.Logging.Rate = 2 << 20
			r := newRig(t, sc)
			var prod *datapath.EthernetProducer
			if err := ns.Do(func() (err error) {
				prod, err = datapath.NewEthernetProducer("mdm0", datapath.EthernetProducerOptions{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			r.m.AddLogOutput(prod)
			opts := r.options()
			opts.Config.MaxSegmentKiB = 64
			opts.DSSSession = 2
			opts.Source = func(ctx context.Context, id uint8) (datapath.Source, error) {
				var src datapath.Source
				err := ns.Do(func() error {
					s, err := datapath.OpenNetdev("wwan0", datapath.NetdevOptions{Session: id, Mode: mode})
					src = s
					return err
				})
				return src, err
			}
			_, st := r.start(opts)
			// (Until the host sets it again after the reset, the modem
			// uses its power-up configuration, whose segments the MTU
			// cuts to 9000 bytes.)
			if _, chosen := st.Config(); chosen.MaxSegmentSize != 8 {
				t.Fatalf("the modem should cap segments to the 9000-byte MTU: %+v", chosen)
			}
			t.Logf("source: %s", st.Describe())
			dir, done := capture(t, st, modemlog.Options{MaxFileBytes: 1 << 20})
			waitBytes(t, st, 1<<20)
			r.m.Inject(sim.Event{Type: "reset"})
			deadline := time.Now().Add(waitTimeout)
			for !r.events.has(logging.EventReconnected, "still open") {
				if time.Now().After(deadline) {
					t.Fatalf("no reconnection; events:\n%s", r.events)
				}
				time.Sleep(20 * time.Millisecond)
			}
			waitBytes(t, st, st.Stats().Bytes+1<<20)
			stop(t, st, done)
			r.checkClosed()
			ls, out := r.sent("mdm0")
			n, sum, ix := onDisk(t, dir)
			if n != out.Bytes || sum != out.SHA256 || int64(len(ix.Segments())) != out.Segments || out.MaxSegment > 9000 {
				t.Fatalf("on disk: %d bytes in %d segments, sha256 %s\nmodem sent: %+v\nevents:\n%s", n, len(ix.Segments()), sum, out, r.events)
			}
			if len(ix.Files()) < 2 {
				t.Errorf("no rotation: %d files", len(ix.Files()))
			}
			if ls.Generated.Bytes != out.Bytes {
				t.Errorf("generated %+v, sent %+v", ls.Generated, out)
			}
			t.Logf("%d bytes in %d segments over %d files, sha256 %s: what the modem sent", n, out.Segments, len(ix.Files()), sum)
		})
	}
}

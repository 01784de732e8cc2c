package logging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gombim/gombim/logging"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/sim"
)

// BenchmarkSimToDisk measures the whole modem-logging path of
// "gombim -d sim modem-log": the simulated modem producing log data as
// fast as it is taken (random content, counted and hashed as it is sent),
// NTBs on its Unix socket, the Stream (datapath.NTBSource) and
// modemlog.Writer writing rotating files (64 MiB) and the index in the
// test's temporary directory, all in this process. It checks that the
// files hold exactly what the modem sent (length and SHA-256) and reports
// Gbit/s of log data written.
//
// One op is 1 MiB:
//
//	go test -run '^$' -bench SimToDisk -benchtime 1000x ./logging
func BenchmarkSimToDisk(b *testing.B) {
	for _, c := range []struct {
		segKiB uint32
		format string
		ntbMax int
	}{
		{16, "ntb16", 65535},
		{64, "ntb32", 0},
		{1024, "ntb32", 0},
	} {
		b.Run(fmt.Sprintf("seg=%dKiB/%s", c.segKiB, c.format), func(b *testing.B) {
			sc := sim.DefaultScenario()
			sc.Logging.Rate = -1
			sc.Logging.Content = sim.LogRandom
			sc.Logging.NTBFormat, sc.Logging.NTBMaxSize = c.format, c.ntbMax
			r := newRig(b, sc)
			opts := r.options()
			opts.Config.MaxSegmentKiB = c.segKiB
			opts.Events = nil
			s, err := r.open(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			st, err := logging.Start(context.Background(), s, opts)
			if err != nil {
				b.Fatal(err)
			}
			w, err := modemlog.Create(modemlog.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			// One op is 1 MiB of log data.
			b.SetBytes(1 << 20)
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- w.Capture(context.Background(), st) }()
			for w.Stats().Bytes < int64(b.N)<<20 {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			bytes := w.Stats().Bytes
			b.StopTimer()
			if err := st.Stop(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			st.Close()
			ls, out := r.sent("unix")
			n, sum, _ := onDisk(b, w.Dir())
			if n != out.Bytes || sum != out.SHA256 || ls.Generated.Bytes != out.Bytes {
				b.Fatalf("lost data: %d bytes on disk (sha256 %s); the modem sent %+v and generated %+v", n, sum, out, ls.Generated)
			}
			b.ReportMetric(float64(bytes)*8/elapsed.Seconds()/1e9, "Gbit/s")
		})
	}
}

package session

import (
	"context"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Request/response round trips against the simulated modem: a basic-connect
// device-caps query and its decoded response, sequentially (latency) and
// from many goroutines (throughput). Run with
//
//	go test -run '^$' -bench RoundTrip ./session/
func benchRoundTrip(b *testing.B, kind transportKind) {
	d := startSim(b, kind, nil)
	s, err := d.openErr(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx := context.Background()
	if _, err := s.DeviceCaps(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, err := s.DeviceCaps(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4) // 4×GOMAXPROCS goroutines
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.DeviceCaps(ctx); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "req/s")
	})
}

func BenchmarkRoundTripPTY(b *testing.B)       { benchRoundTrip(b, overPTY) }
func BenchmarkRoundTripUnix(b *testing.B)      { benchRoundTrip(b, overUnix) }
func BenchmarkRoundTripInProcess(b *testing.B) { benchRoundTrip(b, inProcess) }

// BenchmarkOpenClose measures a whole session: open (OPEN, DEVICE_SERVICES,
// VERSION), one query, close, over a pty, as one gombim command does.
func BenchmarkOpenClose(b *testing.B) {
	d := startSim(b, overPTY, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := d.openErr(Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.DeviceCaps(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMbimcliDeviceCaps runs "mbimcli -d PTY --query-device-caps"
// against the same simulated modem as BenchmarkOpenClose, for a side by
// side figure (mbimcli's includes starting the process). It is skipped
// when mbimcli is not installed.
func BenchmarkMbimcliDeviceCaps(b *testing.B) {
	bin, err := exec.LookPath("mbimcli")
	if err != nil {
		b.Skip("mbimcli not installed (apt-get install libmbim-utils)")
	}
	d := startSim(b, overPTY, nil)
	for b.Loop() {
		var out []byte
		for try := 0; ; try++ {
			out, err = exec.Command(bin, "-d", d.path, "--query-device-caps").CombinedOutput()
			if err == nil || try == 20 {
				break
			}
			// The pty refuses opens for a moment after the previous
			// client left (see transport.PTY).
			time.Sleep(time.Millisecond)
		}
		if err != nil || !strings.Contains(string(out), "356938035643809") {
			b.Fatalf("mbimcli: %v\n%s", err, out)
		}
	}
}

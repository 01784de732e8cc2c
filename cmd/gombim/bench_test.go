package main

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// BenchmarkCommandLatency times one whole command, process start to exit,
// against the same simulated device on a pty: gombim's
//
//	gombim -d PTY basic-connect device-caps query
//
// and libmbim's
//
//	mbimcli -d PTY --query-device-caps
//
// alternately in one run, and reports the median and minimum wall time of
// each (gombim-ms, mbimcli-ms, ...). The numbers are reported, not
// asserted. Run with:
//
//	go test -run '^$' -bench CommandLatency -benchtime 200x ./cmd/gombim
func BenchmarkCommandLatency(b *testing.B) {
	const mbimcli = "/usr/bin/mbimcli"
	if _, err := os.Stat(mbimcli); err != nil {
		b.Skipf("mbimcli not installed: %v", err)
	}
	bin := buildGombim(b, b.TempDir())
	link := startSimPTY(b, bin)
	cmds := [][]string{
		{bin, "-d", link, "basic-connect", "device-caps", "query"},
		{mbimcli, "-d", link, "--query-device-caps"},
	}
	times := make([][]time.Duration, len(cmds))
	run := func(i int) {
		// The simulator's pty takes a moment to accept a new client after
		// one closed it; wait outside the measurement.
		time.Sleep(10 * time.Millisecond)
		for attempt := 0; ; attempt++ {
			cmd := exec.Command(cmds[i][0], cmds[i][1:]...)
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err == nil {
				times[i] = append(times[i], d)
				return
			}
			if attempt == 10 {
				b.Fatalf("%q: %v", cmds[i], err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := range cmds { // warm up
		run(i)
		times[i] = nil
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		run(n % 2)
		run((n + 1) % 2)
	}
	b.StopTimer()
	for i, name := range []string{"gombim", "mbimcli"} {
		ts := slices.Clone(times[i])
		slices.Sort(ts)
		b.ReportMetric(float64(ts[len(ts)/2])/1e6, name+"-median-ms")
		b.ReportMetric(float64(ts[0])/1e6, name+"-min-ms")
	}
	b.ReportMetric(0, "ns/op")
}

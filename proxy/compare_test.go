package proxy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProxyCompare measures gombim's proxy and libmbim's mbim-proxy side
// by side, with the same simulated modem behind both, in one run. It runs
// only with GOMBIM_PROXY_BENCH=1 (bench/proxy-compare.sh sets it):
//
//   - transactions per second with 1 and with 8 clients, each client doing
//     one transaction at a time (a radio-state query), as libmbim clients do;
//   - the latency a proxy adds to a transaction: the median through it
//     minus the median of a direct connection to the device, measured just
//     before;
//   - the resident memory (VmRSS) of the proxy process with 8 clients
//     connected, after the 8-client run.
//
// Both proxies run as processes of their own: "gombim proxy", built by the
// test, and /usr/libexec/mbim-proxy, each alone in the test's network
// namespace so both can use the socket name libmbim requires.
func TestProxyCompare(t *testing.T) {
	if os.Getenv("GOMBIM_PROXY_BENCH") == "" {
		t.Skip("set GOMBIM_PROXY_BENCH=1 (or run bench/proxy-compare.sh)")
	}
	needTool(t, "/usr/libexec/mbim-proxy")
	if !inOwnNetns(t) {
		return
	}
	dur := 3 * time.Second
	if v := os.Getenv("GOMBIM_PROXY_BENCH_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	samples := 5000
	bin := os.Getenv("GOMBIM_BIN") // a prebuilt gombim, else built here
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "gombim")
		build := exec.Command("go", "build", "-o", bin, "github.com/gombim/gombim/cmd/gombim")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building gombim: %v\n%s", err, out)
		}
	}
	link := benchDevice(t)

	type result struct {
		name             string
		directMedian     time.Duration
		median, p99      time.Duration
		tps1, tps8       float64
		rssKB, rssIdleKB int
		cpu1, cpu8       time.Duration // proxy CPU time per transaction
	}
	var results []result
	for _, p := range []struct {
		name string
		argv []string
	}{
		{"gombim proxy", []string{bin, "proxy", "--socket", DefaultSocket, "--empty-timeout", "0"}},
		{"libmbim mbim-proxy", []string{"/usr/libexec/mbim-proxy", "--no-exit"}},
	} {
		r := result{name: p.name}
		// Direct baseline, just before: the proxy is not running, so the
		// test can open the device itself.
		dc := openDirect(t, link)
		r.directMedian, _ = latencies(t, dc, samples)
		dc.conn.Close()

		cmd := exec.Command(p.argv[0], p.argv[1:]...)
		if e := os.Getenv("GOMBIM_PROXY_BENCH_ENV"); e != "" { // e.g. GOMAXPROCS=1 for the proxies
			cmd.Env = append(os.Environ(), strings.Fields(e)...)
		}
		cmd.Stderr = &prefixWriter{t: t, prefix: p.name + ": "}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := false
		stop := func() {
			if !stopped {
				stopped = true
				cmd.Process.Signal(os.Interrupt)
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			}
		}
		t.Cleanup(stop)

		c1 := openProxied(t, DefaultSocket, link)
		r.rssIdleKB = vmRSS(t, cmd.Process.Pid)
		r.median, r.p99 = latencies(t, c1, samples)
		cpu0 := cpuTime(t, cmd.Process.Pid)
		var n int64
		r.tps1, n = throughput(t, []*syncClient{c1}, dur)
		cpu1 := cpuTime(t, cmd.Process.Pid)
		r.cpu1 = (cpu1 - cpu0) / time.Duration(n)
		cs := []*syncClient{c1}
		for range 7 {
			cs = append(cs, openProxied(t, DefaultSocket, link))
		}
		cpu1 = cpuTime(t, cmd.Process.Pid)
		r.tps8, n = throughput(t, cs, dur)
		r.cpu8 = (cpuTime(t, cmd.Process.Pid) - cpu1) / time.Duration(n)
		r.rssKB = vmRSS(t, cmd.Process.Pid)
		for _, c := range cs {
			c.conn.Close()
		}
		stop()
		results = append(results, r)
		// Let the pty settle before the next opener.
		time.Sleep(200 * time.Millisecond)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-20s %9s %9s %9s %9s %9s %9s %11s %11s %10s %10s\n", "proxy", "tps 1 cl", "tps 8 cl",
		"median", "p99", "direct", "added", "CPU/tx 1cl", "CPU/tx 8cl", "RSS 8 cl", "RSS 1 cl")
	us := func(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/1e3) }
	for _, r := range results {
		fmt.Fprintf(&b, "%-20s %9.0f %9.0f %9s %9s %9s %9s %11s %11s %7d kB %7d kB\n", r.name, r.tps1, r.tps8,
			us(r.median), us(r.p99), us(r.directMedian), us(r.median-r.directMedian), us(r.cpu1), us(r.cpu8), r.rssKB, r.rssIdleKB)
	}
	if len(results) == 2 {
		g, l := results[0], results[1]
		fmt.Fprintf(&b, "gombim/libmbim throughput: %.1fx with 1 client, %.1fx with 8 clients (target >= 2x)\n", g.tps1/l.tps1, g.tps8/l.tps8)
		fmt.Fprintf(&b, "added median latency: gombim %v, libmbim %v (target < 50µs)\n",
			(g.median - g.directMedian).Round(time.Microsecond/10), (l.median - l.directMedian).Round(time.Microsecond/10))
	}
	t.Log(b.String())
	fmt.Println(b.String())
}

// latencies times n sequential transactions and returns the median and
// the 99th percentile.
func latencies(t testing.TB, c *syncClient, n int) (median, p99 time.Duration) {
	t.Helper()
	for range 200 { // warm up
		if err := c.roundTrip(); err != nil {
			t.Fatal(err)
		}
	}
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		if err := c.roundTrip(); err != nil {
			t.Fatal(err)
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[n/2], ds[n*99/100]
}

// throughput runs every client in a loop of sequential transactions for
// dur and returns the total transactions per second.
func throughput(t testing.TB, cs []*syncClient, dur time.Duration) (float64, int64) {
	t.Helper()
	var total atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := c.roundTrip(); err != nil {
					t.Error(err)
					return
				}
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds(), total.Load()
}

// cpuTime returns the user and system CPU time process pid has used.
func cpuTime(t testing.TB, pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func vmRSS(t testing.TB, pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

type prefixWriter struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if testing.Verbose() {
		fmt.Fprint(os.Stderr, w.prefix+string(p))
	}
	return len(p), nil
}

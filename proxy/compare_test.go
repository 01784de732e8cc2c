package proxy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
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
//     connected, after the 8-client run;
//   - capacity: transactions per second when 1 and 8 clients each keep 16
//     requests in flight, as ModemManager may through libmbim's
//     asynchronous API, so that the proxies rather than the round trips
//     set the pace;
//   - two reference points: the latency added by a forwarder in C that
//     copies bytes between one client and the device and understands
//     nothing (bench/forwarder.c: the least any proxy process adds on this
//     machine), and the most a proxy that added nothing could gain over
//     libmbim's with one client doing one transaction at a time:
//     (direct + libmbim's added latency) / direct.
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

	rounds := 3
	if v := os.Getenv("GOMBIM_PROXY_BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GOMBIM_PROXY_BENCH_ROUNDS=%q", v)
		}
		rounds = n
	}
	proxies := []proxyUnderTest{
		{"gombim proxy", []string{bin, "proxy", "--socket", DefaultSocket, "--empty-timeout", "0"}},
		{"libmbim mbim-proxy", []string{"/usr/libexec/mbim-proxy", "--no-exit"}},
	}
	load0 := loadAvg()
	fwdBin := buildForwarder(t)
	var floors, floorCPU []time.Duration
	all := make([][]benchResult, len(proxies))
	for round := range rounds {
		direct, through, cpu := measureForwarder(t, fwdBin, link, samples)
		floors = append(floors, through-direct)
		floorCPU = append(floorCPU, cpu)
		time.Sleep(200 * time.Millisecond)
		for k := range proxies {
			i := k
			if round%2 == 1 { // alternate who goes first
				i = len(proxies) - 1 - k
			}
			all[i] = append(all[i], measureProxy(t, proxies[i], link, samples, dur))
			time.Sleep(200 * time.Millisecond) // let the pty settle before the next opener
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nmedians of %d rounds; %v per throughput run; %d latency samples; load average %s -> %s; %d CPUs\n",
		rounds, dur, samples, load0, loadAvg(), runtime.NumCPU())
	fmt.Fprintf(&b, "%-19s %8s %8s %9s %9s %9s %9s %10s %10s %9s %9s %8s %8s %9s\n", "proxy", "tps 1cl", "tps 8cl",
		"direct", "median", "added", "p99", "CPU/tx 1cl", "CPU/tx 8cl", "RSS 8cl", "anon 8cl", "cap 1cl", "cap 8cl", "CPU/tx cap")
	us := func(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/1e3) }
	meds := make([]benchResult, len(proxies))
	for i, p := range proxies {
		r := medianResult(all[i])
		meds[i] = r
		fmt.Fprintf(&b, "%-19s %8.0f %8.0f %9s %9s %9s %9s %10s %10s %6d kB %6d kB %8.0f %8.0f %9s\n", p.name, r.tps1, r.tps8,
			us(r.direct), us(r.median), us(r.median-r.direct), us(r.p99), us(r.cpu1), us(r.cpu8), r.rssKB, r.anonKB,
			r.cap1, r.cap8, us(r.cpuCap))
	}
	g, l := meds[0], meds[1]
	fmt.Fprintf(&b, "gombim/libmbim: throughput %.2fx with 1 client, %.2fx with 8 clients (target >= 2x); proxy CPU per transaction %.2fx / %.2fx less\n",
		g.tps1/l.tps1, g.tps8/l.tps8, float64(l.cpu1)/float64(g.cpu1), float64(l.cpu8)/float64(g.cpu8))
	fmt.Fprintf(&b, "capacity (%d requests in flight per client): %.2fx with 1 client, %.2fx with 8 clients\n", capInFlight, g.cap1/l.cap1, g.cap8/l.cap8)
	slices.Sort(floors)
	slices.Sort(floorCPU)
	fmt.Fprintf(&b, "added median latency: gombim %s, libmbim %s (target < 50µs); a forwarder that understands nothing (bench/forwarder.c): %s (rounds: %v)\n",
		us(g.median-g.direct), us(l.median-l.direct), us(floors[len(floors)/2]), floors)
	fmt.Fprintf(&b, "the forwarder's CPU per transaction, 1 client: %s\n", us(floorCPU[len(floorCPU)/2]))
	floor := floors[len(floors)/2]
	fmt.Fprintf(&b, "with 1 client doing one transaction at a time, a proxy adding nothing would do at most %.2fx libmbim's, the forwarder %.2fx (libmbim's median over direct, over direct + the forwarder's)\n",
		float64(l.median)/float64(l.direct), float64(l.median)/float64(l.direct+floor))
	fmt.Fprintf(&b, "CPU per transaction of the clients and the simulator (this process), 8 clients: %s with gombim, %s with libmbim\n",
		us(g.harness8), us(l.harness8))
	for i, p := range proxies {
		for _, r := range all[i] {
			fmt.Fprintf(&b, "  round: %-19s tps %6.0f %6.0f  cap %6.0f %6.0f  direct %s median %s  CPU/tx %s %s  RSS %d kB\n", p.name, r.tps1, r.tps8,
				r.cap1, r.cap8, us(r.direct), us(r.median), us(r.cpu1), us(r.cpu8), r.rssKB)
		}
	}
	fmt.Println(b.String()) // the parent test logs it
}

type proxyUnderTest struct {
	name string
	argv []string
}

type benchResult struct {
	direct      time.Duration // median of a direct connection, just before
	median, p99 time.Duration
	tps1, tps8  float64
	cpu1, cpu8  time.Duration // proxy CPU time per transaction
	rssKB       int           // VmRSS with 8 clients
	anonKB      int           // RssAnon with 8 clients
	rssOneKB    int
	harness8    time.Duration // CPU per transaction of this process (clients and simulator), 8 clients
	cap1, cap8  float64       // transactions per second with capInFlight requests in flight per client
	cpuCap      time.Duration // proxy CPU time per transaction, 8 clients, capInFlight each
}

// capInFlight is how many requests each client keeps in flight when
// measuring capacity.
const capInFlight = 16

// measureProxy runs one proxy process and measures it.
func measureProxy(t *testing.T, p proxyUnderTest, link string, samples int, dur time.Duration) benchResult {
	var r benchResult
	// Direct baseline, just before: the proxy is not running, so the test
	// can open the device itself.
	dc := openDirect(t, link)
	r.direct, _ = latencies(t, dc, samples)
	dc.conn.Close()

	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	if e := os.Getenv("GOMBIM_PROXY_BENCH_ENV"); e != "" { // e.g. GOMAXPROCS=1 for the proxies
		cmd.Env = append(os.Environ(), strings.Fields(e)...)
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: p.name + ": "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid

	c1 := openProxied(t, DefaultSocket, link)
	r.rssOneKB = procStatusKB(t, pid, "VmRSS")
	r.median, r.p99 = latencies(t, c1, samples)
	cpu0 := cpuTime(t, pid)
	var n int64
	r.tps1, n = throughput(t, []*syncClient{c1}, dur)
	r.cpu1 = (cpuTime(t, pid) - cpu0) / time.Duration(n)
	cs := []*syncClient{c1}
	for range 7 {
		cs = append(cs, openProxied(t, DefaultSocket, link))
	}
	cpu0 = cpuTime(t, pid)
	self0 := cpuTime(t, os.Getpid())
	r.tps8, n = throughput(t, cs, dur)
	r.cpu8 = (cpuTime(t, pid) - cpu0) / time.Duration(n)
	r.harness8 = (cpuTime(t, os.Getpid()) - self0) / time.Duration(n)
	r.rssKB = procStatusKB(t, pid, "VmRSS")
	r.anonKB = procStatusKB(t, pid, "RssAnon")
	r.cap1, _ = pipelined(t, cs[:1], capInFlight, dur)
	cpu0 = cpuTime(t, pid)
	r.cap8, n = pipelined(t, cs, capInFlight, dur)
	r.cpuCap = (cpuTime(t, pid) - cpu0) / time.Duration(n)
	for _, c := range cs {
		c.conn.Close()
	}
	return r
}

func medianResult(rs []benchResult) benchResult {
	med := func(get func(benchResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	d := func(get func(benchResult) time.Duration) time.Duration {
		return time.Duration(med(func(r benchResult) float64 { return float64(get(r)) }))
	}
	k := func(get func(benchResult) int) int {
		return int(med(func(r benchResult) float64 { return float64(get(r)) }))
	}
	return benchResult{
		direct:   d(func(r benchResult) time.Duration { return r.direct }),
		median:   d(func(r benchResult) time.Duration { return r.median }),
		p99:      d(func(r benchResult) time.Duration { return r.p99 }),
		tps1:     med(func(r benchResult) float64 { return r.tps1 }),
		tps8:     med(func(r benchResult) float64 { return r.tps8 }),
		cpu1:     d(func(r benchResult) time.Duration { return r.cpu1 }),
		cpu8:     d(func(r benchResult) time.Duration { return r.cpu8 }),
		rssKB:    k(func(r benchResult) int { return r.rssKB }),
		harness8: d(func(r benchResult) time.Duration { return r.harness8 }),
		anonKB:   k(func(r benchResult) int { return r.anonKB }),
		cap1:     med(func(r benchResult) float64 { return r.cap1 }),
		cap8:     med(func(r benchResult) float64 { return r.cap8 }),
		cpuCap:   d(func(r benchResult) time.Duration { return r.cpuCap }),
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
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

// pipelined runs every client with k requests in flight for dur and
// returns the total transactions per second and count.
func pipelined(t testing.TB, cs []*syncClient, k int, dur time.Duration) (float64, int64) {
	t.Helper()
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := 0
			send := func() bool {
				c.tid++
				setTID(c.req, c.tid)
				if err := c.conn.WriteMessage(c.req); err != nil {
					t.Error(err)
					return false
				}
				out++
				return true
			}
			for range k {
				if !send() {
					return
				}
			}
			for out > 0 {
				b, err := c.conn.ReadMessage()
				if err != nil {
					t.Error(err)
					return
				}
				if msgType(b) == mbim.TypeIndicateStatus {
					continue
				}
				out--
				total.Add(1)
				if time.Since(start) < dur && !send() {
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds(), total.Load()
}

// buildForwarder compiles bench/forwarder.c, a forwarder that copies
// bytes between one client socket and the device and understands nothing:
// the least any proxy process can add to a transaction.
func buildForwarder(t *testing.T) string {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatal("gcc is needed for the forwarder floor (apt-get install gcc)")
	}
	bin := filepath.Join(t.TempDir(), "forwarder")
	if out, err := exec.Command(gcc, "-O2", "-Wall", "-o", bin, "../bench/forwarder.c").CombinedOutput(); err != nil {
		t.Fatalf("building bench/forwarder.c: %v\n%s", err, out)
	}
	return bin
}

// measureForwarder returns the median of a direct connection and the
// median through the forwarder, measured one after the other.
func measureForwarder(t *testing.T, bin, link string, samples int) (direct, through, cpu time.Duration) {
	dc := openDirect(t, link)
	direct, _ = latencies(t, dc, samples)
	dc.conn.Close()
	time.Sleep(200 * time.Millisecond) // let the pty settle before the next opener

	name := fmt.Sprintf("gombim-forwarder-%d", os.Getpid())
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "FWD_DEVICE="+link, "FWD_SOCKET="+name)
	cmd.Stderr = &prefixWriter{t: t, prefix: "forwarder: "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var conn transport.Conn
	var err error
	for range 200 {
		if conn, err = transport.DialUnix(name, true); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newSyncClient(conn)
	c.tid = 1000
	if err := conn.WriteMessage(buildScalar(mbim.TypeOpen, 1, 4096)); err != nil {
		t.Fatal(err)
	}
	if err := c.expect(1); err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime(t, cmd.Process.Pid)
	through, _ = latencies(t, c, samples)
	cpu = (cpuTime(t, cmd.Process.Pid) - cpu0) / time.Duration(samples+200)
	return direct, through, cpu
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

// procStatusKB reads a kB field (VmRSS, RssAnon) of /proc/PID/status.
func procStatusKB(t testing.TB, pid int, field string) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
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

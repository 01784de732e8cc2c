package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gombim/gombim/proxy"
)

func init() {
	register(&Command{
		Name:    "proxy",
		Summary: "share modems between programs (a drop-in for libmbim's mbim-proxy)",
		Usage:   proxyUsage,
		Run:     runProxy,
	})
}

const proxyUsage = `Usage: gombim proxy [OPTIONS]

Serve MBIM devices to several programs at once, speaking libmbim's proxy
protocol on the abstract Unix socket "mbim-proxy": ModemManager, mbimcli -p,
gombim --proxy and any other libmbim client can use it unchanged, instead of
libmbim's mbim-proxy (stop that one first; only one program can listen).

Each client names its device with the proxy-control CONFIGURATION message.
The device is opened once and shared: the clients' OPEN and CLOSE are
answered by the proxy, transaction ids are remapped per client, indications
go to the clients whose subscribe lists want them, and the merged list is
set on the device when it changes. A device that hangs up or forgets its
session is reopened and its subscriptions and MBIMEx version restored;
requests in flight fail with a NotOpened error.

Options:
  --socket NAME         listen on abstract socket NAME (default mbim-proxy);
                        a name starting with / is a socket file
  --user USER[,USER]    also allow these users (names or uids); root and the
                        proxy's own user are always allowed
  --group GROUP[,...]   also allow processes in these groups
  --empty-timeout D     close a device D after its last client left
                        (default 5m; 0 keeps devices open)
  --request-timeout D   forget requests the device does not answer within D
                        (default 5m)
  --metrics ADDR        serve Prometheus metrics over HTTP on ADDR
                        (e.g. 127.0.0.1:9478), at /metrics
  --verbose             log every client and device event

The proxy runs until SIGINT or SIGTERM, then closes its devices.

Exit status:
  0  stopped by a signal
  2  usage error
  3  cannot listen (another proxy running?) or serve metrics
`

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("proxy")
	fs := newFlagSet(c)
	var users, groups listFlag
	socket := fs.String("socket", proxy.DefaultSocket, "")
	fs.Var(&users, "user", "")
	fs.Var(&groups, "group", "")
	empty := fs.Duration("empty-timeout", 5*time.Minute, "")
	reqTimeout := fs.Duration("request-timeout", proxy.DefaultRequestTimeout, "")
	metrics := fs.String("metrics", "", "")
	verbose := fs.Bool("verbose", false, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q", pos[0])
	}
	if *empty < 0 || *reqTimeout < 0 {
		return usageError(c, stderr, "durations must not be negative")
	}

	reexecForSysmon(args)

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg := proxy.Config{
		Socket:         *socket,
		EmptyTimeout:   *empty,
		RequestTimeout: *reqTimeout,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if *empty == 0 {
		cfg.EmptyTimeout = -1 // never close
	}
	for _, u := range users {
		uid, err := proxy.LookupUser(u)
		if err != nil {
			return usageError(c, stderr, "--user %s: %v", u, err)
		}
		cfg.AllowUIDs = append(cfg.AllowUIDs, uid)
	}
	for _, g := range groups {
		gid, err := proxy.LookupGroup(g)
		if err != nil {
			return usageError(c, stderr, "--group %s: %v", g, err)
		}
		cfg.AllowGIDs = append(cfg.AllowGIDs, gid)
	}

	s, err := proxy.Listen(cfg)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "gombim proxy: %v\n(another proxy, such as libmbim's mbim-proxy, is already listening there)\n", err)
		} else {
			fmt.Fprintf(stderr, "gombim proxy: %v\n", err)
		}
		return exitDevice
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Serve() }()

	var mln net.Listener
	if *metrics != "" {
		var err error
		mln, err = net.Listen("tcp", *metrics)
		if err != nil {
			s.Close()
			fmt.Fprintf(stderr, "gombim proxy: metrics: %v\n", err)
			return exitDevice
		}
		go func() {
			if err := s.ServeMetrics(mln); err != nil {
				errc <- fmt.Errorf("metrics: %w", err)
			}
		}()
		cfg.Logger.Info("serving metrics", "addr", mln.Addr().String(), "path", proxy.MetricsPath)
	}

	code = exitOK
	select {
	case <-ctx.Done():
		cfg.Logger.Info("stopping", "reason", "signal")
	case err := <-errc:
		if err != nil {
			fmt.Fprintf(stderr, "gombim proxy: %v\n", err)
			code = exitDevice
		}
	}
	if mln != nil {
		mln.Close()
	}
	s.Close()
	return code
}

// sysmonGODEBUG keeps the Go runtime's sysmon thread from its deep sleep.
// When every P is idle, sysmon sleeps until the next system call wakes it
// with a futex; a proxy idles between every request and answer, so that
// wake-up (and sysmon's own sleeps) came with nearly every transaction and
// cost about a third of the proxy's CPU time and 20 µs of latency. A
// non-zero schedtrace period keeps sysmon on its ordinary 20 µs - 10 ms
// polling instead. The period is the largest the runtime accepts (24.8
// days), so the scheduler trace it enables is printed at most that often.
const sysmonGODEBUG = "schedtrace=2147483647"

// reexecForSysmon re-executes gombim with sysmonGODEBUG added to GODEBUG,
// unless GODEBUG already sets schedtrace (GODEBUG=schedtrace=0 opts out) or
// this is not the gombim program itself running "proxy" (tests call
// runProxy directly).
func reexecForSysmon(args []string) {
	if strings.Contains(os.Getenv("GODEBUG"), "schedtrace=") {
		return
	}
	n := len(os.Args) - len(args)
	if n < 2 || os.Args[n-1] != "proxy" || !slices.Equal(os.Args[n:], args) {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	godebug := sysmonGODEBUG
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + sysmonGODEBUG
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	env = append(env, "GODEBUG="+godebug)
	syscall.Exec(exe, os.Args, env) // returns only on failure: carry on as we are
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/sim"
)

const simUsage = `Usage: gombim sim --pty LINK [--scenario FILE] [--mbimex VERSION] [-v]
       gombim sim --unix PATH [--scenario FILE] [--mbimex VERSION] [-v]

Run a simulated MBIM modem until interrupted (SIGINT or SIGTERM).

With --pty, the modem serves on a new pseudo-terminal and LINK is made a
symbolic link to it; programs open LINK as if it were a modem's control
port (mbimcli -d LINK ..., gombim -d LINK ...). The pty's path is printed.
Clients may open and close it any number of times, one at a time. After a
simulated device reset the modem comes back on a new pty under LINK.

With --unix, the modem serves MBIM over a Unix stream socket at PATH
(gombim -d unix:PATH ...).

The modem's state (radio, SIM, registration, connections...) lives as long
as the command runs, across clients.

Options:
  --pty LINK         serve on a pty, linked at LINK
  --unix PATH        serve on a Unix socket at PATH
  --scenario FILE    JSON scenario (identity, SIMs, networks, timings,
                     timeline, faults; see docs/simulator.md); without it,
                     a modem that simply works
  --mbimex VERSION   the modem's native MBIMEx version (1.0, 2.0, 3.0 or
                     4.0), overriding the scenario
  -v, --verbose      log every message and state change on stderr

Exit status:
  0  stopped by a signal
  2  usage error (including an invalid scenario)
  3  the pty or socket could not be created or failed
`

func init() {
	register(&Command{
		Name:    "sim",
		Summary: "run a simulated MBIM modem on a pty or a Unix socket",
		Usage:   simUsage,
		Run:     runSim,
	})
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("sim")
	fs := newFlagSet(c)
	ptyLink := fs.String("pty", "", "")
	unixPath := fs.String("unix", "", "")
	scenario := fs.String("scenario", "", "")
	mbimex := fs.String("mbimex", "", "")
	var verbose bool
	fs.BoolVar(&verbose, "v", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q", pos[0])
	}
	if (*ptyLink == "") == (*unixPath == "") {
		return usageError(c, stderr, "give exactly one of --pty LINK and --unix PATH")
	}
	sc := sim.DefaultScenario()
	if *scenario != "" {
		var err error
		if sc, err = sim.LoadScenario(*scenario); err != nil {
			return usageError(c, stderr, "%v", err)
		}
	}
	if *mbimex != "" {
		v, err := mbim.ParseVersion(*mbimex)
		if err != nil {
			return usageError(c, stderr, "--mbimex: %v", err)
		}
		sc.MBIMEx = v
	}
	m, err := sim.New(sc)
	if err != nil {
		return usageError(c, stderr, "%v", err)
	}
	if verbose {
		m.SetLogger(func(format string, args ...any) {
			fmt.Fprintf(stderr, "sim: "+format+"\n", args...)
		})
	}
	if *ptyLink != "" {
		slave, wait, err := m.StartPTY(ctx, *ptyLink)
		if err != nil {
			fmt.Fprintf(stderr, "gombim sim: %v\n", err)
			return exitDevice
		}
		fmt.Fprintf(stdout, "%s -> %s\n", *ptyLink, slave)
		if err := wait(); err != nil {
			fmt.Fprintf(stderr, "gombim sim: %v\n", err)
			return exitDevice
		}
		return exitOK
	}
	wait, err := m.StartUnix(ctx, *unixPath)
	if err != nil {
		fmt.Fprintf(stderr, "gombim sim: %v\n", err)
		return exitDevice
	}
	fmt.Fprintf(stdout, "unix:%s\n", *unixPath)
	if err := wait(); err != nil {
		fmt.Fprintf(stderr, "gombim sim: %v\n", err)
		return exitDevice
	}
	return exitOK
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/proxycontrol"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/session"
)

const monitorUsage = `Usage: gombim monitor [--count N] [GLOBAL OPTIONS]

Print every indication the modem sends, as it arrives, until interrupted
(Ctrl-C). The modem is asked for the notifications of every service it
lists in DEVICE_SERVICES (MBIM's subscribe list); to follow one CID only,
use 'gombim SERVICE CID watch'.

Each indication is printed with its time, service and CID, and its fields;
with --json, one object per line (the catalog's JSON form).

Options:
  --count N  stop after N indications

` + globalOptionsHelp + `
Exit status:
  0  interrupted, or N indications printed
  2  usage error
  3  device or transport error (the modem went away)
  4  timeout while subscribing

Examples:
  gombim monitor
  gombim -d /dev/wwan0mbim0 monitor --json | jq -c '{cid, fields}'
`

func init() {
	register(&Command{
		Name:    "monitor",
		Summary: "print every indication as it arrives, until interrupted",
		Usage:   monitorUsage,
		Run:     runMonitor,
	})
}

func runMonitor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("monitor")
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	count := fs.Int("count", 0, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q; to follow one CID use 'gombim SERVICE CID watch'", pos[0])
	}
	if *count < 0 {
		return usageError(c, stderr, "--count must not be negative")
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	s := dev.s
	// Listen first, so nothing that the subscription triggers is missed.
	ch, stop := s.Indications()
	defer stop()
	var events []session.Event
	seen := map[mbim.UUID]bool{}
	add := func(u mbim.UUID) {
		if seen[u] || u == proxycontrol.UUID {
			return
		}
		seen[u] = true
		// Only services with a CID that notifies, as far as both the
		// catalog and the modem know.
		svc := catalog.ServiceByUUID(u)
		if svc == nil {
			return
		}
		for _, c := range svc.CIDs {
			if c.Notify && s.Supports(u, c.ID) {
				events = append(events, session.Event{Service: u})
				return
			}
		}
	}
	if list, _ := s.Services(); list != nil {
		for _, e := range list {
			add(e.DeviceServiceId)
		}
	} else {
		for _, svc := range catalog.Services() {
			add(svc.UUID)
		}
	}
	if _, err := s.Subscribe(ctx, events...); err != nil {
		if exitCodeFor(err) != exitFailed {
			return reportError(c, stderr, "subscribing to the indications", err, &g)
		}
		fmt.Fprintf(stderr, "gombim monitor: the modem refused the subscribe list (%s); showing what it sends by default\n", errText(err))
	}
	if !g.json {
		fmt.Fprintf(stderr, "Monitoring indications on %s; press Ctrl-C to stop.\n", dev.path)
	}
	return streamIndications(ctx, c, &g, dev, ch, *count, stdout, stderr)
}

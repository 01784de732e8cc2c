package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/session"
)

// One command per service of the catalog, generated at start-up:
//
//	gombim SERVICE CID query|set|watch [Field=Value ...] [JSON]
//
// and CID names alone as short aliases where they are unambiguous
// ("gombim register-state query").

const groupService = "service"

func init() {
	for _, s := range catalog.Services() {
		if len(s.CIDs) == 0 {
			continue
		}
		svc := s
		register(&Command{
			Name:      svc.Name,
			Summary:   serviceSummary(svc),
			UsageFunc: func() string { return serviceUsage(svc) },
			Group:     groupService,
			Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
				return runService(ctx, svc, args, stdout, stderr)
			},
		})
	}
}

func serviceSummary(s *mbim.ServiceDesc) string {
	n := len(s.CIDs)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return fmt.Sprintf("%s (%d CID%s)", s.Title, n, plural)
}

// ops lists the operations of a CID: query, set, watch.
func ops(c *mbim.CIDDesc) []string {
	var out []string
	if c.Query {
		out = append(out, "query")
	}
	if c.Set {
		out = append(out, "set")
	}
	if c.Notify {
		out = append(out, "watch")
	}
	return out
}

const serviceOptionsHelp = `Options:
  --count N          watch: stop after N indications (default: until
                     interrupted)
  -h, --help         show this help
`

func serviceUsage(s *mbim.ServiceDesc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: gombim %s CID query|set|watch [Field=Value ...] [JSON]\n\n", s.Name)
	fmt.Fprintf(&b, "%s service (%s): query and set its CIDs, or watch their indications.\n\n", s.Title, s.UUID)
	b.WriteString("CIDs:\n")
	width := 0
	for _, c := range s.CIDs {
		width = max(width, len(c.Name))
	}
	for _, c := range s.CIDs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, strings.Join(ops(&c), " "))
	}
	fmt.Fprintf(&b, `
Run 'gombim %s CID --help' for the fields of a CID.

Arguments:
  Field=Value        a field of the request, named as in the specification;
                     the value is parsed by the field's type: enumeration
                     nicknames, flags joined by |, numbers (0x for hex),
                     strings, UUIDs or context type names, IP addresses,
                     hex for bytes, comma-separated lists, JSON for arrays
                     of structures; Field=@FILE reads JSON from FILE
  JSON               a JSON object with some or all fields ('{"F":1}');
                     Field=Value arguments after it override its fields.
                     --json '{...}' does the same and prints JSON
  The request's layout is the one of the MBIMEx version agreed with the
  modem. Fields not given are zero or empty, but a set needs at least one.

Output:
  query and set print the response's fields; watch prints each indication
  as it arrives. With --json, one JSON object per message (the catalog's
  JSON form).

%s
%s
Exit status:
  0  success (watch: stopped by --count or interrupted)
  1  the modem answered with an error status
  2  usage error (unknown CID or field, bad value)
  3  device or transport error
  4  timeout
`, s.Name, serviceOptionsHelp, globalOptionsHelp)
	return b.String()
}

// cidUsage is the help of one CID: its operations and fields.
func cidUsage(s *mbim.ServiceDesc, c *mbim.CIDDesc) string {
	var b strings.Builder
	o := ops(c)
	fmt.Fprintf(&b, "Usage: gombim %s %s %s [Field=Value ...] [JSON]\n\n", s.Name, c.Name, strings.Join(o, "|"))
	fmt.Fprintf(&b, "%s %s (CID %d): %s.\n", s.Name, c.Name, c.ID, strings.Join(o, ", "))
	for _, k := range []struct {
		kind mbim.Kind
		op   string
		ok   bool
	}{{mbim.KindQuery, "query", c.Query}, {mbim.KindSet, "set", c.Set}, {mbim.KindResponse, "response", c.Query || c.Set}, {mbim.KindNotify, "indication (watch)", c.Notify}} {
		if !k.ok {
			continue
		}
		variants := layoutsOf(c, k.kind)
		if len(variants) == 0 {
			fmt.Fprintf(&b, "\n%s: no fields\n", k.op)
			continue
		}
		for _, l := range variants {
			fmt.Fprintf(&b, "\n%s%s:", k.op, versionLabel(l, len(variants) > 1))
			if l.New == nil {
				b.WriteString(" no fields\n")
				continue
			}
			b.WriteString("\n")
			writeFields(&b, fieldsOf(reflect.TypeOf(l.New())), "  ")
		}
	}
	b.WriteString("\nWhen the modem agrees on several MBIMEx versions' layouts, the newest that\napplies is used. Run 'gombim " + s.Name + " --help' for the value syntax and\noptions.\n")
	return b.String()
}

func versionLabel(l *mbim.MessageDesc, several bool) string {
	if !several {
		return ""
	}
	if l.MBIMEx <= mbim.MBIMEx1 {
		return " (MBIM 1.0)"
	}
	return " (MBIMEx " + l.MBIMEx.String() + " and later)"
}

// layoutsOf returns the layouts of one kind of a CID, oldest first.
func layoutsOf(c *mbim.CIDDesc, k mbim.Kind) []*mbim.MessageDesc {
	var out []*mbim.MessageDesc
	for i := range c.Messages {
		if c.Messages[i].Kind == k {
			out = append(out, &c.Messages[i])
		}
	}
	slices.SortStableFunc(out, func(a, b *mbim.MessageDesc) int { return int(a.MBIMEx) - int(b.MBIMEx) })
	return out
}

// findCID looks a CID up by nickname or number.
func findCID(s *mbim.ServiceDesc, name string) *mbim.CIDDesc {
	if c := s.CIDByName(strings.ToLower(name)); c != nil {
		return c
	}
	if n, err := strconv.ParseUint(name, 0, 32); err == nil {
		return s.CID(uint32(n))
	}
	return nil
}

func cidNames(s *mbim.ServiceDesc) string {
	names := make([]string, len(s.CIDs))
	for i, c := range s.CIDs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// aliasPriority orders the services that a bare CID name may stand for:
// Basic Connect first, then its Microsoft extensions, then the others.
func aliasPriority(s *mbim.ServiceDesc) int {
	switch s.Name {
	case "basic-connect":
		return 0
	case "ms-basic-connect-extensions":
		return 1
	}
	return 2
}

// resolveAlias finds the service whose CID is called name. When services
// of the same priority share the name, it returns the candidates instead.
func resolveAlias(name string) (*mbim.ServiceDesc, []string) {
	best := 3
	var found []*mbim.ServiceDesc
	for _, s := range catalog.Services() {
		if s.CIDByName(name) == nil {
			continue
		}
		p := aliasPriority(s)
		switch {
		case p < best:
			best, found = p, []*mbim.ServiceDesc{s}
		case p == best:
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	var cands []string
	for _, s := range found {
		cands = append(cands, s.Name+" "+name)
	}
	return nil, cands
}

// serviceRequest is a parsed "SERVICE CID OP ..." command line.
type serviceRequest struct {
	svc     *mbim.ServiceDesc
	cid     *mbim.CIDDesc
	op      string
	payload payloadArgs
}

func runService(ctx context.Context, svc *mbim.ServiceDesc, args []string, stdout, stderr io.Writer) int {
	c := lookup(svc.Name)
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	var help bool
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
	count := fs.Int("count", 0, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		if help {
			io.WriteString(stdout, c.usage())
			return exitOK
		}
		return usageError(c, stderr, "give a CID and an operation, e.g. 'gombim %s %s query'; the CIDs are: %s", svc.Name, svc.CIDs[0].Name, cidNames(svc))
	}
	cid := findCID(svc, pos[0])
	if cid == nil {
		return usageError(c, stderr, "unknown CID %q of %s; the CIDs are: %s", pos[0], svc.Name, cidNames(svc))
	}
	if help {
		io.WriteString(stdout, cidUsage(svc, cid))
		return exitOK
	}
	// Usage errors about this CID point to its own help.
	cidError := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "gombim %s %s: %s\nRun 'gombim help %s %s' for its operations and fields.\n", svc.Name, cid.Name, fmt.Sprintf(format, args...), svc.Name, cid.Name)
		return exitUsage
	}
	// JSON objects may come anywhere after the CID (--json '{...}' before
	// the command puts them there).
	var jsonArgs []string
	rest := pos[:1]
	for _, a := range pos[1:] {
		if strings.HasPrefix(strings.TrimSpace(a), "{") {
			jsonArgs = append(jsonArgs, a)
		} else {
			rest = append(rest, a)
		}
	}
	pos = rest
	o := ops(cid)
	if len(pos) < 2 {
		return cidError("give an operation after %s: %s", cid.Name, strings.Join(o, ", "))
	}
	r := &serviceRequest{svc: svc, cid: cid, op: pos[1]}
	if !slices.Contains(o, r.op) {
		if !slices.Contains([]string{"query", "set", "watch"}, r.op) {
			return cidError("unknown operation %q; %s %s supports: %s", r.op, svc.Name, cid.Name, strings.Join(o, ", "))
		}
		return cidError("%s %s has no %s; it supports: %s", svc.Name, cid.Name, r.op, strings.Join(o, ", "))
	}
	if len(jsonArgs) > 1 {
		return cidError("give at most one JSON object")
	}
	if len(jsonArgs) == 1 {
		r.payload.json = []byte(jsonArgs[0])
	}
	for _, a := range pos[2:] {
		switch {
		case strings.Contains(a, "="):
			name, value, _ := strings.Cut(a, "=")
			r.payload.fields = append(r.payload.fields, fieldArg{name, value})
		default:
			return cidError("unexpected argument %q: write fields as Field=Value (run 'gombim %s %s --help' for the fields)", a, svc.Name, cid.Name)
		}
	}
	if *count < 0 {
		return cidError("--count must not be negative")
	}
	g.unversioned = !versioned(cid, kindOf(r.op))
	// A query, set or watch of one CID sends it whether or not the modem
	// lists it, and reports the modem's answer.
	g.servicesUnused = true
	if r.op == "watch" {
		if !r.payload.empty() {
			return cidError("watch takes no fields")
		}
		return watchCID(ctx, c, &g, r, *count, stdout, stderr)
	}
	kind := kindOf(r.op)
	// Check the arguments against every layout before opening the device,
	// so that mistakes are reported at once.
	if err := precheck(r, kind); err != nil {
		return cidError("%s: %v", r.op, err)
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	what := svc.Name + " " + cid.Name + " " + r.op
	_, _, l := catalog.Layout(svc.UUID, cid.ID, kind, dev.s.MBIMEx())
	info, err := buildPayload(l, &r.payload)
	if err != nil {
		return cidError("%s (at MBIMEx %s, the version agreed with the modem): %v", r.op, dev.s.MBIMEx(), err)
	}
	ct := mbim.CommandQuery
	if kind == mbim.KindSet {
		ct = mbim.CommandSet
	}
	d, err := dev.s.Request(ctx, svc.UUID, cid.ID, ct, info)
	if d != nil && (err == nil || d.Info != nil) {
		if werr := printDecoded(stdout, d, g.json, what); werr != nil {
			fmt.Fprintf(stderr, "gombim %s: writing the output: %v\n", c.Name, werr)
			return exitDevice
		}
	}
	if err != nil {
		return reportError(c, stderr, what, err, &g)
	}
	return exitOK
}

// kindOf maps an operation to the kind of payload it sends (or, for
// watch, receives).
func kindOf(op string) mbim.Kind {
	switch op {
	case "set":
		return mbim.KindSet
	case "watch":
		return mbim.KindNotify
	}
	return mbim.KindQuery
}

// versioned reports whether a layout that the operation of kind uses
// (its request and response, or its indication) differs by MBIMEx
// version.
func versioned(c *mbim.CIDDesc, kind mbim.Kind) bool {
	for _, m := range c.Messages {
		if (m.Kind == kind || kind != mbim.KindNotify && m.Kind == mbim.KindResponse) && m.MBIMEx > mbim.MBIMEx1 {
			return true
		}
	}
	return false
}

// precheck builds the payload with each layout of kind, and fails only if
// none accepts the arguments (reporting the newest layout's complaint).
// A set without any field is refused when its payload has fields.
func precheck(r *serviceRequest, kind mbim.Kind) error {
	variants := layoutsOf(r.cid, kind)
	if len(variants) == 0 {
		_, err := buildPayload(nil, &r.payload)
		return err
	}
	var last error
	for i := len(variants) - 1; i >= 0; i-- {
		l := variants[i]
		if kind == mbim.KindSet && r.payload.empty() && l.New != nil {
			last = &fieldError{"give the fields to set (Field=Value ...)\n" + fieldList(fieldsOf(reflect.TypeOf(l.New())))}
			continue
		}
		if _, err := buildPayload(l, &r.payload); err != nil {
			if last == nil {
				last = err
			}
			continue
		}
		return nil
	}
	return last
}

// printDecoded writes one response or indication.
func printDecoded(w io.Writer, d *catalog.Decoded, asJSON bool, title string) error {
	if asJSON {
		j, err := d.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", j)
		return err
	}
	var b strings.Builder
	b.WriteString(title)
	if d.Layout != nil && d.Layout.MBIMEx > mbim.MBIMEx1 {
		fmt.Fprintf(&b, " (MBIMEx %s)", d.Layout.MBIMEx)
	}
	switch {
	case d.Info != nil:
		b.WriteString(":\n")
		catalog.FormatInfo(&b, d.Info, "  ")
	case len(d.Message.InformationBuffer) > 0:
		b.WriteString(":\n")
		if d.Err != nil {
			fmt.Fprintf(&b, "  (the payload does not decode: %v)\n", d.Err)
		}
		fmt.Fprintf(&b, "  InformationBuffer: %x\n", d.Message.InformationBuffer)
	default:
		b.WriteString(": done\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// watchCID streams the indications of one CID.
func watchCID(ctx context.Context, c *Command, g *globalOptions, r *serviceRequest, count int, stdout, stderr io.Writer) int {
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	what := r.svc.Name + " " + r.cid.Name + " watch"
	ch, stop, err := dev.s.Watch(ctx, session.Event{Service: r.svc.UUID, CID: r.cid.ID})
	if err != nil {
		return reportError(c, stderr, what, err, g)
	}
	defer stop()
	if !g.json {
		fmt.Fprintf(stderr, "Watching %s %s indications on %s; press Ctrl-C to stop.\n", r.svc.Name, r.cid.Name, dev.path)
	}
	return streamIndications(ctx, c, g, dev, ch, count, stdout, stderr)
}

// streamIndications prints indications until count of them were printed
// (0: no limit), the context ends (exit 0) or the device goes away.
func streamIndications(ctx context.Context, c *Command, g *globalOptions, dev *device, ch <-chan *catalog.Decoded, count int, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	n := 0
	for {
		select {
		case <-ctx.Done():
			out.Flush()
			return exitOK
		case d, ok := <-ch:
			if !ok {
				out.Flush()
				if err := dev.s.Err(); err != nil && !errors.Is(err, session.ErrClosed) {
					return reportError(c, stderr, "watching indications", err, g)
				}
				return exitOK
			}
			title := time.Now().Format("15:04:05.000") + " " + catalog.ServiceName(d.Message.Service) + " " + catalog.CIDName(d.Message.Service, d.Message.CID)
			if err := printDecoded(out, d, g.json, title); err != nil {
				return exitDevice
			}
			if err := out.Flush(); err != nil {
				fmt.Fprintf(stderr, "gombim %s: writing the output: %v\n", c.Name, err)
				return exitDevice
			}
			n++
			if count > 0 && n >= count {
				return exitOK
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gombim/gombim/catalog"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/pco"
	"github.com/gombim/gombim/session"
)

const pcoUsage = `Usage: gombim pco [--session N] [GLOBAL OPTIONS]
       gombim pco --watch [--session N] [--count N] [GLOBAL OPTIONS]

Show the Protocol Configuration Options (PCO) the network sent with a
connection (MS Basic Connect Extensions PCO, CID 9), decoded as 3GPP TS
24.008 10.5.6.3 lays them out: the containers by name (P-CSCF and DNS
server addresses, link MTUs, the MSISDN, the bearer control mode...),
operator-specific containers (0xff00-0xffff) with their MCC, MNC and
value, and what Verizon's (311-480) value means: 0 provisioned, 3 out of
data, 5 not provisioned. Unknown containers are shown in hex. A malformed
PCO is reported with what could be decoded before the fault.

With --watch, print each PCO indication as the modem sends it (when a
connection comes up, when the network changes the value) until
interrupted.

'gombim pco query|watch [SessionId=N]' is the generic form of the CID,
which shows the raw buffer.

Options:
  --session N  the connection's session id (default 0; with --watch,
               every session unless given)
  --watch      follow the PCO indications
  --count N    with --watch, stop after N indications

` + globalOptionsHelp + `
Exit status:
  0  the PCO was shown (malformed or not), or --watch was interrupted
  1  the modem answered with an error (e.g. the session is not connected)
  2  usage error
  3  device or transport error
  4  timeout

Examples:
  gombim pco
  gombim pco --session 1 --json
  gombim pco --watch
`

func init() {
	register(&Command{
		Name:    "pco",
		Summary: "show the PCO of a connection, decoded (3GPP containers, operator values)",
		Usage:   pcoUsage,
		Run:     runPCO,
	})
}

func runPCO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("pco")
	// "gombim pco query ..." is the CID's generic form.
	for _, a := range args {
		if a == "query" || a == "set" || a == "watch" {
			return lookup(ms.Service.Name).Run(ctx, append([]string{"pco"}, args...), stdout, stderr)
		}
	}
	fs := newFlagSet(c)
	var g globalOptions
	g.define(fs)
	sess := fs.Int("session", -1, "")
	watch := fs.Bool("watch", false, "")
	count := fs.Int("count", 0, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q", pos[0])
	}
	if *sess < -1 {
		return usageError(c, stderr, "--session %d: give a session id, 0 or more", *sess)
	}
	if *count < 0 || (*count > 0 && !*watch) {
		return usageError(c, stderr, "--count goes with --watch, and must not be negative")
	}
	dev, code := g.open(ctx, c, stderr)
	if dev == nil {
		return code
	}
	defer dev.close()
	if !dev.s.Supports(ms.UUID, ms.CIDPco) {
		if list, _ := dev.s.Services(); list != nil {
			fmt.Fprintf(stderr, "gombim pco: the modem does not list MS Basic Connect Extensions PCO (CID 9) in DEVICE_SERVICES: it does not report PCO\n")
			return exitFailed
		}
	}
	if *watch {
		return watchPCO(ctx, c, &g, dev, *sess, *count, stdout, stderr)
	}
	id := uint32(max(*sess, 0))
	v, err := ms.QueryPco(ctx, dev.s, &ms.PcoQuery{SessionId: id})
	if err != nil {
		var se *mbim.StatusError
		if errors.As(err, &se) && se.Status == mbim.StatusContextNotActivated {
			fmt.Fprintf(stderr, "gombim pco: session %d is not connected (the modem answered %s): the network sends PCO with a connection; connect first (gombim connect --session %d)\n", id, se.Status, id)
			return exitFailed
		}
		return reportError(c, stderr, "ms-basic-connect-extensions pco query", err, &g)
	}
	return printPCO(stdout, stderr, c, g.json, v, time.Time{})
}

func watchPCO(ctx context.Context, c *Command, g *globalOptions, dev *device, sess, count int, stdout, stderr io.Writer) int {
	ch, stop, err := dev.s.Watch(ctx, session.Event{Service: ms.UUID, CID: ms.CIDPco})
	if err != nil {
		return reportError(c, stderr, "subscribing to PCO indications", err, g)
	}
	defer stop()
	if !g.json {
		fmt.Fprintf(stderr, "Watching PCO indications on %s; press Ctrl-C to stop.\n", dev.path)
	}
	n := 0
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case <-dev.s.Done():
			fmt.Fprintf(stderr, "gombim pco: %s\n", errText(dev.s.Err()))
			return exitDevice
		case d, ok := <-ch:
			if !ok {
				if ctx.Err() != nil {
					return exitOK
				}
				fmt.Fprintf(stderr, "gombim pco: the session ended: %s\n", errText(dev.s.Err()))
				return exitDevice
			}
			v := pcoOf(d)
			if v == nil {
				fmt.Fprintf(stderr, "gombim pco: an indication that does not decode: %v\n", d.Err)
				continue
			}
			if sess >= 0 && v.SessionId != uint32(sess) {
				continue
			}
			if code := printPCO(stdout, stderr, c, g.json, v, time.Now()); code != exitOK {
				return code
			}
			if n++; count > 0 && n >= count {
				return exitOK
			}
		}
	}
}

func pcoOf(d *catalog.Decoded) *ms.PcoValue {
	if d == nil || d.Err != nil {
		return nil
	}
	v, _ := d.Info.(*ms.PcoValue)
	return v
}

// pcoReport is the JSON form.
type pcoReport struct {
	Time    *time.Time `json:"time,omitempty"`
	Session uint32     `json:"session"`
	Type    string     `json:"type"`
	Raw     string     `json:"raw"`
	PCO     *pco.PCO   `json:"pco"`
	Verizon *struct {
		State   uint8  `json:"state"`
		Meaning string `json:"meaning"`
	} `json:"verizon,omitempty"`
	Malformed string `json:"malformed,omitempty"`
}

func printPCO(stdout, stderr io.Writer, c *Command, asJSON bool, v *ms.PcoValue, at time.Time) int {
	p, perr := pco.Parse(v.PcoDataBuffer)
	if p.Entries == nil {
		p.Entries = []pco.Entry{}
	}
	r := pcoReport{Session: v.SessionId, Type: v.PcoDataType.String(), Raw: hex.EncodeToString(v.PcoDataBuffer), PCO: p}
	if !at.IsZero() {
		t := at.UTC()
		r.Time = &t
	}
	if st, ok := p.Verizon(); ok {
		r.Verizon = &struct {
			State   uint8  `json:"state"`
			Meaning string `json:"meaning"`
		}{uint8(st), st.String()}
	}
	if perr != nil {
		r.Malformed = strings.ReplaceAll(perr.Error(), "\n", "; ")
	}
	if asJSON {
		return writeJSON(stdout, stderr, c, r)
	}
	var b bytes.Buffer
	if !at.IsZero() {
		fmt.Fprintf(&b, "%s ", at.Format("15:04:05.000"))
	}
	fmt.Fprintf(&b, "PCO of session %d (%s, %d bytes): % x\n", v.SessionId, v.PcoDataType, len(v.PcoDataBuffer), []byte(v.PcoDataBuffer))
	if v.PcoDataType == ms.PcoTypePartial {
		b.WriteString("  (partial: the modem passes on only some containers, e.g. the operator-specific ones)\n")
	}
	b.WriteString(p.String())
	if r.Verizon != nil {
		fmt.Fprintf(&b, "Verizon subscription state %d: %s\n", r.Verizon.State, r.Verizon.Meaning)
	}
	if perr != nil {
		fmt.Fprintf(&b, "malformed PCO: %s\n", r.Malformed)
	}
	if _, err := stdout.Write(b.Bytes()); err != nil {
		fmt.Fprintf(stderr, "gombim pco: writing the output: %v\n", err)
		return exitDevice
	}
	return exitOK
}

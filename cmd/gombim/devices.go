package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gombim/gombim/transport"
)

const devicesUsage = `Usage: gombim devices [--json]

List the MBIM control ports on this machine, from sysfs: USB modems'
cdc-wdm ports bound to the cdc_mbim driver and PCIe modems' WWAN MBIM
ports, with their driver, network interfaces and USB or PCI identity.
No modem is opened.

Options:
  --json  print a JSON array, one object per port

Exit status:
  0  the list was printed (it may be empty)
  2  usage error
  3  sysfs could not be read
`

func init() {
	register(&Command{
		Name:    "devices",
		Summary: "list the MBIM modems on this machine",
		Usage:   devicesUsage,
		Run:     runDevices,
	})
}

func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("devices")
	fs := newFlagSet(c)
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(c, stderr, "unexpected argument %q; devices takes only --json", pos[0])
	}
	devs, err := discover()
	if err != nil {
		fmt.Fprintf(stderr, "gombim devices: reading sysfs: %v; is /sys mounted? Give the device with -d PATH instead\n", err)
		return exitDevice
	}
	if *asJSON {
		if devs == nil {
			devs = []transport.Device{}
		}
		return writeJSON(stdout, stderr, c, devs)
	}
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "No MBIM modem found (no cdc-wdm port bound to cdc_mbim, no WWAN MBIM port).")
		fmt.Fprintln(stdout, "Check that the modem is plugged in and in MBIM mode (dmesg, lsusb), or try the simulated modem:")
		fmt.Fprintln(stdout, "  gombim -d sim status")
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tKIND\tDRIVER\tNET\tBUS\tID\tPRODUCT")
	for _, d := range devs {
		id, where := "-", d.USBPath
		if d.VendorID != 0 || d.ProductID != 0 {
			id = fmt.Sprintf("%04x:%04x", d.VendorID, d.ProductID)
		}
		if d.PCISlot != "" {
			where = d.PCISlot
		}
		bus := orDash(d.Bus)
		if where != "" {
			bus += " " + where
		}
		product := strings.TrimSpace(d.Manufacturer + " " + d.Product)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Path, d.Kind, orDash(d.Driver), orDash(strings.Join(d.NetInterfaces, ",")), bus, id, orDash(product))
	}
	if err := tw.Flush(); err != nil {
		return exitDevice
	}
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

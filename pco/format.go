package pco

import (
	"fmt"
	"io"
	"strings"
)

// String returns one line describing the entry, for example
//
//	0x000d dns-server-ipv4: 8.8.8.8
//	0xff00 operator-specific: mcc 311 mnc 480 value 05 (not provisioned: activation required)
//	0x0010 ipv4-link-mtu: (empty)
func (e Entry) String() string {
	head := fmt.Sprintf("0x%04x %s: ", e.ID, e.Name())
	v, err := e.Decode()
	switch {
	case err != nil:
		return head + hexOrEmpty(e.Contents) + " (malformed: " + strings.TrimPrefix(err.Error(), "pco: ") + ")"
	case v != nil:
		return head + fmt.Sprint(v)
	}
	return head + hexOrEmpty(e.Contents)
}

// Format writes a header line and one line per entry to w.
func (p *PCO) Format(w io.Writer) error {
	_, err := io.WriteString(w, p.String())
	return err
}

// String returns what Format writes.
func (p *PCO) String() string {
	var sb strings.Builder
	form := "value part"
	if p.HasIEI {
		form = "IE 0x27"
	}
	proto := "ppp"
	if p.ConfigurationProtocol != ConfigurationProtocolPPP {
		proto = "unknown"
	}
	ext := 0
	if p.Extension {
		ext = 1
	}
	plural := "entries"
	if len(p.Entries) == 1 {
		plural = "entry"
	}
	fmt.Fprintf(&sb, "PCO (%s, configuration protocol %d %s, extension %d): %d %s\n",
		form, p.ConfigurationProtocol, proto, ext, len(p.Entries), plural)
	for _, e := range p.Entries {
		sb.WriteString("  ")
		sb.WriteString(e.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

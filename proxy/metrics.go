package proxy

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// counters are updated with atomics on the hot paths.
type counters struct {
	requests    atomic.Uint64
	errors      atomic.Uint64
	timeouts    atomic.Uint64
	indications atomic.Uint64
	bytesIn     atomic.Uint64
	bytesOut    atomic.Uint64
	writes      atomic.Uint64
}

// wrote counts one write of n bytes (none if nothing was written).
func (c *counters) wrote(n int) {
	if n > 0 {
		c.bytesOut.Add(uint64(n))
		c.writes.Add(1)
	}
}

func (c *counters) snapshot() Counters {
	return Counters{
		Requests:    c.requests.Load(),
		Errors:      c.errors.Load(),
		Timeouts:    c.timeouts.Load(),
		Indications: c.indications.Load(),
		BytesIn:     c.bytesIn.Load(),
		BytesOut:    c.bytesOut.Load(),
		Writes:      c.writes.Load(),
	}
}

// Counters are the traffic counters kept for every device and every
// client.
type Counters struct {
	// Requests: commands received from the client / sent to the device
	// (including the proxy's own: OPEN, subscribe list updates, checks).
	Requests uint64
	// Errors: for a client, messages it sent that could not be used and
	// answers it got that carry a failure (FUNCTION_ERROR, a COMMAND_DONE
	// status other than none, requests failed because the device is not
	// open); for a device, FUNCTION_ERROR messages and failure statuses it
	// sent, framing and fragment errors.
	Errors uint64
	// Timeouts: requests the device did not answer within the request
	// timeout.
	Timeouts uint64
	// Indications: for a client, indications delivered to it; for a
	// device, indications it sent.
	Indications uint64
	// BytesIn and BytesOut count bytes read from and written to the
	// client or device.
	BytesIn, BytesOut uint64
	// Writes counts the write system calls that carried them out: fewer
	// than the messages when several went in one write (a burst of answers
	// for one client; requests of several clients to a stream port).
	Writes uint64
}

// ClientMetrics describes one connected client.
type ClientMetrics struct {
	ID     uint64
	PID    int32
	UID    uint32
	Comm   string // the client's /proc/PID/comm
	Device string // the device path it configured, or ""
	// Queued is the number of messages waiting to be written to it.
	Queued int
	Counters
}

// DeviceMetrics describes one device session.
type DeviceMetrics struct {
	Path    string
	State   string // "opening", "open", "lost" or "closed"
	Clients int
	// MBIMExVersion is the MBIMEx version last agreed with the device by a
	// client ("2.0"), or "" if none was negotiated.
	MBIMExVersion string
	Opens         uint64 // successful OPEN exchanges
	Losses        uint64 // hang-ups and NotOpened errors that forced a reopen
	Pending       int    // requests waiting for the device
	Counters
}

// Metrics is a snapshot of the proxy's counters.
type Metrics struct {
	Accepted uint64 // connections accepted
	Refused  uint64 // connections refused by the access check
	Dropped  uint64 // clients disconnected for being too slow or sending garbage
	Clients  []ClientMetrics
	Devices  []DeviceMetrics
}

// Metrics returns a snapshot of the counters, clients ordered by id and
// devices by path.
func (s *Server) Metrics() Metrics {
	m := Metrics{Accepted: s.accepted.Load(), Refused: s.refused.Load(), Dropped: s.dropped.Load()}
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	devices := make([]*device, 0, len(s.devices))
	for _, d := range s.devices {
		if !slices.Contains(devices, d) {
			devices = append(devices, d)
		}
	}
	s.mu.Unlock()
	for _, c := range clients {
		cm := ClientMetrics{ID: c.id, PID: c.cred.PID, UID: c.cred.UID, Comm: c.comm, Queued: int(c.queued.Load()), Counters: c.ctr.snapshot()}
		if d := c.dev.Load(); d != nil {
			cm.Device = d.path
		}
		m.Clients = append(m.Clients, cm)
	}
	for _, d := range devices {
		m.Devices = append(m.Devices, d.metrics())
	}
	slices.SortFunc(m.Clients, func(a, b ClientMetrics) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(m.Devices, func(a, b DeviceMetrics) int { return strings.Compare(a.Path, b.Path) })
	return m
}

// WritePrometheus writes m in the Prometheus text exposition format
// (version 0.0.4).
func (m Metrics) WritePrometheus(w io.Writer) error {
	bw := bufio.NewWriter(w)
	gauge := func(name, help string) { fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name) }
	counter := func(name, help string) { fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s counter\n", name, help, name) }

	counter("gombim_proxy_connections_accepted_total", "Client connections accepted.")
	fmt.Fprintf(bw, "gombim_proxy_connections_accepted_total %d\n", m.Accepted)
	counter("gombim_proxy_connections_refused_total", "Client connections refused by the access check.")
	fmt.Fprintf(bw, "gombim_proxy_connections_refused_total %d\n", m.Refused)
	counter("gombim_proxy_clients_dropped_total", "Clients disconnected for being too slow or sending garbage.")
	fmt.Fprintf(bw, "gombim_proxy_clients_dropped_total %d\n", m.Dropped)
	gauge("gombim_proxy_clients", "Clients connected.")
	fmt.Fprintf(bw, "gombim_proxy_clients %d\n", len(m.Clients))

	type series struct {
		name, help string
		get        func(Counters) uint64
	}
	all := []series{
		{"requests_total", "Requests (commands).", func(c Counters) uint64 { return c.Requests }},
		{"errors_total", "Errors: failed requests and answers, malformed messages.", func(c Counters) uint64 { return c.Errors }},
		{"timeouts_total", "Requests the device did not answer in time.", func(c Counters) uint64 { return c.Timeouts }},
		{"indications_total", "Indications (device: received; client: delivered).", func(c Counters) uint64 { return c.Indications }},
		{"bytes_in_total", "Bytes read from the peer.", func(c Counters) uint64 { return c.BytesIn }},
		{"bytes_out_total", "Bytes written to the peer.", func(c Counters) uint64 { return c.BytesOut }},
		{"writes_total", "Writes to the peer (one may carry several messages).", func(c Counters) uint64 { return c.Writes }},
	}

	gauge("gombim_proxy_device_up", "1 if the device session is open, 0 while it is being (re)opened or lost.")
	for _, d := range m.Devices {
		up := 0
		if d.State == "open" {
			up = 1
		}
		fmt.Fprintf(bw, "gombim_proxy_device_up{device=%s,state=%s,mbimex=%s} %d\n", quote(d.Path), quote(d.State), quote(d.MBIMExVersion), up)
	}
	gauge("gombim_proxy_device_clients", "Clients using the device.")
	for _, d := range m.Devices {
		fmt.Fprintf(bw, "gombim_proxy_device_clients{device=%s} %d\n", quote(d.Path), d.Clients)
	}
	gauge("gombim_proxy_device_pending_requests", "Requests waiting for the device.")
	for _, d := range m.Devices {
		fmt.Fprintf(bw, "gombim_proxy_device_pending_requests{device=%s} %d\n", quote(d.Path), d.Pending)
	}
	counter("gombim_proxy_device_opens_total", "Successful OPEN exchanges with the device.")
	for _, d := range m.Devices {
		fmt.Fprintf(bw, "gombim_proxy_device_opens_total{device=%s} %d\n", quote(d.Path), d.Opens)
	}
	counter("gombim_proxy_device_losses_total", "Hang-ups and NotOpened errors that forced a reopen.")
	for _, d := range m.Devices {
		fmt.Fprintf(bw, "gombim_proxy_device_losses_total{device=%s} %d\n", quote(d.Path), d.Losses)
	}
	for _, sr := range all {
		name := "gombim_proxy_device_" + sr.name
		counter(name, "Device: "+sr.help)
		for _, d := range m.Devices {
			fmt.Fprintf(bw, "%s{device=%s} %d\n", name, quote(d.Path), sr.get(d.Counters))
		}
	}
	gauge("gombim_proxy_client_queued_messages", "Messages waiting to be written to the client.")
	for _, c := range m.Clients {
		fmt.Fprintf(bw, "gombim_proxy_client_queued_messages{%s} %d\n", clientLabels(c), c.Queued)
	}
	for _, sr := range all {
		name := "gombim_proxy_client_" + sr.name
		counter(name, "Client: "+sr.help)
		for _, c := range m.Clients {
			fmt.Fprintf(bw, "%s{%s} %d\n", name, clientLabels(c), sr.get(c.Counters))
		}
	}
	return bw.Flush()
}

func clientLabels(c ClientMetrics) string {
	return "client=" + quote(strconv.FormatUint(c.ID, 10)) +
		",pid=" + quote(strconv.FormatInt(int64(c.PID), 10)) +
		",uid=" + quote(strconv.FormatUint(uint64(c.UID), 10)) +
		",comm=" + quote(c.Comm) + ",device=" + quote(c.Device)
}

// quote escapes a Prometheus label value.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

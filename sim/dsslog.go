package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/ntb"
)

// Modem logging data (Microsoft's "MB modem logging with DSS"): while a
// DSS session on the ModemFileTransfer service is open, the modem produces
// log data, modem_logging.rate bytes per second, and sends it in segments:
// a segment goes out when it reaches MaxSegmentSize KiB or when its first
// byte has waited MaxFlushTime ms, whichever comes first (the
// configuration in force, MODEM_LOGGING_CONFIG). Each segment is one DSS
// datagram of the session, delivered
//
//   - as raw NTBs on a Unix socket (Modem.LogSocket; one host connection
//     at a time, a new one replaces the old), what a USB bulk IN pipe
//     carries, for a host reading it with datapath.NTBSource;
//   - on every output added with Modem.AddLogOutput (for example a
//     datapath.EthernetProducer on one end of a veth pair, which makes the
//     other end look like a cdc_mbim interface), and on the interface
//     modem_logging.netdev names.
//
// While no output can take data (no host connected to the socket and no
// other output), the modem holds its logs back: nothing is produced. A
// segment is counted as sent on an output once it has been written there
// whole (for the socket: once the NTB holding it was written); LogStreams
// reports, per logging session and output, the segments, the bytes and
// the SHA-256 of the bytes sent, so that a test can compare them with what
// the host wrote to disk.
//
// The logging DSS session survives a device reset (the modem keeps
// logging; only the control channel goes away), as does the data
// connection. When the last logging session is closed, the modem sends
// what it has buffered, then closes the socket connection: the host's
// reader sees the end of the stream.

const (
	// DefaultLogRate is modem_logging.rate when the scenario gives none:
	// 1 MB of log data per second.
	DefaultLogRate = 1_000_000
	// DefaultLogNTBMaxSize is modem_logging.ntb_max_size for NTB32: room
	// for one segment of the largest size the modem accepts (1024 KiB).
	DefaultLogNTBMaxSize = 1<<20 + 4096
	// minLogSegment is the smallest segment sent: an 802.1Q-tagged frame
	// needs at least datapath.MinEthernetDatagram payload bytes.
	minLogSegment = datapath.MinEthernetDatagram
	// logWriteTimeout bounds one write to the data socket; a host that
	// does not read for that long is disconnected.
	logWriteTimeout = 10 * time.Second
)

// checkLogData checks and completes the log data keys of the scenario.
func checkLogData(l *LoggingConfig) error {
	switch {
	case l.Rate == 0:
		l.Rate = DefaultLogRate
	case l.Rate < -1:
		return fmt.Errorf("rate %d: give bytes per second, or -1 for as fast as the data path takes them", l.Rate)
	}
	if _, err := NewLogContent(l.Content, 0); err != nil {
		return err
	}
	if l.Content == "" {
		l.Content = LogText
	}
	switch l.NTBFormat {
	case "", "ntb32":
		l.NTBFormat = "ntb32"
		if l.NTBMaxSize == 0 {
			l.NTBMaxSize = DefaultLogNTBMaxSize
		}
	case "ntb16":
		if l.NTBMaxSize == 0 {
			l.NTBMaxSize = 65535
		}
		if l.NTBMaxSize > 65535 {
			return fmt.Errorf("ntb_max_size %d: an NTB16 is at most 65535 bytes", l.NTBMaxSize)
		}
	default:
		return fmt.Errorf("ntb_format %q: want ntb16 or ntb32", l.NTBFormat)
	}
	if _, err := logNTBMaxDatagram(*l); err != nil {
		return fmt.Errorf("ntb_max_size %d: %v", l.NTBMaxSize, err)
	}
	return nil
}

func logNTBOptions(l LoggingConfig, desc string) datapath.NTBProducerOptions {
	f := ntb.NTB32
	if l.NTBFormat == "ntb16" {
		f = ntb.NTB16
	}
	return datapath.NTBProducerOptions{Format: f, MaxSize: l.NTBMaxSize, Desc: desc}
}

// logNTBMaxDatagram is the largest segment that fits in one NTB on the
// socket. Every modem checks its scenario: the answers are kept.
func logNTBMaxDatagram(l LoggingConfig) (int, error) {
	key := fmt.Sprint(l.NTBFormat, l.NTBMaxSize)
	if v, ok := ntbMaxDatagrams.Load(key); ok {
		return v.(int), nil
	}
	p, err := datapath.NewNTBStreamProducer(io.Discard, logNTBOptions(l, "probe"))
	if err != nil {
		return 0, err
	}
	ntbMaxDatagrams.Store(key, p.MaxDatagram())
	return p.MaxDatagram(), nil
}

var ntbMaxDatagrams sync.Map // "format size" → int

// LogCount counts log segments.
type LogCount struct {
	Segments int64
	Bytes    int64
	// MaxSegment and MinSegment are the largest and smallest segment.
	MaxSegment, MinSegment int
	// SHA256 is the hex SHA-256 of the bytes, in order (outputs only).
	SHA256 string
}

// LogOutputCount is what one output sent of one logging session.
type LogOutputCount struct {
	Output string // the output's description
	LogCount
}

// LogStream is one logging DSS session, from its activation to its
// deactivation.
type LogStream struct {
	Session uint32
	Opened  time.Time
	// Closed is zero while the session is open and the modem is still
	// sending; once set, every count is final.
	Closed time.Time
	// Content, Seed: the stream is NewLogContent(Content, Seed).
	Content string
	Seed    uint64
	// Generated counts the segments the modem produced; Outputs what each
	// output sent of them (less, if a connection broke with segments
	// still in an NTB).
	Generated LogCount
	Outputs   []LogOutputCount
}

// Output returns the count of the first output whose description
// contains substr ("unix" for the NTB socket, the interface name for a
// network interface).
func (s LogStream) Output(substr string) (LogOutputCount, bool) {
	for _, o := range s.Outputs {
		if strings.Contains(o.Output, substr) {
			return o, true
		}
	}
	return LogOutputCount{}, false
}

// logCounter is a LogCount being counted.
type logCounter struct {
	LogCount
	h hash.Hash
}

func (c *logCounter) add(p []byte) {
	c.Segments++
	c.Bytes += int64(len(p))
	c.MaxSegment = max(c.MaxSegment, len(p))
	if c.MinSegment == 0 || len(p) < c.MinSegment {
		c.MinSegment = len(p)
	}
	if c.h != nil {
		c.h.Write(p)
	}
}

func (c *logCounter) snapshot() LogCount {
	s := c.LogCount
	if c.h != nil {
		s.SHA256 = hex.EncodeToString(c.h.Sum(nil))
	}
	return s
}

// logStream is a logging session being produced. The generator goroutine
// owns content, buf, since and budget; the counters are guarded by
// logData.statsMu.
type logStream struct {
	id      uint32
	opened  time.Time
	closed  time.Time
	content *LogContent
	seed    uint64

	buf    []byte
	since  time.Time
	budget float64

	gen  logCounter
	outs []*struct {
		name string
		c    logCounter
	}
}

func (st *logStream) out(name string) *logCounter {
	for _, o := range st.outs {
		if o.name == name {
			return &o.c
		}
	}
	o := &struct {
		name string
		c    logCounter
	}{name: name, c: logCounter{h: sha256.New()}}
	st.outs = append(st.outs, o)
	return &o.c
}

// logOutput is one place segments go.
type logOutput interface {
	name() string
	maxDatagram() int
	// write sends a segment. An output that knows at once that it was
	// sent counts it with d.sent; the NTB socket counts the segments of
	// each block it writes whole.
	write(d *logData, st *logStream, p []byte) error
	flush() error
}

// logData produces the log data of a modem. Lock order: Modem.mu, then
// logData.mu, then statsMu; the generator goroutine never takes Modem.mu
// while it holds either.
type logData struct {
	m   *Modem
	cfg LoggingConfig // the scenario's settings

	mu       sync.Mutex
	conf     ms.ModemLoggingConfig // in force
	want     map[uint32]bool       // open logging DSS sessions
	running  bool
	done     chan struct{}
	closed   bool
	ln       net.Listener
	addr     string
	sock     *ntbOutput // the connected host, or nil
	extra    []*producerOutput
	netdevOK bool // the netdev output was created
	ntbMax   int

	wake chan struct{}

	statsMu sync.Mutex
	streams []*logStream          // every session opened, oldest first
	byID    map[uint32]*logStream // open ones, by session id
	active  map[uint32]*logStream // generator-owned view
}

var logSocketSeq atomic.Int64

func newLogData(m *Modem) *logData {
	d := &logData{m: m, cfg: m.sc.Logging, want: map[uint32]bool{}, wake: make(chan struct{}, 1),
		byID: map[uint32]*logStream{}, active: map[uint32]*logStream{}}
	d.ntbMax, _ = logNTBMaxDatagram(d.cfg)
	if d.cfg.Netdev != "" {
		// Now, so that MODEM_LOGGING_CONFIG knows its MTU; tried again
		// when a logging session opens if the interface is not there yet.
		d.openNetdev()
	}
	if s := d.cfg.NTBSocket; s != "" && s != "off" {
		// An explicit socket is there from the start, for hosts that
		// connect before they open a session.
		if _, err := d.listen(); err != nil {
			m.log("log data: %v", err)
		}
	}
	return d
}

// logf logs from a goroutine that holds none of the modem's locks.
func (d *logData) logf(format string, args ...any) {
	d.m.mu.Lock()
	d.m.log(format, args...)
	d.m.mu.Unlock()
}

func (d *logData) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// ---- hooks called by the handlers (modem locked)

// resetLogging is the logging part of resetState: at power-up and after a
// device reset. Logging DSS sessions stay open across a reset (the modem
// keeps logging; only the control channel went away); other DSS sessions
// are closed.
func (m *Modem) resetLogging() {
	kept := map[dssKey]struct{}{}
	for k := range m.dss {
		if k.service == ModemFileTransfer {
			kept[k] = struct{}{}
			m.log("device reset: logging DSS session %d stays open", k.session)
		}
	}
	m.dss = kept
	if m.dlog == nil {
		m.dlog = newLogData(m)
	}
	m.dlog.setConf(m.logging)
	m.syncLogSessions()
}

// syncLogSessions tells the generator which logging DSS sessions are open.
func (m *Modem) syncLogSessions() {
	want := map[uint32]bool{}
	for k := range m.dss {
		if k.service != ModemFileTransfer {
			continue
		}
		if k.session > 255 {
			m.log("log data: DSS session %d cannot carry data: an NTB DSS signature holds session ids 0-255", k.session)
			continue
		}
		want[k.session] = true
	}
	d := m.dlog
	d.mu.Lock()
	d.want = want
	start := len(want) > 0 && !d.running && !d.closed
	if start {
		d.running = true
		d.done = make(chan struct{})
	}
	d.mu.Unlock()
	if start {
		if d.cfg.Netdev != "" && !d.netdevOK {
			d.openNetdev()
		}
		go d.run()
	}
	d.kick()
}

func (d *logData) setConf(c ms.ModemLoggingConfig) {
	d.mu.Lock()
	d.conf = c
	d.mu.Unlock()
	d.kick()
}

// logSegmentCapKiB is the largest MaxSegmentSize, in KiB, whose segments
// fit the data path: one NTB on the socket, the MTU of an interface.
// Modem locked.
func (m *Modem) logSegmentCapKiB() uint32 {
	d := m.dlog
	d.mu.Lock()
	defer d.mu.Unlock()
	c := 1024
	if d.cfg.NTBSocket != "off" && d.ntbMax > 0 {
		c = min(c, d.ntbMax/1024)
	}
	for _, o := range d.extra {
		c = min(c, o.maxDatagram()/1024)
	}
	return uint32(max(c, 1))
}

func (d *logData) openNetdev() {
	p, err := datapath.NewEthernetProducer(d.cfg.Netdev, datapath.EthernetProducerOptions{})
	if err != nil {
		d.m.log("log data: modem_logging.netdev: %v", err)
		return
	}
	d.netdevOK = true
	d.mu.Lock()
	d.extra = append(d.extra, &producerOutput{p: p})
	d.mu.Unlock()
	d.m.log("log data: also on %s", p.Describe())
}

// ---- the socket

func (d *logData) listen() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ln != nil {
		return d.addr, nil
	}
	if d.closed {
		return "", errors.New("sim: log data closed")
	}
	addr := d.cfg.NTBSocket
	switch addr {
	case "off":
		return "", errors.New("sim: the scenario turns the log data socket off (modem_logging.ntb_socket \"off\")")
	case "":
		n := logSocketSeq.Add(1)
		if runtime.GOOS == "linux" {
			addr = fmt.Sprintf("@gombim-sim-%d-%d-log", os.Getpid(), n)
		} else {
			addr = filepath.Join(os.TempDir(), fmt.Sprintf("gombim-sim-%d-%d-log.sock", os.Getpid(), n))
		}
	}
	if !strings.HasPrefix(addr, "@") {
		// A socket left behind by an earlier run.
		if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(addr)
		}
	}
	ln, err := net.Listen("unix", addr)
	if err != nil {
		return "", fmt.Errorf("sim: log data socket: %w", err)
	}
	d.ln, d.addr = ln, addr
	go d.accept(ln)
	return addr, nil
}

func (d *logData) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		name := "unix socket " + d.addr + " (raw NTBs)"
		o := &ntbOutput{d: d, conn: c, desc: name}
		p, err := datapath.NewNTBStreamProducer(&countingConn{o: o}, logNTBOptions(d.cfg, name))
		if err != nil {
			c.Close()
			d.logf("log data: %v", err)
			continue
		}
		o.p = p
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			c.Close()
			return
		}
		old := d.sock
		d.sock = o
		d.mu.Unlock()
		if old != nil {
			old.conn.Close()
			d.logf("log data: a new host connected on %s; dropped the previous connection", d.addr)
		} else {
			d.logf("log data: host connected on %s", d.addr)
		}
		d.kick()
	}
}

// dropSocket closes the socket connection o, if it is still the current
// one.
func (d *logData) dropSocket(o *ntbOutput, why string) {
	d.mu.Lock()
	cur := d.sock == o
	if cur {
		d.sock = nil
	}
	d.mu.Unlock()
	if cur {
		o.conn.Close()
		d.logf("log data: closed the connection on %s: %s", d.addr, why)
	}
}

// ntbOutput is a host connected to the socket.
type ntbOutput struct {
	d    *logData
	conn net.Conn
	p    *datapath.NTBStreamProducer
	desc string
	ps   ntb.Parser
}

func (o *ntbOutput) name() string     { return o.desc }
func (o *ntbOutput) maxDatagram() int { return o.p.MaxDatagram() }
func (o *ntbOutput) flush() error     { return o.p.Flush() }
func (o *ntbOutput) write(d *logData, st *logStream, p []byte) error {
	return o.p.WriteDatagram(uint8(st.id), p)
}

// countingConn is the connection under the producer: each block written
// whole counts its segments as sent.
type countingConn struct{ o *ntbOutput }

func (c *countingConn) Write(b []byte) (int, error) {
	o := c.o
	o.conn.SetWriteDeadline(time.Now().Add(logWriteTimeout))
	n, err := o.conn.Write(b)
	if err != nil || n != len(b) {
		return n, err
	}
	blk, perr := o.ps.Parse(b)
	if perr != nil {
		return n, nil // cannot happen: the producer checked the block
	}
	d := o.d
	d.statsMu.Lock()
	for it := blk.Iter(); it.Next(); {
		dg := it.Datagram()
		if st := d.byID[uint32(dg.Session)]; st != nil && dg.Kind == ntb.DSS {
			st.out(o.desc).add(dg.Data)
		}
	}
	d.statsMu.Unlock()
	return n, nil
}

// producerOutput is a datapath.Producer added with AddLogOutput.
type producerOutput struct {
	p      datapath.Producer
	errs   int64
	logged bool
}

func (o *producerOutput) name() string     { return o.p.Describe() }
func (o *producerOutput) maxDatagram() int { return o.p.MaxDatagram() }
func (o *producerOutput) flush() error     { return o.p.Flush() }
func (o *producerOutput) write(d *logData, st *logStream, p []byte) error {
	if err := o.p.WriteDatagram(uint8(st.id), p); err != nil {
		return err
	}
	d.statsMu.Lock()
	st.out(o.name()).add(p)
	d.statsMu.Unlock()
	return nil
}

// ---- the generator

// run produces the log data of the open logging sessions until none is
// left (or CloseLogData).
func (d *logData) run() {
	d.mu.Lock()
	done := d.done
	d.mu.Unlock()
	defer close(done)
	var last time.Time
	for {
		d.mu.Lock()
		want := make(map[uint32]bool, len(d.want))
		for id := range d.want {
			want[id] = true
		}
		conf, closed := d.conf, d.closed
		outs := d.outputsLocked()
		d.mu.Unlock()

		ended := false
		for id, st := range d.active {
			if closed || !want[id] {
				d.finish(st, outs)
				ended = true
			}
		}
		if (ended && len(want) == 0) || closed {
			// The log stream ended: the host's reader sees the end of
			// the socket stream.
			d.mu.Lock()
			sock := d.sock
			d.mu.Unlock()
			if sock != nil {
				d.dropSocket(sock, "no logging session is open any more (end of the log stream)")
			}
		}
		if closed || len(want) == 0 {
			d.mu.Lock()
			if d.closed || len(d.want) == 0 {
				d.running = false
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			continue
		}
		for id := range want {
			if d.active[id] == nil {
				d.start(id)
			}
		}
		if len(outs) == 0 {
			// Nobody takes data: hold the logs back.
			last = time.Time{}
			d.sleep(100 * time.Millisecond)
			continue
		}
		segMax := int(max(conf.MaxSegmentSize, 1)) * 1024
		for _, o := range outs {
			segMax = min(segMax, o.maxDatagram())
		}
		segMax = max(segMax, minLogSegment)
		flushAfter := time.Duration(max(conf.MaxFlushTime, 1)) * time.Millisecond
		now := time.Now()

		if d.cfg.Rate < 0 {
			// As fast as the outputs take it: a few MiB per session,
			// then look at the state again.
			for _, st := range d.active {
				for len(st.buf) >= segMax {
					d.emitPrefix(st, outs, segMax)
				}
				for n := 0; n < 4<<20; n += segMax {
					st.fill(segMax)
					d.emit(st, outs)
				}
			}
			d.flushOutputs(outs)
			continue
		}
		var elapsed time.Duration
		if !last.IsZero() {
			elapsed = now.Sub(last)
		}
		last = now
		rate := float64(d.cfg.Rate)
		for _, st := range d.active {
			// The segment size may have shrunk since the pending bytes
			// were produced (a new configuration, another output).
			for len(st.buf) >= segMax {
				d.emitPrefix(st, outs, segMax)
			}
			// A stalled output does not make a burst afterwards.
			st.budget = min(st.budget+rate*elapsed.Seconds(), rate+float64(segMax))
			for st.budget >= 1 {
				need := segMax - len(st.buf)
				if st.budget < float64(need) {
					k := int(st.budget)
					if len(st.buf) == 0 {
						st.since = now
					}
					st.fill(len(st.buf) + k)
					st.budget -= float64(k)
					break
				}
				if len(st.buf) == 0 {
					st.since = now
				}
				st.fill(segMax)
				st.budget -= float64(need)
				d.emit(st, outs)
			}
			if len(st.buf) >= minLogSegment && now.Sub(st.since) >= flushAfter {
				d.emit(st, outs)
			}
		}
		d.flushOutputs(outs)
		d.sleep(min(max(flushAfter/10, time.Millisecond), 10*time.Millisecond))
	}
}

func (d *logData) sleep(t time.Duration) {
	tm := time.NewTimer(t)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-d.wake:
	}
}

// outputsLocked lists the outputs that take data now.
func (d *logData) outputsLocked() []logOutput {
	var outs []logOutput
	if d.sock != nil {
		outs = append(outs, d.sock)
	}
	for _, o := range d.extra {
		outs = append(outs, o)
	}
	return outs
}

func (d *logData) start(id uint32) {
	seed := d.cfg.Seed + uint64(id)
	c, _ := NewLogContent(d.cfg.Content, seed)
	st := &logStream{id: id, opened: time.Now(), content: c, seed: seed, gen: logCounter{}}
	d.active[id] = st
	d.statsMu.Lock()
	d.streams = append(d.streams, st)
	d.byID[id] = st
	d.statsMu.Unlock()
	d.logf("log data: logging session %d started (%s content, seed %d, %s)", id, d.cfg.Content, seed, rateText(d.cfg.Rate))
}

func rateText(r int64) string {
	if r < 0 {
		return "as fast as the data path takes it"
	}
	return fmt.Sprintf("%d bytes/s", r)
}

// finish sends what a closed session still holds, and closes it.
func (d *logData) finish(st *logStream, outs []logOutput) {
	if len(st.buf) >= minLogSegment {
		d.emit(st, outs)
	}
	d.flushOutputs(outs)
	delete(d.active, st.id)
	d.statsMu.Lock()
	st.closed = time.Now()
	if d.byID[st.id] == st {
		delete(d.byID, st.id)
	}
	gen := st.gen.LogCount
	d.statsMu.Unlock()
	d.logf("log data: logging session %d closed after %d segments, %d bytes", st.id, gen.Segments, gen.Bytes)
}

// fill extends the pending segment to n bytes of the stream.
func (st *logStream) fill(n int) {
	if cap(st.buf) < n {
		st.buf = slices.Grow(st.buf, n-len(st.buf))
	}
	old := len(st.buf)
	if n <= old {
		return
	}
	st.buf = st.buf[:n]
	st.content.Read(st.buf[old:])
}

// emit sends the pending segment on every output.
func (d *logData) emit(st *logStream, outs []logOutput) { d.emitPrefix(st, outs, len(st.buf)) }

// emitPrefix sends the first n pending bytes as a segment on every output.
func (d *logData) emitPrefix(st *logStream, outs []logOutput, n int) {
	p := st.buf[:n]
	for _, o := range outs {
		if err := o.write(d, st, p); err != nil {
			d.failed(o, err)
		}
	}
	d.statsMu.Lock()
	st.gen.add(p)
	d.statsMu.Unlock()
	rest := copy(st.buf, st.buf[n:])
	st.buf = st.buf[:rest]
}

func (d *logData) flushOutputs(outs []logOutput) {
	for _, o := range outs {
		if err := o.flush(); err != nil {
			d.failed(o, err)
		}
	}
}

func (d *logData) failed(o logOutput, err error) {
	switch o := o.(type) {
	case *ntbOutput:
		d.dropSocket(o, err.Error())
	case *producerOutput:
		o.errs++
		if !o.logged {
			o.logged = true
			d.logf("log data: %s: %v (further errors not logged)", o.name(), err)
		}
	}
}

// ---- API

// LogSocket returns the address of the Unix socket on which the modem
// sends the data of its logging DSS sessions as raw NTBs ("@name" for the
// abstract namespace; dial it with datapath.DialNTB), and starts listening
// if it was not yet. The address is modem_logging.ntb_socket, or by
// default an abstract socket named after the process: for a modem in the
// same process (gombim -d sim), this is how the host finds it.
func (m *Modem) LogSocket() (string, error) {
	m.mu.Lock()
	d := m.dlog
	m.mu.Unlock()
	return d.listen()
}

// AddLogOutput makes the modem send the data of its logging sessions on p
// too, for example a datapath.EthernetProducer on one end of a veth pair
// (create it in the network namespace where that end is). The modem
// closes p in CloseLogData.
func (m *Modem) AddLogOutput(p datapath.Producer) {
	m.mu.Lock()
	d := m.dlog
	m.mu.Unlock()
	d.mu.Lock()
	d.extra = append(d.extra, &producerOutput{p: p})
	d.mu.Unlock()
	d.kick()
}

// LogStreams returns every logging session opened since the modem was
// created, oldest first, with what was generated and sent.
func (m *Modem) LogStreams() []LogStream {
	m.mu.Lock()
	d := m.dlog
	m.mu.Unlock()
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	out := make([]LogStream, 0, len(d.streams))
	for _, st := range d.streams {
		s := LogStream{Session: st.id, Opened: st.opened, Closed: st.closed, Content: d.cfg.Content, Seed: st.seed,
			Generated: st.gen.snapshot()}
		for _, o := range st.outs {
			s.Outputs = append(s.Outputs, LogOutputCount{Output: o.name, LogCount: o.c.snapshot()})
		}
		out = append(out, s)
	}
	return out
}

// HangUpLogData closes the host's connection to the log data socket, as a
// USB bulk pipe that goes away would; the host may connect again. The
// timeline event "log-hangup" does it too.
func (m *Modem) HangUpLogData() {
	m.mu.Lock()
	d := m.dlog
	m.mu.Unlock()
	d.mu.Lock()
	sock := d.sock
	d.mu.Unlock()
	if sock != nil {
		d.dropSocket(sock, "hang-up requested")
	}
}

// CloseLogData stops producing log data (sending first what open sessions
// hold), closes the socket and the outputs added with AddLogOutput. The
// DSS sessions stay open on the modem.
func (m *Modem) CloseLogData() error {
	m.mu.Lock()
	d := m.dlog
	m.mu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	running, done := d.running, d.done
	ln := d.ln
	d.mu.Unlock()
	d.kick()
	if running {
		<-done
	}
	var errs []error
	if ln != nil {
		ln.Close()
	}
	d.mu.Lock()
	sock, extra := d.sock, d.extra
	d.sock, d.extra = nil, nil
	d.mu.Unlock()
	if sock != nil {
		sock.conn.Close()
	}
	for _, o := range extra {
		errs = append(errs, o.p.Close())
	}
	return errors.Join(errs...)
}

func init() {
	RegisterEvent("log-hangup", func(m *Modem, ev Event) {
		d := m.dlog
		d.mu.Lock()
		sock := d.sock
		if sock != nil {
			d.sock = nil
		}
		d.mu.Unlock()
		if sock != nil {
			sock.conn.Close()
			m.log("log data: timeline: closed the host's connection on %s", d.addr)
		}
	})
}

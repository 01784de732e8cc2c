package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
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

var socketSeq atomic.Int32

// testSocket returns an abstract socket name no other test (or a real
// mbim-proxy) uses.
func testSocket() string {
	return fmt.Sprintf("gombim-proxy-test-%d-%d", os.Getpid(), socketSeq.Add(1))
}

// logSink forwards the proxy's log to the test log while the test runs
// and keeps it for inspection.
type logSink struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
	buf  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.done && testing.Verbose() {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startProxy runs a proxy on a fresh socket; it is closed at the end of
// the test.
func startProxy(t testing.TB, cfg Config) (*Server, *logSink) {
	t.Helper()
	sink := &logSink{t: t}
	if cfg.Socket == "" {
		cfg.Socket = testSocket()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		sink.mu.Lock()
		sink.done = true
		sink.mu.Unlock()
	})
	return s, sink
}

// rawClient speaks MBIM to the proxy over its socket, byte by byte, as a
// libmbim client would.
type rawClient struct {
	t       testing.TB
	conn    transport.Conn
	msgs    chan []byte
	backlog [][]byte
	tid     uint32
	rerr    atomic.Value
	gate    sync.Mutex // held by the test to stop the reader
}

func dial(t testing.TB, socket string) *rawClient {
	t.Helper()
	conn, err := transport.DialUnix(socket, true)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, conn: conn, msgs: make(chan []byte, 1<<14)}
	go c.reader()
	t.Cleanup(func() { conn.Close() })
	return c
}

func (c *rawClient) reader() {
	r := mbim.NewReassembler(0, 5*time.Second)
	defer close(c.msgs)
	for {
		c.gate.Lock()
		c.gate.Unlock()
		b, err := c.conn.ReadMessage()
		if err != nil {
			c.rerr.Store(err)
			return
		}
		m, err := r.Add(b, time.Now())
		if err != nil {
			c.rerr.Store(err)
		}
		if m != nil {
			c.msgs <- clone(m)
		}
	}
}

func (c *rawClient) close() { c.conn.Close() }

func (c *rawClient) nextTID() uint32 { c.tid++; return c.tid }

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// waitFor returns the first message (in arrival order, backlog first)
// matching pred; other messages are kept for later calls.
func (c *rawClient) waitFor(what string, timeout time.Duration, pred func([]byte) bool) []byte {
	c.t.Helper()
	for i, b := range c.backlog {
		if pred(b) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return b
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case b, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %s: %v", what, c.rerr.Load())
			}
			if pred(b) {
				return b
			}
			c.backlog = append(c.backlog, b)
		case <-deadline:
			c.t.Fatalf("no %s within %v (have %s)", what, timeout, describe(c.backlog))
		}
	}
}

// tryWait is waitFor that returns nil instead of failing.
func (c *rawClient) tryWait(timeout time.Duration, pred func([]byte) bool) []byte {
	for i, b := range c.backlog {
		if pred(b) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return b
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case b, ok := <-c.msgs:
			if !ok {
				return nil
			}
			if pred(b) {
				return b
			}
			c.backlog = append(c.backlog, b)
		case <-deadline:
			return nil
		}
	}
}

func describe(msgs [][]byte) string {
	var s []string
	for _, b := range msgs {
		m, err := mbim.ParseMessage(b)
		if err != nil {
			s = append(s, err.Error())
			continue
		}
		s = append(s, m.String())
	}
	return "[" + strings.Join(s, "; ") + "]"
}

func isTID(tid uint32) func([]byte) bool {
	return func(b []byte) bool { return msgType(b) != mbim.TypeIndicateStatus && msgTID(b) == tid }
}

func isIndication(svc mbim.UUID, cid uint32) func([]byte) bool {
	return func(b []byte) bool {
		return msgType(b) == mbim.TypeIndicateStatus && serviceIs(b, &svc, cid)
	}
}

// request sends a command and returns the answer with its transaction id.
func (c *rawClient) request(svc mbim.UUID, cid uint32, ct mbim.CommandType, info []byte) mbim.Message {
	c.t.Helper()
	tid := c.nextTID()
	c.write(buildCommand(tid, svc, cid, ct, info))
	b := c.waitFor(fmt.Sprintf("answer to transaction %d", tid), 10*time.Second, isTID(tid))
	m, err := mbim.ParseMessage(b)
	if err != nil {
		c.t.Fatalf("answer: %v", err)
	}
	return m
}

// configure sends the proxy-control CONFIGURATION and returns the status.
func (c *rawClient) configure(path string, timeout uint32) mbim.Status {
	c.t.Helper()
	m := c.request(uuidProxyControl, cidProxyConfiguration, mbim.CommandSet, configurationInfo(path, timeout))
	if m.Type != mbim.TypeCommandDone {
		c.t.Fatalf("configuration answered with %v", m.String())
	}
	return m.Status
}

// open sends OPEN and returns the OPEN_DONE status.
func (c *rawClient) open() mbim.Status {
	c.t.Helper()
	tid := c.nextTID()
	c.write(buildScalar(mbim.TypeOpen, tid, 4096))
	b := c.waitFor("OPEN_DONE", 10*time.Second, isTID(tid))
	if msgType(b) != mbim.TypeOpenDone {
		c.t.Fatalf("OPEN answered with %v", msgType(b))
	}
	return mbim.Status(le32(b, offScalar))
}

// setup configures the proxy for path and opens, expecting success.
func (c *rawClient) setup(path string) {
	c.t.Helper()
	if st := c.configure(path, 10); st != mbim.StatusNone {
		c.t.Fatalf("configure %s: %v", path, st)
	}
	if st := c.open(); st != mbim.StatusNone {
		c.t.Fatalf("open: %v", st)
	}
}

// subscribeInfo builds a DEVICE_SERVICE_SUBSCRIBE_LIST information buffer.
func subscribeInfo(entries ...subEntry) []byte {
	return (&subList{entries: entries}).encode()
}

// leakCheck records goroutines and descriptors, and at cleanup (after the
// proxy registered later has been closed) checks they came back.
func leakCheck(t testing.TB) {
	t.Helper()
	// The runtime's network poller (an epoll and an eventfd descriptor)
	// is made on first use and stays: have it before counting, so that a
	// test that happens to use it first does not count it as a leak.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	g0, fds0 := runtime.NumGoroutine(), openFDs(t)
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			g, fds := runtime.NumGoroutine(), openFDs(t)
			if g <= g0 && len(fds) <= len(fds0) {
				return
			}
			if time.Now().After(deadline) {
				var extra []string
				for fd, target := range fds {
					if fds0[fd] != target {
						extra = append(extra, fd+" -> "+target)
					}
				}
				slices.Sort(extra)
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("leak: %d goroutines (had %d), %d descriptors (had %d; new: %s)\n%s", g, g0, len(fds), len(fds0), strings.Join(extra, ", "), buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// openFDs returns the process's open descriptors and what they refer to.
func openFDs(t testing.TB) map[string]string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[e.Name()] = target
	}
	return fds
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func errorsIs(err error, target error) bool { return errors.Is(err, target) }

var _ = strconv.Itoa

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

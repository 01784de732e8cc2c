package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// startPTY serves a new modem for sc on a pty linked in a temporary
// directory and stops it when the test ends.
func startPTY(t *testing.T, sc *Scenario) (*Modem, string) {
	t.Helper()
	m, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	m.SetLogger(testLogger(t))
	link := filepath.Join(t.TempDir(), "mbim-sim")
	ctx, cancel := context.WithCancel(context.Background())
	_, wait, err := m.StartPTY(ctx, link)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("serving the pty: %v", err)
		}
	})
	return m, link
}

// startUnix serves a new modem for sc on a Unix socket.
func startUnix(t *testing.T, sc *Scenario) (*Modem, string) {
	t.Helper()
	m, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	m.SetLogger(testLogger(t))
	path := filepath.Join(t.TempDir(), "sim.sock")
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := m.StartUnix(ctx, path)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("serving the socket: %v", err)
		}
	})
	return m, path
}

// scenario returns the default scenario changed by f.
func scenario(f func(*Scenario)) *Scenario {
	sc := DefaultScenario()
	if f != nil {
		f(sc)
	}
	return sc
}

// client is a raw MBIM host built from mbim and transport, so tests see
// exactly what the modem sends.
type client struct {
	t   *testing.T
	c   transport.Conn
	tid uint32
	r   *mbim.Reassembler
	v   mbim.Version
}

func dial(t *testing.T, path string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := transport.OpenContext(ctx, path, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: mbim.NewReassembler(0, 0), v: mbim.MBIMEx1}
}

func (c *client) send(m mbim.Message) uint32 {
	c.t.Helper()
	if m.TransactionID == 0 {
		c.tid++
		m.TransactionID = c.tid
	}
	b, err := m.AppendBinary(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.c.WriteMessage(b); err != nil {
		c.t.Fatal(err)
	}
	return m.TransactionID
}

// readRaw returns the next transfer as sent, or an error after d.
func (c *client) readRaw(d time.Duration) ([]byte, error) {
	c.t.Helper()
	dl, ok := c.c.(transport.Deadliner)
	if !ok {
		c.t.Fatalf("%s has no deadlines", c.c)
	}
	dl.SetReadDeadline(time.Now().Add(d))
	defer dl.SetReadDeadline(time.Time{})
	b, err := c.c.ReadMessage()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// read returns the next complete message (reassembled).
func (c *client) read(d time.Duration) (mbim.Message, error) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		b, err := c.readRaw(time.Until(deadline))
		if err != nil {
			return mbim.Message{}, err
		}
		full, err := c.r.Add(b, time.Now())
		if err != nil {
			return mbim.Message{}, err
		}
		if full == nil {
			continue
		}
		return mbim.ParseMessage(full)
	}
}

// expect reads messages until one of type t with transaction tid (any for
// indications) arrives.
func (c *client) expect(t mbim.MessageType, tid uint32) mbim.Message {
	c.t.Helper()
	for {
		m, err := c.read(waitTimeout)
		if err != nil {
			c.t.Fatalf("waiting for %s %d: %v", t, tid, err)
		}
		if m.Type == t && (tid == 0 || m.TransactionID == tid) {
			return m
		}
		if m.Type == mbim.TypeFunctionError && m.TransactionID == tid {
			c.t.Fatalf("function-error %s for transaction %d", m.ErrorCode, tid)
		}
	}
}

func (c *client) open() {
	c.t.Helper()
	tid := c.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
	c.expect(mbim.TypeOpenDone, tid)
	c.v = mbim.MBIMEx1
}

// command sends a command and returns the COMMAND_DONE and its payload
// decoded at the client's version.
func (c *client) command(svc mbim.UUID, cid uint32, ct mbim.CommandType, info mbim.Info) (mbim.Message, mbim.Info) {
	c.t.Helper()
	tid := c.commandNoWait(svc, cid, ct, info)
	m := c.expect(mbim.TypeCommandDone, tid)
	d := catalog.Decode(m, c.v)
	if d.Err != nil {
		c.t.Fatalf("%s: decoding the response: %v", catalog.CIDName(svc, cid), d.Err)
	}
	return m, d.Info
}

func (c *client) commandNoWait(svc mbim.UUID, cid uint32, ct mbim.CommandType, info mbim.Info) uint32 {
	c.t.Helper()
	var buf []byte
	if info != nil {
		var err error
		if buf, err = mbim.Marshal(info); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.send(mbim.Message{Type: mbim.TypeCommand, Service: svc, CID: cid, CommandType: ct, InformationBuffer: buf})
}

// waitGoroutines fails the test if the goroutine count does not drop to n
// (plus slack for runtime helpers) within waitTimeout.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got := runtime.NumGoroutine()
		if got <= n {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, want at most %d:\n%s", got, n, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errTimeout = errors.New("timeout")

// waitTimeout bounds waiting for something that is expected to happen (a
// response, an indication, a hang-up, the device coming back). It only
// bounds a failure, so it is long: on a loaded machine under the race
// detector, a few seconds are not enough.
const waitTimeout = 30 * time.Second

// testLogger fails the test when the modem reports a bug of its own (a
// response or indication that does not match the catalog's layout), and
// logs everything with SIM_LOG=1 go test -v.
func testLogger(t *testing.T) func(string, ...any) {
	verbose := testing.Verbose() && os.Getenv("SIM_LOG") != ""
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if strings.HasPrefix(line, "BUG") {
			t.Errorf("modem: %s", line)
		} else if verbose {
			t.Log(line)
		}
	}
}

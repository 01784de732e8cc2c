package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// The tests in this file drive the device end of an in-process pipe by
// hand, for protocol edge cases that a well-behaved simulator does not
// produce (responses with unknown transaction ids, wrong types, broken
// fragment sequences, ...). The simulator tests are in sim_test.go.

// peer is the device end of a transport.Pipe, driven by a test. A
// goroutine reads the transfers from the host into in.
type peer struct {
	t      testing.TB
	conn   transport.Conn
	in     chan []byte
	r      *mbim.Reassembler
	helper bool // used from a goroutine other than the test's
}

func newPeer(t testing.TB, conn transport.Conn) *peer {
	p := &peer{t: t, conn: conn, in: make(chan []byte, 256), r: mbim.NewReassembler(0, 0)}
	go func() {
		defer close(p.in)
		for {
			b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			p.in <- append([]byte(nil), b...)
		}
	}()
	return p
}

// recvFrag returns the next transfer from the host as it is.
func (p *peer) recvFrag(timeout time.Duration) ([]byte, error) {
	select {
	case b, ok := <-p.in:
		if !ok {
			return nil, errors.New("the host end is closed")
		}
		return b, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("no message from the host within %v", timeout)
	}
}

// recvErr returns the next complete message from the host, reassembling
// fragments.
func (p *peer) recvErr(timeout time.Duration) (mbim.Message, error) {
	for {
		b, err := p.recvFrag(timeout)
		if err != nil {
			return mbim.Message{}, err
		}
		msg, err := p.r.Add(b, time.Now())
		if err != nil {
			return mbim.Message{}, err
		}
		if msg != nil {
			return mbim.ParseMessage(msg)
		}
	}
}

// fatalf fails the test and ends the calling goroutine (the test's own,
// or a helper goroutine playing the device).
func (p *peer) fatalf(format string, args ...any) {
	p.t.Helper()
	if p.helper {
		p.t.Errorf(format, args...)
		runtime.Goexit()
	}
	p.t.Fatalf(format, args...)
}

// inGoroutine returns a copy of p for a goroutine other than the test's.
func (p *peer) inGoroutine() *peer {
	c := *p
	c.helper = true
	return &c
}

// recv is recvErr failing the test after 5 seconds.
func (p *peer) recv() mbim.Message {
	p.t.Helper()
	m, err := p.recvErr(5 * time.Second)
	if err != nil {
		p.fatalf("peer: %v", err)
	}
	return m
}

// quiet checks that the host sends nothing for d.
func (p *peer) quiet(d time.Duration) {
	p.t.Helper()
	if b, err := p.recvFrag(d); err == nil {
		p.fatalf("peer: unexpected message from the host: % x", b)
	}
}

func (p *peer) expect(t mbim.MessageType) mbim.Message {
	p.t.Helper()
	m := p.recv()
	if m.Type != t {
		p.fatalf("peer: got %v, want %v", m, t)
	}
	return m
}

func (p *peer) sendRaw(b []byte) {
	p.t.Helper()
	if err := p.conn.WriteMessage(b); err != nil {
		p.fatalf("peer: write: %v", err)
	}
}

func (p *peer) send(m mbim.Message) {
	p.t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		p.fatalf("peer: encode: %v", err)
	}
	p.sendRaw(b)
}

// reply answers a COMMAND with a COMMAND_DONE carrying info.
func (p *peer) reply(req mbim.Message, status mbim.Status, info mbim.Info) {
	p.t.Helper()
	b, err := catalog.Build(mbim.TypeCommandDone, req.TransactionID, req.Service, req.CID, 0, status, info)
	if err != nil {
		p.fatalf("peer: build: %v", err)
	}
	p.sendRaw(b)
}

func (p *peer) simple(t mbim.MessageType, tid uint32) {
	p.t.Helper()
	p.send(mbim.Message{Type: t, TransactionID: tid})
}

// handshake plays the device side of Open: OPEN_DONE, DEVICE_SERVICES
// with services, and VERSION answered with version when services list it.
func (p *peer) handshake(services []basicconnect.DeviceServiceElement, version mbim.Version) {
	p.t.Helper()
	open := p.expect(mbim.TypeOpen)
	p.simple(mbim.TypeOpenDone, open.TransactionID)
	ds := p.expect(mbim.TypeCommand)
	if ds.Service != basicconnect.UUID || ds.CID != basicconnect.CIDDeviceServices {
		p.fatalf("peer: want DEVICE_SERVICES, got %v", ds)
	}
	p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: services})
	for _, s := range services {
		if s.DeviceServiceId != msbasicconnectext.UUID {
			continue
		}
		for _, c := range s.Cids {
			if c == msbasicconnectext.CIDVersion {
				v := p.expect(mbim.TypeCommand)
				if v.CID != msbasicconnectext.CIDVersion {
					p.fatalf("peer: want VERSION, got %v", v)
				}
				p.reply(v, mbim.StatusNone, &msbasicconnectext.VersionResponse{MbimVersion: 0x0100, MbimExtendedVersion: uint16(version)})
			}
		}
	}
}

var basicServices = []basicconnect.DeviceServiceElement{
	{DeviceServiceId: basicconnect.UUID, Cids: []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20}},
}

func extServices() []basicconnect.DeviceServiceElement {
	return append(append([]basicconnect.DeviceServiceElement(nil), basicServices...),
		basicconnect.DeviceServiceElement{DeviceServiceId: msbasicconnectext.UUID, Cids: []uint32{1, 5, 6, 15}})
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond for up to 5 seconds.
func (l *logBuffer) waitFor(t testing.TB, substr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(l.String(), substr) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("log does not mention %q:\n%s", substr, l.String())
}

func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// checkLeaks registers a cleanup, to run after all others, that waits for
// the number of goroutines to settle back to what it is now.
func checkLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d goroutines, %d before the test\n%s", n, before, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// pipeSession opens a session over a pipe whose device end the returned
// peer drives; the handshake is played with services and version.
func pipeSession(t *testing.T, opts Options, services []basicconnect.DeviceServiceElement, version mbim.Version) (*Session, *peer) {
	t.Helper()
	host, dev := transport.NewPipe(transport.Options{MaxControlTransfer: opts.MaxControlTransfer})
	p := newPeer(t, dev)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.inGoroutine().handshake(services, version)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, host, opts)
	<-done
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		s.abort()
		dev.Close()
	})
	return s, p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// async runs f in a goroutine and returns a channel with its error.
func async(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("request did not return")
		return nil
	}
}

package logging_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/logging"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/session"
	"github.com/gombim/gombim/sim"
)

// rig is a simulated modem served on a Unix socket, with its log data
// socket, and the host's options for it.
type rig struct {
	t      testing.TB
	m      *sim.Modem
	path   string
	events *eventLog
}

type eventLog struct {
	mu sync.Mutex
	ev []logging.Event
}

func (l *eventLog) add(e logging.Event) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func (l *eventLog) has(kind logging.EventKind, substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if e.Kind == kind && strings.Contains(e.Text, substr) {
			return true
		}
	}
	return false
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.ev {
		fmt.Fprintf(&b, "  %s: %s\n", e.Kind, e.Text)
	}
	return b.String()
}

// waitTimeout bounds waiting for something that is expected to happen (log
// data, a reconnection, the stream stopping). It only bounds a failure, so
// it is long: on a loaded machine under the race detector a few seconds
// are not enough.
const waitTimeout = 30 * time.Second

func newRig(t testing.TB, sc *sim.Scenario) *rig {
	t.Helper()
	if sc == nil {
		sc = sim.DefaultScenario()
	}
	m, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "modem.sock")
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := m.StartUnix(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.CloseLogData()
		cancel()
		wait()
	})
	return &rig{t: t, m: m, path: path, events: &eventLog{}}
}

func (r *rig) open(ctx context.Context) (*session.Session, error) {
	return session.OpenPath(ctx, "unix:"+r.path, session.Options{RequestTimeout: waitTimeout, OpenTimeout: waitTimeout})
}

func (r *rig) options() logging.Options {
	return logging.Options{
		Source: func(ctx context.Context, id uint8) (datapath.Source, error) {
			addr, err := r.m.LogSocket()
			if err != nil {
				return nil, err
			}
			return datapath.DialNTB(ctx, addr, datapath.NTBOptions{Session: id, MaxBlockSize: 2 << 20, Why: "the simulated modem's log data socket"})
		},
		Reopen:        r.open,
		Events:        r.events.add,
		RetryInterval: 100 * time.Millisecond,
	}
}

func (r *rig) start(opts logging.Options) (*session.Session, *logging.Stream) {
	r.t.Helper()
	s, err := r.open(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close(context.Background()) })
	st, err := logging.Start(context.Background(), s, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return s, st
}

// capture writes st to a new log directory until it ends.
func capture(t *testing.T, st *logging.Stream, opts modemlog.Options) (string, <-chan error) {
	dir := t.TempDir()
	opts.Dir = dir
	w, err := modemlog.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := w.Capture(context.Background(), st)
		done <- errors.Join(err, w.Close())
	}()
	return dir, done
}

// onDisk returns the length and SHA-256 of the data files of dir in index
// order, checking the index against them.
func onDisk(t testing.TB, dir string) (int64, string, *modemlog.Index) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, modemlog.IndexName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := modemlog.ReadIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var n, indexed int64
	for _, fs := range ix.Files() {
		b, err := os.ReadFile(filepath.Join(dir, fs.Name))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); !fs.Closed || fs.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: index %+v does not match the file", fs.Name, fs)
		}
		h.Write(b)
		n += int64(len(b))
	}
	for _, s := range ix.Segments() {
		if s.Truncated {
			t.Fatalf("truncated segment %+v", s)
		}
		indexed += s.Size
	}
	if indexed != n {
		t.Fatalf("the index covers %d bytes, the files hold %d", indexed, n)
	}
	return n, hex.EncodeToString(h.Sum(nil)), ix
}

// sent returns what the modem sent on its socket, once its logging
// session is over.
func (r *rig) sent(output string) (sim.LogStream, sim.LogOutputCount) {
	r.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ls := r.m.LogStreams()
		if len(ls) == 1 && !ls[0].Closed.IsZero() {
			out, ok := ls[0].Output(output)
			if !ok {
				r.t.Fatalf("no output %q: %+v", output, ls[0].Outputs)
			}
			return ls[0], out
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the modem's logging session is not over: %+v", ls)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) checkClosed() {
	r.t.Helper()
	if s := r.m.DSSSessions(); len(s) != 0 {
		r.t.Fatalf("DSS sessions still open on the modem: %v", s)
	}
}

func waitBytes(t *testing.T, st *logging.Stream, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for st.Stats().Bytes < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes after %v", st.Stats().Bytes, waitTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stop(t *testing.T, st *logging.Stream, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := st.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the capture did not end after Stop")
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func (r *rig) compare(dir string) {
	r.t.Helper()
	ls, out := r.sent("unix")
	n, sum, ix := onDisk(r.t, dir)
	if n != out.Bytes || sum != out.SHA256 || int64(len(ix.Segments())) != out.Segments {
		r.t.Fatalf("on disk: %d bytes in %d segments, sha256 %s\nmodem sent: %+v\nevents:\n%s", n, len(ix.Segments()), sum, out, r.events)
	}
	r.t.Logf("%d bytes in %d segments on disk, sha256 %s: what the modem sent (generated %d bytes)", n, out.Segments, sum, ls.Generated.Bytes)
}

func TestStreamToFiles(t *testing.T) {
	r := newRig(t, nil)
	opts := r.options()
	lvl := ms.ModemLoggingLevelConfigLabVerbose
	opts.Config = logging.Config{MaxSegmentKiB: 4096, MaxFlushTime: 5 * time.Millisecond, Level: &lvl}
	opts.DSSSession = logging.AutoSession
	_, st := r.start(opts)
	asked, chosen := st.Config()
	if asked.MaxSegmentSize != 4096 || chosen.MaxSegmentSize != 1024 || chosen.MaxFlushTime != 100 || chosen.LevelConfig != lvl {
		t.Fatalf("config asked %+v, chosen %+v", asked, chosen)
	}
	if !r.events.has(logging.EventConfig, "the modem chose segment size 1024 KiB instead of 4096 KiB, flush time 100 ms instead of 5 ms") ||
		!r.events.has(logging.EventSupport, "ModemFileTransfer: DSS payload 0x2 (device to host), at most 1 instance; at most 1 DSS session") {
		t.Fatalf("events:\n%s", r.events)
	}
	if s := r.m.DSSSessions(); len(s) != 1 || s[0].Session != st.DSSSession() {
		t.Fatalf("DSS sessions %v", s)
	}
	dir, done := capture(t, st, modemlog.Options{MaxFileBytes: 512 << 10})
	waitBytes(t, st, 1<<20)
	stop(t, st, done)
	r.checkClosed()
	r.compare(dir)
	if !r.events.has(logging.EventDeactivated, "deactivated") {
		t.Fatalf("events:\n%s", r.events)
	}
}

// A second logging session is refused with an explanation (one instance).
func TestStreamInstanceLimit(t *testing.T) {
	r := newRig(t, nil)
	s, st := r.start(r.options())
	defer st.Close()
	opts := r.options()
	opts.DSSSession = 5
	_, err := logging.Start(context.Background(), s, opts)
	if err == nil || !strings.Contains(err.Error(), "as many logging sessions open as it allows (1 per service, 1 DSS sessions in all)") {
		t.Fatalf("second Start: %v", err)
	}
}

func TestNotSupported(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(*sim.Scenario)
		want string
	}{
		{"no-file-transfer", func(sc *sim.Scenario) { sc.Services.DSS = nil },
			"DEVICE_SERVICES lists no ModemFileTransfer service (0ebb1ceb-af2d-484d-8df3-53bc51fd162c)"},
		{"host-to-device", func(sc *sim.Scenario) { sc.Services.DSS[0].Payload = 1 },
			"does not send data to the host"},
		{"no-sessions", func(sc *sim.Scenario) { sc.Services.MaxDSSSessions = 0 },
			"MaxDssSessions 0"},
		{"no-dss-service", func(sc *sim.Scenario) { sc.Services.Exclude = []string{"dss"} },
			"does not list the DSS service's connect CID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := sim.DefaultScenario()
			c.f(sc)
			r := newRig(t, sc)
			s, err := r.open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			_, err = logging.Start(context.Background(), s, r.options())
			var ne *logging.NotSupportedError
			if !errors.As(err, &ne) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start: %v", err)
			}
			t.Log(err)
		})
	}
}

// Without MODEM_LOGGING_CONFIG the modem logs with what it has.
func TestNoConfigCID(t *testing.T) {
	sc := sim.DefaultScenario()
	sc.Services.Exclude = []string{"ms-basic-connect-extensions"}
	r := newRig(t, sc)
	opts := r.options()
	opts.Config.MaxSegmentKiB = 8
	_, st := r.start(opts)
	dir, done := capture(t, st, modemlog.Options{})
	waitBytes(t, st, 100<<10)
	stop(t, st, done)
	r.compare(dir)
	if !r.events.has(logging.EventWarning, "does not list MODEM_LOGGING_CONFIG") {
		t.Fatalf("events:\n%s", r.events)
	}
}

// A device reset ends the control session; the DSS session stays open on
// the modem and the data keeps flowing; the stream reopens the control
// session, sets its configuration again and deactivates at the end.
func TestStreamAcrossReset(t *testing.T) {
	r := newRig(t, nil)
	opts := r.options()
	opts.Config.MaxSegmentKiB = 16
	_, st := r.start(opts)
	dir, done := capture(t, st, modemlog.Options{MaxFileBytes: 256 << 10})
	waitBytes(t, st, 300<<10)
	r.m.Inject(sim.Event{Type: "reset"})
	deadline := time.Now().Add(waitTimeout)
	for !r.events.has(logging.EventReconnected, "still open on the modem") {
		if time.Now().After(deadline) {
			t.Fatalf("no reconnection; events:\n%s", r.events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := st.Stats().Bytes
	waitBytes(t, st, before+200<<10)
	if c := r.m.LoggingConfig(); c.MaxSegmentSize != 16 {
		t.Fatalf("configuration after the reset: %+v", c)
	}
	stop(t, st, done)
	r.checkClosed()
	r.compare(dir)
}

// After a suspend the modem has forgotten the MBIM session: deactivating
// gets not-opened, the stream opens the session again and deactivates.
func TestStreamAcrossSuspend(t *testing.T) {
	r := newRig(t, nil)
	_, st := r.start(r.options())
	dir, done := capture(t, st, modemlog.Options{})
	waitBytes(t, st, 200<<10)
	r.m.Inject(sim.Event{Type: "suspend"})
	waitBytes(t, st, st.Stats().Bytes+100<<10)
	stop(t, st, done)
	r.checkClosed()
	r.compare(dir)
	if !r.events.has(logging.EventControlLost, "not-opened") {
		t.Fatalf("events:\n%s", r.events)
	}
}

// The data connection breaking (a bulk pipe that goes away) is reopened;
// what was in flight is lost on both sides alike.
func TestStreamSourceReopened(t *testing.T) {
	r := newRig(t, nil)
	_, st := r.start(r.options())
	dir, done := capture(t, st, modemlog.Options{})
	waitBytes(t, st, 200<<10)
	r.m.Inject(sim.Event{Type: "log-hangup"})
	waitBytes(t, st, st.Stats().Bytes+300<<10)
	stop(t, st, done)
	r.compare(dir)
	if !r.events.has(logging.EventSourceEnded, "") || !r.events.has(logging.EventSource, "open again") {
		t.Fatalf("events:\n%s", r.events)
	}
}

// The log stream as an io.Reader and through a callback.
func TestReaderAndEach(t *testing.T) {
	r := newRig(t, nil)
	_, st := r.start(r.options())
	h := sha256.New()
	var n int64
	done := make(chan error, 1)
	go func() {
		var err error
		n, err = io.Copy(h, st.Reader(context.Background()))
		done <- err
	}()
	waitBytes(t, st, 300<<10)
	stop(t, st, done)
	_, out := r.sent("unix")
	if n != out.Bytes || hex.EncodeToString(h.Sum(nil)) != out.SHA256 {
		t.Fatalf("read %d bytes; the modem sent %+v", n, out)
	}

	r2 := newRig(t, nil)
	_, st2 := r2.start(r2.options())
	var segs, bytes2 int64
	done2 := make(chan error, 1)
	go func() {
		done2 <- st2.Each(context.Background(), func(s modemlog.Segment) error {
			segs++
			bytes2 += int64(len(s.Data))
			return nil
		})
	}()
	waitBytes(t, st2, 100<<10)
	stop(t, st2, done2)
	if _, out := r2.sent("unix"); segs != out.Segments || bytes2 != out.Bytes {
		t.Fatalf("Each saw %d segments, %d bytes; the modem sent %+v", segs, bytes2, out)
	}
}

// Cancelling the reading context (not Stop) returns ctx.Err; Close then
// deactivates.
func TestCancelThenClose(t *testing.T) {
	r := newRig(t, nil)
	_, st := r.start(r.options())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	_, err := io.Copy(io.Discard, st.Reader(ctx))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Copy: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r.checkClosed()
	if _, err := st.ReadDatagram(context.Background()); !errors.Is(err, logging.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestParseLevel(t *testing.T) {
	if l, err := logging.ParseLevel("lab-medium"); err != nil || l != ms.ModemLoggingLevelConfigLabMedium {
		t.Fatal(l, err)
	}
	if _, err := logging.ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), "prod, lab-verbose, lab-medium, lab-low, oem") {
		t.Fatal(err)
	}
	if d := logging.Differences(ms.ModemLoggingConfig{Version: 1, MaxSegmentSize: 8}, ms.ModemLoggingConfig{Version: 1, MaxSegmentSize: 8}); d != nil {
		t.Fatal(d)
	}
	_ = bytes.Equal
}

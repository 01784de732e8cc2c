package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/dss"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/pco"
)

func TestLogContent(t *testing.T) {
	for _, kind := range []string{LogText, LogRandom, LogCounter} {
		t.Run(kind, func(t *testing.T) {
			a, err := NewLogContent(kind, 42)
			if err != nil {
				t.Fatal(err)
			}
			whole := make([]byte, 100_000)
			a.Read(whole)
			// Any chunking gives the same stream.
			b, _ := NewLogContent(kind, 42)
			var pieces []byte
			for n := 1; len(pieces) < len(whole); n = n*3%1000 + 1 {
				p := make([]byte, min(n, len(whole)-len(pieces)))
				b.Read(p)
				pieces = append(pieces, p...)
			}
			if !bytes.Equal(whole, pieces) || b.Offset() != int64(len(whole)) {
				t.Fatal("chunked reads differ")
			}
			c, _ := NewLogContent(kind, 43)
			other := make([]byte, len(whole))
			c.Read(other)
			if kind != LogCounter && bytes.Equal(whole, other) {
				t.Fatal("the seed changes nothing")
			}
			switch kind {
			case LogCounter:
				for i := 0; i+8 <= len(whole); i += 8 {
					if v := binary.BigEndian.Uint64(whole[i:]); v != uint64(i) {
						t.Fatalf("word at %d holds %d", i, v)
					}
				}
			case LogText:
				lines := strings.Split(string(whole), "\n")
				if !strings.HasPrefix(lines[0], "[0000000000] 0.") || !strings.HasPrefix(lines[1], "[0000000001] 0.00") {
					t.Fatalf("first lines %q", lines[:2])
				}
				t.Logf("%s", strings.Join(lines[:3], "\n"))
			}
		})
	}
	if _, err := NewLogContent("poetry", 0); err == nil {
		t.Fatal("unknown content accepted")
	}
}

func TestLogScenarioKeys(t *testing.T) {
	sc, err := ParseScenario([]byte(`{"modem_logging": {"rate": 5000, "content": "counter", "seed": 7, "ntb_format": "ntb16", "ntb_socket": "off"}}`))
	if err != nil {
		t.Fatal(err)
	}
	l := sc.Logging
	if l.Rate != 5000 || l.Content != LogCounter || l.NTBMaxSize != 65535 || l.MaxSegmentSize != 64 {
		t.Fatalf("%+v", l)
	}
	if sc := DefaultScenario(); sc.Check() != nil || sc.Logging.Rate != DefaultLogRate || sc.Logging.NTBFormat != "ntb32" {
		t.Fatalf("defaults %+v", sc.Logging)
	}
	for _, bad := range []string{
		`{"modem_logging": {"content": "poetry"}}`,
		`{"modem_logging": {"rate": -5}}`,
		`{"modem_logging": {"ntb_format": "ntb64"}}`,
		`{"modem_logging": {"ntb_format": "ntb16", "ntb_max_size": 100000}}`,
	} {
		if _, err := ParseScenario([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// logHost is a host of a modem's logging: a control client and a reader
// of the log data socket that hashes what arrives.
type logHost struct {
	t    *testing.T
	path string
	c    *client
	src  *datapath.NTBSource
	mu   sync.Mutex
	n    int64
	segs int64
	max  int
	h    []byte
	sum  func() []byte
	done chan error
}

func startLogHost(t *testing.T, sc *Scenario) (*Modem, *logHost) {
	t.Helper()
	mo, path := startUnix(t, sc)
	t.Cleanup(func() { mo.CloseLogData() })
	addr, err := mo.LogSocket()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "@gombim-sim-") {
		t.Errorf("socket %q", addr)
	}
	h := &logHost{t: t, path: path, c: dial(t, path), done: make(chan error, 1)}
	h.c.open()
	h.src, err = datapath.DialNTB(context.Background(), addr, datapath.NTBOptions{Session: 3, MaxBlockSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.src.Close() })
	hh := sha256.New()
	h.sum = func() []byte { h.mu.Lock(); defer h.mu.Unlock(); return hh.Sum(nil) }
	go func() {
		for {
			d, err := h.src.ReadDatagram(context.Background())
			if err != nil {
				h.done <- err
				return
			}
			h.mu.Lock()
			hh.Write(d.Data)
			h.n += int64(len(d.Data))
			h.segs++
			h.max = max(h.max, len(d.Data))
			h.mu.Unlock()
		}
	}()
	return mo, h
}

func (h *logHost) dss(state dss.DssLinkState) {
	h.t.Helper()
	m, _ := h.c.command(dss.UUID, dss.CIDConnect, mbim.CommandSet, &dss.ConnectSet{DeviceServiceId: ModemFileTransfer, DssSessionId: 3, DssLinkState: state})
	if m.Status != mbim.StatusNone {
		h.t.Fatalf("dss connect %s: %s", state, m.Status)
	}
}

// waitRead waits until what the host has read (bytes, segments)
// satisfies ok.
func (h *logHost) waitRead(what string, ok func(n, segs int64) bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		h.mu.Lock()
		n, segs := h.n, h.segs
		h.mu.Unlock()
		if ok(n, segs) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: %d bytes in %d segments read", what, n, segs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEnd waits for the end of the socket stream and the session's final
// counts.
func (h *logHost) waitEnd(mo *Modem) LogStream {
	h.t.Helper()
	select {
	case err := <-h.done:
		if !errors.Is(err, io.EOF) {
			h.t.Fatalf("reading the log data: %v", err)
		}
	case <-time.After(waitTimeout):
		h.t.Fatal("the log data stream did not end after the session was closed")
	}
	st := mo.LogStreams()
	if len(st) != 1 || st[0].Closed.IsZero() {
		h.t.Fatalf("log streams %+v", st)
	}
	return st[0]
}

func TestLogDataOverNTBSocket(t *testing.T) {
	mo, h := startLogHost(t, scenario(func(s *Scenario) { s.Logging.Rate = 4 << 20; s.Logging.Seed = 100 }))
	_, info := h.c.command(ms.UUID, ms.CIDModemLoggingConfig, mbim.CommandSet, &ms.ModemLoggingConfigSet{Version: 1,
		MaxSegmentSize: 8, MaxFlushTime: 100, LevelConfig: ms.ModemLoggingLevelConfigLabVerbose})
	if got := info.(*ms.ModemLoggingConfig); got.MaxSegmentSize != 8 {
		t.Fatalf("config %+v", got)
	}
	start := time.Now()
	h.dss(dss.DssLinkStateActivate)
	time.Sleep(700 * time.Millisecond)
	h.waitRead("256 KiB", func(n, _ int64) bool { return n >= 256<<10 })
	if s := mo.DSSSessions(); len(s) != 1 || s[0].Session != 3 {
		t.Fatalf("DSS sessions %v", s)
	}
	h.dss(dss.DssLinkStateDeactivate)
	active := time.Since(start)
	st := h.waitEnd(mo)
	out, ok := st.Output("unix")
	if !ok || len(st.Outputs) != 1 {
		t.Fatalf("outputs %+v", st.Outputs)
	}
	// What the host read is what the modem counted as sent...
	if out.Bytes != h.n || out.Segments != h.segs || out.SHA256 != hex.EncodeToString(h.sum()) {
		t.Fatalf("modem sent %+v; host read %d bytes in %d segments, sha256 %x", out, h.n, h.segs, h.sum())
	}
	// ... and what it generated: nothing was lost on the way.
	if st.Generated.Bytes != out.Bytes || st.Generated.Segments != out.Segments {
		t.Fatalf("generated %+v, sent %+v", st.Generated, out)
	}
	// ... and the deterministic stream for its seed.
	c, _ := NewLogContent(st.Content, st.Seed)
	want := make([]byte, out.Bytes)
	c.Read(want)
	if sum := sha256.Sum256(want); hex.EncodeToString(sum[:]) != out.SHA256 || st.Seed != 103 {
		t.Fatalf("the stream is not NewLogContent(%q, %d)", st.Content, st.Seed)
	}
	// At most 4 MiB/s for the time the session was active, at least 0.7 s
	// (less when the machine is busy: the modem does not catch up later),
	// in segments of 8 KiB.
	if limit := int64(active.Seconds()*(4<<20)) + 8<<10; out.MaxSegment != 8<<10 || out.Bytes < 256<<10 || out.Bytes > limit {
		t.Fatalf("segments (%v active, at most %d bytes): %+v", active, limit, out)
	}
	t.Logf("%d bytes in %d segments, sha256 %s", out.Bytes, out.Segments, out.SHA256)
}

// At a low rate the segments are cut by the flush time.
func TestLogDataFlushTime(t *testing.T) {
	mo, h := startLogHost(t, scenario(func(s *Scenario) { s.Logging.Rate = 20_000 }))
	h.c.command(ms.UUID, ms.CIDModemLoggingConfig, mbim.CommandSet, &ms.ModemLoggingConfigSet{Version: 1,
		MaxSegmentSize: 64, MaxFlushTime: 200, LevelConfig: ms.ModemLoggingLevelConfigProd})
	start := time.Now()
	h.dss(dss.DssLinkStateActivate)
	time.Sleep(time.Second)
	h.waitRead("3 segments", func(_, segs int64) bool { return segs >= 3 })
	h.dss(dss.DssLinkStateDeactivate)
	active := time.Since(start)
	out, _ := h.waitEnd(mo).Output("unix")
	// A flush every 200 ms of 200 ms * 20 kB/s = 4000 bytes (more when
	// the machine is busy), and the rest on deactivation: far from the
	// 64 KiB segment size.
	if most := int64(active/(200*time.Millisecond)) + 2; out.Segments < 3 || out.Segments > most || out.MaxSegment < 3500 || out.MaxSegment >= 64<<10 {
		t.Fatalf("%v active (at most %d segments): %+v", active, most, out)
	}
}

// A device reset leaves the logging session open and the data flowing.
func TestLogDataAcrossReset(t *testing.T) {
	mo, h := startLogHost(t, scenario(func(s *Scenario) { s.Logging.Rate = 1 << 20 }))
	h.dss(dss.DssLinkStateActivate)
	h.waitRead("log data", func(n, _ int64) bool { return n > 0 })
	mo.Inject(Event{Type: "reset"})
	h.mu.Lock()
	before := h.n
	h.mu.Unlock()
	h.waitRead("log data after the reset", func(n, _ int64) bool { return n > before })
	if s := mo.DSSSessions(); len(s) != 1 {
		t.Fatalf("after the reset: sessions %v", s)
	}
	// The control channel is back (a new connection), the session still
	// open: deactivating it works.
	h.c = dial(t, h.path)
	deadline := time.Now().Add(waitTimeout)
	for {
		err := h.tryOpen() // unanswered while the device is resetting
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.dss(dss.DssLinkStateDeactivate)
	st := h.waitEnd(mo)
	if out, _ := st.Output("unix"); out.Bytes != h.n || out.SHA256 != hex.EncodeToString(h.sum()) {
		t.Fatalf("sent %+v, read %d", out, h.n)
	}
}

func (h *logHost) tryOpen() error {
	tid := h.c.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
	for {
		m, err := h.c.read(300 * time.Millisecond)
		if err != nil {
			return err
		}
		if m.Type == mbim.TypeOpenDone && m.TransactionID == tid {
			return nil
		}
	}
}

// The host's connection breaking (log-hangup) loses what was in flight;
// a new connection gets the rest of the stream.
func TestLogDataHangUp(t *testing.T) {
	mo, h := startLogHost(t, scenario(func(s *Scenario) { s.Logging.Rate = 1 << 20 }))
	h.dss(dss.DssLinkStateActivate)
	h.waitRead("log data", func(n, _ int64) bool { return n > 0 })
	mo.Inject(Event{Type: "log-hangup"})
	if err := <-h.done; !errors.Is(err, io.EOF) {
		t.Fatalf("after the hang-up: %v", err)
	}
	first := h.n
	addr, _ := mo.LogSocket()
	src, err := datapath.DialNTB(context.Background(), addr, datapath.NTBOptions{Session: 3, MaxBlockSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d, err := src.ReadDatagram(context.Background())
	if err != nil || len(d.Data) == 0 {
		t.Fatalf("after reconnecting: %v", err)
	}
	h.dss(dss.DssLinkStateDeactivate)
	var rest int64 = int64(len(d.Data))
	for {
		d, err := src.ReadDatagram(context.Background())
		if err != nil {
			break
		}
		rest += int64(len(d.Data))
	}
	st := mo.LogStreams()[0]
	out, _ := st.Output("unix")
	if out.Bytes != first+rest || st.Generated.Bytes < out.Bytes {
		t.Fatalf("sent %+v (generated %+v); read %d + %d", out, st.Generated, first, rest)
	}
}

func TestPCOEvent(t *testing.T) {
	mo, path := startUnix(t, scenario(func(s *Scenario) {
		s.Network.Home.PLMN = "311480"
		s.PCO.PLMN = ""
	}))
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDDeviceServiceSubscribeList, mbim.CommandSet, &bc.DeviceServiceSubscribeListSet{
		Events: []bc.EventEntry{{DeviceServiceId: ms.UUID, Cids: []uint32{ms.CIDPco}}}})
	c.command(bc.UUID, bc.CIDConnect, mbim.CommandSet, &bc.ConnectSet{ActivationCommand: bc.ActivationCommandActivate, AccessString: "internet"})
	p := c.expectIndication(ms.UUID, ms.CIDPco).(*ms.PcoValue)
	v, _ := pco.Parse(p.PcoDataBuffer)
	if st, ok := v.Verizon(); !ok || st != pco.VerizonProvisioned {
		t.Fatalf("on connect: %v", v)
	}
	mo.Inject(Event{Type: "pco", Data: []byte(`{"value": "05"}`)})
	p = c.expectIndication(ms.UUID, ms.CIDPco).(*ms.PcoValue)
	v, _ = pco.Parse(p.PcoDataBuffer)
	if st, ok := v.Verizon(); !ok || st != pco.VerizonUnprovisioned || p.SessionId != 0 {
		t.Fatalf("after the event: %+v %v", p, v)
	}
	_, info := c.command(ms.UUID, ms.CIDPco, mbim.CommandQuery, &ms.PcoQuery{SessionId: 0})
	if !bytes.Equal(info.(*ms.PcoValue).PcoDataBuffer, p.PcoDataBuffer) {
		t.Fatalf("query %+v", info)
	}
	// A malformed PCO, partial.
	mo.Inject(Event{Type: "pco", Data: []byte(`{"raw": "27 05 80 ff 00 09", "partial": true}`)})
	p = c.expectIndication(ms.UUID, ms.CIDPco).(*ms.PcoValue)
	if p.PcoDataType != ms.PcoTypePartial || p.PcoDataBuffer.String() != "270580ff0009" {
		t.Fatalf("raw: %+v", p)
	}
	if _, err := pco.Parse(p.PcoDataBuffer); err == nil {
		t.Fatal("the raw PCO parses")
	}
	// A device reset brings the scenario's PCO back.
	mo.Inject(Event{Type: "reset"})
	mo.Lock()
	v2, _ := mo.pcoValue(0)
	mo.Unlock()
	if v2.PcoDataType != ms.PcoTypeComplete || v2.PcoDataBuffer.String() != "270880ff000413018400" {
		t.Fatalf("after reset: %+v", v2)
	}
}

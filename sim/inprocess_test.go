package sim

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	bc "github.com/gombim/gombim/catalog/basicconnect"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// An in-process host sees a device reset as a real one would (EOF), dials
// again once the device is back, and finds it in its power-up state.
func TestDialerSurvivesReset(t *testing.T) {
	m, err := New(scenario(func(s *Scenario) { s.Timings.Reset = Duration(150 * time.Millisecond) }))
	if err != nil {
		t.Fatal(err)
	}
	m.SetLogger(testLogger(t))
	dial, stop := m.Dialer()
	defer stop()
	ctx := context.Background()
	hc, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pipeOpen(t, hc)
	pipeCommand(t, hc, bc.UUID, bc.CIDRadioState, mbim.CommandSet, &bc.RadioStateSet{RadioState: bc.RadioSwitchStateOff})
	// Only one host at a time.
	if _, err := dial(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("a second host while the first is connected: %v", err)
	}
	pipeCommand(t, hc, ms.UUID, ms.CIDDeviceReset, mbim.CommandSet, nil)
	for {
		if _, err := hc.ReadMessage(); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, transport.ErrClosed) {
				t.Errorf("after the reset: %v, want EOF", err)
			}
			break
		}
	}
	hc.Close()
	m.Lock()
	back := m.downTill
	m.Unlock()
	hc, err = dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if early := back.Sub(time.Now()); early > 0 {
		t.Errorf("dialled %v before the device was back", early)
	}
	pipeOpen(t, hc)
	info := pipeCommand(t, hc, bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if r := info.(*bc.RadioStateResponse); r.SwRadioState != bc.RadioSwitchStateOn {
		t.Errorf("radio after the reset: %+v", r)
	}
	// A host that closes and dials again.
	hc.Close()
	hc, err = dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pipeOpen(t, hc)
	stop()
	if _, err := dial(ctx); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("dial after stop: %v", err)
	}
}

// pipeRead reads the next message of type typ and transaction tid from an
// in-process connection (no deadlines: the test's timeout bounds it).
func pipeRead(t *testing.T, hc transport.Conn, typ mbim.MessageType, tid uint32) mbim.Message {
	t.Helper()
	for {
		b, err := hc.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s %d: %v", typ, tid, err)
		}
		msg, err := mbim.ParseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Type == typ && msg.TransactionID == tid {
			return msg
		}
	}
}

var pipeTID uint32

func pipeOpen(t *testing.T, hc transport.Conn) {
	t.Helper()
	pipeTID++
	if err := hc.WriteMessage(mustBytes(mbim.Message{Type: mbim.TypeOpen, TransactionID: pipeTID, MaxControlTransfer: 4096})); err != nil {
		t.Fatal(err)
	}
	pipeRead(t, hc, mbim.TypeOpenDone, pipeTID)
}

func pipeCommand(t *testing.T, hc transport.Conn, svc mbim.UUID, cid uint32, ct mbim.CommandType, info mbim.Info) mbim.Info {
	t.Helper()
	var buf []byte
	if info != nil {
		var err error
		if buf, err = mbim.Marshal(info); err != nil {
			t.Fatal(err)
		}
	}
	pipeTID++
	if err := hc.WriteMessage(mustBytes(mbim.Message{Type: mbim.TypeCommand, TransactionID: pipeTID, Service: svc, CID: cid,
		CommandType: ct, InformationBuffer: buf})); err != nil {
		t.Fatal(err)
	}
	d := catalog.Decode(pipeRead(t, hc, mbim.TypeCommandDone, pipeTID), mbim.MBIMEx1)
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	return d.Info
}

// MBIM has no manufacturer or model: device caps' HardwareInfo carries
// them when the scenario gives no hardware string.
func TestManufacturerAndModel(t *testing.T) {
	sc, err := ParseScenario([]byte(`{"device":{"hardware":"","manufacturer":"Acme","model":"LTE-X1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	dial, stop := m.Dialer()
	defer stop()
	hc, err := dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pipeOpen(t, hc)
	if caps := pipeCommand(t, hc, bc.UUID, bc.CIDDeviceCaps, mbim.CommandQuery, nil).(*bc.DeviceCapsResponse); caps.HardwareInfo != "Acme LTE-X1" {
		t.Errorf("HardwareInfo %q", caps.HardwareInfo)
	}
}

package sim

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	bc "github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// Fault injection, each checked from a raw client over a real Unix socket
// or pty.

func withFault(f Fault) *Scenario {
	return scenario(func(s *Scenario) { s.Faults = []Fault{f} })
}

func TestFaultFragment(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultFragment, Service: "basic-connect", CID: "device-caps", MaxTransfer: 64}))
	c := dial(t, path)
	c.open()
	tid := c.commandNoWait(bc.UUID, bc.CIDDeviceCaps, mbim.CommandQuery, nil)
	var frags int
	for {
		b, err := c.readRaw(waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 64 {
			t.Fatalf("fragment of %d bytes, max transfer 64", len(b))
		}
		total := binary.LittleEndian.Uint32(b[12:])
		cur := binary.LittleEndian.Uint32(b[16:])
		if cur != uint32(frags) {
			t.Fatalf("fragment %d arrived as number %d", cur, frags)
		}
		frags++
		full, err := c.r.Add(b, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if full != nil {
			if total < 2 {
				t.Fatalf("response not fragmented (total %d)", total)
			}
			m, err := mbim.ParseMessage(full)
			if err != nil || m.TransactionID != tid {
				t.Fatalf("reassembled: %v %v", m, err)
			}
			var caps bc.DeviceCapsResponse
			if err := caps.UnmarshalMBIM(m.InformationBuffer); err != nil || caps.DeviceId != DefaultScenario().Device.DeviceID {
				t.Fatalf("reassembled device caps: %+v %v", caps, err)
			}
			break
		}
	}
	// Other CIDs are not fragmented.
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
}

func TestFaultDelay(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultDelay, Service: "basic-connect", CID: "radio-state", Delay: Duration(300 * time.Millisecond)}))
	c := dial(t, path)
	c.open()
	start := time.Now()
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("response after %v, want at least 300ms", d)
	}
}

func TestFaultDrop(t *testing.T) {
	m, path := startUnix(t, withFault(Fault{Kind: FaultDrop, Service: "basic-connect", CID: "radio-state", Count: 1}))
	c := dial(t, path)
	c.open()
	c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if msg, err := c.read(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("dropped response: got %v, %v", msg, err)
	}
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil) // the second one is answered
	if f := m.FaultsFired(); f[0] != 1 {
		t.Errorf("fault fired %d times, want 1", f[0])
	}
}

func TestFaultDuplicate(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultDuplicate, CID: "3", Service: "basic-connect"}))
	c := dial(t, path)
	c.open()
	tid := c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	for i := 0; i < 2; i++ {
		m := c.expect(mbim.TypeCommandDone, tid)
		if m.CID != bc.CIDRadioState {
			t.Fatalf("response %d: %v", i, m)
		}
	}
}

func TestFaultOutOfOrder(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultOutOfOrder, Service: "basic-connect", CID: "device-caps"}))
	c := dial(t, path)
	c.open()
	c.commandNoWait(bc.UUID, bc.CIDDeviceCaps, mbim.CommandQuery, nil)
	b, err := c.readRaw(waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	total, cur := binary.LittleEndian.Uint32(b[12:]), binary.LittleEndian.Uint32(b[16:])
	if total < 2 || cur != total-1 {
		t.Fatalf("first fragment is %d of %d, want the last one first", cur, total)
	}
	_, err = c.r.Add(b, time.Now())
	if !errors.Is(err, mbim.ErrFragmentOutOfSequence) {
		t.Fatalf("reassembling: %v, want fragment out of sequence", err)
	}
}

func TestFaultCorruptLength(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultCorruptLength, Service: "basic-connect", CID: "radio-state"}))
	c := dial(t, path)
	c.open()
	c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	b, err := c.readRaw(waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	_, err = mbim.ParseMessage(b)
	var fe *mbim.FormatError
	if !errors.As(err, &fe) || fe.Field != "information buffer length" {
		t.Fatalf("parsing the corrupt response: %v", err)
	}
}

func TestFaultFunctionError(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultFunctionError, Service: "basic-connect", CID: "radio-state", Error: "max-transfer"}))
	c := dial(t, path)
	c.open()
	tid := c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	m, err := c.read(waitTimeout)
	if err != nil || m.Type != mbim.TypeFunctionError || m.TransactionID != tid || m.ErrorCode != mbim.ErrMaxTransfer {
		t.Fatalf("got %v %v, want function-error max-transfer for %d", m, err, tid)
	}
}

func TestFaultIndicationBeforeOpen(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultIndicationBeforeOpen, Count: 1}))
	c := dial(t, path)
	tid := c.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
	first, err := c.read(waitTimeout)
	if err != nil || first.Type != mbim.TypeIndicateStatus || first.CID != bc.CIDRadioState {
		t.Fatalf("first message %v %v, want a radio-state indication", first, err)
	}
	c.expect(mbim.TypeOpenDone, tid)
}

func TestFaultCloseDoneOnOpen(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultCloseDoneOnOpen, Count: 1}))
	c := dial(t, path)
	tid := c.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
	if m, err := c.read(waitTimeout); err != nil || m.Type != mbim.TypeCloseDone || m.TransactionID != tid {
		t.Fatalf("got %v %v, want close-done", m, err)
	}
	// Still closed: commands are refused.
	tid = c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if m, err := c.read(waitTimeout); err != nil || m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened {
		t.Fatalf("got %v %v, want not-opened", m, err)
	}
	c.open() // the second OPEN works
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
}

func TestFaultNotOpenedAfterSuspend(t *testing.T) {
	_, path := startPTY(t, withFault(Fault{Kind: FaultNotOpened, Service: "basic-connect", CID: "signal-state", Count: 1}))
	c := dial(t, path)
	c.open()
	c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	for _, cid := range []uint32{bc.CIDSignalState, bc.CIDRadioState} {
		tid := c.commandNoWait(bc.UUID, cid, mbim.CommandQuery, nil)
		m, err := c.read(waitTimeout)
		if err != nil || m.Type != mbim.TypeFunctionError || m.TransactionID != tid || m.ErrorCode != mbim.ErrNotOpened {
			t.Fatalf("cid %d: got %v %v, want not-opened", cid, m, err)
		}
	}
	c.open()
	c.command(bc.UUID, bc.CIDSignalState, mbim.CommandQuery, nil)
}

func TestFaultHangUp(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultHangUp, Service: "basic-connect", CID: "radio-state", Count: 1}))
	c := dial(t, path)
	c.open()
	c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	_, err := c.read(waitTimeout)
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after the hang-up: %v, want EOF", err)
	}
	// The modem is back for the next host.
	c2 := dial(t, path)
	c2.open()
	c2.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
}

func TestFaultHangUpPTY(t *testing.T) {
	_, link := startPTY(t, withFault(Fault{Kind: FaultHangUp, Service: "basic-connect", CID: "radio-state", Count: 1}))
	c := dial(t, link)
	c.open()
	c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	if _, err := c.read(waitTimeout); err == nil {
		t.Fatal("read a message after the hang-up")
	}
	c.c.Close()
	// The pty comes back under the same link.
	c2 := redial(t, link)
	c2.open()
	c2.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
}

// redial opens path until the device is back.
func redial(t *testing.T, path string) *client {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := transport.Open(path, transport.Options{})
		if err == nil {
			cl := &client{t: t, c: c, r: mbim.NewReassembler(0, 0), v: mbim.MBIMEx1}
			t.Cleanup(func() { c.Close() })
			// A stale pty may accept the open; check it answers.
			tid := cl.send(mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096})
			if m, err := cl.read(5 * time.Second); err == nil && m.Type == mbim.TypeOpenDone && m.TransactionID == tid {
				return cl
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come back: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFaultGarbage(t *testing.T) {
	_, path := startUnix(t, withFault(Fault{Kind: FaultGarbage, Service: "basic-connect", CID: "radio-state", Count: 1}))
	c := dial(t, path)
	c.open()
	tid := c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
	_, err := c.readRaw(waitTimeout)
	var fe *transport.FramingError
	if !errors.As(err, &fe) || fe.Length != 0xFFFFFFF0 {
		t.Fatalf("first read: %v, want a framing error for a huge length", err)
	}
	// The reader resynchronises on the real response.
	c.expect(mbim.TypeCommandDone, tid)
}

func TestScenarioRejectsUnknownFault(t *testing.T) {
	if _, err := ParseScenario([]byte(`{"faults":[{"kind":"explode"}]}`)); err == nil {
		t.Error("unknown fault kind accepted")
	}
	if _, err := ParseScenario([]byte(`{"faults":[{"kind":"drop","service":"basic-connect","cid":"nope"}]}`)); err == nil {
		t.Error("unknown cid accepted")
	}
}

func TestFaultsOnOpenAndClose(t *testing.T) {
	openMsg := mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: 4096}
	t.Run("open-dropped", func(t *testing.T) {
		_, path := startUnix(t, withFault(Fault{Kind: FaultDrop, Message: "open", Count: 1}))
		c := dial(t, path)
		c.send(openMsg)
		if m, err := c.read(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dropped OPEN answered: %v %v", m, err)
		}
		c.open() // a retry is answered
	})
	t.Run("open-not-opened", func(t *testing.T) {
		_, path := startUnix(t, withFault(Fault{Kind: FaultFunctionError, Message: "open", Error: "not-opened", Count: 1}))
		c := dial(t, path)
		tid := c.send(openMsg)
		if m, err := c.read(waitTimeout); err != nil || m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened || m.TransactionID != tid {
			t.Fatalf("got %v %v", m, err)
		}
		c.open()
	})
	t.Run("open-done-failure", func(t *testing.T) {
		_, path := startUnix(t, withFault(Fault{Kind: FaultStatus, Message: "open", Status: "busy", Count: 1}))
		c := dial(t, path)
		tid := c.send(openMsg)
		if m, err := c.read(waitTimeout); err != nil || m.Type != mbim.TypeOpenDone || m.Status != mbim.StatusBusy || m.TransactionID != tid {
			t.Fatalf("got %v %v", m, err)
		}
		tid = c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
		if m, err := c.read(waitTimeout); err != nil || m.Type != mbim.TypeFunctionError || m.ErrorCode != mbim.ErrNotOpened {
			t.Fatalf("after a failed OPEN: %v %v", m, err)
		}
		c.open()
	})
	t.Run("open-delayed-duplicated", func(t *testing.T) {
		sc := scenario(func(s *Scenario) {
			s.Faults = []Fault{{Kind: FaultDelay, Message: "open", Delay: Duration(200 * time.Millisecond)}, {Kind: FaultDuplicate, Message: "open"}}
		})
		_, path := startUnix(t, sc)
		c := dial(t, path)
		start := time.Now()
		tid := c.send(openMsg)
		c.expect(mbim.TypeOpenDone, tid)
		c.expect(mbim.TypeOpenDone, tid)
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("OPEN_DONE after %v", d)
		}
	})
	t.Run("close-unanswered", func(t *testing.T) {
		_, path := startUnix(t, withFault(Fault{Kind: FaultDrop, Message: "close"}))
		c := dial(t, path)
		c.open()
		c.send(mbim.Message{Type: mbim.TypeClose})
		if m, err := c.read(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dropped CLOSE answered: %v %v", m, err)
		}
		// The modem did close.
		c.commandNoWait(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil)
		if m, err := c.read(waitTimeout); err != nil || m.ErrorCode != mbim.ErrNotOpened {
			t.Fatalf("after CLOSE: %v %v", m, err)
		}
	})
	t.Run("command-status", func(t *testing.T) {
		_, path := startUnix(t, withFault(Fault{Kind: FaultStatus, Service: "basic-connect", CID: "radio-state", Status: "busy", Count: 1}))
		c := dial(t, path)
		c.open()
		if m, _ := c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil); m.Status != mbim.StatusBusy {
			t.Errorf("status %s", m.Status)
		}
		if m, _ := c.command(bc.UUID, bc.CIDRadioState, mbim.CommandQuery, nil); m.Status != mbim.StatusNone {
			t.Errorf("second: status %s", m.Status)
		}
	})
}

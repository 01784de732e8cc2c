package sim

import (
	"fmt"
	"strconv"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
)

// Fault kinds. Each is switched on per scenario by a Fault entry.
const (
	// FaultFragment sends matching responses in fragments of MaxTransfer
	// bytes (default 64), whatever the host's maximum.
	FaultFragment = "fragment"
	// FaultDelay sends matching responses Delay late.
	FaultDelay = "delay"
	// FaultDrop never answers matching commands.
	FaultDrop = "drop"
	// FaultDuplicate sends matching responses twice.
	FaultDuplicate = "duplicate"
	// FaultOutOfOrder sends matching responses in fragments (MaxTransfer,
	// default 64 bytes) in reverse order.
	FaultOutOfOrder = "out-of-order"
	// FaultCorruptLength sends matching responses with an
	// InformationBufferLength 256 bytes larger than the buffer.
	FaultCorruptLength = "corrupt-length"
	// FaultFunctionError answers matching commands with FUNCTION_ERROR
	// (Error: a protocol error name, default unknown).
	FaultFunctionError = "function-error"
	// FaultIndicationBeforeOpen sends a radio-state indication before
	// OPEN_DONE.
	FaultIndicationBeforeOpen = "indication-before-open"
	// FaultCloseDoneOnOpen answers OPEN with CLOSE_DONE (the modem stays
	// closed).
	FaultCloseDoneOnOpen = "close-done-on-open"
	// FaultNotOpened simulates a suspend that made the modem forget the
	// OPEN: the matching command and every later one until the next OPEN
	// get FUNCTION_ERROR not-opened.
	FaultNotOpened = "not-opened"
	// FaultHangUp writes half of the response to a matching command and
	// hangs up (the pty or socket is closed; a pty comes back under the
	// same link).
	FaultHangUp = "hang-up"
	// FaultGarbage writes a header claiming a huge length (Length, default
	// 0xfffffff0) and some garbage before the response.
	FaultGarbage = "garbage"
	// FaultStatus answers with Status (a status name, default failure)
	// and an empty buffer: a failed COMMAND_DONE, OPEN_DONE or
	// CLOSE_DONE. A failed OPEN leaves the modem closed.
	FaultStatus = "status"
)

var faultKinds = []string{FaultFragment, FaultDelay, FaultDrop, FaultDuplicate, FaultOutOfOrder, FaultCorruptLength,
	FaultFunctionError, FaultIndicationBeforeOpen, FaultCloseDoneOnOpen, FaultNotOpened, FaultHangUp, FaultGarbage, FaultStatus}

// Fault switches on one kind of protocol misbehaviour. Message says which
// host messages it applies to: command (the default), open or close (drop,
// delay, duplicate, function-error and status apply to all three).
// Service and CID (nicknames or numbers; empty for any) select the
// commands. The first Skip matching messages pass untouched; then the
// fault fires Count times (0: every time).
type Fault struct {
	Kind        string   `json:"kind"`
	Message     string   `json:"message,omitempty"`
	Service     string   `json:"service,omitempty"`
	CID         string   `json:"cid,omitempty"`
	Skip        int      `json:"skip,omitempty"`
	Count       int      `json:"count,omitempty"`
	MaxTransfer int      `json:"max_transfer,omitempty"`
	Delay       Duration `json:"delay,omitempty"`
	Error       string   `json:"error,omitempty"`
	Length      uint32   `json:"length,omitempty"`
	Status      string   `json:"status,omitempty"`
}

type faultState struct {
	Fault
	seen, fired int
}

func (f *Fault) check() error {
	known := false
	for _, k := range faultKinds {
		if f.Kind == k {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("unknown kind %q (known: %v)", f.Kind, faultKinds)
	}
	var svc *mbim.ServiceDesc
	if f.Service != "" {
		if svc = catalog.ServiceByName(f.Service); svc == nil {
			return fmt.Errorf("unknown service %q", f.Service)
		}
	}
	if f.CID != "" {
		if _, err := strconv.ParseUint(f.CID, 0, 32); err != nil {
			if svc == nil || svc.CIDByName(f.CID) == nil {
				return fmt.Errorf("unknown cid %q (give service too, or a number)", f.CID)
			}
		}
	}
	switch f.Message {
	case "", "command", "open", "close":
	default:
		return fmt.Errorf("message %q: want command, open or close", f.Message)
	}
	if f.Status != "" {
		if _, err := mbim.ParseStatus(f.Status); err != nil {
			return fmt.Errorf("status %q: %v", f.Status, err)
		}
	}
	if f.Error != "" {
		if _, err := mbim.ParseProtocolError(f.Error); err != nil {
			return fmt.Errorf("error %q: %v", f.Error, err)
		}
	}
	if f.MaxTransfer != 0 && f.MaxTransfer < mbim.MinControlTransfer {
		return fmt.Errorf("max_transfer %d is below %d", f.MaxTransfer, mbim.MinControlTransfer)
	}
	return nil
}

func (f *Fault) matches(service mbim.UUID, cid uint32) bool {
	if f.Service != "" {
		s := catalog.ServiceByName(f.Service)
		if s == nil || s.UUID != service {
			return false
		}
	}
	if f.CID != "" {
		if n, err := strconv.ParseUint(f.CID, 0, 32); err == nil {
			return uint32(n) == cid
		}
		s := catalog.ServiceByUUID(service)
		if s == nil {
			return false
		}
		c := s.CIDByName(f.CID)
		return c != nil && c.ID == cid
	}
	return true
}

// fault returns the fault of kind that fires for a command, or nil. Modem
// locked.
func (m *Modem) fault(kind string, service mbim.UUID, cid uint32) *faultState {
	return m.faultFor(kind, "command", service, cid)
}

// faultFor is fault for a message of type msg (command, open or close).
func (m *Modem) faultFor(kind, msg string, service mbim.UUID, cid uint32) *faultState {
	for _, f := range m.faults {
		if f.Kind != kind {
			continue
		}
		want := f.Message
		if want == "" {
			want = "command"
			if kind == FaultCloseDoneOnOpen || kind == FaultIndicationBeforeOpen {
				want = "open"
			}
		}
		if want != msg || (msg == "command" && !f.matches(service, cid)) {
			continue
		}
		f.seen++
		if f.seen <= f.Skip || (f.Count > 0 && f.fired >= f.Count) {
			continue
		}
		f.fired++
		m.log("fault %s fires (%d)", kind, f.fired)
		return f
	}
	return nil
}

// FaultsFired returns how many times each scenario fault has fired, in
// scenario order.
func (m *Modem) FaultsFired() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, len(m.faults))
	for i, f := range m.faults {
		out[i] = f.fired
	}
	return out
}

// sendOpts says how to send one message (faults).
type sendOpts struct {
	client     uint64
	fragMax    int
	outOfOrder bool
	corrupt    bool
	duplicate  bool
	drop       bool
	hangUp     bool
	garbage    uint32 // claimed length, 0 for none
}

// responseFaults collects the faults that change how the response to a
// command is sent.
func (m *Modem) responseFaults(service mbim.UUID, cid uint32, client uint64) (o sendOpts, delay Duration) {
	o.client = client
	if f := m.fault(FaultFragment, service, cid); f != nil {
		o.fragMax = max(f.MaxTransfer, mbim.MinControlTransfer)
	}
	if f := m.fault(FaultOutOfOrder, service, cid); f != nil {
		o.outOfOrder = true
		o.fragMax = max(f.MaxTransfer, mbim.MinControlTransfer)
	}
	if f := m.fault(FaultDelay, service, cid); f != nil {
		delay = f.Delay
	}
	o.drop = m.fault(FaultDrop, service, cid) != nil
	o.duplicate = m.fault(FaultDuplicate, service, cid) != nil
	o.corrupt = m.fault(FaultCorruptLength, service, cid) != nil
	o.hangUp = m.fault(FaultHangUp, service, cid) != nil
	if f := m.fault(FaultGarbage, service, cid); f != nil {
		o.garbage = f.Length
		if o.garbage == 0 {
			o.garbage = 0xFFFFFFF0
		}
	}
	return o, delay
}

// status returns the fault's status (failure by default).
func (f *faultState) status() mbim.Status {
	st, err := mbim.ParseStatus(f.Status)
	if f.Status == "" || err != nil {
		return mbim.StatusFailure
	}
	return st
}

// errorCode returns the fault's protocol error (unknown by default).
func (f *faultState) errorCode() mbim.ProtocolError {
	code, err := mbim.ParseProtocolError(f.Error)
	if f.Error == "" || err != nil {
		return mbim.ErrUnknown
	}
	return code
}

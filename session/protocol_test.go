package session

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

var caps = &basicconnect.DeviceCapsResponse{DeviceType: basicconnect.DeviceTypeEmbedded, MaxSessions: 4,
	DeviceId: "356938035643809", FirmwareInfo: "FW 1.0", HardwareInfo: "HW"}

func TestTransactionIDAllocation(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)

	// Start just below the wrap.
	s.mu.Lock()
	s.next = 0xFFFFFFFE
	s.mu.Unlock()
	var got []uint32
	for i := 0; i < 3; i++ {
		ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
		req := p.expect(mbim.TypeCommand)
		got = append(got, req.TransactionID)
		p.reply(req, mbim.StatusNone, caps)
		if err := waitErr(t, ch); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint32{0xFFFFFFFE, 0xFFFFFFFF, 1}; !equalU32(got, want) {
		t.Errorf("transaction ids %#x, want %#x (0 skipped)", got, want)
	}

	// An id still in use is skipped.
	busy := newCall(mbim.TypeCommandDone)
	tid, err := s.register(busy, mbim.TypeCommand) // 2
	if err != nil || tid != 2 {
		t.Fatalf("register: %d, %v", tid, err)
	}
	s.mu.Lock()
	s.next = 2
	s.mu.Unlock()
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	if req.TransactionID != 3 {
		t.Errorf("transaction id %d, want 3 (2 is pending)", req.TransactionID)
	}
	p.reply(req, mbim.StatusNone, caps)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	s.forget(busy)
}

func TestFirstTransactionIsOne(t *testing.T) {
	checkLeaks(t)
	host, dev := transport.Pipe()
	p := newPeer(t, dev)
	defer dev.Close()
	ch := make(chan *Session, 1)
	go func() {
		s, err := Open(context.Background(), host, Options{})
		if err != nil {
			t.Error(err)
		}
		ch <- s
	}()
	open := p.expect(mbim.TypeOpen)
	if open.TransactionID != 1 {
		t.Errorf("OPEN has transaction id %d, want 1", open.TransactionID)
	}
	if open.MaxControlTransfer != transport.DefaultMaxControlTransfer {
		t.Errorf("OPEN MaxControlTransfer %d, want the transport's %d", open.MaxControlTransfer, transport.DefaultMaxControlTransfer)
	}
	p.simple(mbim.TypeOpenDone, 1)
	ds := p.expect(mbim.TypeCommand)
	if ds.TransactionID != 2 {
		t.Errorf("DEVICE_SERVICES has transaction id %d, want 2", ds.TransactionID)
	}
	p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: basicServices})
	s := <-ch
	if s == nil {
		return
	}
	closeCh := async(func() error { return s.Close(context.Background()) })
	c := p.expect(mbim.TypeClose)
	p.simple(mbim.TypeCloseDone, c.TransactionID)
	if err := waitErr(t, closeCh); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStrayResponsesDropped(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	s, p := pipeSession(t, Options{Logger: log}, basicServices, 0)
	ctx := ctxT(t)

	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	// A COMMAND_DONE nobody asked for, an OPEN_DONE and a CLOSE_DONE with
	// the request's id (wrong type), an indication: all dropped or routed
	// elsewhere; then the real answer.
	p.reply(mbim.Message{TransactionID: 4242, Service: basicconnect.UUID, CID: 1}, mbim.StatusNone, caps)
	p.simple(mbim.TypeOpenDone, req.TransactionID)
	p.simple(mbim.TypeCloseDone, req.TransactionID)
	p.send(mbim.Message{Type: mbim.TypeFunctionError, TransactionID: 777, ErrorCode: mbim.ErrUnknown})
	p.send(mbim.Message{Type: mbim.TypeCommand, TransactionID: 5, Service: basicconnect.UUID, CID: 1})
	p.reply(req, mbim.StatusNone, caps)
	if err := waitErr(t, ch); err != nil {
		t.Fatalf("DeviceCaps: %v", err)
	}
	out := lb.String()
	for _, want := range []string{"transaction=4242", "wrong type", "transaction=777", "host-to-device"} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not mention %q:\n%s", want, out)
		}
	}
}

func TestResponseForAnotherCommand(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	req.CID = basicconnect.CIDRadioState
	p.reply(req, mbim.StatusNone, &basicconnect.RadioStateResponse{})
	err := waitErr(t, ch)
	var re *RequestError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "radio-state") {
		t.Fatalf("err = %v, want a *RequestError about the radio-state response", err)
	}
}

func TestFunctionErrorIsTyped(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	p.send(mbim.Message{Type: mbim.TypeFunctionError, TransactionID: req.TransactionID, ErrorCode: mbim.ErrTimeoutFragment})
	err := waitErr(t, ch)
	var fe *FunctionError
	if !errors.As(err, &fe) || !errors.Is(err, mbim.ErrTimeoutFragment) || fe.TransactionID != req.TransactionID {
		t.Fatalf("err = %v, want a *FunctionError matching ErrTimeoutFragment", err)
	}
	if !strings.Contains(err.Error(), "device-caps") {
		t.Errorf("error does not name the request: %v", err)
	}
}

func TestStatusErrorKeepsBuffer(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	type result struct {
		r   *basicconnect.PinResponse
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := s.EnterPIN(ctx, "0000")
		ch <- result{r, err}
	}()
	req := p.expect(mbim.TypeCommand)
	d := catalog.Decode(req, mbim.MBIMEx1)
	if ps, ok := d.Info.(*basicconnect.PinSet); !ok || ps.Pin != "0000" || ps.PinOperation != basicconnect.PinOperationEnter {
		t.Fatalf("PIN set decoded as %#v", d.Info)
	}
	p.reply(req, mbim.StatusFailure, &basicconnect.PinResponse{PinType: basicconnect.PinTypePin1,
		PinState: basicconnect.PinStateLocked, RemainingAttempts: 2})
	r := <-ch
	if !errors.Is(r.err, &mbim.StatusError{Status: mbim.StatusFailure, Service: basicconnect.UUID, CID: basicconnect.CIDPin}) {
		t.Fatalf("err = %v, want status failure for basic-connect pin", r.err)
	}
	if r.r == nil || r.r.RemainingAttempts != 2 {
		t.Fatalf("PIN response %+v, want the 2 remaining attempts carried with the failure", r.r)
	}

	// Command returns the buffer with the status error too.
	ch2 := make(chan []byte, 1)
	go func() {
		b, err := s.Command(ctx, basicconnect.UUID, basicconnect.CIDPin, mbim.CommandQuery, nil)
		var se *mbim.StatusError
		if !errors.As(err, &se) || se.Status != mbim.StatusPINRequired {
			t.Errorf("Command: %v, want status pin-required", err)
		}
		ch2 <- b
	}()
	req = p.expect(mbim.TypeCommand)
	p.reply(req, mbim.StatusPINRequired, &basicconnect.PinResponse{PinType: basicconnect.PinTypePin1, RemainingAttempts: 3})
	if b := <-ch2; len(b) != 12 {
		t.Errorf("Command returned %d bytes with the status error, want 12", len(b))
	}
}

func TestFragmentedResponse(t *testing.T) {
	checkLeaks(t)
	var traced []string
	s, p := pipeSession(t, Options{Trace: func(dir string, raw []byte, d *catalog.Decoded) {
		traced = append(traced, dir+" "+d.Message.Type.String())
	}}, basicServices, 0)
	ctx := ctxT(t)
	big := *caps
	big.FirmwareInfo = strings.Repeat("firmware ", 40)
	ch := make(chan *basicconnect.DeviceCapsResponse, 1)
	go func() {
		r, err := s.DeviceCaps(ctx)
		if err != nil {
			t.Error(err)
		}
		ch <- r
	}()
	req := p.expect(mbim.TypeCommand)
	b, _ := catalog.Build(mbim.TypeCommandDone, req.TransactionID, basicconnect.UUID, 1, 0, 0, &big)
	frags, err := mbim.Fragment(nil, b, 64)
	if err != nil || len(frags) < 10 {
		t.Fatalf("fragment: %d, %v", len(frags), err)
	}
	for _, f := range frags {
		p.sendRaw(f)
	}
	r := <-ch
	if r == nil || r.FirmwareInfo != big.FirmwareInfo {
		t.Fatalf("reassembled response %+v", r)
	}
	if got := strings.Join(traced, ","); !strings.HasSuffix(got, "send command,recv command-done") {
		t.Errorf("trace %q", got)
	}
}

func TestFragmentedRequest(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{MaxControlTransfer: 64}, basicServices, 0)
	if s.MaxControlTransfer() != 64 {
		t.Fatalf("MaxControlTransfer %d", s.MaxControlTransfer())
	}
	ctx := ctxT(t)
	params := ConnectParams{APN: strings.Repeat("apn.", 30) + "example", User: "user", Password: "secret",
		Auth: basicconnect.AuthProtocolChap, IPType: basicconnect.ContextIpTypeIpv4v6}
	ch := async(func() error { _, err := s.Disconnect(ctx, 0); return err })
	req := p.expect(mbim.TypeCommand)
	p.reply(req, mbim.StatusNone, &basicconnect.ConnectResponse{ActivationState: basicconnect.ActivationStateDeactivated})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}

	ch = async(func() error { _, err := s.Connect(ctx, params); return err })
	var n int
	var msg []byte
	for msg == nil {
		f, err := p.recvFrag(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) > 64 {
			t.Fatalf("fragment of %d bytes above the 64-byte maximum", len(f))
		}
		n++
		if msg, err = p.r.Add(f, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n < 5 {
		t.Errorf("connect sent in %d fragments", n)
	}
	req, _ = mbim.ParseMessage(msg)
	set, ok := catalog.Decode(req, mbim.MBIMEx1).Info.(*basicconnect.ConnectSet)
	if !ok || set.AccessString != params.APN || set.Password != "secret" || set.AuthProtocol != basicconnect.AuthProtocolChap {
		t.Fatalf("connect set %#v", set)
	}
	p.reply(req, mbim.StatusNone, &basicconnect.ConnectResponse{ActivationState: basicconnect.ActivationStateActivated,
		IpType: basicconnect.ContextIpTypeIpv4v6, ContextType: mbim.ContextType(mbim.ContextTypeInternet)})
	ipq := p.expect(mbim.TypeCommand)
	if ipq.CID != basicconnect.CIDIpConfiguration {
		t.Fatalf("want an ip-configuration query, got %v", ipq)
	}
	p.reply(ipq, mbim.StatusNone, &basicconnect.IpConfigurationResponse{})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
}

func TestFragmentOutOfSequence(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	s, p := pipeSession(t, Options{Logger: log}, basicServices, 0)
	ctx := ctxT(t)
	big := *caps
	big.FirmwareInfo = strings.Repeat("x", 200)
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	b, _ := catalog.Build(mbim.TypeCommandDone, req.TransactionID, basicconnect.UUID, 1, 0, 0, &big)
	frags, _ := mbim.Fragment(nil, b, 64)
	p.sendRaw(frags[0])
	p.sendRaw(frags[2]) // fragment 1 skipped
	err := waitErr(t, ch)
	if !errors.Is(err, mbim.ErrFragmentOutOfSequence) {
		t.Fatalf("err = %v, want ErrFragmentOutOfSequence", err)
	}
	he := p.expect(mbim.TypeHostError)
	if he.TransactionID != req.TransactionID || he.ErrorCode != mbim.ErrFragmentOutOfSequence {
		t.Errorf("HOST_ERROR %v, want fragment-out-of-sequence for transaction %d", he, req.TransactionID)
	}
	lb.waitFor(t, "protocol fault")

	// The session goes on.
	ch = async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req = p.expect(mbim.TypeCommand)
	p.reply(req, mbim.StatusNone, caps)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
}

func TestFragmentTimeout(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{FragmentTimeout: 50 * time.Millisecond}, basicServices, 0)
	ctx := ctxT(t)
	big := *caps
	big.FirmwareInfo = strings.Repeat("x", 200)
	start := time.Now()
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	b, _ := catalog.Build(mbim.TypeCommandDone, req.TransactionID, basicconnect.UUID, 1, 0, 0, &big)
	frags, _ := mbim.Fragment(nil, b, 64)
	p.sendRaw(frags[0])
	p.sendRaw(frags[1])
	err := waitErr(t, ch)
	if !errors.Is(err, mbim.ErrTimeoutFragment) {
		t.Fatalf("err = %v, want ErrTimeoutFragment", err)
	}
	if el := time.Since(start); el < 50*time.Millisecond || el > 3*time.Second {
		t.Errorf("timed out after %v, want about 50ms", el)
	}
	he := p.expect(mbim.TypeHostError)
	if he.TransactionID != req.TransactionID || he.ErrorCode != mbim.ErrTimeoutFragment {
		t.Errorf("HOST_ERROR %v, want timeout-fragment for transaction %d", he, req.TransactionID)
	}
	// The rest of the message, late, is a continuation without a start:
	// the transaction was already answered with HOST_ERROR.
	p.sendRaw(frags[2])
	p.quiet(50 * time.Millisecond)
}

func TestMalformedResponse(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	b, _ := catalog.Build(mbim.TypeCommandDone, req.TransactionID, basicconnect.UUID, 1, 0, 0, caps)
	binary.LittleEndian.PutUint32(b[44:], binary.LittleEndian.Uint32(b[44:])+256) // InformationBufferLength
	p.sendRaw(b)
	err := waitErr(t, ch)
	var fe *mbim.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *mbim.FormatError", err)
	}
	he := p.expect(mbim.TypeHostError)
	if he.ErrorCode != mbim.ErrLengthMismatch || he.TransactionID != req.TransactionID {
		t.Errorf("HOST_ERROR %v", he)
	}
}

func TestUndecodableResponse(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	ch := make(chan *catalog.Decoded, 1)
	go func() {
		d, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDDeviceCaps, nil)
		var re *RequestError
		if !errors.As(err, &re) || d == nil || d.Err == nil {
			t.Errorf("Query: %v, %v; want a decode error with the Decoded", d, err)
		}
		ch <- d
	}()
	req := p.expect(mbim.TypeCommand)
	p.send(mbim.Message{Type: mbim.TypeCommandDone, TransactionID: req.TransactionID, Service: req.Service,
		CID: req.CID, InformationBuffer: []byte{1, 2, 3, 4}})
	if d := <-ch; d != nil && len(d.Message.InformationBuffer) != 4 {
		t.Errorf("raw buffer %x", d.Message.InformationBuffer)
	}
}

func TestCancelledRequestLateResponse(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	s, p := pipeSession(t, Options{Logger: log}, basicServices, 0)
	ctx, cancel := context.WithCancel(context.Background())
	ch := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	req := p.expect(mbim.TypeCommand)
	cancel()
	err := waitErr(t, ch)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	p.reply(req, mbim.StatusNone, caps) // late
	lb.waitFor(t, "late response")

	// Deadline.
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer dcancel()
	ch = async(func() error { _, err := s.DeviceCaps(dctx); return err })
	p.expect(mbim.TypeCommand)
	err = waitErr(t, ch)
	var re *RequestError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &re) || !strings.Contains(err.Error(), "no response within") {
		t.Fatalf("err = %v, want a RequestError wrapping DeadlineExceeded", err)
	}

	// Options.RequestTimeout when the context has none.
	s.reqTimeout = 30 * time.Millisecond
	ch = async(func() error { _, err := s.DeviceCaps(context.Background()); return err })
	p.expect(mbim.TypeCommand)
	if err := waitErr(t, ch); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded from the request timeout", err)
	}
}

func TestDeviceGoneFailsPendingAtOnce(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { _, err := s.DeviceCaps(ctx); errs <- err }()
	}
	for i := 0; i < n; i++ {
		p.expect(mbim.TypeCommand)
	}
	start := time.Now()
	p.conn.Close()
	for i := 0; i < n; i++ {
		err := waitErr(t, errs)
		var ge *GoneError
		if !errors.Is(err, ErrDeviceGone) || !errors.Is(err, io.EOF) || !errors.As(err, &ge) {
			t.Fatalf("err = %v, want ErrDeviceGone wrapping io.EOF", err)
		}
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("pending requests failed after %v", el)
	}
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed")
	}
	if _, err := s.DeviceCaps(ctx); !errors.Is(err, ErrDeviceGone) {
		t.Errorf("request after the device went away: %v", err)
	}
	if !errors.Is(s.Err(), ErrDeviceGone) || !strings.Contains(s.Err().Error(), "check dmesg") {
		t.Errorf("Err() = %v", s.Err())
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close after the device went away: %v", err)
	}
}

func TestOpenRetries(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	host, dev := transport.Pipe()
	p := newPeer(t, dev)
	defer dev.Close()
	type res struct {
		s   *Session
		err error
	}
	ch := make(chan res, 1)
	start := time.Now()
	go func() {
		s, err := Open(context.Background(), host, Options{OpenRetryInterval: 40 * time.Millisecond, Logger: log})
		ch <- res{s, err}
	}()
	o1 := p.expect(mbim.TypeOpen) // dropped
	o2 := p.expect(mbim.TypeOpen) // dropped
	o3 := p.expect(mbim.TypeOpen)
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Errorf("three OPENs within %v; want waits of 40ms then 80ms", el)
	}
	if o1.TransactionID == o2.TransactionID || o2.TransactionID == o3.TransactionID {
		t.Errorf("retries reuse transaction ids %d %d %d", o1.TransactionID, o2.TransactionID, o3.TransactionID)
	}
	// Answer the second attempt late: accepted.
	p.simple(mbim.TypeOpenDone, o2.TransactionID)
	p.simple(mbim.TypeOpenDone, o3.TransactionID) // a second answer: dropped
	ds := p.expect(mbim.TypeCommand)
	p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: basicServices})
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	lb.waitFor(t, "sending it again")
	lb.waitFor(t, "late response")
	closeCh := async(func() error { return r.s.Close(context.Background()) })
	c := p.expect(mbim.TypeClose)
	p.simple(mbim.TypeCloseDone, c.TransactionID)
	if err := waitErr(t, closeCh); err != nil {
		t.Fatal(err)
	}
}

func TestOpenTimeout(t *testing.T) {
	checkLeaks(t)
	host, dev := transport.Pipe()
	p := newPeer(t, dev)
	defer dev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := Open(ctx, host, Options{OpenRetryInterval: 20 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "OPEN attempts") {
		t.Fatalf("err = %v", err)
	}
	n := 0
	for {
		if _, err := p.recvFrag(50 * time.Millisecond); err != nil {
			break
		}
		n++
	}
	if n < 3 {
		t.Errorf("%d OPEN attempts in 150ms with a 20ms first interval", n)
	}
	if _, err := host.ReadMessage(); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("failed Open left the transport open: %v", err)
	}
}

func TestCloseBeforeOpen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(p *peer, tid uint32)
	}{
		{"close-done", func(p *peer, tid uint32) { p.simple(mbim.TypeCloseDone, tid) }},
		{"not-opened", func(p *peer, tid uint32) {
			p.send(mbim.Message{Type: mbim.TypeFunctionError, TransactionID: tid, ErrorCode: mbim.ErrNotOpened})
		}},
		{"open-failed", func(p *peer, tid uint32) {
			p.send(mbim.Message{Type: mbim.TypeOpenDone, TransactionID: tid, Status: mbim.StatusFailure})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			host, dev := transport.Pipe()
			p := newPeer(t, dev)
			defer dev.Close()
			ch := make(chan error, 1)
			var s *Session
			go func() {
				var err error
				s, err = Open(context.Background(), host, Options{})
				ch <- err
			}()
			o := p.expect(mbim.TypeOpen)
			tc.answer(p, o.TransactionID)
			c := p.expect(mbim.TypeClose)
			p.simple(mbim.TypeCloseDone, c.TransactionID)
			o = p.expect(mbim.TypeOpen)
			p.simple(mbim.TypeOpenDone, o.TransactionID)
			ds := p.expect(mbim.TypeCommand)
			p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: basicServices})
			if err := waitErr(t, ch); err != nil {
				t.Fatal(err)
			}
			s.abort()
		})
	}

	t.Run("twice", func(t *testing.T) {
		checkLeaks(t)
		host, dev := transport.Pipe()
		p := newPeer(t, dev)
		defer dev.Close()
		ch := async(func() error { _, err := Open(context.Background(), host, Options{}); return err })
		o := p.expect(mbim.TypeOpen)
		p.simple(mbim.TypeCloseDone, o.TransactionID)
		c := p.expect(mbim.TypeClose)
		p.simple(mbim.TypeCloseDone, c.TransactionID)
		o = p.expect(mbim.TypeOpen)
		p.simple(mbim.TypeCloseDone, o.TransactionID)
		if err := waitErr(t, ch); err == nil || !strings.Contains(err.Error(), "CLOSE_DONE") {
			t.Fatalf("err = %v, want a refusal after one close before open", err)
		}
	})

	t.Run("close-first", func(t *testing.T) {
		checkLeaks(t)
		host, dev := transport.Pipe()
		p := newPeer(t, dev)
		defer dev.Close()
		var s *Session
		ch := async(func() error {
			var err error
			s, err = Open(context.Background(), host, Options{CloseFirst: true, OpenRetryInterval: 50 * time.Millisecond})
			return err
		})
		p.expect(mbim.TypeClose) // not answered: opening goes on
		o := p.expect(mbim.TypeOpen)
		p.simple(mbim.TypeOpenDone, o.TransactionID)
		ds := p.expect(mbim.TypeCommand)
		p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: basicServices})
		if err := waitErr(t, ch); err != nil {
			t.Fatal(err)
		}
		s.abort()
	})
}

func TestVersionNegotiationByHand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services []basicconnect.DeviceServiceElement
		max      mbim.Version
		device   mbim.Version // reply; 0: answer with a failure status
		offered  mbim.Version // expected in the query; 0: no query
		want     mbim.Version
	}{
		{"no-ext-service", basicServices, 0, 0, 0, mbim.MBIMEx1},
		{"device-3", extServices(), 0, mbim.MBIMEx3, mbim.MBIMEx4, mbim.MBIMEx3},
		{"device-4", extServices(), 0, mbim.MBIMEx4, mbim.MBIMEx4, mbim.MBIMEx4},
		{"host-max-2", extServices(), mbim.MBIMEx2, mbim.MBIMEx2, mbim.MBIMEx2, mbim.MBIMEx2},
		{"device-above-host", extServices(), mbim.MBIMEx2, mbim.MBIMEx4, mbim.MBIMEx2, mbim.MBIMEx2},
		{"host-max-1", extServices(), mbim.MBIMEx1, 0, 0, mbim.MBIMEx1},
		{"version-fails", extServices(), 0, 0, mbim.MBIMEx4, mbim.MBIMEx1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			host, dev := transport.Pipe()
			p := newPeer(t, dev)
			defer dev.Close()
			var s *Session
			ch := async(func() error {
				var err error
				s, err = Open(context.Background(), host, Options{MaxMBIMEx: tc.max})
				return err
			})
			o := p.expect(mbim.TypeOpen)
			p.simple(mbim.TypeOpenDone, o.TransactionID)
			ds := p.expect(mbim.TypeCommand)
			p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: tc.services})
			if tc.offered != 0 {
				v := p.expect(mbim.TypeCommand)
				q, ok := catalog.Decode(v, mbim.MBIMEx1).Info.(*msbasicconnectext.VersionQuery)
				if v.CID != msbasicconnectext.CIDVersion || !ok {
					t.Fatalf("want a VERSION query, got %v", v)
				}
				if mbim.Version(q.MbimExtendedVersion) != tc.offered || q.MbimVersion != 0x0100 {
					t.Errorf("VERSION offers MBIM %#x MBIMEx %#x, want 0x100 and %#x", q.MbimVersion, q.MbimExtendedVersion, uint16(tc.offered))
				}
				if tc.device == 0 {
					p.reply(v, mbim.StatusNoDeviceSupport, nil)
				} else {
					p.reply(v, mbim.StatusNone, &msbasicconnectext.VersionResponse{MbimVersion: 0x0100, MbimExtendedVersion: uint16(tc.device)})
				}
			}
			if err := waitErr(t, ch); err != nil {
				t.Fatal(err)
			}
			defer s.abort()
			p.quiet(20 * time.Millisecond)
			if got := s.MBIMEx(); got != tc.want {
				t.Errorf("MBIMEx %v, want %v", got, tc.want)
			}
		})
	}
}

// With SkipDeviceServices, Open asks nothing after OPEN_DONE at MBIMEx
// 1.0, and goes straight to VERSION when it negotiates.
func TestSkipDeviceServices(t *testing.T) {
	for _, max := range []mbim.Version{mbim.MBIMEx1, mbim.MBIMEx4} {
		t.Run(max.String(), func(t *testing.T) {
			checkLeaks(t)
			host, dev := transport.Pipe()
			p := newPeer(t, dev)
			defer dev.Close()
			var s *Session
			ch := async(func() error {
				var err error
				s, err = Open(context.Background(), host, Options{MaxMBIMEx: max, SkipDeviceServices: true})
				return err
			})
			o := p.expect(mbim.TypeOpen)
			p.simple(mbim.TypeOpenDone, o.TransactionID)
			if max > mbim.MBIMEx1 {
				v := p.expect(mbim.TypeCommand)
				if v.Service != msbasicconnectext.UUID || v.CID != msbasicconnectext.CIDVersion {
					t.Fatalf("want VERSION after OPEN_DONE, got %v", v)
				}
				p.reply(v, mbim.StatusNone, &msbasicconnectext.VersionResponse{MbimVersion: 0x0100, MbimExtendedVersion: uint16(mbim.MBIMEx3)})
			}
			if err := waitErr(t, ch); err != nil {
				t.Fatal(err)
			}
			defer s.abort()
			p.quiet(20 * time.Millisecond)
			want := mbim.MBIMEx1
			if max > mbim.MBIMEx1 {
				want = mbim.MBIMEx3
			}
			if got := s.MBIMEx(); got != want {
				t.Errorf("MBIMEx %v, want %v", got, want)
			}
			if list, _ := s.Services(); list != nil || !s.Supports(basicconnect.UUID, basicconnect.CIDDeviceCaps) || !s.Supports(msbasicconnectext.UUID, 0) {
				t.Errorf("Services %v; Supports must be true when nothing is known", list)
			}
			// The first request after Open is the program's.
			ch = async(func() error {
				_, err := s.Query(ctxT(t), basicconnect.UUID, basicconnect.CIDRadioState, nil)
				return err
			})
			r := p.expect(mbim.TypeCommand)
			if r.CID != basicconnect.CIDRadioState {
				t.Fatalf("want RADIO_STATE, got %v", r)
			}
			p.reply(r, mbim.StatusNone, &basicconnect.RadioStateResponse{HwRadioState: 1, SwRadioState: 1})
			if err := waitErr(t, ch); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLayoutFollowsVersion(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, extServices(), mbim.MBIMEx3)
	ctx := ctxT(t)
	if s.MBIMEx() != mbim.MBIMEx3 {
		t.Fatalf("MBIMEx %v", s.MBIMEx())
	}
	// A v1 connect set is refused before anything is sent.
	_, err := s.Set(ctx, basicconnect.UUID, basicconnect.CIDConnect, &basicconnect.ConnectSet{})
	if err == nil || !strings.Contains(err.Error(), "ConnectSetV3") {
		t.Fatalf("v1 payload at MBIMEx 3.0: %v", err)
	}
	var r basicconnect.ConnectResponse
	if err := s.Do(ctx, basicconnect.UUID, basicconnect.CIDConnect, mbim.CommandSet, &basicconnect.ConnectSetV3{}, &r); err == nil {
		t.Fatal("Do accepted a v1 response type at MBIMEx 3.0")
	}
	if _, err := s.Query(ctx, basicconnect.UUID, basicconnect.CIDDeviceCaps, &basicconnect.RadioStateSet{}); err == nil {
		t.Fatal("a payload for an empty query was accepted")
	}
	p.quiet(20 * time.Millisecond)

	// Connect picks the v3 layout and decodes the v3 response.
	type res struct {
		c   *Connection
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := s.Connect(ctx, ConnectParams{APN: "internet", IPType: basicconnect.ContextIpTypeIpv4})
		ch <- res{c, err}
	}()
	req := p.expect(mbim.TypeCommand)
	set, ok := catalog.Decode(req, mbim.MBIMEx3).Info.(*basicconnect.ConnectSetV3)
	if !ok || set.AccessString != "internet" || set.ActivationCommand != basicconnect.ActivationCommandActivate {
		t.Fatalf("connect set at 3.0: %#v", catalog.Decode(req, mbim.MBIMEx3).Info)
	}
	p.reply(req, mbim.StatusNone, &basicconnect.ConnectResponseV3{SessionId: 0, ActivationState: basicconnect.ActivationStateActivated,
		IpType: basicconnect.ContextIpTypeIpv4, AccessString: "internet"})
	ipq := p.expect(mbim.TypeCommand)
	ip := &basicconnect.IpConfigurationResponse{
		IPv4ConfigurationAvailable: basicconnect.IPConfigurationAvailableFlagAddress | basicconnect.IPConfigurationAvailableFlagGateway |
			basicconnect.IPConfigurationAvailableFlagDns | basicconnect.IPConfigurationAvailableFlagMtu,
		IPv4Address:   []basicconnect.IPv4Element{{OnLinkPrefixLength: 24, IPv4Address: mustAddr("10.1.2.3")}},
		IPv4Gateway:   mustAddr("10.1.2.1"),
		IPv4DnsServer: []netipAddr{mustAddr("10.1.2.53")},
		IPv4Mtu:       1500,
	}
	p.reply(ipq, mbim.StatusNone, ip)
	r2 := <-ch
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	c := r2.c
	if c.AccessString != "internet" || c.IP == nil || c.IP.IPv4Addresses[0].String() != "10.1.2.3/24" ||
		c.IP.IPv4Gateway.String() != "10.1.2.1" || c.IP.IPv4MTU != 1500 || len(c.IP.IPv4DNS) != 1 {
		t.Errorf("connection %+v, ip %+v", c, c.IP)
	}
}

func TestIndications(t *testing.T) {
	checkLeaks(t)
	log, lb := testLogger(t)
	s, p := pipeSession(t, Options{Logger: log, IndicationBuffer: 2}, basicServices, 0)
	all, stopAll := s.Indications()
	radio, stopRadio := s.Indications(Event{Service: basicconnect.UUID, CID: basicconnect.CIDRadioState})
	got := make(chan *catalog.Decoded, 16)
	stopCB := s.OnIndication(func(d *catalog.Decoded) { got <- d }, Event{Service: basicconnect.UUID})

	ind := func(cid uint32, info mbim.Info) {
		b, _ := catalog.Build(mbim.TypeIndicateStatus, 0, basicconnect.UUID, cid, 0, 0, info)
		p.sendRaw(b)
	}
	ind(basicconnect.CIDRadioState, &basicconnect.RadioStateResponse{HwRadioState: 1, SwRadioState: 0})
	ind(basicconnect.CIDSignalState, &basicconnect.SignalStateResponse{Rssi: 20})
	d := <-radio
	if r, ok := d.Info.(*basicconnect.RadioStateResponse); !ok || r.HwRadioState != 1 {
		t.Fatalf("radio indication %v", d)
	}
	for i, cid := range []uint32{basicconnect.CIDRadioState, basicconnect.CIDSignalState} {
		select {
		case d := <-all:
			if d.Message.CID != cid {
				t.Errorf("indication %d: cid %d, want %d", i, d.Message.CID, cid)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no indication")
		}
		select {
		case d := <-got:
			if d.Message.CID != cid {
				t.Errorf("callback %d: cid %d, want %d", i, d.Message.CID, cid)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no callback")
		}
	}
	// A subscriber that does not read loses indications beyond its buffer,
	// without holding up the others.
	for i := 0; i < 4; i++ {
		ind(basicconnect.CIDRadioState, &basicconnect.RadioStateResponse{})
	}
	lb.waitFor(t, "not keeping up")
	stopRadio()
	n := 0
	for range radio {
		n++
	}
	if n != 2 {
		t.Errorf("%d indications buffered for a subscriber with a buffer of 2", n)
	}
	stopCB()
	stopAll()
	for range all {
	}
}

func TestSubscribeUnion(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{}, basicServices, 0)
	ctx := ctxT(t)
	expectList := func(want map[mbim.UUID][]uint32) {
		t.Helper()
		req := p.expect(mbim.TypeCommand)
		set, ok := catalog.Decode(req, mbim.MBIMEx1).Info.(*basicconnect.DeviceServiceSubscribeListSet)
		if req.CID != basicconnect.CIDDeviceServiceSubscribeList || req.CommandType != mbim.CommandSet || !ok {
			t.Fatalf("want a subscribe-list set, got %v", req)
		}
		if len(set.Events) != len(want) {
			t.Errorf("subscribe list %+v, want %v", set.Events, want)
		}
		for _, e := range set.Events {
			if !equalU32(e.Cids, want[e.DeviceServiceId]) {
				t.Errorf("service %v: cids %v, want %v", e.DeviceServiceId, e.Cids, want[e.DeviceServiceId])
			}
		}
		p.reply(req, mbim.StatusNone, &basicconnect.DeviceServiceSubscribeListResponse{Events: set.Events})
	}
	var s1, s2 *Subscription
	ch := async(func() error {
		var err error
		s1, err = s.Subscribe(ctx, Event{basicconnect.UUID, basicconnect.CIDSignalState}, Event{basicconnect.UUID, basicconnect.CIDRadioState})
		return err
	})
	expectList(map[mbim.UUID][]uint32{basicconnect.UUID: {3, 11}})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	ch = async(func() error {
		var err error
		s2, err = s.Subscribe(ctx, Event{basicconnect.UUID, basicconnect.CIDSignalState}, Event{basicconnect.UUID, basicconnect.CIDConnect})
		return err
	})
	expectList(map[mbim.UUID][]uint32{basicconnect.UUID: {3, 11, 12}})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	ch = async(func() error { return s1.Unsubscribe(ctx) })
	expectList(map[mbim.UUID][]uint32{basicconnect.UUID: {11, 12}})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	ch = async(func() error { return s2.Unsubscribe(ctx) })
	expectList(map[mbim.UUID][]uint32{})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}

	// Every CID of a service: the notifying ones the device lists.
	ch = async(func() error { _, err := s.Subscribe(ctx, Event{Service: basicconnect.UUID}); return err })
	expectList(map[mbim.UUID][]uint32{basicconnect.UUID: {2, 3, 7, 9, 10, 11, 12, 13, 15}})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}

	// A failed subscribe registers nothing.
	ch = async(func() error {
		_, err := s.Subscribe(ctx, Event{basicconnect.UUID, basicconnect.CIDEmergencyMode})
		return err
	})
	req := p.expect(mbim.TypeCommand)
	p.reply(req, mbim.StatusFailure, nil)
	if err := waitErr(t, ch); err == nil {
		t.Fatal("want an error")
	}
	list, _ := s.SubscribeList()
	if len(list) != 1 || len(list[0].Cids) != 9 {
		t.Errorf("subscribe list after a failure: %+v", list)
	}
}

func TestCloseWithoutCloseDone(t *testing.T) {
	checkLeaks(t)
	s, p := pipeSession(t, Options{CloseTimeout: 50 * time.Millisecond}, basicServices, 0)
	ctx := ctxT(t)
	pending := async(func() error { _, err := s.DeviceCaps(ctx); return err })
	p.expect(mbim.TypeCommand)
	start := time.Now()
	err := s.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "CLOSE_DONE") {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %v", el)
	}
	p.expect(mbim.TypeClose)
	if err := waitErr(t, pending); !errors.Is(err, ErrClosed) {
		t.Errorf("pending request: %v, want ErrClosed", err)
	}
	if _, err := s.DeviceCaps(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("request after Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := <-p.in; ok {
		// drain until the transport is closed
		for range p.in {
		}
	}
}

type netipAddr = netip.Addr

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestCloseWhenDeviceStopsReading(t *testing.T) {
	checkLeaks(t)
	host, dev := transport.Pipe()
	defer dev.Close()
	// Play the handshake without a background reader, then stop reading.
	p := &peer{t: t, conn: dev, in: make(chan []byte), r: mbim.NewReassembler(0, 0)}
	readOne := func() mbim.Message {
		b, err := dev.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		m, err := mbim.ParseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var s *Session
	ch := async(func() error {
		var err error
		s, err = Open(context.Background(), host, Options{CloseTimeout: 100 * time.Millisecond})
		return err
	})
	o := readOne()
	p.simple(mbim.TypeOpenDone, o.TransactionID)
	ds := readOne()
	p.reply(ds, mbim.StatusNone, &basicconnect.DeviceServicesResponse{DeviceServices: basicServices})
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	// Fill the pipe: writes beyond its queue block.
	const n = transport.PipeQueue + 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { _, err := s.DeviceCaps(context.Background()); errs <- err }()
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	err := s.Close(context.Background())
	if el := time.Since(start); el > time.Second {
		t.Errorf("Close took %v with a device that does not read", el)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want a timeout", err)
	}
	for i := 0; i < n; i++ {
		if err := waitErr(t, errs); !errors.Is(err, ErrClosed) {
			t.Errorf("request: %v, want ErrClosed", err)
		}
	}
}

package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// Defaults for the zero Options.
const (
	// DefaultMaxMBIMEx is the highest MBIM extensions version the host
	// offers in MBIM_CID_VERSION.
	DefaultMaxMBIMEx = mbim.MBIMEx4
	// DefaultOpenTimeout bounds Open when the context has no deadline.
	DefaultOpenTimeout = 30 * time.Second
	// DefaultOpenRetryInterval is how long the first OPEN waits for
	// OPEN_DONE before it is sent again; the wait doubles for each retry,
	// up to MaxOpenRetryInterval.
	DefaultOpenRetryInterval = time.Second
	// MaxOpenRetryInterval caps the wait between OPEN retries (unless
	// Options.OpenRetryInterval is larger).
	MaxOpenRetryInterval = 4 * time.Second
	// DefaultCloseTimeout bounds the wait for CLOSE_DONE in Close.
	DefaultCloseTimeout = 2 * time.Second
	// DefaultRequestTimeout bounds a request whose context has no deadline.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultFragmentTimeout is the longest gap allowed between two
	// fragments of one message (libmbim's MAX_TIME_BETWEEN_FRAGMENTS_MS).
	DefaultFragmentTimeout = 1250 * time.Millisecond
	// DiscoveryTimeout bounds each query Open makes after OPEN_DONE
	// (DEVICE_SERVICES, VERSION), or Options.RequestTimeout if shorter: a
	// device that does not answer is taken not to support the query.
	DiscoveryTimeout = 5 * time.Second
	// DefaultIndicationBuffer is the channel capacity of each indication
	// subscriber.
	DefaultIndicationBuffer = 64
)

// Trace directions passed to Options.Trace.
const (
	TraceSend = "send"
	TraceRecv = "recv"
)

// Options configures a session. The zero value is ready to use.
type Options struct {
	// MaxControlTransfer is announced in OPEN and used as the fragment
	// size for sending. 0 means the transport's MaxControlTransfer. It
	// must be at least mbim.MinControlTransfer (64).
	MaxControlTransfer int

	// MaxMBIMEx is the highest MBIM extensions version the host offers
	// (DefaultMaxMBIMEx, 4.0, when 0). mbim.MBIMEx1 skips the
	// negotiation: the session speaks plain MBIM 1.0.
	MaxMBIMEx mbim.Version

	// OpenTimeout bounds Open (the OPEN handshake with its retries,
	// DEVICE_SERVICES and the MBIMEx negotiation) when the context passed
	// to Open has no deadline (DefaultOpenTimeout when 0).
	OpenTimeout time.Duration
	// OpenRetryInterval is how long the first OPEN waits before it is
	// sent again (DefaultOpenRetryInterval when 0). Each retry waits twice
	// as long as the previous one, up to MaxOpenRetryInterval.
	OpenRetryInterval time.Duration
	// CloseFirst sends CLOSE before the first OPEN, for devices known to
	// keep a session open across host restarts.
	CloseFirst bool
	// SkipDeviceServices leaves out the DEVICE_SERVICES query after
	// OPEN_DONE, one exchange less for a program that does not need to
	// know what the device supports. Services then returns nil and
	// Supports true, as when the device does not answer the query, and
	// the MBIMEx negotiation sends VERSION without knowing whether the
	// device lists it: a device that ignores it then delays Open by
	// DiscoveryTimeout. It is meant for sessions that do not negotiate
	// (MaxMBIMEx 1.0).
	SkipDeviceServices bool

	// CloseTimeout bounds the wait for CLOSE_DONE in Close
	// (DefaultCloseTimeout when 0).
	CloseTimeout time.Duration

	// RequestTimeout bounds each request whose context has no deadline
	// (DefaultRequestTimeout when 0; negative: no bound).
	RequestTimeout time.Duration

	// FragmentTimeout is the longest gap allowed between two fragments of
	// a received message (DefaultFragmentTimeout when 0; negative: none).
	FragmentTimeout time.Duration

	// MaxMessage is the largest reassembled message accepted
	// (mbim.DefaultMaxMessage, 1 MiB, when 0).
	MaxMessage int

	// IndicationBuffer is the channel capacity of each indication
	// subscriber (DefaultIndicationBuffer when 0).
	IndicationBuffer int

	// Logger receives diagnostics: dropped and unmatched messages,
	// protocol faults, retries, lost indications. nil discards them.
	Logger *slog.Logger

	// Trace, if set, is called with every complete message sent
	// (TraceSend, before it is fragmented and written) and received
	// (TraceRecv, after reassembly), raw and decoded with the MBIMEx
	// version in effect. raw is only valid during the call. Calls are
	// serialised; Trace must not call into the session.
	Trace func(dir string, raw []byte, decoded *catalog.Decoded)

	// Transport configures the connection that OpenPath opens.
	Transport transport.Options

	// Dial, if set, replaces transport.OpenContext in OpenPath. It lets a
	// program open special names itself, e.g. "sim" for an in-process
	// simulated modem, and hand the other names to transport.OpenContext.
	Dial func(ctx context.Context, path string, opts transport.Options) (transport.Conn, error)
}

type state uint8

const (
	stateOpening state = iota
	stateOpen
	stateClosing
	stateDead
)

// reply is what the reader hands to a waiting request.
type reply struct {
	msg mbim.Message // InformationBuffer is owned by the receiver
	err error        // the response could not be reassembled or parsed
}

// call is a request waiting for its answer.
type call struct {
	want    mbim.MessageType // OPEN_DONE, CLOSE_DONE or COMMAND_DONE
	open    bool             // an OPEN: CLOSE_DONE is an answer too
	service mbim.UUID
	cid     uint32
	ct      mbim.CommandType
	tids    []uint32   // transaction ids registered for it (under Session.mu)
	ch      chan reply // capacity 1; receives at most one reply
}

func newCall(want mbim.MessageType) *call {
	return &call{want: want, ch: make(chan reply, 1)}
}

func (c *call) accepts(t mbim.MessageType) bool {
	return t == c.want || t == mbim.TypeFunctionError || (c.open && t == mbim.TypeCloseDone)
}

// describe names the request in error messages.
func (c *call) describe() string {
	switch c.want {
	case mbim.TypeOpenDone:
		return "open"
	case mbim.TypeCloseDone:
		return "close"
	}
	return describeCommand(c.service, c.cid, c.ct)
}

func describeCommand(service mbim.UUID, cid uint32, ct mbim.CommandType) string {
	return catalog.ServiceName(service) + " " + catalog.CIDName(service, cid) + " " + ct.String()
}

// abandonedRing remembers recently abandoned transaction ids, so that a
// late response to a cancelled request is logged as such, not as a stray.
const abandonedRing = 64

// Session is an open MBIM control session. Its methods may be called from
// any number of goroutines.
type Session struct {
	conn       transport.Conn
	desc       string
	opts       Options
	log        *slog.Logger
	maxCtl     int
	reqTimeout time.Duration
	indBuf     int

	wmu sync.Mutex // held while the fragments of one message are written

	mu        sync.Mutex
	state     state
	err       error // why the session ended (stateDead)
	next      uint32
	pending   map[uint32]*call
	abandoned [abandonedRing]uint32
	abandonN  int
	faulted   [16]uint32 // transaction ids recently answered with HOST_ERROR
	faultN    int
	dead      chan struct{}  // closed on entering stateDead
	wg        sync.WaitGroup // reader, fragment timer, HOST_ERROR writers, callbacks

	rmu   sync.Mutex // guards reasm
	reasm *mbim.Reassembler
	rkick chan struct{} // wakes the fragment timer

	version atomic.Uint32 // negotiated mbim.Version

	// Set during Open, read-only afterwards.
	deviceVersion  mbim.Version // MbimVersion from MBIM_CID_VERSION, 0 if not asked
	deviceMBIMEx   mbim.Version // MbimExtendedVersion from MBIM_CID_VERSION
	servicesKnown  bool
	services       []basicconnect.DeviceServiceElement
	maxDssSessions uint32

	traceMu sync.Mutex

	imu      sync.Mutex // indication subscribers
	subs     map[*subscriber]struct{}
	subsDead bool

	smu  sync.Mutex // device subscribe list
	regs []*Subscription
}

// OpenPath opens the control channel at path (a device node, a Unix
// socket path, "@name" or "unix-abstract:name" for an abstract socket,
// "unix:/path"; see transport.Open), or whatever Options.Dial makes of it,
// and opens a session on it.
func OpenPath(ctx context.Context, path string, opts Options) (*Session, error) {
	dial := opts.Dial
	if dial == nil {
		dial = transport.OpenContext
	}
	conn, err := dial(ctx, path, opts.Transport)
	if err != nil {
		return nil, err
	}
	return Open(ctx, conn, opts)
}

// Open opens an MBIM session on conn: OPEN (with retries and close before
// open), DEVICE_SERVICES, MBIMEx negotiation; see the package
// documentation. The session owns conn from then on: Close closes it, and
// so does Open when it fails.
func Open(ctx context.Context, conn transport.Conn, opts Options) (*Session, error) {
	s, err := newSession(conn, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	s.start()
	if _, ok := ctx.Deadline(); !ok {
		total := s.opts.OpenTimeout
		if total <= 0 {
			total = DefaultOpenTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, total)
		defer cancel()
	}
	// When the context ends, close the transport: that also interrupts a
	// write that the device does not take.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = s.handshake(ctx)
	if err == nil {
		s.mu.Lock()
		if s.state == stateOpening {
			s.state = stateOpen
		}
		s.mu.Unlock()
		err = s.discover(ctx)
	}
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = &RequestError{Request: "open", Reason: "the context ended while opening", Err: cerr}
		}
		s.abort()
		return nil, err
	}
	return s, nil
}

func newSession(conn transport.Conn, opts Options) (*Session, error) {
	s := &Session{
		conn:    conn,
		desc:    conn.String(),
		opts:    opts,
		log:     opts.Logger,
		maxCtl:  opts.MaxControlTransfer,
		next:    1,
		pending: make(map[uint32]*call),
		dead:    make(chan struct{}),
		subs:    make(map[*subscriber]struct{}),
		rkick:   make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("device", s.desc)
	if s.maxCtl == 0 {
		s.maxCtl = conn.MaxControlTransfer()
	}
	if s.maxCtl < mbim.MinControlTransfer {
		return nil, fmt.Errorf("session: max control transfer %d of %s is below the MBIM minimum of %d bytes",
			s.maxCtl, s.desc, mbim.MinControlTransfer)
	}
	switch {
	case opts.RequestTimeout == 0:
		s.reqTimeout = DefaultRequestTimeout
	case opts.RequestTimeout > 0:
		s.reqTimeout = opts.RequestTimeout
	}
	s.indBuf = opts.IndicationBuffer
	if s.indBuf <= 0 {
		s.indBuf = DefaultIndicationBuffer
	}
	ft := opts.FragmentTimeout
	if ft == 0 {
		ft = DefaultFragmentTimeout
	}
	s.reasm = mbim.NewReassembler(opts.MaxMessage, ft)
	s.version.Store(uint32(mbim.MBIMEx1))
	return s, nil
}

func (s *Session) start() {
	s.wg.Add(1)
	go s.readLoop()
	if _, ok := s.fragmentTimeout(); ok {
		s.wg.Add(1)
		go s.fragmentTimer()
	}
}

func (s *Session) fragmentTimeout() (time.Duration, bool) {
	ft := s.opts.FragmentTimeout
	if ft == 0 {
		ft = DefaultFragmentTimeout
	}
	return ft, ft > 0
}

// abort ends a session that failed to open, without CLOSE.
func (s *Session) abort() {
	s.shutdown(ErrClosed)
	s.wg.Wait()
}

// String describes the session's transport.
func (s *Session) String() string { return s.desc }

// MBIMEx returns the negotiated MBIM extensions version (mbim.MBIMEx1 when
// none was negotiated). It implements mbim.Caller.
func (s *Session) MBIMEx() mbim.Version { return mbim.Version(s.version.Load()) }

// DeviceVersion returns what the device reported in MBIM_CID_VERSION: its
// MBIM version and its MBIM extensions version; both are 0 when the
// version was not negotiated.
func (s *Session) DeviceVersion() (mbimVersion, mbimExVersion mbim.Version) {
	return s.deviceVersion, s.deviceMBIMEx
}

// MaxControlTransfer returns the maximum control transfer announced in
// OPEN, which is also the size outgoing messages are fragmented at.
func (s *Session) MaxControlTransfer() int { return s.maxCtl }

// Services returns the device services the device listed in
// DEVICE_SERVICES (nil if it did not answer, or was not asked:
// Options.SkipDeviceServices), and its maximum number of DSS sessions.
// The slice is shared: do not modify it.
func (s *Session) Services() ([]basicconnect.DeviceServiceElement, uint32) {
	return s.services, s.maxDssSessions
}

// Supports reports whether the device listed cid of service in
// DEVICE_SERVICES (cid 0: whether it listed the service at all). It
// returns true when DEVICE_SERVICES was not answered (or not asked), since
// nothing is known then.
func (s *Session) Supports(service mbim.UUID, cid uint32) bool {
	if !s.servicesKnown {
		return true
	}
	for i := range s.services {
		e := &s.services[i]
		if e.DeviceServiceId != service {
			continue
		}
		if cid == 0 {
			return true
		}
		for _, c := range e.Cids {
			if c == cid {
				return true
			}
		}
		return false
	}
	return false
}

// Done returns a channel that is closed when the session ends: after
// Close, or when the device went away.
func (s *Session) Done() <-chan struct{} { return s.dead }

// Err returns nil while the session is usable, ErrClosed after Close, and
// a *GoneError when the device went away.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosing {
		return ErrClosed
	}
	return s.err
}

// ---- sending ----

// register assigns a new transaction id to c.
func (s *Session) register(c *call, t mbim.MessageType) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateDead:
		return 0, s.err
	case stateClosing:
		if t != mbim.TypeClose {
			return 0, ErrClosed
		}
	}
	var tid uint32
	for {
		tid = s.next
		s.next++
		if s.next == 0 {
			s.next = 1
		}
		if _, busy := s.pending[tid]; !busy {
			break
		}
	}
	c.tids = append(c.tids, tid)
	s.pending[tid] = c
	return tid, nil
}

// forget unregisters every transaction id of c, remembering them as
// abandoned when it still had any.
func (s *Session) forget(c *call) {
	s.mu.Lock()
	for _, tid := range c.tids {
		if s.pending[tid] == c {
			delete(s.pending, tid)
			s.abandoned[s.abandonN%abandonedRing] = tid
			s.abandonN++
		}
	}
	c.tids = c.tids[:0]
	s.mu.Unlock()
}

// takeLocked unregisters c because the answer to tid arrived. Its other
// transaction ids (earlier OPEN attempts) are remembered as abandoned.
func (s *Session) takeLocked(c *call, tid uint32) {
	for _, t := range c.tids {
		if s.pending[t] == c {
			delete(s.pending, t)
			if t != tid {
				s.abandoned[s.abandonN%abandonedRing] = t
				s.abandonN++
			}
		}
	}
	c.tids = c.tids[:0]
}

func (s *Session) wasAbandonedLocked(tid uint32) bool {
	for _, t := range s.abandoned {
		if t == tid && tid != 0 {
			return true
		}
	}
	return false
}

// send registers c under a new transaction id and writes m with it.
func (s *Session) send(c *call, m *mbim.Message) (uint32, error) {
	tid, err := s.register(c, m.Type)
	if err != nil {
		return 0, err
	}
	m.TransactionID = tid
	if err := s.write(m); err != nil {
		s.mu.Lock()
		for i, t := range c.tids {
			if t == tid {
				c.tids = append(c.tids[:i], c.tids[i+1:]...)
				break
			}
		}
		if s.pending[tid] == c {
			delete(s.pending, tid)
		}
		s.mu.Unlock()
		return tid, err
	}
	return tid, nil
}

// write encodes m, traces it, and writes its fragments.
func (s *Session) write(m *mbim.Message) error {
	buf, err := m.AppendBinary(make([]byte, 0, m.Len()))
	if err != nil {
		return err
	}
	if s.opts.Trace != nil {
		s.trace(TraceSend, buf, catalog.Decode(*m, s.MBIMEx()))
	}
	s.wmu.Lock()
	if len(buf) <= s.maxCtl {
		err = s.conn.WriteMessage(buf)
	} else {
		var frags [][]byte
		frags, err = mbim.Fragment(nil, buf, s.maxCtl)
		for _, f := range frags {
			if err != nil {
				break
			}
			err = s.conn.WriteMessage(f)
		}
	}
	s.wmu.Unlock()
	if err == nil {
		return nil
	}
	if isHangup(err) {
		s.shutdown(&GoneError{Device: s.desc, Err: err})
	}
	s.mu.Lock()
	dead, reason := s.state == stateDead, s.err
	s.mu.Unlock()
	switch {
	case dead:
		return reason
	case errors.Is(err, transport.ErrClosed):
		return ErrClosed // the session is closing the transport
	}
	return fmt.Errorf("writing to %s: %w", s.desc, err)
}

// isHangup reports whether a write error means that the other end is gone.
func isHangup(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

func (s *Session) trace(dir string, raw []byte, d *catalog.Decoded) {
	s.traceMu.Lock()
	defer s.traceMu.Unlock()
	s.opts.Trace(dir, raw, d)
}

// errAttemptTimeout is waitFor's own timeout.
var errAttemptTimeout = errors.New("session: attempt timed out")

// waitFor waits for c's reply, at most timeout (if > 0; errAttemptTimeout
// then). It leaves c registered when it returns an error.
func (s *Session) waitFor(ctx context.Context, c *call, timeout time.Duration) (reply, error) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case r := <-c.ch:
		return r, nil
	case <-tc:
		return reply{}, errAttemptTimeout
	case <-ctx.Done():
		select {
		case r := <-c.ch:
			return r, nil
		default:
		}
		return reply{}, ctx.Err()
	case <-s.dead:
		select {
		case r := <-c.ch:
			return r, nil
		default:
		}
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		return reply{}, err
	}
}

// roundTrip sends m for c and waits for the answer, bounded by ctx and, if
// ctx has no deadline, by the request timeout. Failures to get an answer
// are *RequestError values (or the session's end reason); the answer
// itself is returned as is.
func (s *Session) roundTrip(ctx context.Context, c *call, m *mbim.Message) (reply, uint32, error) {
	start := time.Now()
	tid, err := s.send(c, m)
	if err != nil {
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrDeviceGone) {
			return reply{}, tid, err
		}
		return reply{}, tid, &RequestError{Request: c.describe(), TransactionID: tid, Err: err}
	}
	timeout := time.Duration(0)
	if _, ok := ctx.Deadline(); !ok {
		timeout = s.reqTimeout
	}
	r, err := s.waitFor(ctx, c, timeout)
	if err == nil {
		return r, tid, nil
	}
	s.forget(c)
	switch {
	case err == errAttemptTimeout:
		return reply{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "no response within " + timeout.String(), Err: context.DeadlineExceeded}
	case errors.Is(err, context.DeadlineExceeded):
		return reply{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "no response within " + roundDuration(time.Since(start)).String(), Err: err}
	case errors.Is(err, context.Canceled):
		return reply{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "cancelled while waiting for the response", Err: err}
	}
	return reply{}, tid, err
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// command sends a COMMAND and returns the COMMAND_DONE. A status other
// than none is returned as a *mbim.StatusError together with the message.
func (s *Session) command(ctx context.Context, service mbim.UUID, cid uint32, ct mbim.CommandType, info []byte) (mbim.Message, uint32, error) {
	c := newCall(mbim.TypeCommandDone)
	c.service, c.cid, c.ct = service, cid, ct
	m := mbim.Message{Type: mbim.TypeCommand, Service: service, CID: cid, CommandType: ct, InformationBuffer: info}
	r, tid, err := s.roundTrip(ctx, c, &m)
	if err != nil {
		return mbim.Message{}, tid, err
	}
	if r.err != nil {
		return mbim.Message{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "bad response", Err: r.err}
	}
	switch r.msg.Type {
	case mbim.TypeFunctionError:
		return mbim.Message{}, tid, &FunctionError{Code: r.msg.ErrorCode, TransactionID: tid, Request: c.describe()}
	case mbim.TypeCommandDone:
	default:
		return mbim.Message{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "the device answered with " + r.msg.Type.String()}
	}
	if r.msg.Service != service || r.msg.CID != cid {
		return mbim.Message{}, tid, &RequestError{Request: c.describe(), TransactionID: tid,
			Reason: "the response is for " + describeCommand(r.msg.Service, r.msg.CID, ct) + " instead"}
	}
	if r.msg.Status != mbim.StatusNone {
		return r.msg, tid, &mbim.StatusError{Status: r.msg.Status, Service: service, CID: cid}
	}
	return r.msg, tid, nil
}

// ---- receiving ----

func (s *Session) readLoop() {
	defer s.wg.Done()
	for {
		frag, err := s.conn.ReadMessage()
		if err != nil {
			var fe *transport.FramingError
			if errors.As(err, &fe) {
				s.log.Warn("corrupt framing from the device; resynchronising", "err", err)
				continue
			}
			s.mu.Lock()
			ending := s.state == stateClosing || s.state == stateDead
			s.mu.Unlock()
			if ending || errors.Is(err, transport.ErrClosed) {
				s.shutdown(ErrClosed)
			} else {
				s.shutdown(&GoneError{Device: s.desc, Err: err})
			}
			return
		}
		s.receive(frag)
	}
}

// receive handles one transfer from the device.
func (s *Session) receive(frag []byte) {
	s.rmu.Lock()
	before := s.reasm.Pending()
	msg, err := s.reasm.Add(frag, time.Now())
	kick := before > 0 || s.reasm.Pending() > 0
	s.rmu.Unlock()
	if kick {
		select {
		case s.rkick <- struct{}{}:
		default:
		}
	}
	if err != nil {
		s.reassemblyFailed(err)
	}
	if msg == nil {
		return
	}
	if len(msg) > 0 && &msg[0] == &frag[0] {
		msg = append([]byte(nil), msg...) // the transport reuses frag's buffer
	}
	s.dispatch(msg)
}

// reassemblyFailed answers every protocol fault in err with HOST_ERROR and
// fails the request waiting for the message concerned.
func (s *Session) reassemblyFailed(err error) {
	if re, ok := err.(*mbim.ReassemblyError); ok {
		s.protocolFault(re)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			s.reassemblyFailed(e)
		}
		return
	}
	s.log.Warn("unusable transfer from the device", "err", err)
}

// protocolFault answers a reassembly failure with HOST_ERROR, once per
// transaction id (a message broken into many fragments would otherwise
// draw one HOST_ERROR per fragment), and fails the waiting request.
func (s *Session) protocolFault(re *mbim.ReassemblyError) {
	s.mu.Lock()
	again := false
	for _, t := range s.faulted {
		if t == re.TransactionID && t != 0 {
			again = true
		}
	}
	if !again {
		s.faulted[s.faultN%len(s.faulted)] = re.TransactionID
		s.faultN++
	}
	s.mu.Unlock()
	if again {
		s.log.Debug("protocol fault in a message already answered with HOST_ERROR", "transaction", re.TransactionID,
			"code", re.Code.String(), "err", re.Error())
	} else {
		s.log.Warn("protocol fault; answering with HOST_ERROR", "transaction", re.TransactionID,
			"code", re.Code.String(), "err", re.Error())
		s.hostError(re.TransactionID, re.Code)
	}
	s.fail(re.TransactionID, re.Type, re)
}

// hostError sends HOST_ERROR from a goroutine of its own, so that the
// reader never blocks on a write.
func (s *Session) hostError(tid uint32, code mbim.ProtocolError) {
	s.mu.Lock()
	if s.state == stateDead {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		m := mbim.Message{Type: mbim.TypeHostError, TransactionID: tid, ErrorCode: code}
		if err := s.write(&m); err != nil {
			s.log.Debug("could not send HOST_ERROR", "transaction", tid, "err", err)
		}
	}()
}

// fail hands err to the request waiting for a message of type t with
// transaction id tid, if any.
func (s *Session) fail(tid uint32, t mbim.MessageType, err error) {
	s.mu.Lock()
	c := s.pending[tid]
	if c == nil || !c.accepts(t) {
		s.mu.Unlock()
		return
	}
	s.takeLocked(c, tid)
	s.mu.Unlock()
	c.ch <- reply{err: err}
}

// dispatch handles one complete message; msg is owned.
func (s *Session) dispatch(msg []byte) {
	m, err := mbim.ParseMessage(msg)
	if err != nil {
		if !m.Type.Known() {
			s.log.Warn("dropping a message of unknown type from the device", "err", err)
			return
		}
		s.log.Warn("malformed message from the device; answering with HOST_ERROR", "type", m.Type.String(),
			"transaction", m.TransactionID, "err", err)
		if m.Type&0x80000000 != 0 {
			s.hostError(m.TransactionID, mbim.ErrLengthMismatch)
		}
		s.fail(m.TransactionID, m.Type, err)
		return
	}
	var d *catalog.Decoded
	if s.opts.Trace != nil {
		d = catalog.Decode(m, s.MBIMEx())
		s.trace(TraceRecv, msg, d)
	}
	switch m.Type {
	case mbim.TypeOpenDone, mbim.TypeCloseDone, mbim.TypeCommandDone, mbim.TypeFunctionError:
		s.deliver(m)
	case mbim.TypeIndicateStatus:
		s.indicate(m, d)
	default:
		s.log.Warn("dropping a host-to-device message received from the device", "type", m.Type.String(),
			"transaction", m.TransactionID)
	}
}

func (s *Session) deliver(m mbim.Message) {
	s.mu.Lock()
	c := s.pending[m.TransactionID]
	if c == nil || !c.accepts(m.Type) {
		late := s.wasAbandonedLocked(m.TransactionID)
		s.mu.Unlock()
		switch {
		case late:
			s.log.Debug("dropping a late response to an abandoned request", "type", m.Type.String(),
				"transaction", m.TransactionID)
		case c != nil:
			s.log.Warn("dropping a response of the wrong type", "type", m.Type.String(),
				"transaction", m.TransactionID, "want", c.want.String())
		default:
			attrs := []any{"type", m.Type.String(), "transaction", m.TransactionID}
			if m.Type == mbim.TypeFunctionError {
				attrs = append(attrs, "code", m.ErrorCode.String())
			}
			s.log.Warn("dropping a response that matches no request", attrs...)
		}
		return
	}
	s.takeLocked(c, m.TransactionID)
	s.mu.Unlock()
	c.ch <- reply{msg: m}
}

// fragmentTimer expires incomplete messages at the reassembler's deadline.
func (s *Session) fragmentTimer() {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-s.dead:
			return
		case <-s.rkick:
		case <-t.C:
			s.rmu.Lock()
			expired := s.reasm.Expire(time.Now())
			s.rmu.Unlock()
			for _, re := range expired {
				s.protocolFault(re)
			}
		}
		s.rmu.Lock()
		d, ok := s.reasm.Deadline()
		s.rmu.Unlock()
		if ok {
			// Expire drops messages idle for strictly longer than the
			// timeout; fire just after the deadline.
			t.Reset(time.Until(d) + time.Millisecond)
		} else {
			t.Stop()
		}
	}
}

// shutdown ends the session: it fails what is pending with reason (via
// Session.dead), closes the transport and the indication channels. Only
// the first call has an effect.
func (s *Session) shutdown(reason error) {
	s.mu.Lock()
	if s.state == stateDead {
		s.mu.Unlock()
		return
	}
	s.state = stateDead
	s.err = reason
	clear(s.pending)
	close(s.dead)
	s.mu.Unlock()

	s.conn.Close()
	s.rmu.Lock()
	s.reasm.Reset()
	s.rmu.Unlock()
	s.imu.Lock()
	s.subsDead = true
	for sub := range s.subs {
		sub.closeLocked()
		delete(s.subs, sub)
	}
	s.imu.Unlock()
	if errors.Is(reason, ErrDeviceGone) {
		s.log.Error("session ended", "err", reason)
	}
}

// ---- open and close ----

// handshake performs the OPEN exchange.
func (s *Session) handshake(ctx context.Context) error {
	interval := s.opts.OpenRetryInterval
	if interval <= 0 {
		interval = DefaultOpenRetryInterval
	}
	maxInterval := max(MaxOpenRetryInterval, interval)
	closed := false
	if s.opts.CloseFirst {
		if err := s.closeQuietly(ctx, interval); err != nil {
			return err
		}
		closed = true
	}
	start := time.Now()
	attempts := 0
	c := newCall(mbim.TypeOpenDone)
	c.open = true
	defer func() { s.forget(c) }()
	for {
		attempts++
		m := mbim.Message{Type: mbim.TypeOpen, MaxControlTransfer: uint32(s.maxCtl)}
		tid, err := s.send(c, &m)
		if err != nil {
			return s.openErr(ctxOr(ctx, err), attempts, start)
		}
		r, err := s.waitFor(ctx, c, interval)
		if err == errAttemptTimeout {
			s.log.Info("no answer to OPEN; sending it again", "transaction", tid, "waited", interval.String())
			interval = min(2*interval, maxInterval)
			continue
		}
		if err != nil {
			return s.openErr(ctxOr(ctx, err), attempts, start)
		}
		var why string
		switch r.msg.Type {
		case mbim.TypeOpenDone:
			if r.msg.Status == mbim.StatusNone {
				return nil
			}
			if closed {
				return &RequestError{Request: "open", TransactionID: r.msg.TransactionID,
					Reason: "the device refused to open", Err: &mbim.StatusError{Status: r.msg.Status}}
			}
			why = "OPEN_DONE with status " + r.msg.Status.String()
		case mbim.TypeCloseDone:
			if closed {
				return &RequestError{Request: "open", TransactionID: r.msg.TransactionID,
					Reason: "the device answers OPEN with CLOSE_DONE even after a CLOSE; reset the modem"}
			}
			why = "CLOSE_DONE"
		case mbim.TypeFunctionError:
			if r.msg.ErrorCode != mbim.ErrNotOpened || closed {
				return &FunctionError{Code: r.msg.ErrorCode, TransactionID: r.msg.TransactionID, Request: "open"}
			}
			why = "FUNCTION_ERROR not-opened"
		}
		s.log.Info("the device answered OPEN with "+why+"; closing before opening again",
			"transaction", r.msg.TransactionID)
		s.forget(c)
		c = newCall(mbim.TypeOpenDone)
		c.open = true
		if err := s.closeQuietly(ctx, interval); err != nil {
			return s.openErr(ctxOr(ctx, err), attempts, start)
		}
		closed = true
	}
}

// ctxOr returns ctx's error when it has ended (the transport is then
// closed under the session, which makes other errors incidental), else err.
func ctxOr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

func (s *Session) openErr(err error, attempts int, start time.Time) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &RequestError{Request: "open",
			Reason: fmt.Sprintf("no answer from %s to %d OPEN attempts in %v; is it an MBIM control port, and is the modem powered and not held by another program?",
				s.desc, attempts, roundDuration(time.Since(start))),
			Err: err}
	case errors.Is(err, context.Canceled):
		return &RequestError{Request: "open", Reason: "cancelled", Err: err}
	case errors.Is(err, ErrDeviceGone), errors.Is(err, ErrClosed):
		return err
	}
	return &RequestError{Request: "open", Err: err}
}

// closeQuietly sends CLOSE and waits for CLOSE_DONE at most timeout. Only
// a dead session or an ended context is an error.
func (s *Session) closeQuietly(ctx context.Context, timeout time.Duration) error {
	c := newCall(mbim.TypeCloseDone)
	defer s.forget(c)
	m := mbim.Message{Type: mbim.TypeClose}
	tid, err := s.send(c, &m)
	if err != nil {
		return err
	}
	r, err := s.waitFor(ctx, c, timeout)
	switch {
	case err == errAttemptTimeout:
		s.log.Info("no answer to CLOSE; opening anyway", "transaction", tid)
		return nil
	case err != nil:
		return err
	case r.msg.Type == mbim.TypeFunctionError:
		s.log.Info("the device answered CLOSE with FUNCTION_ERROR; opening anyway", "code", r.msg.ErrorCode.String())
	}
	return nil
}

// Close ends the session: CLOSE, CLOSE_DONE (bounded by ctx and
// Options.CloseTimeout), then the transport is closed, pending requests
// fail with ErrClosed, indication channels are closed and the session's
// goroutines have ended when Close returns. The error says whether the
// device confirmed the close; the session is closed either way. Closing a
// session whose device went away, or a closed one, returns nil.
//
// Close must not be called from an OnIndication callback (it waits for
// the callbacks to return); call it from another goroutine.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case stateDead:
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	case stateClosing:
		s.mu.Unlock()
		<-s.dead
		s.wg.Wait()
		return nil
	}
	s.state = stateClosing
	s.mu.Unlock()

	timeout := s.opts.CloseTimeout
	if timeout <= 0 {
		timeout = DefaultCloseTimeout
	}
	// Bound the whole exchange, writing CLOSE included: when the time is
	// up, closing the transport unblocks everything.
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(wctx, func() { s.conn.Close() })
	defer stop()
	var err error
	c := newCall(mbim.TypeCloseDone)
	m := mbim.Message{Type: mbim.TypeClose}
	tid, serr := s.send(c, &m)
	var r reply
	if serr == nil {
		r, serr = s.waitFor(wctx, c, 0)
		s.forget(c)
	}
	switch {
	case serr == nil && r.msg.Type == mbim.TypeFunctionError:
		err = &FunctionError{Code: r.msg.ErrorCode, TransactionID: tid, Request: "close"}
	case serr == nil && r.msg.Status != mbim.StatusNone:
		err = &RequestError{Request: "close", TransactionID: tid, Err: &mbim.StatusError{Status: r.msg.Status}}
	case serr == nil:
	case ctx.Err() != nil:
		err = &RequestError{Request: "close", TransactionID: tid, Reason: "closed the connection without CLOSE_DONE", Err: ctx.Err()}
	case wctx.Err() != nil:
		err = &RequestError{Request: "close", TransactionID: tid,
			Reason: "no CLOSE_DONE within " + timeout.String() + "; closed the connection anyway", Err: context.DeadlineExceeded}
	case errors.Is(serr, ErrDeviceGone), errors.Is(serr, ErrClosed):
		// The device hung up (after CLOSE, or before): closed anyway.
	default:
		err = &RequestError{Request: "close", TransactionID: tid, Reason: "closed the connection without CLOSE_DONE", Err: serr}
	}
	s.shutdown(ErrClosed)
	s.wg.Wait()
	return err
}

// ---- after open ----

// discover queries DEVICE_SERVICES (unless Options.SkipDeviceServices)
// and negotiates the MBIMEx version.
// Only an ended context or a dead session is an error.
func (s *Session) discover(ctx context.Context) error {
	fatal := func(err error) bool {
		return errors.Is(err, ErrDeviceGone) || errors.Is(err, ErrClosed) ||
			(ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)))
	}
	// Each query has its own bound, so that a device that ignores one
	// does not use up the whole time given to Open.
	step := func() (context.Context, context.CancelFunc) {
		d := DiscoveryTimeout
		if s.reqTimeout > 0 && s.reqTimeout < d {
			d = s.reqTimeout
		}
		return context.WithTimeout(ctx, d)
	}
	if !s.opts.SkipDeviceServices {
		var ds basicconnect.DeviceServicesResponse
		sctx, cancel := step()
		err := s.Do(sctx, basicconnect.UUID, basicconnect.CIDDeviceServices, mbim.CommandQuery, nil, &ds)
		cancel()
		if err != nil {
			if fatal(err) {
				return err
			}
			s.log.Warn("DEVICE_SERVICES failed; assuming every service is supported", "err", err)
		} else {
			s.services, s.maxDssSessions, s.servicesKnown = ds.DeviceServices, ds.MaxDssSessions, true
		}
	}

	max := s.opts.MaxMBIMEx
	if max == 0 {
		max = DefaultMaxMBIMEx
	}
	if max <= mbim.MBIMEx1 {
		return nil
	}
	if !s.Supports(msbasicconnectext.UUID, msbasicconnectext.CIDVersion) {
		s.log.Debug("the device does not list MBIM_CID_VERSION; staying at MBIMEx 1.0")
		return nil
	}
	var v msbasicconnectext.VersionResponse
	req := &msbasicconnectext.VersionQuery{MbimVersion: 0x0100, MbimExtendedVersion: uint16(max)}
	sctx, cancel := step()
	err := s.Do(sctx, msbasicconnectext.UUID, msbasicconnectext.CIDVersion, mbim.CommandQuery, req, &v)
	cancel()
	if err != nil {
		if fatal(err) {
			return err
		}
		s.log.Info("MBIM_CID_VERSION failed; staying at MBIMEx 1.0", "err", err)
		return nil
	}
	s.deviceVersion, s.deviceMBIMEx = mbim.Version(v.MbimVersion), mbim.Version(v.MbimExtendedVersion)
	got := s.deviceMBIMEx
	switch {
	case got < mbim.MBIMEx1:
		s.log.Warn("the device reports an impossible MBIMEx version; staying at 1.0", "version", got.String())
		got = mbim.MBIMEx1
	case got > max:
		s.log.Warn("the device reports an MBIMEx version above the host's maximum; using the maximum",
			"device", got.String(), "host", max.String())
		got = max
	}
	s.version.Store(uint32(got))
	return nil
}

// isNil reports whether v is nil or a typed nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

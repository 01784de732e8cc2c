package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gombim/gombim/catalog/dss"
	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/datapath"
	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/modemlog"
	"github.com/gombim/gombim/session"
)

// AutoSession asks Start to pick a DSS session id.
const AutoSession = -1

// Defaults for Options.
const (
	DefaultDrainIdle     = time.Second
	DefaultDrainMax      = 10 * time.Second
	DefaultRetryInterval = time.Second
	// autoSessions is how many DSS session ids AutoSession tries.
	autoSessions = 8
)

// Options configures Start. Source is required.
type Options struct {
	// Config is what to ask MODEM_LOGGING_CONFIG for; zero values keep
	// the modem's values. The set is sent (Version 1) whenever the modem
	// lists the CID, and again after a reconnection.
	Config Config
	// DSSSession is the DSS session id to use, or AutoSession (the zero
	// Options use id 0): AutoSession tries 0, 1, ... while the modem
	// answers that the id is in use.
	DSSSession int
	// Source opens the host side of the data path for a DSS session: a
	// datapath.NetdevSource on the modem's network interface, an
	// NTBSource on the simulator's socket. It is called before the DSS
	// session is activated (so that nothing is missed) and again whenever
	// the source ended (the interface went away with a modem reset, the
	// socket closed) until Stop.
	Source func(ctx context.Context, dssSession uint8) (datapath.Source, error)
	// Reopen opens a new control session when the current one ended (the
	// modem was reset or unplugged) or the modem forgot it (suspend:
	// FUNCTION_ERROR not-opened). Without it, the stream keeps reading
	// the data path but cannot deactivate the DSS session after such an
	// event.
	Reopen func(ctx context.Context) (*session.Session, error)
	// Events, if set, is told what happens (see Event); it is called from
	// several goroutines, one call at a time.
	Events func(Event)
	// DrainIdle: after Stop, reading ends once no data arrived for this
	// long (DefaultDrainIdle), or at the end of the stream; DrainMax
	// bounds the whole drain (DefaultDrainMax).
	DrainIdle, DrainMax time.Duration
	// RetryInterval is the pause between attempts to reopen the control
	// session or the data source (DefaultRetryInterval).
	RetryInterval time.Duration
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventSupport          EventKind = "support"           // what DEVICE_SERVICES advertises
	EventConfig           EventKind = "config"            // the modem's answer to MODEM_LOGGING_CONFIG (Asked, Config)
	EventConfigIndication EventKind = "config-indication" // the modem indicated its configuration (Config)
	EventSource           EventKind = "source"            // a data source was opened (Source)
	EventSourceEnded      EventKind = "source-ended"      // the data source ended or failed (Err); it is opened again
	EventActivated        EventKind = "activated"         // DSS CONNECT activate succeeded
	EventControlLost      EventKind = "control-lost"      // the control session went away (Err)
	EventReconnected      EventKind = "reconnected"       // a new control session is open
	EventDeactivated      EventKind = "deactivated"       // DSS CONNECT deactivate succeeded
	EventWarning          EventKind = "warning"           // something did not work but logging goes on (Err)
)

// Event is something that happened to a Stream, for progress reports and
// the log's index.
type Event struct {
	Kind EventKind
	Time time.Time
	// Text says what happened, for people.
	Text string
	// Config is the configuration the modem reported; Asked what was set.
	Config *ms.ModemLoggingConfig `json:",omitempty"`
	Asked  *ms.ModemLoggingConfig `json:",omitempty"`
	// Source is the data source's description (EventSource).
	Source string `json:",omitempty"`
	Err    error  `json:"-"`
}

// Stream is a modem's log stream over a DSS session: a datapath.Source of
// the log fragments that survives the control session and the data
// source going away. Write it to files with modemlog.Writer.Capture,
// read it as an io.Reader with Reader, or with a callback with Each.
//
// To stop without losing data, call Stop (which deactivates the DSS
// session) and read on until io.EOF: the data the modem sends until then
// is delivered. Then Close.
type Stream struct {
	opts Options
	sup  Support
	id   uint32

	ctx    context.Context // lifetime: ends in Close
	cancel context.CancelFunc
	stopCh chan struct{} // closed by Stop
	wg     sync.WaitGroup

	evMu sync.Mutex

	mu        sync.Mutex
	sess      *session.Session
	owned     []*session.Session // opened by Reopen
	stopWatch func()
	asked     *ms.ModemLoggingConfig
	chosen    *ms.ModemLoggingConfig
	src       datapath.Source
	desc      string
	stopping  bool
	stopDone  chan struct{}
	stopErr   error
	drained   bool
	closed    bool

	reconnMu sync.Mutex

	// read side (one goroutine)
	callerCtx  context.Context
	readCtx    context.Context
	readCancel context.CancelFunc
	lastData   atomic.Int64 // unix nanoseconds
	st         statsCounter
}

type statsCounter struct {
	datagrams, bytes, truncated atomic.Int64
}

// Start checks that the modem advertises logging, configures it (and
// reports what the modem chose), opens the data source and activates the
// DSS session. s stays the caller's; after a reconnection the stream
// closes the session it replaces (s included) and owns the new ones.
func Start(ctx context.Context, s *session.Session, opts Options) (*Stream, error) {
	if opts.Source == nil {
		return nil, errors.New("logging: Options.Source is required")
	}
	if opts.DrainIdle <= 0 {
		opts.DrainIdle = DefaultDrainIdle
	}
	if opts.DrainMax <= 0 {
		opts.DrainMax = DefaultDrainMax
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	sup, err := CheckSupport(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("logging: reading DEVICE_SERVICES: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	st := &Stream{opts: opts, sup: sup, sess: s, ctx: lctx, cancel: cancel, stopCh: make(chan struct{}), stopDone: make(chan struct{})}
	st.event(Event{Kind: EventSupport, Text: "the modem advertises " + sup.String()})
	if err := sup.Err(); err != nil {
		cancel()
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			st.shutdown()
		}
	}()
	st.watchConfig(s)
	if err := st.configure(ctx, s, ""); err != nil {
		return nil, err
	}
	if err := st.activate(ctx, s); err != nil {
		return nil, err
	}
	st.wg.Add(1)
	go st.watchdog()
	ok = true
	return st, nil
}

func (st *Stream) event(e Event) {
	if st.opts.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	st.evMu.Lock()
	defer st.evMu.Unlock()
	st.opts.Events(e)
}

// Support returns what the modem advertised.
func (st *Stream) Support() Support { return st.sup }

// DSSSession returns the DSS session id in use.
func (st *Stream) DSSSession() uint32 { return st.id }

// Config returns what was last asked of MODEM_LOGGING_CONFIG (nil if
// nothing was set) and what the modem last reported (nil if unknown).
func (st *Stream) Config() (asked, chosen *ms.ModemLoggingConfig) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.asked, st.chosen
}

// Session returns the control session in use.
func (st *Stream) Session() *session.Session {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sess
}

// configure sets the logging configuration (when the modem lists the
// CID, or might) and reports the answer. An error is returned only for a
// set the modem refused.
func (st *Stream) configure(ctx context.Context, s *session.Session, when string) error {
	if st.sup.Known && !st.sup.ConfigCID {
		if !st.opts.Config.IsZero() {
			st.event(Event{Kind: EventWarning, Text: "the modem does not list MODEM_LOGGING_CONFIG (MS Basic Connect Extensions CID 13): it cannot be configured and logs with the settings it has"})
		}
		return nil
	}
	asked, got, err := configure(ctx, s, st.opts.Config)
	if err != nil {
		var se *mbim.StatusError
		if errors.As(err, &se) && se.Status == mbim.StatusNoDeviceSupport {
			st.event(Event{Kind: EventWarning, Err: err, Text: "the modem does not support MODEM_LOGGING_CONFIG: it logs with the settings it has"})
			return nil
		}
		if when != "" {
			st.event(Event{Kind: EventWarning, Err: err, Text: when + ": " + err.Error()})
			return nil
		}
		return fmt.Errorf("logging: %w", err)
	}
	st.mu.Lock()
	st.asked, st.chosen = &asked, &got
	st.mu.Unlock()
	text := "logging configuration: asked for " + FormatConfig(asked)
	if d := Differences(asked, got); d != nil {
		text += "; the modem chose " + strings.Join(d, ", ")
	} else {
		text += "; the modem took it as asked"
	}
	if when != "" {
		text = when + ": " + text
	}
	st.event(Event{Kind: EventConfig, Text: text, Asked: &asked, Config: &got})
	return nil
}

// watchConfig reports the MODEM_LOGGING_CONFIG indications of s.
func (st *Stream) watchConfig(s *session.Session) {
	if st.sup.Known && !st.sup.ConfigCID {
		return
	}
	ctx, cancel := context.WithTimeout(st.ctx, 5*time.Second)
	defer cancel()
	ch, stop, err := s.Watch(ctx, session.Event{Service: ms.UUID, CID: ms.CIDModemLoggingConfig})
	if err != nil {
		st.event(Event{Kind: EventWarning, Err: err, Text: "cannot subscribe to MODEM_LOGGING_CONFIG indications: " + err.Error()})
		return
	}
	st.mu.Lock()
	old := st.stopWatch
	st.stopWatch = stop
	st.mu.Unlock()
	if old != nil {
		old()
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		for d := range ch {
			c, ok := d.Info.(*ms.ModemLoggingConfig)
			if !ok {
				continue
			}
			got := *c
			st.mu.Lock()
			prev := st.chosen
			st.chosen = &got
			st.mu.Unlock()
			text := "the modem indicated its logging configuration: " + FormatConfig(got)
			switch {
			case prev == nil:
			case *prev == got:
				text += " (unchanged)"
			default:
				text += " (changed: " + strings.Join(Differences(*prev, got), ", ") + ")"
			}
			st.event(Event{Kind: EventConfigIndication, Text: text, Config: &got})
		}
	}()
}

// activate opens the data source and activates the DSS session, trying
// further ids for AutoSession while the modem answers that one is in use.
func (st *Stream) activate(ctx context.Context, s *session.Session) error {
	ids := []uint32{uint32(max(st.opts.DSSSession, 0))}
	if st.opts.DSSSession == AutoSession {
		ids = ids[:0]
		for i := uint32(0); i < autoSessions; i++ {
			ids = append(ids, i)
		}
	} else if st.opts.DSSSession > 255 {
		return fmt.Errorf("logging: DSS session id %d: the data path carries ids 0-255", st.opts.DSSSession)
	}
	var tried []string
	for _, id := range ids {
		src, err := st.opts.Source(ctx, uint8(id))
		if err != nil {
			return fmt.Errorf("logging: opening the data source for DSS session %d: %w", id, err)
		}
		err = dss.SetConnect(ctx, s, &dss.ConnectSet{DeviceServiceId: ModemFileTransfer, DssSessionId: id, DssLinkState: dss.DssLinkStateActivate})
		if err == nil {
			st.mu.Lock()
			st.id, st.src, st.desc = id, src, src.Describe()
			st.mu.Unlock()
			st.event(Event{Kind: EventSource, Source: src.Describe(), Text: "data source: " + src.Describe()})
			st.event(Event{Kind: EventActivated, Text: fmt.Sprintf("DSS session %d activated on ModemFileTransfer (DSS CONNECT)", id)})
			return nil
		}
		src.Close()
		var se *mbim.StatusError
		if st.opts.DSSSession == AutoSession && errors.As(err, &se) && se.Status == mbim.StatusInvalidDeviceServiceOperation {
			tried = append(tried, fmt.Sprint(id))
			continue
		}
		return st.activateError(id, err)
	}
	return fmt.Errorf("logging: the modem refused DSS sessions %s on ModemFileTransfer (invalid-device-service-operation): they seem to be in use; choose another id", strings.Join(tried, ", "))
}

func (st *Stream) activateError(id uint32, err error) error {
	var se *mbim.StatusError
	if errors.As(err, &se) {
		switch se.Status {
		case mbim.StatusDSSInstanceLimit:
			return fmt.Errorf("logging: DSS CONNECT activate of session %d: %w: the modem has as many logging sessions open as it allows (%d per service, %d DSS sessions in all); another program, or an earlier run that did not stop cleanly, holds one: deactivate it (DSS CONNECT with its session id and link state deactivate), or reset the modem",
				id, err, st.sup.MaxDSSInstances, st.sup.MaxDSSSessions)
		case mbim.StatusInvalidDeviceServiceOperation:
			return fmt.Errorf("logging: DSS CONNECT activate of session %d: %w: the id may be in use; choose another one", id, err)
		}
	}
	return fmt.Errorf("logging: DSS CONNECT activate of session %d: %w", id, err)
}

// ---- the control session

// watchdog reconnects when the control session ends.
func (st *Stream) watchdog() {
	defer st.wg.Done()
	for {
		s := st.Session()
		select {
		case <-s.Done():
		case <-st.ctx.Done():
			return
		}
		if st.ctx.Err() != nil {
			return
		}
		if st.opts.Reopen == nil {
			st.event(Event{Kind: EventControlLost, Err: s.Err(), Text: "the control session ended (" + errString(s.Err()) + "); there is no way to open it again here: the DSS session stays open on the modem and the data keeps being read while it flows, but it cannot be deactivated"})
			return
		}
		if err := st.reconnect(st.ctx, s, "the control session ended ("+errString(s.Err())+")"); err != nil {
			return
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

// reconnect replaces the control session old (if it is still the current
// one): closes it, opens a new one with Reopen until it works, and puts
// the logging back: the configuration, the subscription and, unless
// stopping, the DSS session if the modem closed it.
func (st *Stream) reconnect(ctx context.Context, old *session.Session, why string) error {
	st.reconnMu.Lock()
	defer st.reconnMu.Unlock()
	if st.Session() != old {
		return nil // done by someone else meanwhile
	}
	if st.opts.Reopen == nil {
		return fmt.Errorf("logging: %s, and there is no way to open the control session again", why)
	}
	st.event(Event{Kind: EventControlLost, Err: old.Err(), Text: why + "; the DSS session stays open on the modem: opening the control session again, while the data keeps being read"})
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	old.Close(cctx)
	cancel()
	var s *session.Session
	for attempt := 1; ; attempt++ {
		var err error
		s, err = st.opts.Reopen(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == 1 || attempt%10 == 0 {
			st.event(Event{Kind: EventWarning, Err: err, Text: fmt.Sprintf("opening the control session again (attempt %d): %v; retrying every %v", attempt, err, st.opts.RetryInterval)})
		}
		select {
		case <-time.After(st.opts.RetryInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		s.Close(context.Background())
		return ErrClosed
	}
	st.sess = s
	st.owned = append(st.owned, s)
	stopping := st.stopping
	st.mu.Unlock()
	st.event(Event{Kind: EventReconnected, Text: "control session open again on " + s.String()})
	st.watchConfig(s)
	st.configure(ctx, s, "after reconnecting")
	if stopping {
		return nil
	}
	err := dss.SetConnect(ctx, s, &dss.ConnectSet{DeviceServiceId: ModemFileTransfer, DssSessionId: st.id, DssLinkState: dss.DssLinkStateActivate})
	var se *mbim.StatusError
	switch {
	case err == nil:
		st.event(Event{Kind: EventActivated, Text: fmt.Sprintf("the modem had closed DSS session %d; activated it again", st.id)})
	case errors.As(err, &se):
		st.event(Event{Kind: EventReconnected, Text: fmt.Sprintf("DSS session %d is still open on the modem (activating it again was answered %s)", st.id, se.Status)})
	default:
		st.event(Event{Kind: EventWarning, Err: err, Text: fmt.Sprintf("checking DSS session %d after reconnecting: %v", st.id, err)})
	}
	return nil
}

// ErrClosed is returned by a closed Stream.
var ErrClosed = errors.New("logging: stream closed")

// deactivate sends DSS CONNECT deactivate, reopening the control session
// first when the modem lost it.
func (st *Stream) deactivate(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s := st.Session()
		err = dss.SetConnect(ctx, s, &dss.ConnectSet{DeviceServiceId: ModemFileTransfer, DssSessionId: st.id, DssLinkState: dss.DssLinkStateDeactivate})
		if err == nil {
			st.event(Event{Kind: EventDeactivated, Text: fmt.Sprintf("DSS session %d deactivated (DSS CONNECT)", st.id)})
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		switch {
		case errors.Is(err, mbim.ErrNotOpened):
			err = st.reconnect(ctx, s, "the modem has forgotten the MBIM session (FUNCTION_ERROR not-opened: suspended?)")
		case errors.Is(err, session.ErrDeviceGone), errors.Is(err, session.ErrClosed):
			err = st.reconnect(ctx, s, "the control session ended ("+errString(s.Err())+")")
		default:
			return fmt.Errorf("logging: DSS CONNECT deactivate of session %d: %w", st.id, err)
		}
		if err != nil {
			break
		}
	}
	return fmt.Errorf("logging: DSS CONNECT deactivate of session %d: %w", st.id, err)
}

// ---- the data

// Describe says which source is in use.
func (st *Stream) Describe() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return fmt.Sprintf("modem log stream (DSS session %d on ModemFileTransfer) from %s", st.id, st.desc)
}

// Stats counts what the stream delivered, over every source it used.
func (st *Stream) Stats() datapath.SourceStats {
	return datapath.SourceStats{Datagrams: st.st.datagrams.Load(), Bytes: st.st.bytes.Load(), Truncated: st.st.truncated.Load()}
}

// readContext is ctx, cancellable by the drain.
func (st *Stream) readContext(ctx context.Context) context.Context {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ctx != st.callerCtx {
		if st.readCancel != nil {
			st.readCancel()
		}
		st.callerCtx = ctx
		st.readCtx, st.readCancel = context.WithCancel(ctx)
		if st.drained {
			st.readCancel()
		}
	}
	return st.readCtx
}

// ReadDatagram returns the next log fragment. It returns io.EOF once the
// stream was stopped and drained, ErrClosed after Close, ctx.Err() when
// ctx ends (after delivering what the source had received), and the
// source's *datapath.LossError and datapath.ErrLinkDown as they come (not
// fatal). A source that ends or fails otherwise is opened again.
func (st *Stream) ReadDatagram(ctx context.Context) (datapath.Datagram, error) {
	rctx := st.readContext(ctx)
	for {
		src, err := st.source(rctx)
		if err != nil {
			return datapath.Datagram{}, st.endError(ctx, err)
		}
		d, err := src.ReadDatagram(rctx)
		if err == nil {
			st.lastData.Store(time.Now().UnixNano())
			st.st.datagrams.Add(1)
			st.st.bytes.Add(int64(len(d.Data)))
			if d.Truncated() {
				st.st.truncated.Add(1)
			}
			return d, nil
		}
		var le *datapath.LossError
		if errors.As(err, &le) || errors.Is(err, datapath.ErrLinkDown) {
			return d, err
		}
		st.mu.Lock()
		closed, stopping, drained := st.closed, st.stopping, st.drained
		st.mu.Unlock()
		switch {
		case closed:
			return datapath.Datagram{}, ErrClosed
		case drained, stopping && errors.Is(err, io.EOF):
			return datapath.Datagram{}, io.EOF
		case ctx.Err() != nil:
			return datapath.Datagram{}, ctx.Err()
		}
		st.sourceEnded(src, err)
	}
}

func (st *Stream) endError(ctx context.Context, err error) error {
	st.mu.Lock()
	drained, closed := st.drained, st.closed
	st.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case drained || errors.Is(err, io.EOF):
		return io.EOF
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// sourceEnded drops a source that ended or failed; the next read opens a
// new one.
func (st *Stream) sourceEnded(src datapath.Source, err error) {
	st.mu.Lock()
	if st.src == src {
		st.src = nil
	}
	st.mu.Unlock()
	src.Close()
	st.event(Event{Kind: EventSourceEnded, Err: err, Source: src.Describe(), Text: "the data source ended (" + err.Error() + "); opening it again"})
}

// source returns the current data source, opening a new one (with
// retries) when the last one ended.
func (st *Stream) source(ctx context.Context) (datapath.Source, error) {
	for attempt := 1; ; attempt++ {
		st.mu.Lock()
		src, stopping, closed := st.src, st.stopping, st.closed
		st.mu.Unlock()
		switch {
		case closed:
			return nil, ErrClosed
		case src != nil:
			return src, nil
		case stopping:
			return nil, io.EOF // nothing left to drain
		}
		src, err := st.opts.Source(ctx, uint8(st.id))
		if err == nil {
			st.mu.Lock()
			if st.closed {
				st.mu.Unlock()
				src.Close()
				return nil, ErrClosed
			}
			st.src, st.desc = src, src.Describe()
			st.mu.Unlock()
			st.event(Event{Kind: EventSource, Source: src.Describe(), Text: "data source open again: " + src.Describe()})
			return src, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt == 1 || attempt%10 == 0 {
			st.event(Event{Kind: EventWarning, Err: err, Text: fmt.Sprintf("opening the data source again (attempt %d): %v; retrying every %v", attempt, err, st.opts.RetryInterval)})
		}
		select {
		case <-time.After(st.opts.RetryInterval):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-st.stopCh:
		}
	}
}

// Stop deactivates the DSS session (reopening the control session first
// if the modem lost it) and makes reading end, with io.EOF, once the data
// still coming has been delivered: at the end of the stream, after
// Options.DrainIdle without data, or after Options.DrainMax. It is safe
// to call more than once; later calls wait for the first and return its
// result.
func (st *Stream) Stop(ctx context.Context) error {
	st.mu.Lock()
	if st.stopping {
		st.mu.Unlock()
		<-st.stopDone
		return st.stopErr
	}
	st.stopping = true
	close(st.stopCh)
	st.mu.Unlock()
	err := st.deactivate(ctx)
	st.mu.Lock()
	st.stopErr = err
	st.mu.Unlock()
	st.lastData.Store(time.Now().UnixNano())
	st.wg.Add(1)
	go st.drain()
	close(st.stopDone)
	return err
}

// drain ends the reads once the data stopped coming.
func (st *Stream) drain() {
	defer st.wg.Done()
	start := time.Now()
	t := time.NewTicker(min(st.opts.DrainIdle/4, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-st.ctx.Done():
		}
		idle := time.Since(time.Unix(0, st.lastData.Load()))
		if st.ctx.Err() == nil && idle < st.opts.DrainIdle && time.Since(start) < st.opts.DrainMax {
			continue
		}
		st.mu.Lock()
		st.drained = true
		if st.readCancel != nil {
			st.readCancel()
		}
		st.mu.Unlock()
		return
	}
}

// Close stops the stream if Stop was not called (bounded to 10 s), closes
// the data source and the control sessions the stream opened, and
// returns Stop's error.
func (st *Stream) Close() error {
	st.mu.Lock()
	stopping, closed := st.stopping, st.closed
	st.mu.Unlock()
	if closed {
		return nil
	}
	var err error
	if !stopping {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = st.Stop(ctx)
		cancel()
	} else {
		<-st.stopDone
		st.mu.Lock()
		err = st.stopErr
		st.mu.Unlock()
	}
	return errors.Join(err, st.shutdown())
}

// shutdown releases everything.
func (st *Stream) shutdown() error {
	st.mu.Lock()
	st.closed = true
	src, stopWatch, owned := st.src, st.stopWatch, st.owned
	st.src, st.stopWatch, st.owned = nil, nil, nil
	if st.readCancel != nil {
		st.readCancel()
	}
	st.mu.Unlock()
	st.cancel()
	var errs []error
	if src != nil {
		errs = append(errs, src.Close())
	}
	if stopWatch != nil {
		stopWatch()
	}
	for _, s := range owned {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Close(ctx)
		cancel()
	}
	st.wg.Wait()
	return errors.Join(errs...)
}

// Reader returns the log stream as an io.Reader (modemlog.Reader): the
// fragments' bytes one after the other, until the stream is stopped and
// drained (io.EOF) or ctx ends.
func (st *Stream) Reader(ctx context.Context) *modemlog.Reader { return modemlog.NewReader(ctx, st) }

// Each calls fn for every log fragment until the stream is stopped and
// drained (returning nil), ctx ends, or fn fails. Losses the source
// reports are passed over (use modemlog.Capture to see them).
func (st *Stream) Each(ctx context.Context, fn func(modemlog.Segment) error) error {
	for {
		err := modemlog.Capture(ctx, st, fn)
		var le *datapath.LossError
		if errors.As(err, &le) || errors.Is(err, datapath.ErrLinkDown) {
			continue
		}
		return err
	}
}

var _ datapath.Source = (*Stream)(nil)

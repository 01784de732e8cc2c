package sim

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gombim/gombim/transport"
)

// In-process hosts that survive device resets.

// Dialer returns dial, which connects a new in-process host to the modem
// as opening its control port would, and stop, which ends serving and
// waits for it. The modem runs (its timeline included) from Dialer until
// stop.
//
// Each connection is served until either end hangs up. A device reset
// hangs up, as a real device drops off the bus: the host reads EOF and
// dials again; dial waits until the device is back (timings.reset). The
// modem serves one host at a time: dial waits up to a second for the
// previous connection to end (its host closed it, say), then gives ErrBusy.
func (m *Modem) Dialer() (dial func(ctx context.Context) (transport.Conn, error), stop func()) {
	d := &inProcessDialer{m: m}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	m.begin()
	return d.dial, d.stop
}

type inProcessDialer struct {
	m      *Modem
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
	prev    chan struct{} // closed when the last connection's serving ends
}

func (d *inProcessDialer) dial(ctx context.Context) (transport.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil, transport.ErrClosed
	}
	if d.prev != nil {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-d.prev:
		case <-t.C:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// A device in reset is not there to open.
	for {
		d.m.mu.Lock()
		wait := time.Until(d.m.downTill)
		d.m.mu.Unlock()
		if wait <= 0 {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.ctx.Done():
			return nil, transport.ErrClosed
		}
	}
	hc, dc := transport.Pipe()
	done := make(chan struct{})
	d.prev = done
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(done)
		err := d.m.serveConn(d.ctx, dc)
		if errors.Is(err, ErrBusy) {
			hc.Close()
		}
	}()
	return hc, nil
}

func (d *inProcessDialer) stop() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.m.end()
}

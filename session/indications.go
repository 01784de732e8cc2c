package session

import (
	"context"
	"fmt"
	"slices"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// Event names indications: those of one CID of a service, or with CID 0
// every CID of the service. In filters (Indications, OnIndication) the
// zero Event matches every indication.
type Event struct {
	Service mbim.UUID
	CID     uint32 // 0: every CID of Service
}

func (e Event) String() string {
	if e.Service.IsZero() {
		return "all indications"
	}
	if e.CID == 0 {
		return catalog.ServiceName(e.Service) + " (every CID)"
	}
	return catalog.ServiceName(e.Service) + " " + catalog.CIDName(e.Service, e.CID)
}

func (e Event) matches(m *mbim.Message) bool {
	return e.Service.IsZero() || (e.Service == m.Service && (e.CID == 0 || e.CID == m.CID))
}

type subscriber struct {
	filters []Event
	ch      chan *catalog.Decoded
	closed  bool
	dropped uint64
}

func (sub *subscriber) wants(m *mbim.Message) bool {
	if len(sub.filters) == 0 {
		return true
	}
	for _, f := range sub.filters {
		if f.matches(m) {
			return true
		}
	}
	return false
}

func (sub *subscriber) closeLocked() {
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
}

// Indications returns a channel that receives every indication matching
// one of the filters (every indication without filters), decoded with the
// MBIMEx version in effect when it arrived, and a function that stops the
// delivery and closes the channel. The channel is also closed when the
// session ends.
//
// Indications only filters what the device sends; use Subscribe (or
// Watch) to ask the device for the notifications wanted. Delivery never
// blocks the session: when the channel's buffer (Options.IndicationBuffer)
// is full, the indication is dropped for this subscriber and the loss is
// logged.
func (s *Session) Indications(filters ...Event) (<-chan *catalog.Decoded, func()) {
	sub := &subscriber{filters: slices.Clone(filters), ch: make(chan *catalog.Decoded, s.indBuf)}
	s.imu.Lock()
	if s.subsDead {
		sub.closeLocked()
	} else {
		s.subs[sub] = struct{}{}
	}
	s.imu.Unlock()
	return sub.ch, func() {
		s.imu.Lock()
		delete(s.subs, sub)
		sub.closeLocked()
		s.imu.Unlock()
	}
}

// OnIndication calls f for every indication matching one of the filters,
// in order, from a goroutine of its own (so f may make requests on the
// session), until cancel is called or the session ends. Like Indications,
// it drops indications when f falls more than Options.IndicationBuffer
// behind.
func (s *Session) OnIndication(f func(*catalog.Decoded), filters ...Event) (cancel func()) {
	ch, cancel := s.Indications(filters...)
	s.mu.Lock()
	if s.state == stateDead {
		s.mu.Unlock()
		return cancel
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for d := range ch {
			f(d)
		}
	}()
	return cancel
}

// indicate delivers an indication to the subscribers that want it.
func (s *Session) indicate(m mbim.Message, d *catalog.Decoded) {
	s.imu.Lock()
	defer s.imu.Unlock()
	delivered := false
	for sub := range s.subs {
		if !sub.wants(&m) {
			continue
		}
		if d == nil {
			d = catalog.Decode(m, s.MBIMEx())
		}
		select {
		case sub.ch <- d:
			delivered = true
		default:
			sub.dropped++
			s.log.Warn("indication subscriber is not keeping up; dropping an indication",
				"service", catalog.ServiceName(m.Service), "cid", catalog.CIDName(m.Service, m.CID),
				"dropped", sub.dropped)
		}
	}
	if !delivered {
		s.log.Debug("indication with no subscriber", "service", catalog.ServiceName(m.Service),
			"cid", catalog.CIDName(m.Service, m.CID), "transaction", m.TransactionID)
	}
}

// Subscription is one set of events registered with Subscribe.
type Subscription struct {
	s      *Session
	events []Event
	done   bool
}

// Events returns the events the subscription asked for.
func (sub *Subscription) Events() []Event { return slices.Clone(sub.events) }

// Subscribe asks the device for the notifications of events, in addition
// to those of the other live subscriptions: it sends
// DEVICE_SERVICE_SUBSCRIBE_LIST (basic-connect CID 19) with the union of
// all of them. An Event with CID 0 stands for every CID of the service
// that can notify, as far as the catalog and the device's DEVICE_SERVICES
// list know them.
//
// On failure nothing is registered. Subscribe only changes what the
// device sends; read indications with Indications or OnIndication, or use
// Watch for both.
func (s *Session) Subscribe(ctx context.Context, events ...Event) (*Subscription, error) {
	for _, e := range events {
		if e.Service.IsZero() {
			return nil, fmt.Errorf("session: subscribe: an event needs a service")
		}
	}
	sub := &Subscription{s: s, events: slices.Clone(events)}
	s.smu.Lock()
	defer s.smu.Unlock()
	regs := append(slices.Clip(s.regs), sub)
	if err := s.sendSubscribeList(ctx, regs); err != nil {
		return nil, err
	}
	s.regs = regs
	return sub, nil
}

// Unsubscribe withdraws the subscription and sends the device the union of
// the remaining ones (an empty list when none remain). The subscription is
// withdrawn even if sending fails. Calling it again does nothing.
func (sub *Subscription) Unsubscribe(ctx context.Context) error {
	s := sub.s
	s.smu.Lock()
	defer s.smu.Unlock()
	if sub.done {
		return nil
	}
	sub.done = true
	s.regs = slices.DeleteFunc(s.regs, func(r *Subscription) bool { return r == sub })
	if s.Err() != nil {
		return nil
	}
	return s.sendSubscribeList(ctx, s.regs)
}

// SubscribeList returns the event entries the session would send for the
// live subscriptions: one per service, CIDs ascending, services in the
// order they were first asked for.
func (s *Session) SubscribeList() ([]basicconnect.EventEntry, error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.unionList(s.regs)
}

func (s *Session) sendSubscribeList(ctx context.Context, regs []*Subscription) error {
	list, err := s.unionList(regs)
	if err != nil {
		return err
	}
	req := &basicconnect.DeviceServiceSubscribeListSet{Events: list}
	_, err = s.Set(ctx, basicconnect.UUID, basicconnect.CIDDeviceServiceSubscribeList, req)
	return err
}

func (s *Session) unionList(regs []*Subscription) ([]basicconnect.EventEntry, error) {
	var list []basicconnect.EventEntry
	index := map[mbim.UUID]int{}
	for _, r := range regs {
		for _, e := range r.events {
			cids := []uint32{e.CID}
			if e.CID == 0 {
				var err error
				if cids, err = s.notifyCIDs(e.Service); err != nil {
					return nil, err
				}
			}
			i, ok := index[e.Service]
			if !ok {
				i = len(list)
				index[e.Service] = i
				list = append(list, basicconnect.EventEntry{DeviceServiceId: e.Service})
			}
			list[i].Cids = append(list[i].Cids, cids...)
		}
	}
	for i := range list {
		slices.Sort(list[i].Cids)
		list[i].Cids = slices.Compact(list[i].Cids)
	}
	return list, nil
}

// notifyCIDs lists the CIDs of service that can notify: those the catalog
// marks as notifying, restricted to those the device lists when it listed
// the service; for a service unknown to the catalog, the CIDs the device
// lists.
func (s *Session) notifyCIDs(service mbim.UUID) ([]uint32, error) {
	var device []uint32
	listed := false
	if s.servicesKnown {
		for i := range s.services {
			if s.services[i].DeviceServiceId == service {
				device, listed = s.services[i].Cids, true
			}
		}
	}
	desc := catalog.ServiceByUUID(service)
	if desc == nil {
		if !listed {
			return nil, fmt.Errorf("session: subscribe: cannot tell which CIDs of unknown service %s notify; name them", service)
		}
		return slices.Clone(device), nil
	}
	var out []uint32
	for _, c := range desc.CIDs {
		if c.Notify && (!listed || slices.Contains(device, c.ID)) {
			out = append(out, c.ID)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("session: subscribe: %s has no CID that notifies", desc.Name)
	}
	return out, nil
}

// Watch subscribes to events (see Subscribe) and returns a channel of the
// matching indications (see Indications). stop closes the channel and
// withdraws the subscription (with a 2-second bound on telling the
// device).
func (s *Session) Watch(ctx context.Context, events ...Event) (<-chan *catalog.Decoded, func(), error) {
	ch, cancel := s.Indications(events...)
	sub, err := s.Subscribe(ctx, events...)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return ch, func() {
		cancel()
		ctx, done := context.WithTimeout(context.WithoutCancel(ctx), DefaultCloseTimeout)
		defer done()
		if err := sub.Unsubscribe(ctx); err != nil {
			s.log.Info("could not withdraw a subscription", "err", err)
		}
	}, nil
}

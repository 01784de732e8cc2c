package sim

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
)

// Handler answers one COMMAND for the (service, CID) it was registered
// for. It runs with the modem locked, so it may read and change any state
// and call Notify; it must not block (return a Reply with After to answer
// later).
type Handler func(m *Modem, r *Request) Reply

// Request is a COMMAND as a handler sees it.
type Request struct {
	Service mbim.UUID
	CID     uint32
	Type    mbim.CommandType
	// Info is the information buffer decoded with the catalog's layout for
	// this CID and command type at the negotiated MBIMEx version (for
	// example *basicconnect.ConnectSetV3 once MBIMEx 3.0 is agreed). It is
	// nil when the layout has no payload, when a query came with an empty
	// buffer, or when the catalog has no layout (see Raw).
	Info mbim.Info
	// Raw is the information buffer; valid only during the call.
	Raw []byte
	// Version is the MBIMEx version agreed with the host (1.0 without a
	// VERSION exchange).
	Version mbim.Version
	// TransactionID is the host's transaction id.
	TransactionID uint32
}

// IsSet reports whether the command is a set.
func (r *Request) IsSet() bool { return r.Type == mbim.CommandSet }

// Reply is what a handler answers.
type Reply struct {
	Status mbim.Status
	// Info is the response payload: it must have the catalog's response
	// type for the agreed version (checked; a mismatch answers failure).
	// nil sends an empty information buffer.
	Info mbim.Info
	// After delays the response by this long; the modem keeps serving
	// other commands meanwhile.
	After time.Duration
	// Later, when set, is called (modem locked) when After has passed, and
	// its Reply is sent instead. Use it for operations that take time: the
	// state changes when they complete.
	Later func(m *Modem) Reply
}

// OK answers success with info.
func OK(info mbim.Info) Reply { return Reply{Info: info} }

// Fail answers status with an empty buffer.
func Fail(status mbim.Status) Reply { return Reply{Status: status} }

type handlerKey struct {
	service mbim.UUID
	cid     uint32
}

var (
	regMu    sync.RWMutex
	handlers = map[handlerKey]Handler{}
	events   = map[string]func(*Modem, Event){}
)

// Handle registers h for a CID of a service. Each service's file calls it
// from an init function:
//
//	func init() {
//		sim.Handle(sms.UUID, sms.CIDReadMessages, handleSMSRead)
//	}
//
// Registering a CID makes the modem list it in DEVICE_SERVICES. A later
// registration for the same CID replaces the earlier one.
func Handle(service mbim.UUID, cid uint32, h Handler) {
	regMu.Lock()
	defer regMu.Unlock()
	handlers[handlerKey{service, cid}] = h
}

// RegisterEvent registers what a timeline event of type typ does (for
// example "sms" for the SMS service).
func RegisterEvent(typ string, f func(m *Modem, ev Event)) {
	regMu.Lock()
	defer regMu.Unlock()
	events[typ] = f
}

func lookupHandler(service mbim.UUID, cid uint32) Handler {
	regMu.RLock()
	defer regMu.RUnlock()
	return handlers[handlerKey{service, cid}]
}

func lookupEvent(typ string) func(*Modem, Event) {
	regMu.RLock()
	defer regMu.RUnlock()
	return events[typ]
}

// registeredServices returns the services with handlers and their CIDs,
// sorted (Basic Connect first, then by UUID).
func registeredServices() []serviceCIDs {
	regMu.RLock()
	byService := map[mbim.UUID][]uint32{}
	for k := range handlers {
		byService[k.service] = append(byService[k.service], k.cid)
	}
	regMu.RUnlock()
	out := make([]serviceCIDs, 0, len(byService))
	for u, cids := range byService {
		slices.Sort(cids)
		out = append(out, serviceCIDs{u, cids})
	}
	slices.SortFunc(out, func(a, b serviceCIDs) int {
		ra, rb := serviceRank(a.uuid), serviceRank(b.uuid)
		if ra != rb {
			return ra - rb
		}
		return slices.Compare(a.uuid[:], b.uuid[:])
	})
	return out
}

type serviceCIDs struct {
	uuid mbim.UUID
	cids []uint32
}

func serviceRank(u mbim.UUID) int {
	if s := catalog.ServiceByUUID(u); s != nil && s.Name == "basic-connect" {
		return 0
	}
	return 1
}

// checkInfo verifies that info has the Go type of the catalog's layout of
// kind k at version v.
func checkInfo(service mbim.UUID, cid uint32, k mbim.Kind, v mbim.Version, info mbim.Info) error {
	if info == nil {
		return nil // an empty buffer (a failure without payload) fits any layout, or none
	}
	_, c, l := catalog.Layout(service, cid, k, v)
	if c == nil {
		return nil // not in the catalog: nothing to check against
	}
	if l == nil {
		return fmt.Errorf("%s %s has no %s layout at MBIMEx %s", catalog.ServiceName(service), c.Name, k, v)
	}
	if l.New == nil {
		if info != nil && info.SizeMBIM() != 0 {
			return fmt.Errorf("%s %s %s is empty at MBIMEx %s, handler gave %T", catalog.ServiceName(service), c.Name, k, v, info)
		}
		return nil
	}
	want := l.New()
	if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", info) {
		return fmt.Errorf("%s %s %s at MBIMEx %s is %T, handler gave %T", catalog.ServiceName(service), c.Name, k, v, want, info)
	}
	return nil
}

// Package catalog knows every MBIM service and message that gombim defines:
// it looks layouts up by service and CID, decodes whole messages into typed
// payloads, and prints them as text or JSON.
//
// The per-service packages below it (catalog/basicconnect, ...) are
// generated from the JSON definitions next to them; see docs/definitions.md.
package catalog

import (
	"errors"
	"fmt"

	"github.com/gombim/gombim/mbim"
)

// Services returns every service the catalog defines.
func Services() []*mbim.ServiceDesc { return services }

// ServiceByUUID returns the service with that UUID, or nil.
func ServiceByUUID(u mbim.UUID) *mbim.ServiceDesc { return serviceByUUID(&u) }

// ServiceByName returns the service with that nickname (or UUID), or nil.
func ServiceByName(name string) *mbim.ServiceDesc {
	for _, s := range services {
		if s.Name == name {
			return s
		}
	}
	if u, err := mbim.ParseUUID(name); err == nil {
		return ServiceByUUID(u)
	}
	return nil
}

// ServiceName returns the nickname of the service, or its UUID.
func ServiceName(u mbim.UUID) string {
	if s := ServiceByUUID(u); s != nil {
		return s.Name
	}
	return u.String()
}

// CIDName returns the nickname of a CID, or its number.
func CIDName(service mbim.UUID, cid uint32) string {
	if s := ServiceByUUID(service); s != nil {
		if c := s.CID(cid); c != nil {
			return c.Name
		}
	}
	return fmt.Sprint(cid)
}

// KindOf returns which payload of a CID a message carries, and false for
// messages that carry none (OPEN, CLOSE, errors...).
func KindOf(m *mbim.Message) (mbim.Kind, bool) {
	switch m.Type {
	case mbim.TypeCommand:
		if m.CommandType == mbim.CommandSet {
			return mbim.KindSet, true
		}
		return mbim.KindQuery, true
	case mbim.TypeCommandDone:
		return mbim.KindResponse, true
	case mbim.TypeIndicateStatus:
		return mbim.KindNotify, true
	}
	return 0, false
}

// Layout finds the layout of a payload at MBIMEx version v.
func Layout(service mbim.UUID, cid uint32, k mbim.Kind, v mbim.Version) (*mbim.ServiceDesc, *mbim.CIDDesc, *mbim.MessageDesc) {
	return layout(&service, cid, k, v)
}

// LayoutOf finds the layout of the payload that m carries at MBIMEx
// version v: Layout for m's service, CID and kind (see KindOf). The results
// are nil from the first thing not known on.
func LayoutOf(m *mbim.Message, v mbim.Version) (s *mbim.ServiceDesc, c *mbim.CIDDesc, l *mbim.MessageDesc) {
	k, ok := KindOf(m)
	if !ok {
		return nil, nil, nil
	}
	if s = serviceByUUID(&m.Service); s == nil {
		return nil, nil, nil
	}
	if c = s.CID(m.CID); c == nil {
		return s, nil, nil
	}
	l, _ = c.Layout(k, v)
	return s, c, l
}

func layout(service *mbim.UUID, cid uint32, k mbim.Kind, v mbim.Version) (*mbim.ServiceDesc, *mbim.CIDDesc, *mbim.MessageDesc) {
	s := serviceByUUID(service)
	if s == nil {
		return nil, nil, nil
	}
	c := s.CID(cid)
	if c == nil {
		return s, nil, nil
	}
	l, _ := c.Layout(k, v)
	return s, c, l
}

// Decoded is a message decoded as far as the catalog allows. A message of
// an unknown service or CID, or whose payload does not decode, keeps its
// header and raw information buffer: decoding never fails a whole stream.
type Decoded struct {
	Message mbim.Message
	Version mbim.Version      // MBIMEx version used to pick the layout
	Service *mbim.ServiceDesc // nil: unknown service
	CID     *mbim.CIDDesc     // nil: unknown CID
	Layout  *mbim.MessageDesc // nil: no known layout for this payload
	Info    mbim.Info         // typed payload; nil when empty or unknown
	Err     error             // why the payload could not be decoded
}

// Decode decodes a complete (reassembled) message's payload with the layout
// in effect at MBIMEx version v. The information buffer is copied into the
// typed payload, so Decoded does not keep the input except in
// Message.InformationBuffer.
func Decode(m mbim.Message, v mbim.Version) *Decoded {
	d := &Decoded{Message: m, Version: v}
	d.decode()
	return d
}

func (d *Decoded) decode() {
	m := &d.Message
	d.Service, d.CID, d.Layout = LayoutOf(m, d.Version)
	if d.Layout == nil || d.Layout.New == nil {
		return
	}
	if m.Type == mbim.TypeCommandDone && m.Status != mbim.StatusNone && len(m.InformationBuffer) == 0 {
		return
	}
	info := d.Layout.New()
	if err := info.UnmarshalMBIM(m.InformationBuffer); err != nil {
		// Kinds that share a layout share its decoder, which names the
		// kind that carries it (a connect query decodes as the
		// ConnectResponse it is an alias of): name this message's own.
		var de *mbim.DecodeError
		if errors.As(err, &de) && de.Message != "" {
			de.Message = layoutName(d.Service, d.CID, d.Layout)
		}
		d.Err = err
		return
	}
	d.Info = info
}

// layoutName names a layout as the generated decoders do:
// "basic-connect connect query", "basic-connect connect set (MBIMEx 3.0)".
func layoutName(s *mbim.ServiceDesc, c *mbim.CIDDesc, l *mbim.MessageDesc) string {
	name := s.Name + " " + c.Name + " " + l.Kind.String()
	if l.MBIMEx > mbim.MBIMEx1 {
		name += " (MBIMEx " + l.MBIMEx.String() + ")"
	}
	return name
}

// DecodeBytes parses one complete message and decodes it.
func DecodeBytes(b []byte, v mbim.Version) (*Decoded, error) {
	d := &Decoded{Version: v}
	if err := mbim.ParseMessageTo(&d.Message, b); err != nil {
		return nil, err
	}
	d.decode()
	return d, nil
}

// Build encodes a COMMAND, COMMAND_DONE or INDICATE_STATUS message carrying
// info (which may be nil for an empty payload).
func Build(t mbim.MessageType, tid uint32, service mbim.UUID, cid uint32, ct mbim.CommandType, status mbim.Status, info mbim.Info) ([]byte, error) {
	m := mbim.Message{Type: t, TransactionID: tid, Service: service, CID: cid, CommandType: ct, Status: status}
	if info != nil {
		b, err := mbim.Marshal(info)
		if err != nil {
			return nil, err
		}
		m.InformationBuffer = b
	}
	return m.AppendBinary(nil)
}

package session

import (
	"context"
	"fmt"
	"reflect"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
)

var _ mbim.Caller = (*Session)(nil)

// Command sends a COMMAND for cid of service with the information buffer
// info (nil for none), waits for the matching COMMAND_DONE and returns its
// information buffer, which the caller owns. It implements mbim.Caller:
// when the device answers with a status other than none, the error is a
// *mbim.StatusError and resp still holds the information buffer that came
// with it; every other failure returns a nil resp (see the package
// documentation for the error types).
//
// Command does not look at info; Request, Query, Set and Do check typed
// payloads against the negotiated MBIMEx version.
func (s *Session) Command(ctx context.Context, service mbim.UUID, cid uint32, ct mbim.CommandType, info []byte) (resp []byte, err error) {
	m, _, err := s.command(ctx, service, cid, ct, info)
	if m.Type == 0 {
		return nil, err
	}
	return m.InformationBuffer, err
}

// Request sends req (nil for an empty information buffer) as a query or
// set of cid of service and returns the response decoded by the catalog
// with the negotiated MBIMEx version.
//
// Before sending, it checks that req has the type of the layout that the
// negotiated version selects for this CID (a *basicconnect.ConnectSetV3,
// not a *basicconnect.ConnectSet, at MBIMEx 3.0), or is nil when that
// layout is empty; payloads of services or CIDs the catalog does not know
// are sent as they are.
//
// When the device answers with a status other than none, Request returns
// the decoded response (whose payload some failures carry) and a
// *mbim.StatusError. When the response does not decode, it returns the
// Decoded (with Err set and the raw buffer) and a *RequestError.
func (s *Session) Request(ctx context.Context, service mbim.UUID, cid uint32, ct mbim.CommandType, req mbim.Info) (*catalog.Decoded, error) {
	kind := mbim.KindQuery
	if ct == mbim.CommandSet {
		kind = mbim.KindSet
	}
	if err := s.checkLayout(service, cid, ct, kind, req); err != nil {
		return nil, err
	}
	var info []byte
	if !isNil(req) {
		b, err := mbim.Marshal(req)
		if err != nil {
			return nil, &RequestError{Request: describeCommand(service, cid, ct), Reason: "cannot encode the request", Err: err}
		}
		info = b
	}
	m, tid, err := s.command(ctx, service, cid, ct, info)
	if m.Type == 0 {
		return nil, err
	}
	d := catalog.Decode(m, s.MBIMEx())
	if err != nil {
		return d, err
	}
	if d.Err != nil {
		return d, &RequestError{Request: describeCommand(service, cid, ct), TransactionID: tid,
			Reason: "cannot decode the response", Err: d.Err}
	}
	return d, nil
}

// Query is Request with mbim.CommandQuery.
func (s *Session) Query(ctx context.Context, service mbim.UUID, cid uint32, req mbim.Info) (*catalog.Decoded, error) {
	return s.Request(ctx, service, cid, mbim.CommandQuery, req)
}

// Set is Request with mbim.CommandSet.
func (s *Session) Set(ctx context.Context, service mbim.UUID, cid uint32, req mbim.Info) (*catalog.Decoded, error) {
	return s.Request(ctx, service, cid, mbim.CommandSet, req)
}

// Do sends req like Request and decodes the response into resp, which
// must have the type of the response layout that the negotiated version
// selects (checked before sending, for CIDs the catalog knows). resp may
// be nil to ignore the response's payload.
//
// When the device answers with a status other than none and a payload,
// Do still decodes the payload into resp (the PIN response carries the
// remaining attempts that way) and returns the *mbim.StatusError.
func (s *Session) Do(ctx context.Context, service mbim.UUID, cid uint32, ct mbim.CommandType, req, resp mbim.Info) error {
	kind := mbim.KindQuery
	if ct == mbim.CommandSet {
		kind = mbim.KindSet
	}
	if err := s.checkLayout(service, cid, ct, kind, req); err != nil {
		return err
	}
	if !isNil(resp) {
		if err := s.checkLayout(service, cid, ct, mbim.KindResponse, resp); err != nil {
			return err
		}
	}
	var info []byte
	if !isNil(req) {
		b, err := mbim.Marshal(req)
		if err != nil {
			return &RequestError{Request: describeCommand(service, cid, ct), Reason: "cannot encode the request", Err: err}
		}
		info = b
	}
	m, tid, err := s.command(ctx, service, cid, ct, info)
	if m.Type == 0 || isNil(resp) {
		return err
	}
	if err != nil {
		if len(m.InformationBuffer) > 0 {
			_ = resp.UnmarshalMBIM(m.InformationBuffer)
		}
		return err
	}
	if err := resp.UnmarshalMBIM(m.InformationBuffer); err != nil {
		return &RequestError{Request: describeCommand(service, cid, ct), TransactionID: tid,
			Reason: "cannot decode the response", Err: err}
	}
	return nil
}

// checkLayout verifies that v (a request or response payload, per kind)
// has the type the negotiated version selects for the CID.
func (s *Session) checkLayout(service mbim.UUID, cid uint32, ct mbim.CommandType, kind mbim.Kind, v mbim.Info) error {
	svc, c, l := catalog.Layout(service, cid, kind, s.MBIMEx())
	if c == nil {
		return nil // unknown to the catalog: the caller knows best
	}
	ver := s.MBIMEx()
	what := svc.Name + " " + c.Name + " " + kind.String()
	if kind != mbim.KindResponse {
		what = svc.Name + " " + c.Name + " " + ct.String()
	}
	if l == nil {
		if isNil(v) {
			return nil
		}
		// A layout that only later versions define?
		for _, d := range c.Messages {
			if d.Kind == kind && d.MBIMEx > ver {
				return &RequestError{Request: what, Reason: fmt.Sprintf(
					"this payload needs MBIMEx %s, but the session negotiated %s", d.MBIMEx, ver)}
			}
		}
		return nil
	}
	if l.New == nil {
		if isNil(v) {
			return nil
		}
		return &RequestError{Request: what, Reason: fmt.Sprintf(
			"carries no information buffer at MBIMEx %s, but a %T was given", ver, v)}
	}
	want := reflect.TypeOf(l.New())
	if isNil(v) {
		return &RequestError{Request: what, Reason: fmt.Sprintf(
			"needs a %v payload at MBIMEx %s", want, ver)}
	}
	if got := reflect.TypeOf(v); got != want {
		return &RequestError{Request: what, Reason: fmt.Sprintf(
			"takes a %v at MBIMEx %s, not a %v", want, ver, got)}
	}
	return nil
}

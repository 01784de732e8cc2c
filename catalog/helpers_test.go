package catalog

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/gombim/gombim/catalog/basicconnect"
	"github.com/gombim/gombim/mbim"
)

// fakeCaller answers every command with a fixed status and buffer, and
// records what was sent.
type fakeCaller struct {
	version mbim.Version
	resp    []byte
	err     error

	service mbim.UUID
	cid     uint32
	ct      mbim.CommandType
	info    []byte
	calls   int
}

func (f *fakeCaller) Command(ctx context.Context, service mbim.UUID, cid uint32, ct mbim.CommandType, info []byte) ([]byte, error) {
	f.calls++
	f.service, f.cid, f.ct, f.info = service, cid, ct, info
	return f.resp, f.err
}

func (f *fakeCaller) MBIMEx() mbim.Version { return f.version }

func TestRequestHelpers(t *testing.T) {
	ctx := context.Background()
	want := &basicconnect.RegisterStateResponse{RegisterState: basicconnect.RegisterStateHome, ProviderId: "310260", ProviderName: "T-Mobile"}
	wire, err := mbim.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("query", func(t *testing.T) {
		f := &fakeCaller{resp: wire}
		got, err := basicconnect.QueryRegisterState(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if f.service != basicconnect.UUID || f.cid != basicconnect.CIDRegisterState || f.ct != mbim.CommandQuery || f.info != nil {
			t.Errorf("sent service %v cid %d type %v info %x", f.service, f.cid, f.ct, f.info)
		}
	})

	t.Run("set", func(t *testing.T) {
		f := &fakeCaller{resp: wire}
		req := &basicconnect.RegisterStateSet{ProviderId: "310260", RegisterAction: basicconnect.RegisterActionManual}
		if _, err := basicconnect.SetRegisterState(ctx, f, req); err != nil {
			t.Fatal(err)
		}
		sent := new(basicconnect.RegisterStateSet)
		if err := sent.UnmarshalMBIM(f.info); err != nil || !reflect.DeepEqual(sent, req) || f.ct != mbim.CommandSet {
			t.Errorf("sent %+v (%v), type %v; want %+v", sent, err, f.ct, req)
		}
	})

	t.Run("wrong version", func(t *testing.T) {
		f := &fakeCaller{version: mbim.MBIMEx2, resp: wire}
		_, err := basicconnect.QueryRegisterState(ctx, f)
		var ve *mbim.MBIMExError
		if !errors.As(err, &ve) || f.calls != 0 {
			t.Fatalf("err %v after %d calls, want a *mbim.MBIMExError and nothing sent", err, f.calls)
		}
		t.Log(err)
		f.resp, _ = mbim.Marshal(&basicconnect.RegisterStateResponseV2{ProviderId: "1"})
		if _, err := basicconnect.QueryRegisterStateV2(ctx, f); err != nil {
			t.Fatal(err)
		}
		f.version = mbim.MBIMEx1
		if _, err := basicconnect.QueryRegisterStateV2(ctx, f); !errors.As(err, &ve) {
			t.Fatalf("V2 helper with MBIMEx 1.0: %v", err)
		}
	})

	t.Run("failure status with buffer", func(t *testing.T) {
		pin, _ := mbim.Marshal(&basicconnect.PinResponse{PinType: basicconnect.PinTypePin1, RemainingAttempts: 2})
		se := &mbim.StatusError{Status: mbim.StatusFailure, Service: basicconnect.UUID, CID: basicconnect.CIDPin}
		f := &fakeCaller{resp: pin, err: se}
		got, err := basicconnect.SetPin(ctx, f, &basicconnect.PinSet{PinType: basicconnect.PinTypePin1, PinOperation: basicconnect.PinOperationEnter, Pin: "1234"})
		if !errors.Is(err, se) {
			t.Fatalf("err %v, want the status error", err)
		}
		if got == nil || got.RemainingAttempts != 2 {
			t.Fatalf("response %+v, want the decoded PIN response", got)
		}
		f.resp = nil
		if got, err := basicconnect.QueryPin(ctx, f); got != nil || !errors.Is(err, se) {
			t.Fatalf("no buffer: %+v, %v", got, err)
		}
	})

	t.Run("transport error", func(t *testing.T) {
		boom := errors.New("boom")
		f := &fakeCaller{resp: wire, err: boom}
		if got, err := basicconnect.QueryRegisterState(ctx, f); got != nil || err != boom {
			t.Fatalf("%+v, %v", got, err)
		}
	})

	t.Run("undecodable response", func(t *testing.T) {
		f := &fakeCaller{resp: []byte{1, 2, 3}}
		_, err := basicconnect.QueryRegisterState(ctx, f)
		var de *mbim.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("err %v, want a wrapped *mbim.DecodeError", err)
		}
	})
}

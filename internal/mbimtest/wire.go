package mbimtest

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// CheckWire checks one information buffer against its value: msg encodes
// (with mbim.Marshal and with AppendMBIM(nil)) to exactly the bytes of
// wantHex, msg.SizeMBIM() is that length, and decoding wantHex into fresh
// (a zero value, usually new(T); its type may be an alias of msg's) gives a
// value deeply equal to msg. name prefixes every message.
func CheckWire(t testing.TB, name string, msg, fresh mbim.Info, wantHex string) {
	t.Helper()
	want, err := hex.DecodeString(wantHex)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", name, err)
	}
	CheckWireBytes(t, name, msg, fresh, want)
}

// CheckWireBytes is CheckWire with the wire form as bytes.
func CheckWireBytes(t testing.TB, name string, msg, fresh mbim.Info, want []byte) {
	t.Helper()
	got, encErr := mbim.Marshal(msg)
	if encErr != nil {
		t.Errorf("%s: encode: %v", name, encErr)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding differs\n got %x\nwant %x", name, got, want)
	}
	if app, err := msg.AppendMBIM(nil); err != nil {
		t.Errorf("%s: AppendMBIM(nil): %v", name, err)
	} else if !bytes.Equal(app, want) {
		t.Errorf("%s: AppendMBIM(nil) differs\n got %x\nwant %x", name, app, want)
	}
	if n := msg.SizeMBIM(); n != len(want) || (encErr == nil && n != len(got)) {
		t.Errorf("%s: SizeMBIM = %d, want %d (encoded %d bytes)", name, n, len(want), len(got))
	}
	if err := fresh.UnmarshalMBIM(want); err != nil {
		t.Errorf("%s: decode: %v", name, err)
	} else if !reflect.DeepEqual(fresh, msg) {
		t.Errorf("%s: decoding differs\n got %+v\nwant %+v", name, fresh, msg)
	}
}

// Fresh returns a new zero value of the type v points to, to decode into.
func Fresh(v mbim.Info) mbim.Info {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface().(mbim.Info)
}

// CheckService checks a generated service description against libmbim 1.28
// (mbim_uuid_from_service()): s is the package's Service, uuid its UUID
// variable; name is the nickname and uuidHex the 16 UUID bytes in wire
// order. Service.UUID must be the package's UUID.
func CheckService(t testing.TB, s *mbim.ServiceDesc, uuid mbim.UUID, name, uuidHex string) {
	t.Helper()
	if s.Name != name {
		t.Errorf("Service.Name = %q, want %q", s.Name, name)
	}
	if got := hex.EncodeToString(uuid[:]); got != uuidHex {
		t.Errorf("UUID bytes = %s, want %s (libmbim)", got, uuidHex)
	}
	if s.UUID != uuid {
		t.Errorf("Service.UUID = %s, want the package's UUID %s", s.UUID, uuid)
	}
}

// Seq returns n bytes counting up from start (wrapping at 0xff).
func Seq(n int, start byte) mbim.Bytes {
	b := make(mbim.Bytes, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// ATTunnel describes the one CID of a vendor AT-command tunnel service
// (compal, fibocom, intel-at-tunnel, ...), whose request and response
// information buffers are the bare AT text, not padded.
type ATTunnel struct {
	Service *mbim.ServiceDesc // the package's Service
	UUID    string            // the service UUID, canonical 8-4-4-4-12 form
	CID     uint32            // the package's CIDAtCommand
	WantCID uint32            // the value it must have

	// Command and Reply are the request's and the response's information
	// buffers; Request and Response build the message carrying them.
	Command, Reply string
	Request        func([]byte) mbim.Info
	Response       func([]byte) mbim.Info
}

// CheckATTunnel checks an AT-command tunnel service: the service UUID and
// the CID, and that the request and the response encode to exactly their
// text and decode from it (CheckWireBytes).
func CheckATTunnel(t testing.TB, c ATTunnel) {
	t.Helper()
	if c.Service.UUID.String() != c.UUID || c.CID != c.WantCID {
		t.Errorf("service %s cid %d, want %s cid %d", c.Service.UUID, c.CID, c.UUID, c.WantCID)
	}
	req := c.Request([]byte(c.Command))
	CheckWireBytes(t, "request", req, Fresh(req), []byte(c.Command))
	resp := c.Response([]byte(c.Reply))
	CheckWireBytes(t, "response", resp, Fresh(resp), []byte(c.Reply))
}

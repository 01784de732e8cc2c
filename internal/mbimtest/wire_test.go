package mbimtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gombim/gombim/mbim"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	msgs    []string
	fatal   bool
	helpers int
}

func (r *recorder) Helper() { r.helpers++ }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

// record runs fn with a recorder, in its own goroutine so that Fatalf can
// stop it.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	if r.helpers == 0 {
		t.Error("the helper did not call t.Helper()")
	}
	return r
}

// expect checks that r failed with exactly len(want) messages, the i-th
// containing want[i].
func (r *recorder) expect(t *testing.T, want ...string) {
	t.Helper()
	if len(r.msgs) != len(want) {
		t.Fatalf("%d failures, want %d:\n%s", len(r.msgs), len(want), strings.Join(r.msgs, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(r.msgs[i], w) {
			t.Errorf("failure %d = %q, want it to contain %q", i, r.msgs[i], w)
		}
	}
}

// u32 is a well-behaved information buffer: one little-endian uint32.
type u32 struct{ V uint32 }

func (m *u32) AppendMBIM(dst []byte) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(dst, m.V), nil
}

func (m *u32) SizeMBIM() int { return 4 }

func (m *u32) UnmarshalMBIM(b []byte) error {
	if len(b) != 4 {
		return errors.New("want 4 bytes")
	}
	m.V = binary.LittleEndian.Uint32(b)
	return nil
}

// badSize reports one byte too many.
type badSize struct{ u32 }

func (m *badSize) SizeMBIM() int { return 5 }

// lossy decodes every buffer as zero.
type lossy struct{ u32 }

func (m *lossy) UnmarshalMBIM(b []byte) error { m.V = 0; return nil }

// unencodable fails to encode.
type unencodable struct{ u32 }

func (m *unencodable) AppendMBIM(dst []byte) ([]byte, error) { return dst, errors.New("no") }

func TestCheckWire(t *testing.T) {
	record(t, func(tb testing.TB) {
		CheckWire(tb, "ok", &u32{7}, new(u32), "07000000")
	}).expect(t)

	record(t, func(tb testing.TB) {
		CheckWire(tb, "other vector", &u32{7}, new(u32), "08000000")
	}).expect(t,
		"other vector: encoding differs\n got 07000000\nwant 08000000",
		"other vector: AppendMBIM(nil) differs",
		"other vector: decoding differs")

	r := record(t, func(tb testing.TB) {
		CheckWire(tb, "typo", &u32{7}, new(u32), "0700000")
	})
	r.expect(t, "typo: bad hex")
	if !r.fatal {
		t.Error("bad hex did not stop the test")
	}

	record(t, func(tb testing.TB) {
		CheckWire(tb, "short", &u32{7}, new(u32), "0700")
	}).expect(t, "short: encoding differs", "short: AppendMBIM(nil) differs",
		"short: SizeMBIM = 4, want 2 (encoded 4 bytes)", "short: decode: want 4 bytes")

	record(t, func(tb testing.TB) {
		CheckWire(tb, "size", &badSize{u32{7}}, new(badSize), "07000000")
	}).expect(t, "size: SizeMBIM = 5, want 4")

	record(t, func(tb testing.TB) {
		CheckWire(tb, "lossy", &lossy{u32{7}}, new(lossy), "07000000")
	}).expect(t, "lossy: decoding differs")

	record(t, func(tb testing.TB) {
		CheckWire(tb, "enc", &unencodable{u32{7}}, new(unencodable), "07000000")
	}).expect(t, "enc: encode: no", "enc: AppendMBIM(nil): no")

	// A fresh value of another type never equals msg.
	record(t, func(tb testing.TB) {
		CheckWire(tb, "type", &u32{7}, new(lossy), "07000000")
	}).expect(t, "type: decoding differs")
}

func TestFresh(t *testing.T) {
	v := &u32{7}
	f := Fresh(v)
	if p, ok := f.(*u32); !ok || p == v || p.V != 0 {
		t.Errorf("Fresh(%+v) = %#v", v, f)
	}
}

func TestCheckService(t *testing.T) {
	u := mbim.MustParseUUID("c08a26dd-7718-4382-8482-6e0d583c4d0e")
	s := &mbim.ServiceDesc{Name: "dss", UUID: u}
	record(t, func(tb testing.TB) {
		CheckService(tb, s, u, "dss", "c08a26dd7718438284826e0d583c4d0e")
	}).expect(t)
	record(t, func(tb testing.TB) {
		CheckService(tb, s, u, "dsss", "c08a26dd7718438284826e0d583c4d0f")
	}).expect(t, `Service.Name = "dss", want "dsss"`,
		"UUID bytes = c08a26dd7718438284826e0d583c4d0e, want c08a26dd7718438284826e0d583c4d0f (libmbim)")
	record(t, func(tb testing.TB) {
		CheckService(tb, s, mbim.UUID{}, "dss", "00000000000000000000000000000000")
	}).expect(t, "Service.UUID = c08a26dd-7718-4382-8482-6e0d583c4d0e, want the package's UUID")
}

func TestSeq(t *testing.T) {
	if got := Seq(4, 0xfe); string(got) != "\xfe\xff\x00\x01" {
		t.Errorf("Seq(4, 0xfe) = %x", got)
	}
	if got := Seq(0, 1); len(got) != 0 {
		t.Errorf("Seq(0, 1) = %x", got)
	}
}

// text is an AT tunnel message: the bare bytes.
type text struct{ B mbim.Bytes }

func (m *text) AppendMBIM(dst []byte) ([]byte, error) { return append(dst, m.B...), nil }
func (m *text) SizeMBIM() int                         { return len(m.B) }
func (m *text) UnmarshalMBIM(b []byte) error          { m.B = append(mbim.Bytes(nil), b...); return nil }

// padded pads to 4 bytes, as an AT tunnel must not.
type padded struct{ text }

func (m *padded) AppendMBIM(dst []byte) ([]byte, error) {
	return append(append(dst, m.B...), make([]byte, m.SizeMBIM()-len(m.B))...), nil
}

func (m *padded) SizeMBIM() int { return (len(m.B) + 3) &^ 3 }

func TestCheckATTunnel(t *testing.T) {
	s := &mbim.ServiceDesc{UUID: mbim.MustParseUUID("a2a32a97-cab1-4f57-9ae1-451c74dda957")}
	tunnel := func(uuid string, cid uint32, req func([]byte) mbim.Info) ATTunnel {
		return ATTunnel{
			Service: s, UUID: uuid, CID: cid, WantCID: 1,
			Command: "AT+CGMI\r\n", Reply: "\r\nOK\r\n",
			Request:  req,
			Response: func(b []byte) mbim.Info { return &text{b} },
		}
	}
	plain := func(b []byte) mbim.Info { return &text{b} }
	record(t, func(tb testing.TB) {
		CheckATTunnel(tb, tunnel("a2a32a97-cab1-4f57-9ae1-451c74dda957", 1, plain))
	}).expect(t)
	record(t, func(tb testing.TB) {
		CheckATTunnel(tb, tunnel("a2a32a97-cab1-4f57-9ae1-451c74dda958", 1, plain))
	}).expect(t, "service a2a32a97-cab1-4f57-9ae1-451c74dda957 cid 1, want a2a32a97-cab1-4f57-9ae1-451c74dda958 cid 1")
	record(t, func(tb testing.TB) {
		CheckATTunnel(tb, tunnel("a2a32a97-cab1-4f57-9ae1-451c74dda957", 2, plain))
	}).expect(t, "cid 2, want a2a32a97-cab1-4f57-9ae1-451c74dda957 cid 1")
	record(t, func(tb testing.TB) {
		CheckATTunnel(tb, tunnel("a2a32a97-cab1-4f57-9ae1-451c74dda957", 1, func(b []byte) mbim.Info { return &padded{text{b}} }))
	}).expect(t, "request: encoding differs", "request: AppendMBIM(nil) differs",
		"request: SizeMBIM = 12, want 9 (encoded 12 bytes)")
}

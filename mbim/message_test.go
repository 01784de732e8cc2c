package mbim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// unhex decodes hex digits, ignoring spaces and newlines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

var (
	basicConnect = MustParseUUID("a289cc33-bcbb-8b4f-b6b0-133ec2aae6df")
	uiccService  = MustParseUUID("c2f6588e-f037-4bc9-8665-f4d44bd09367")
)

// Expected encodings written by hand from the MBIM 1.0 layouts (all integers
// little-endian; UUIDs in their text order).
var messageVectors = []struct {
	name string
	msg  Message
	wire string
}{
	{"open", Message{Type: TypeOpen, TransactionID: 1, MaxControlTransfer: 4096},
		"01000000 10000000 01000000 00100000"},
	{"close", Message{Type: TypeClose, TransactionID: 2},
		"02000000 0c000000 02000000"},
	{"command query empty", Message{Type: TypeCommand, TransactionID: 3, Service: basicConnect, CID: 1, CommandType: CommandQuery},
		"03000000 30000000 03000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 01000000 00000000 00000000"},
	{"command set", Message{Type: TypeCommand, TransactionID: 4, Service: basicConnect, CID: 3, CommandType: CommandSet,
		InformationBuffer: []byte{1, 2, 3, 4}},
		"03000000 34000000 04000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 03000000 01000000 04000000 01020304"},
	{"host error", Message{Type: TypeHostError, TransactionID: 5, ErrorCode: ErrFragmentOutOfSequence},
		"04000000 10000000 05000000 02000000"},
	{"open done", Message{Type: TypeOpenDone, TransactionID: 1},
		"01000080 10000000 01000000 00000000"},
	{"close done busy", Message{Type: TypeCloseDone, TransactionID: 2, Status: StatusBusy},
		"02000080 10000000 02000000 01000000"},
	{"command done", Message{Type: TypeCommandDone, TransactionID: 3, Service: basicConnect, CID: 1,
		InformationBuffer: []byte{0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xf0, 0x0d}},
		"03000080 38000000 03000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 01000000 00000000 08000000 deadbeefcafef00d"},
	{"command done ms status", Message{Type: TypeCommandDone, TransactionID: 9, Service: uiccService, CID: 2,
		Status: StatusMSSelectFailed},
		"03000080 30000000 09000000 01000000 00000000 c2f6588ef0374bc98665f4d44bd09367 02000000 02004387 00000000"},
	{"function error", Message{Type: TypeFunctionError, TransactionID: 7, ErrorCode: ErrNotOpened},
		"04000080 10000000 07000000 05000000"},
	{"indicate status", Message{Type: TypeIndicateStatus, TransactionID: 0, Service: basicConnect, CID: 11,
		InformationBuffer: []byte{0x11, 0x22, 0x33, 0x44}},
		"07000080 30000000 00000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 0b000000 04000000 11223344"},
}

func TestMessageVectors(t *testing.T) {
	for _, v := range messageVectors {
		t.Run(v.name, func(t *testing.T) {
			want := unhex(t, v.wire)
			if got := v.msg.Len(); got != len(want) {
				t.Errorf("Len() = %d, want %d", got, len(want))
			}
			got, err := v.msg.AppendBinary(nil)
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("AppendBinary\n got %x\nwant %x", got, want)
			}
			mb, err := v.msg.MarshalBinary()
			if err != nil || !bytes.Equal(mb, want) {
				t.Errorf("MarshalBinary = %x, %v", mb, err)
			}
			h := v.msg.Header()
			if h.Type != v.msg.Type || int(h.Length) != len(want) || h.TransactionID != v.msg.TransactionID {
				t.Errorf("Header() = %+v", h)
			}
			hb, _ := h.AppendBinary(nil)
			if !bytes.Equal(hb, want[:HeaderLen]) {
				t.Errorf("Header.AppendBinary = %x, want %x", hb, want[:HeaderLen])
			}

			m, err := ParseMessage(want)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if !equalMessages(m, v.msg) {
				t.Errorf("ParseMessage\n got %+v\nwant %+v", m, v.msg)
			}
			if m.InformationBuffer != nil && cap(m.InformationBuffer) != len(m.InformationBuffer) {
				t.Errorf("information buffer capacity %d not clipped to %d", cap(m.InformationBuffer), len(m.InformationBuffer))
			}
			if len(m.InformationBuffer) > 0 && &m.InformationBuffer[0] != &want[len(want)-len(m.InformationBuffer)] {
				t.Errorf("information buffer is a copy, want a sub-slice of the input")
			}
		})
	}
}

func equalMessages(a, b Message) bool {
	return a.Type == b.Type && a.TransactionID == b.TransactionID &&
		a.MaxControlTransfer == b.MaxControlTransfer && a.Status == b.Status &&
		a.ErrorCode == b.ErrorCode && a.Service == b.Service && a.CID == b.CID &&
		a.CommandType == b.CommandType && bytes.Equal(a.InformationBuffer, b.InformationBuffer)
}

func TestParseHeader(t *testing.T) {
	h, err := ParseHeader(unhex(t, "03000080 38000000 2a000000 ffff"))
	if err != nil {
		t.Fatal(err)
	}
	if h != (Header{Type: TypeCommandDone, Length: 56, TransactionID: 42}) {
		t.Errorf("ParseHeader = %+v", h)
	}
	_, err = ParseHeader(unhex(t, "03000080 3800"))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != 0 || err.Error() != "mbim: header at offset 0: need 12 bytes, have 6" {
		t.Errorf("ParseHeader(short) error = %v", err)
	}
}

func TestParseMessageErrors(t *testing.T) {
	const svc = "a289cc33bcbb8b4fb6b0133ec2aae6df"
	tests := []struct {
		name    string
		wire    string
		field   string
		offset  int
		text    string // whole error text
		typ     MessageType
		tid     uint32
		unknown bool
	}{
		{name: "empty", wire: "", field: "header", offset: 0,
			text: "mbim: header at offset 0: need 12 bytes, have 0"},
		{name: "length larger than input", wire: "01000000 14000000 01000000 00100000", field: "message length", offset: 4,
			text: "mbim: open: message length at offset 4: 20 does not match the 16 bytes supplied", typ: TypeOpen, tid: 1},
		{name: "length smaller than input", wire: "02000000 0c000000 07000000 00000000", field: "message length", offset: 4,
			text: "mbim: close: message length at offset 4: 12 does not match the 16 bytes supplied", typ: TypeClose, tid: 7},
		{name: "unknown type", wire: "05000080 0c000000 09000000", field: "message type", offset: 0,
			text: "mbim: message type at offset 0: unknown message type 0x80000005 (transaction 9)",
			typ:  0x80000005, tid: 9, unknown: true},
		{name: "zero type", wire: "00000000 0c000000 01000000", field: "message type", offset: 0,
			text: "mbim: message type at offset 0: unknown message type 0x00000000 (transaction 1)", tid: 1, unknown: true},
		{name: "open too short", wire: "01000000 0c000000 01000000", field: "message length", offset: 4,
			text: "mbim: open: message length at offset 4: 12 is below the minimum of 16 for open", typ: TypeOpen, tid: 1},
		{name: "function error too short", wire: "04000080 0e000000 01000000 0500", field: "message length", offset: 4,
			text: "mbim: function-error: message length at offset 4: 14 is below the minimum of 16 for function-error",
			typ:  TypeFunctionError, tid: 1},
		{name: "command-done too short", wire: "03000080 2c000000 03000000 01000000 00000000 " + svc + " 01000000 00000000",
			field: "message length", offset: 4,
			text: "mbim: command-done: message length at offset 4: 44 is below the minimum of 48 for command-done",
			typ:  TypeCommandDone, tid: 3},
		{name: "indicate-status too short", wire: "07000080 28000000 00000000 01000000 00000000 " + svc + " 0b000000",
			field: "message length", offset: 4,
			text: "mbim: indicate-status: message length at offset 4: 40 is below the minimum of 44 for indicate-status",
			typ:  TypeIndicateStatus},
		{name: "fragment 1 of 2", wire: "03000000 30000000 03000000 02000000 00000000 " + svc + " 01000000 00000000 00000000",
			field: "total fragments", offset: 12,
			text: "mbim: command: total fragments at offset 12: 2, want 1 (fragments must be reassembled first)",
			typ:  TypeCommand, tid: 3},
		{name: "current fragment 1", wire: "03000080 30000000 03000000 01000000 01000000 " + svc + " 01000000 00000000 00000000",
			field: "current fragment", offset: 16,
			text: "mbim: command-done: current fragment at offset 16: 1, want 0 in a single-fragment message",
			typ:  TypeCommandDone, tid: 3},
		{name: "bad command type", wire: "03000000 30000000 03000000 01000000 00000000 " + svc + " 01000000 02000000 00000000",
			field: "command type", offset: 40,
			text: "mbim: command: command type at offset 40: 2 is neither 0 (query) nor 1 (set)", typ: TypeCommand, tid: 3},
		{name: "command-done buffer overflow",
			wire:  "03000080 3c000000 03000000 01000000 00000000 " + svc + " 01000000 00000000 90010000 000000000000000000000000",
			field: "information buffer length", offset: 44,
			text: "mbim: command-done: information buffer length at offset 44: 400 bytes do not fit in the 12 bytes after offset 48 (message length 60)",
			typ:  TypeCommandDone, tid: 3},
		{name: "command buffer overflow by one",
			wire:  "03000000 34000000 03000000 01000000 00000000 " + svc + " 01000000 00000000 05000000 01020304",
			field: "information buffer length", offset: 44,
			text: "mbim: command: information buffer length at offset 44: 5 bytes do not fit in the 4 bytes after offset 48 (message length 52)",
			typ:  TypeCommand, tid: 3},
		{name: "indicate-status buffer overflow",
			wire:  "07000080 2c000000 00000000 01000000 00000000 " + svc + " 0b000000 ffffffff",
			field: "information buffer length", offset: 40,
			text: "mbim: indicate-status: information buffer length at offset 40: 4294967295 bytes do not fit in the 0 bytes after offset 44 (message length 44)",
			typ:  TypeIndicateStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage(unhex(t, tt.wire))
			if err == nil {
				t.Fatalf("ParseMessage succeeded: %+v", m)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FormatError", err, err)
			}
			if fe.Field != tt.field || fe.Offset != tt.offset {
				t.Errorf("field %q offset %d, want %q offset %d", fe.Field, fe.Offset, tt.field, tt.offset)
			}
			if err.Error() != tt.text {
				t.Errorf("error text\n got %q\nwant %q", err.Error(), tt.text)
			}
			if errors.Is(err, ErrUnknownMessageType) != tt.unknown {
				t.Errorf("errors.Is(ErrUnknownMessageType) = %v", !tt.unknown)
			}
			if m.Type != tt.typ || m.TransactionID != tt.tid {
				t.Errorf("message header on error = %v/%d, want %v/%d", m.Type, m.TransactionID, tt.typ, tt.tid)
			}
			if m.InformationBuffer != nil || m.Status != 0 || m.CID != 0 || !m.Service.IsZero() {
				t.Errorf("fields other than the header set on error: %+v", m)
			}
		})
	}
}

func TestParseMessageTrailingBytes(t *testing.T) {
	// Bytes beyond the fixed fields or the information buffer are ignored.
	m, err := ParseMessage(unhex(t, "01000080 14000000 01000000 00000000 aabbccdd"))
	if err != nil || m.Type != TypeOpenDone || m.Status != StatusNone {
		t.Fatalf("ParseMessage = %+v, %v", m, err)
	}
	if m.Len() != 16 {
		t.Errorf("Len = %d", m.Len())
	}
	m, err = ParseMessage(unhex(t, "03000080 34000000 03000000 01000000 00000000 a289cc33bcbb8b4fb6b0133ec2aae6df 01000000 00000000 02000000 01020304"))
	if err != nil || !bytes.Equal(m.InformationBuffer, []byte{1, 2}) {
		t.Fatalf("ParseMessage = %+v, %v", m, err)
	}
}

func TestAppendBinaryErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		text string
	}{
		{"unknown type", Message{Type: 9},
			"mbim: message type at offset 0: cannot encode unknown message type 0x00000009"},
		{"buffer on open", Message{Type: TypeOpen, InformationBuffer: []byte{1}},
			"mbim: open: information buffer at offset 16: open messages have no information buffer, but 1 bytes were given"},
		{"buffer on close", Message{Type: TypeClose, InformationBuffer: []byte{1, 2}},
			"mbim: close: information buffer at offset 12: close messages have no information buffer, but 2 bytes were given"},
		{"bad command type", Message{Type: TypeCommand, CommandType: 5},
			"mbim: command: command type at offset 40: 5 is neither 0 (query) nor 1 (set)"},
	}
	for _, tt := range tests {
		dst := []byte("keep")
		out, err := tt.msg.AppendBinary(dst)
		if err == nil || err.Error() != tt.text {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.text)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", tt.name, out)
		}
	}
	if n := (&Message{Type: 9}).Len(); n != 0 {
		t.Errorf("Len of unknown type = %d", n)
	}
	if _, err := (&Message{Type: 9}).AppendBinary(nil); !errors.Is(err, ErrUnknownMessageType) {
		t.Errorf("unknown type error %v does not match ErrUnknownMessageType", err)
	}
}

func TestAppendBinaryAppends(t *testing.T) {
	m := messageVectors[3].msg
	out, err := m.AppendBinary([]byte("xy"))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("xy"), unhex(t, messageVectors[3].wire)...)
	if !bytes.Equal(out, want) {
		t.Errorf("got %x want %x", out, want)
	}
}

func TestAppendBinaryIgnoresIrrelevantFields(t *testing.T) {
	m := Message{Type: TypeClose, TransactionID: 2, Status: StatusBusy, CID: 7, Service: basicConnect, MaxControlTransfer: 9}
	got, err := m.AppendBinary(nil)
	if err != nil || !bytes.Equal(got, unhex(t, "02000000 0c000000 02000000")) {
		t.Errorf("got %x, %v", got, err)
	}
}

func TestZeroAllocs(t *testing.T) {
	wire := unhex(t, messageVectors[7].wire)
	var m Message
	var err error
	if n := testing.AllocsPerRun(1000, func() { m, err = ParseMessage(wire) }); n != 0 {
		t.Errorf("ParseMessage allocates %v times per run", n)
	}
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { buf, _ = m.AppendBinary(buf[:0]) }); n != 0 {
		t.Errorf("AppendBinary allocates %v times per run", n)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = m.Type.String(); _ = m.Status.String() }); n != 0 {
		t.Errorf("String allocates %v times per run", n)
	}
}

func TestMessageErr(t *testing.T) {
	tests := []struct {
		msg  Message
		want error
	}{
		{Message{Type: TypeOpenDone}, nil},
		{Message{Type: TypeOpenDone, Status: StatusFailure}, &StatusError{Status: StatusFailure}},
		{Message{Type: TypeCloseDone, Status: StatusBusy}, &StatusError{Status: StatusBusy}},
		{Message{Type: TypeCommandDone, Service: basicConnect, CID: 12}, nil},
		{Message{Type: TypeCommandDone, Service: basicConnect, CID: 12, Status: StatusBusy},
			&StatusError{Status: StatusBusy, Service: basicConnect, CID: 12}},
		{Message{Type: TypeFunctionError, ErrorCode: ErrNotOpened}, ErrNotOpened},
		{Message{Type: TypeHostError, ErrorCode: ErrCancel}, ErrCancel},
		{Message{Type: TypeCommand}, nil},
		{Message{Type: TypeIndicateStatus}, nil},
	}
	for _, tt := range tests {
		err := tt.msg.Err()
		if tt.want == nil {
			if err != nil {
				t.Errorf("%v: Err() = %v, want nil", tt.msg.Type, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%v: Err() = %v, want %v", tt.msg.Type, err, tt.want)
		}
	}
	err := (&Message{Type: TypeCommandDone, Service: basicConnect, CID: 12, Status: StatusNotRegistered}).Err()
	const want = "mbim: service a289cc33-bcbb-8b4f-b6b0-133ec2aae6df cid 12: status not-registered (code 7)"
	if err.Error() != want {
		t.Errorf("got %q want %q", err, want)
	}
}

func TestMessageString(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{messageVectors[0].msg, "open tid=1 max-control-transfer=4096"},
		{messageVectors[1].msg, "close tid=2"},
		{messageVectors[3].msg, "command tid=4 service=a289cc33-bcbb-8b4f-b6b0-133ec2aae6df cid=3 type=set buffer=4B"},
		{messageVectors[6].msg, "close-done tid=2 status=busy"},
		{messageVectors[8].msg, "command-done tid=9 service=c2f6588e-f037-4bc9-8665-f4d44bd09367 cid=2 status=ms-select-failed buffer=0B"},
		{messageVectors[9].msg, "function-error tid=7 error=not-opened"},
		{messageVectors[10].msg, "indicate-status tid=0 service=a289cc33-bcbb-8b4f-b6b0-133ec2aae6df cid=11 buffer=4B"},
		{Message{Type: 0x42, TransactionID: 1}, "0x00000042 tid=1"},
	}
	for _, tt := range tests {
		if got := tt.msg.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestMessageTypeText(t *testing.T) {
	want := map[MessageType]string{
		TypeOpen: "open", TypeClose: "close", TypeCommand: "command", TypeHostError: "host-error",
		TypeOpenDone: "open-done", TypeCloseDone: "close-done", TypeCommandDone: "command-done",
		TypeFunctionError: "function-error", TypeIndicateStatus: "indicate-status",
	}
	if got := MessageTypes(); len(got) != len(want) {
		t.Fatalf("MessageTypes() has %d entries", len(got))
	}
	for _, typ := range MessageTypes() {
		if typ.String() != want[typ] {
			t.Errorf("%#x.String() = %q, want %q", uint32(typ), typ.String(), want[typ])
		}
		if !typ.Known() {
			t.Errorf("%v not known", typ)
		}
		frag := typ == TypeCommand || typ == TypeCommandDone || typ == TypeIndicateStatus
		if typ.Fragmentable() != frag {
			t.Errorf("%v.Fragmentable() = %v", typ, !frag)
		}
		b, err := typ.MarshalText()
		if err != nil || string(b) != want[typ] {
			t.Errorf("MarshalText = %q, %v", b, err)
		}
		var back MessageType
		if err := back.UnmarshalText(b); err != nil || back != typ {
			t.Errorf("UnmarshalText(%q) = %v, %v", b, back, err)
		}
	}
	for _, bad := range []MessageType{0, 5, 0x80000000, 0x80000005, 0x80000006, 0xffffffff} {
		if bad.Known() || bad.Fragmentable() {
			t.Errorf("%#x is known/fragmentable", uint32(bad))
		}
	}
	if s := MessageType(0x80000005).String(); s != "0x80000005" {
		t.Errorf("String of unknown = %q", s)
	}
	var mt MessageType
	for in, want := range map[string]MessageType{"Command-Done": TypeCommandDone, "0x80000007": TypeIndicateStatus, "4": TypeHostError, "0x80000005": 0x80000005} {
		if err := mt.UnmarshalText([]byte(in)); err != nil || mt != want {
			t.Errorf("UnmarshalText(%q) = %v, %v", in, mt, err)
		}
	}
	if err := mt.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("UnmarshalText(bogus) succeeded")
	}
	j, _ := json.Marshal(map[string]MessageType{"t": TypeCommandDone})
	if string(j) != `{"t":"command-done"}` {
		t.Errorf("json = %s", j)
	}
}

func TestCommandTypeText(t *testing.T) {
	if CommandQuery.String() != "query" || CommandSet.String() != "set" || CommandType(2).String() != "0x00000002" {
		t.Error("CommandType.String")
	}
	var c CommandType
	for in, want := range map[string]CommandType{"query": CommandQuery, "SET": CommandSet, "1": CommandSet, "0x7": 7} {
		if err := c.UnmarshalText([]byte(in)); err != nil || c != want {
			t.Errorf("UnmarshalText(%q) = %v, %v", in, c, err)
		}
	}
	if err := c.UnmarshalText([]byte("-1")); err == nil {
		t.Error("UnmarshalText(-1) succeeded")
	}
	b, _ := CommandSet.MarshalText()
	if string(b) != "set" {
		t.Errorf("MarshalText = %s", b)
	}
}

func BenchmarkParseMessage(b *testing.B) {
	m := Message{Type: TypeCommandDone, TransactionID: 77, Service: basicConnect, CID: 2, InformationBuffer: make([]byte, 200)}
	wire, _ := m.AppendBinary(nil)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	m := Message{Type: TypeCommand, TransactionID: 77, Service: basicConnect, CID: 12, CommandType: CommandSet, InformationBuffer: make([]byte, 200)}
	buf := make([]byte, 0, m.Len())
	b.SetBytes(int64(m.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = m.AppendBinary(buf[:0])
	}
}

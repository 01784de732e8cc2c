package mbim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

var testPattern []byte // grown by testMessage; tests using it are not parallel

// testMessage builds a valid message of the given fragmentable type whose
// information buffer holds n bytes of a recognisable pattern.
func testMessage(t testing.TB, typ MessageType, tid uint32, n int) []byte {
	t.Helper()
	for len(testPattern) < n {
		i := len(testPattern)
		testPattern = append(testPattern, byte(i*7+i>>8))
	}
	m := Message{Type: typ, TransactionID: tid, Service: basicConnect, CID: 7, InformationBuffer: testPattern[:n]}
	if typ == TypeCommandDone {
		m.Status = StatusBusy
	}
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fragHeader(f []byte) (typ MessageType, length, tid, total, cur uint32) {
	return MessageType(binary.LittleEndian.Uint32(f)), binary.LittleEndian.Uint32(f[4:]), binary.LittleEndian.Uint32(f[8:]),
		binary.LittleEndian.Uint32(f[12:]), binary.LittleEndian.Uint32(f[16:])
}

// mkFrag builds a raw fragment with the given header values and body.
func mkFrag(typ MessageType, tid, total, cur uint32, body []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(typ))
	b = binary.LittleEndian.AppendUint32(b, uint32(20+len(body)))
	b = binary.LittleEndian.AppendUint32(b, tid)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = binary.LittleEndian.AppendUint32(b, cur)
	return append(b, body...)
}

func TestFragmentExact(t *testing.T) {
	// A 100-byte COMMAND split at 64 bytes: 80 payload bytes, 44 per fragment.
	msg := testMessage(t, TypeCommand, 2, 52)
	if len(msg) != 100 {
		t.Fatalf("message is %d bytes", len(msg))
	}
	frags, err := Fragment(nil, msg, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 2 {
		t.Fatalf("%d fragments", len(frags))
	}
	want0 := append(unhex(t, "03000000 40000000 02000000 02000000 00000000"), msg[20:64]...)
	want1 := append(unhex(t, "03000000 38000000 02000000 02000000 01000000"), msg[64:]...)
	if !bytes.Equal(frags[0], want0) {
		t.Errorf("fragment 0\n got %x\nwant %x", frags[0], want0)
	}
	if !bytes.Equal(frags[1], want1) {
		t.Errorf("fragment 1\n got %x\nwant %x", frags[1], want1)
	}
	// The first fragment starts with the fixed body: service at offset 20.
	if !bytes.Equal(frags[0][20:36], basicConnect[:]) {
		t.Error("first fragment does not start with the device service id")
	}
	// Fragments do not overlap: appending to one does not clobber the next.
	_ = append(frags[0], 0xff)
	if !bytes.Equal(frags[1], want1) {
		t.Error("fragments share capacity")
	}
}

func TestFragmentFits(t *testing.T) {
	msg := testMessage(t, TypeCommandDone, 1, 16) // 64 bytes
	dst := [][]byte{[]byte("prior")}
	out, err := Fragment(dst, msg, 64)
	if err != nil || len(out) != 2 || &out[1][0] != &msg[0] || string(out[0]) != "prior" {
		t.Fatalf("Fragment of a fitting message = %d, %v", len(out), err)
	}
	// Non-fragmentable messages that fit are returned as they are too.
	open := unhex(t, "01000000 10000000 01000000 00100000")
	out, err = Fragment(nil, open, 64)
	if err != nil || len(out) != 1 || &out[0][0] != &open[0] {
		t.Fatalf("Fragment(open) = %v, %v", out, err)
	}
}

func TestFragmentErrors(t *testing.T) {
	msg := testMessage(t, TypeCommand, 1, 100)
	if _, err := Fragment(nil, msg, 63); err == nil || !strings.Contains(err.Error(), "max control transfer 63 is below the minimum of 64") {
		t.Errorf("small max: %v", err)
	}
	bad := append([]byte(nil), msg...)
	binary.LittleEndian.PutUint32(bad[44:], 101)
	var fe *FormatError
	if _, err := Fragment(nil, bad, 64); !errors.As(err, &fe) || fe.Field != "information buffer length" {
		t.Errorf("invalid message: %v", err)
	}
	// A fixed-size message with padding beyond 64 bytes cannot be split.
	padded := make([]byte, 100)
	copy(padded, unhex(t, "01000080 64000000 05000000 00000000"))
	_, err := Fragment(nil, padded, 64)
	if err == nil || err.Error() != "mbim: open-done message of 100 bytes exceeds max control transfer 64 and cannot be fragmented" {
		t.Errorf("non-fragmentable: %v", err)
	}
	// Already a fragment.
	frags, _ := Fragment(nil, msg, 64)
	if _, err := Fragment(nil, frags[0], 4096); !errors.As(err, &fe) || fe.Field != "total fragments" {
		t.Errorf("fragment input: %v", err)
	}
	dst := [][]byte{nil}
	if out, _ := Fragment(dst, msg, 10); len(out) != 1 {
		t.Error("dst changed on error")
	}
}

// TestFragmentReassembleRoundTrip splits messages whose information buffers
// hold 0..10000 bytes with several transfer sizes and joins them again.
func TestFragmentReassembleRoundTrip(t *testing.T) {
	sizes := 10000
	if testing.Short() {
		sizes = 2000
	}
	types := []MessageType{TypeCommand, TypeCommandDone, TypeIndicateStatus}
	var frags [][]byte
	for _, max := range []int{64, 100, 512, 4096} {
		r := NewReassembler(1<<16, time.Second)
		for n := 0; n <= sizes; n++ {
			typ := types[n%3]
			tid := uint32(n + 1)
			msg := testMessage(t, typ, tid, n)
			var err error
			frags, err = Fragment(frags[:0], msg, max)
			if err != nil {
				t.Fatalf("max %d size %d: %v", max, n, err)
			}
			fixed := fixedLen(typ) - 20
			per := max - 20
			wantFrags := 1
			if len(msg) > max {
				wantFrags = (fixed + n + per - 1) / per
			}
			if len(frags) != wantFrags {
				t.Fatalf("max %d size %d: %d fragments, want %d", max, n, len(frags), wantFrags)
			}
			var got []byte
			for i, f := range frags {
				ft, flen, ftid, total, cur := fragHeader(f)
				if len(f) > max || int(flen) != len(f) || ft != typ || ftid != tid || total != uint32(len(frags)) || cur != uint32(i) {
					t.Fatalf("max %d size %d fragment %d: len %d header %v/%d/%d/%d/%d", max, n, i, len(f), ft, flen, ftid, total, cur)
				}
				if i < len(frags)-1 && len(f) != max {
					t.Fatalf("max %d size %d: fragment %d is %d bytes, not full", max, n, i, len(f))
				}
				out, err := r.Add(f, t0.Add(time.Duration(i)*time.Millisecond))
				if err != nil {
					t.Fatalf("max %d size %d fragment %d: %v", max, n, i, err)
				}
				if i < len(frags)-1 && out != nil {
					t.Fatalf("max %d size %d: message returned after fragment %d", max, n, i)
				}
				got = out
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("max %d size %d: reassembled message differs", max, n)
			}
			if len(frags) == 1 && &got[0] != &msg[0] {
				t.Fatalf("single fragment was copied")
			}
			m, err := ParseMessage(got)
			if err != nil || len(m.InformationBuffer) != n {
				t.Fatalf("max %d size %d: parse: %v", max, n, err)
			}
			if r.Pending() != 0 {
				t.Fatalf("pending %d", r.Pending())
			}
		}
	}
}

// expectReassemblyError checks the type, code, transaction and detail.
func expectReassemblyError(t *testing.T, err error, code ProtocolError, tid uint32, detail string) {
	t.Helper()
	var re *ReassemblyError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *ReassemblyError", err, err)
	}
	if re.Code != code || re.TransactionID != tid || !errors.Is(err, code) {
		t.Errorf("got code %v tid %d, want %v tid %d (%v)", re.Code, re.TransactionID, code, tid, err)
	}
	if !strings.Contains(err.Error(), detail) {
		t.Errorf("error %q does not mention %q", err, detail)
	}
}

func splitMessage(t *testing.T, typ MessageType, tid uint32, n, max int) [][]byte {
	t.Helper()
	frags, err := Fragment(nil, testMessage(t, typ, tid, n), max)
	if err != nil {
		t.Fatal(err)
	}
	return frags
}

func TestReassembleOutOfSequence(t *testing.T) {
	frags := splitMessage(t, TypeCommandDone, 5, 300, 100) // 5 fragments
	if len(frags) != 5 {
		t.Fatalf("%d fragments", len(frags))
	}
	r := NewReassembler(0, time.Second)
	mustAdd(t, r, frags[0])
	_, err := r.Add(frags[2], t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 5, "got fragment 2 of 5, want fragment 1")
	if want := "mbim: command-done transaction 5: fragment out of sequence: got fragment 2 of 5, want fragment 1 (protocol error 2)"; err.Error() != want {
		t.Errorf("error text\n got %q\nwant %q", err, want)
	}
	if r.Pending() != 0 {
		t.Error("partial message kept after error")
	}
	// The rest of that message is now orphaned.
	_, err = r.Add(frags[3], t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 5, "fragment 3 of 5 arrived without the fragments before it")
}

func TestReassembleDuplicate(t *testing.T) {
	frags := splitMessage(t, TypeIndicateStatus, 0, 200, 64)
	r := NewReassembler(0, time.Second)
	mustAdd(t, r, frags[0])
	mustAdd(t, r, frags[1])
	_, err := r.Add(frags[1], t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 0, "fragment 1 of 6 received again, want fragment 2")
}

func TestReassembleImpossibleNumbers(t *testing.T) {
	r := NewReassembler(0, time.Second)
	_, err := r.Add(mkFrag(TypeCommandDone, 3, 0, 0, nil), t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 3, "fragment number 0 of 0 is impossible")
	_, err = r.Add(mkFrag(TypeCommandDone, 3, 2, 2, []byte{1}), t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 3, "fragment number 2 of 2 is impossible")
	// An impossible continuation also drops the message in progress.
	mustAdd(t, r, mkFrag(TypeCommandDone, 4, 3, 0, make([]byte, 40)))
	_, err = r.Add(mkFrag(TypeCommandDone, 4, 3, 7, nil), t0)
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 4, "fragment number 7 of 3")
	if r.Pending() != 0 {
		t.Error("message kept")
	}
}

func TestReassembleTotalChanges(t *testing.T) {
	r := NewReassembler(0, time.Second)
	mustAdd(t, r, mkFrag(TypeCommandDone, 8, 3, 0, make([]byte, 40)))
	_, err := r.Add(mkFrag(TypeCommandDone, 8, 4, 1, []byte{1}), t0)
	expectReassemblyError(t, err, ErrLengthMismatch, 8, "total fragments changed from 3 to 4 at fragment 1")
}

func TestReassembleBufferLengthMismatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust int
	}{{"too long", +1}, {"too short", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			msg := testMessage(t, TypeCommandDone, 11, 100)
			n := binary.LittleEndian.Uint32(msg[44:])
			binary.LittleEndian.PutUint32(msg[44:], uint32(int(n)+tc.adjust))
			// Build fragments by hand; Fragment would reject the message.
			body := msg[20:]
			r := NewReassembler(0, time.Second)
			mustAdd(t, r, mkFrag(TypeCommandDone, 11, 2, 0, body[:60]))
			out, err := r.Add(mkFrag(TypeCommandDone, 11, 2, 1, body[60:]), t0)
			if out != nil {
				t.Error("message returned")
			}
			expectReassemblyError(t, err, ErrLengthMismatch, 11, "information buffer length")
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset != 44 {
				t.Errorf("cause %v", fe)
			}
		})
	}
	// Reassembled message too short for its fixed fields.
	r := NewReassembler(0, time.Second)
	mustAdd(t, r, mkFrag(TypeIndicateStatus, 12, 2, 0, make([]byte, 10)))
	_, err := r.Add(mkFrag(TypeIndicateStatus, 12, 2, 1, make([]byte, 10)), t0)
	expectReassemblyError(t, err, ErrLengthMismatch, 12, "40 is below the minimum of 44 for indicate-status")
}

func TestReassembleMalformedFragments(t *testing.T) {
	r := NewReassembler(0, time.Second)
	// MessageLength disagrees with the transfer size.
	f := mkFrag(TypeCommandDone, 2, 2, 0, make([]byte, 40))
	binary.LittleEndian.PutUint32(f[4:], 61)
	_, err := r.Add(f, t0)
	expectReassemblyError(t, err, ErrLengthMismatch, 2, "fragment says it is 61 bytes long but 60 bytes were received")
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "message length" || fe.Offset != 4 {
		t.Errorf("cause %+v", fe)
	}
	// No room for a fragment header.
	short := unhex(t, "03000080 10000000 02000000 01000000")
	_, err = r.Add(short, t0)
	expectReassemblyError(t, err, ErrLengthMismatch, 2, "16-byte fragment has no room for a fragment header")
	// Not even a header.
	_, err = r.Add([]byte{1, 2, 3}, t0)
	if !errors.As(err, &fe) || fe.Field != "header" {
		t.Errorf("short header error %v", err)
	}
}

func TestReassemblePassThrough(t *testing.T) {
	r := NewReassembler(0, time.Second)
	for _, wire := range []string{
		"01000080 10000000 01000000 00000000", // OPEN_DONE
		"04000080 10000000 07000000 05000000", // FUNCTION_ERROR
		"05000080 0c000000 07000000",          // unknown type
		"01000080 99000000 01000000 00000000", // wrong length: not the reassembler's business
		"03000080 3000",                       // too short: a header, though
	} {
		in := unhex(t, wire)
		if len(in) < HeaderLen {
			continue
		}
		out, err := r.Add(in, t0)
		if err != nil || &out[0] != &in[0] || len(out) != len(in) {
			t.Errorf("%s: Add = %x, %v", wire, out, err)
		}
	}
	single := testMessage(t, TypeCommandDone, 3, 10)
	out, err := r.Add(single, t0)
	if err != nil || &out[0] != &single[0] {
		t.Errorf("single fragment: %v", err)
	}
}

func TestReassembleMaxTransfer(t *testing.T) {
	frags := splitMessage(t, TypeCommandDone, 6, 300, 100) // 348 bytes
	r := NewReassembler(300, time.Second)
	var err error
	for _, f := range frags {
		if _, err = r.Add(f, t0); err != nil {
			break
		}
	}
	expectReassemblyError(t, err, ErrMaxTransfer, 6, "message grows beyond the 300-byte limit at fragment 3 of 5")
	if r.Pending() != 0 {
		t.Error("message kept")
	}
	// Exactly at the limit works.
	r = NewReassembler(348, time.Second)
	var out []byte
	for _, f := range frags {
		if out, err = r.Add(f, t0); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 348 {
		t.Errorf("got %d bytes", len(out))
	}
	// A first fragment above the limit.
	r = NewReassembler(50, time.Second)
	_, err = r.Add(frags[0], t0)
	expectReassemblyError(t, err, ErrMaxTransfer, 6, "first fragment alone is 100 bytes, above the 50-byte limit")
}

func TestReassembleTimeout(t *testing.T) {
	const timeout = 1250 * time.Millisecond
	frags := splitMessage(t, TypeCommandDone, 21, 200, 64)
	r := NewReassembler(0, timeout)
	if _, ok := r.Deadline(); ok {
		t.Error("deadline with nothing pending")
	}
	mustAddAt(t, r, frags[0], t0)
	mustAddAt(t, r, frags[1], t0.Add(time.Second))
	d, ok := r.Deadline()
	if !ok || !d.Equal(t0.Add(time.Second+timeout)) {
		t.Errorf("Deadline = %v, %v", d, ok)
	}
	if errs := r.Expire(d); errs != nil {
		t.Errorf("Expire at the deadline = %v", errs)
	}
	errs := r.Expire(d.Add(time.Nanosecond))
	if len(errs) != 1 {
		t.Fatalf("Expire = %v", errs)
	}
	expectReassemblyError(t, errs[0], ErrTimeoutFragment, 21, "fragment 2 of 6 did not arrive within 1.25s")
	if r.Pending() != 0 {
		t.Error("expired message kept")
	}
	// A late fragment of the expired message is orphaned.
	_, err := r.Add(frags[2], d.Add(time.Second))
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 21, "without the fragments before it")

	// If Expire was not called, the late fragment itself reports the timeout.
	mustAddAt(t, r, frags[0], t0)
	_, err = r.Add(frags[1], t0.Add(2*timeout))
	expectReassemblyError(t, err, ErrTimeoutFragment, 21, "fragment 1 of 6 did not arrive within 1.25s")

	// A new message replacing a timed-out one is accepted, with the error.
	mustAddAt(t, r, frags[0], t0)
	out, err := r.Add(frags[0], t0.Add(2*timeout))
	if out != nil {
		t.Error("unexpected message")
	}
	expectReassemblyError(t, err, ErrTimeoutFragment, 21, "did not arrive")
	if r.Pending() != 1 {
		t.Errorf("pending %d", r.Pending())
	}
	for _, f := range frags[1:] {
		out, err = r.Add(f, t0.Add(2*timeout))
		if err != nil {
			t.Fatal(err)
		}
	}
	if out == nil {
		t.Error("replacement message not completed")
	}

	// No timeout configured: nothing expires.
	r = NewReassembler(0, 0)
	mustAddAt(t, r, frags[0], t0)
	if errs := r.Expire(t0.Add(1000 * time.Hour)); errs != nil || r.Pending() != 1 {
		t.Errorf("Expire without timeout = %v", errs)
	}
	if _, ok := r.Deadline(); ok {
		t.Error("deadline without timeout")
	}
	if _, err := r.Add(frags[1], t0.Add(1000*time.Hour)); err != nil {
		t.Error(err)
	}
}

func TestReassembleExpireOrder(t *testing.T) {
	r := NewReassembler(0, time.Second)
	for _, tid := range []uint32{9, 3, 7} {
		mustAddAt(t, r, mkFrag(TypeIndicateStatus, tid, 2, 0, make([]byte, 30)), t0)
	}
	mustAddAt(t, r, mkFrag(TypeCommandDone, 3, 2, 0, make([]byte, 30)), t0)
	mustAddAt(t, r, mkFrag(TypeCommandDone, 5, 2, 0, make([]byte, 30)), t0.Add(time.Second))
	errs := r.Expire(t0.Add(1500 * time.Millisecond))
	var got []string
	for _, e := range errs {
		got = append(got, e.Type.String()+"/"+string(rune('0'+e.TransactionID)))
	}
	if strings.Join(got, " ") != "command-done/3 indicate-status/3 indicate-status/7 indicate-status/9" {
		t.Errorf("Expire order %v", got)
	}
	if r.Pending() != 1 {
		t.Errorf("pending %d", r.Pending())
	}
	r.Reset()
	if r.Pending() != 0 {
		t.Error("Reset")
	}
}

func TestReassembleSupersede(t *testing.T) {
	a := splitMessage(t, TypeCommandDone, 30, 200, 64)
	b := splitMessage(t, TypeCommandDone, 30, 150, 64)
	r := NewReassembler(0, time.Second)
	mustAdd(t, r, a[0])
	mustAdd(t, r, a[1])
	out, err := r.Add(b[0], t0)
	if out != nil {
		t.Error("unexpected message")
	}
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 30, "a new message started before fragment 2 of 6 arrived")
	for _, f := range b[1:] {
		if out, err = r.Add(f, t0); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, testMessage(t, TypeCommandDone, 30, 150)) {
		t.Error("second message not reassembled")
	}

	// A single-fragment message replacing a partial one is returned together
	// with the error.
	mustAdd(t, r, a[0])
	single := testMessage(t, TypeCommandDone, 30, 4)
	out, err = r.Add(single, t0)
	if &out[0] != &single[0] {
		t.Error("single-fragment message not returned")
	}
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 30, "a new message started")
}

func TestReassembleInterleaved(t *testing.T) {
	a := splitMessage(t, TypeCommandDone, 1, 300, 64)
	b := splitMessage(t, TypeIndicateStatus, 1, 250, 64) // same tid, other type
	c := splitMessage(t, TypeCommandDone, 2, 100, 64)
	r := NewReassembler(0, time.Second)
	var done [][]byte
	for i := 0; i < max(len(a), len(b), len(c)); i++ {
		for _, fs := range [][][]byte{a, b, c} {
			if i < len(fs) {
				out, err := r.Add(fs[i], t0)
				if err != nil {
					t.Fatal(err)
				}
				if out != nil {
					done = append(done, out)
				}
			}
		}
	}
	if len(done) != 3 {
		t.Fatalf("%d messages", len(done))
	}
	for _, m := range done {
		if _, err := ParseMessage(m); err != nil {
			t.Error(err)
		}
	}
}

func TestReassembleEviction(t *testing.T) {
	r := NewReassembler(0, time.Hour)
	for i := 0; i < MaxPendingMessages; i++ {
		mustAddAt(t, r, mkFrag(TypeIndicateStatus, uint32(100+i), 3, 0, make([]byte, 30)), t0.Add(time.Duration(i)))
	}
	// Continue the oldest so that 101 becomes the longest idle.
	mustAddAt(t, r, mkFrag(TypeIndicateStatus, 100, 3, 1, make([]byte, 30)), t0.Add(time.Minute))
	_, err := r.Add(mkFrag(TypeIndicateStatus, 200, 2, 0, make([]byte, 30)), t0.Add(time.Minute))
	expectReassemblyError(t, err, ErrFragmentOutOfSequence, 101, "more than 8 messages were being reassembled at once")
	if r.Pending() != MaxPendingMessages {
		t.Errorf("pending %d", r.Pending())
	}
}

func TestReassemblerZeroValue(t *testing.T) {
	var r Reassembler
	frags := splitMessage(t, TypeCommandDone, 1, 500, 64)
	var out []byte
	var err error
	for _, f := range frags {
		if out, err = r.Add(f, t0); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, testMessage(t, TypeCommandDone, 1, 500)) {
		t.Error("zero Reassembler did not reassemble")
	}
	r.Reset()
	if r.Expire(t0) != nil || r.Pending() != 0 {
		t.Error("zero Reassembler state")
	}
}

func TestReassembledMessageIsOwned(t *testing.T) {
	frags := splitMessage(t, TypeCommandDone, 1, 500, 64)
	r := NewReassembler(0, time.Second)
	var out []byte
	for _, f := range frags {
		out, _ = r.Add(f, t0)
	}
	// Modifying the input fragments afterwards must not change the result.
	want := append([]byte(nil), out...)
	for _, f := range frags {
		clear(f)
	}
	if !bytes.Equal(out, want) {
		t.Error("reassembled message aliases the fragments")
	}
}

func TestReassembleNoLargeAllocations(t *testing.T) {
	// A first fragment claiming 4 billion fragments must not make the
	// reassembler allocate more than it received.
	r := NewReassembler(1<<30, time.Second)
	f := mkFrag(TypeCommandDone, 1, 0xffffffff, 0, make([]byte, 100))
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset()
		if _, err := r.Add(f, t0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 5 {
		t.Errorf("%v allocations", allocs)
	}
	for _, p := range r.pending {
		if cap(p.buf) > 2*len(f) {
			t.Errorf("buffer capacity %d for a %d-byte fragment", cap(p.buf), len(f))
		}
	}
}

func mustAdd(t *testing.T, r *Reassembler, f []byte) { t.Helper(); mustAddAt(t, r, f, t0) }

func mustAddAt(t *testing.T, r *Reassembler, f []byte, now time.Time) {
	t.Helper()
	if out, err := r.Add(f, now); err != nil || out != nil {
		t.Fatalf("Add = %x, %v", out, err)
	}
}

func BenchmarkFragment(b *testing.B) {
	m := Message{Type: TypeCommand, TransactionID: 1, Service: basicConnect, CID: 12, CommandType: CommandSet, InformationBuffer: make([]byte, 10000)}
	msg, _ := m.AppendBinary(nil)
	var frags [][]byte
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		frags, _ = Fragment(frags[:0], msg, 4096)
	}
}

func BenchmarkReassemble(b *testing.B) {
	m := Message{Type: TypeCommandDone, TransactionID: 1, Service: basicConnect, CID: 12, InformationBuffer: make([]byte, 10000)}
	msg, _ := m.AppendBinary(nil)
	frags, _ := Fragment(nil, msg, 4096)
	r := NewReassembler(0, time.Second)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frags {
			if _, err := r.Add(f, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestReassembleTwoErrors(t *testing.T) {
	// A timed-out message replaced by a first fragment that is itself
	// unusable reports both problems.
	r := NewReassembler(100, time.Second)
	mustAddAt(t, r, mkFrag(TypeCommandDone, 4, 3, 0, make([]byte, 40)), t0)
	_, err := r.Add(mkFrag(TypeCommandDone, 4, 3, 0, make([]byte, 90)), t0.Add(time.Hour))
	if !errors.Is(err, ErrTimeoutFragment) || !errors.Is(err, ErrMaxTransfer) {
		t.Errorf("error %v does not report both the timeout and the size", err)
	}
	if r.Pending() != 0 {
		t.Error("message kept")
	}
	mustAddAt(t, r, mkFrag(TypeCommandDone, 4, 3, 0, make([]byte, 40)), t0)
	_, err = r.Add(mkFrag(TypeCommandDone, 4, 0, 0, nil), t0.Add(time.Hour))
	if !errors.Is(err, ErrTimeoutFragment) || !errors.Is(err, ErrFragmentOutOfSequence) {
		t.Errorf("error %v does not report both problems", err)
	}
}

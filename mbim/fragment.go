package mbim

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// MinControlTransfer is the smallest MaxControlTransfer MBIM allows
// (wMaxControlMessage must be at least 64 bytes).
const MinControlTransfer = 64

// Fragment splits msg, one complete single-fragment message (as produced by
// Message.AppendBinary), into fragments of at most maxControlTransfer bytes
// and appends them to dst.
//
// A message that fits is appended as is (msg itself, not a copy). Otherwise
// every fragment repeats the header (same type and transaction id,
// MessageLength set to the fragment's own length) and carries a fragment
// header (TotalFragments n, CurrentFragment 0..n-1); the bytes after the
// fragment header of msg are distributed in order, each fragment but the
// last filled completely. All fragments share one newly allocated array.
//
// Fragment fails if maxControlTransfer is below MinControlTransfer, if msg is
// not a valid message (see ParseMessage), or if msg does not fit and its type
// cannot be fragmented (only COMMAND, COMMAND_DONE and INDICATE_STATUS can).
func Fragment(dst [][]byte, msg []byte, maxControlTransfer int) ([][]byte, error) {
	if maxControlTransfer < MinControlTransfer {
		return dst, fmt.Errorf("mbim: max control transfer %d is below the minimum of %d bytes",
			maxControlTransfer, MinControlTransfer)
	}
	m, err := ParseMessage(msg)
	if err != nil {
		return dst, err
	}
	if len(msg) <= maxControlTransfer {
		return append(dst, msg), nil
	}
	if !m.Type.Fragmentable() {
		return dst, fmt.Errorf("mbim: %s message of %d bytes exceeds max control transfer %d and cannot be fragmented",
			m.Type, len(msg), maxControlTransfer)
	}
	const hdr = HeaderLen + FragmentHeaderLen
	payload := msg[hdr:]
	per := maxControlTransfer - hdr
	n := (len(payload) + per - 1) / per
	buf := make([]byte, 0, len(payload)+n*hdr)
	dst = slices.Grow(dst, n)
	for i := 0; i < n; i++ {
		chunk := payload[:min(per, len(payload))]
		payload = payload[len(chunk):]
		start := len(buf)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(m.Type))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(hdr+len(chunk)))
		buf = binary.LittleEndian.AppendUint32(buf, m.TransactionID)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(i))
		buf = append(buf, chunk...)
		dst = append(dst, buf[start:len(buf):len(buf)])
	}
	return dst, nil
}

// DefaultMaxMessage is the reassembly limit NewReassembler uses when given a
// maxMessage of zero or less.
const DefaultMaxMessage = 1 << 20

// MaxPendingMessages is how many messages a Reassembler collects at the same
// time. MBIM forbids interleaving fragments of different messages, so more
// than one is already a device bug; the limit only bounds memory. Starting
// one more abandons the one that has been idle longest.
const MaxPendingMessages = 8

// Reassembler joins the fragments of COMMAND, COMMAND_DONE and
// INDICATE_STATUS messages (MBIM 1.0 section 9.2). It does no I/O, starts no
// goroutines and reads no clock: the caller passes the current time to Add
// and calls Expire (at Deadline) to time out incomplete messages.
//
// Messages being collected are keyed by transaction id and message type, so
// it copes with devices that interleave messages although MBIM forbids it.
// Fragments of one message must arrive in order.
//
// The zero Reassembler is usable and behaves like NewReassembler(0, 0).
// A Reassembler is not safe for concurrent use.
type Reassembler struct {
	maxMessage int
	timeout    time.Duration
	pending    map[reassemblyKey]*partialMessage
}

type reassemblyKey struct {
	typ MessageType
	tid uint32
}

type partialMessage struct {
	total uint32 // TotalFragments
	next  uint32 // CurrentFragment expected next
	last  time.Time
	buf   []byte // header + fragment header (rewritten at the end) + body so far
}

// NewReassembler returns a Reassembler that refuses to build messages longer
// than maxMessage bytes (DefaultMaxMessage if maxMessage <= 0) and abandons a
// message when no fragment of it arrives for longer than fragmentTimeout
// (never, if fragmentTimeout <= 0).
func NewReassembler(maxMessage int, fragmentTimeout time.Duration) *Reassembler {
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessage
	}
	if maxMessage < HeaderLen+FragmentHeaderLen {
		maxMessage = HeaderLen + FragmentHeaderLen
	}
	return &Reassembler{
		maxMessage: maxMessage,
		timeout:    fragmentTimeout,
		pending:    make(map[reassemblyKey]*partialMessage),
	}
}

// Add processes one received control transfer.
//
// Messages of the types that are never fragmented (and of unknown types) are
// returned unchanged and unchecked: msg is frag itself, not a copy. So is a
// COMMAND_DONE, INDICATE_STATUS or COMMAND that comes in a single fragment
// (TotalFragments 1), once its MessageLength and fragment header have been
// checked. Either way, parse the result with ParseMessage.
//
// The fragments of a multi-fragment message are copied; when the last one
// arrives, Add returns the reassembled message in a new slice that the
// caller owns: a header with the total length, a fragment header saying 1
// fragment, and the concatenated bodies. Until then it returns nil, nil.
//
// Problems are reported as *ReassemblyError values whose Code is the MBIM
// protocol error to answer with (a fragment shorter than a header gives a
// *FormatError):
//   - ErrFragmentOutOfSequence: a fragment other than the expected next one
//     (including a repeated one), a continuation without a first fragment,
//     an impossible fragment number (TotalFragments 0 or CurrentFragment >=
//     TotalFragments), or a message abandoned because a new one with the
//     same transaction id and type started or too many were pending;
//   - ErrLengthMismatch: MessageLength differs from the fragment's size, the
//     fragment has no room for a fragment header, TotalFragments changed,
//     or the reassembled InformationBufferLength does not match the
//     reassembled size;
//   - ErrMaxTransfer: the message would exceed the maxMessage limit;
//   - ErrTimeoutFragment: a continuation arrived after the message had
//     timed out, or a new message replaced a timed-out one.
//
// Whenever an error concerns a message being collected, that message is
// dropped. A message starting while an older message with the same
// transaction id and type is still incomplete both abandons the old one
// and is accepted: if it is a single-fragment message, Add returns it
// together with the error about the old one. As with io.Reader, handle msg
// whenever it is non-nil, even if err is non-nil too.
func (r *Reassembler) Add(frag []byte, now time.Time) (msg []byte, err error) {
	if r.pending == nil { // zero Reassembler
		*r = *NewReassembler(r.maxMessage, r.timeout)
	}
	h, err := ParseHeader(frag)
	if err != nil {
		return nil, err
	}
	if !h.Type.Fragmentable() {
		return frag, nil
	}
	key := reassemblyKey{h.Type, h.TransactionID}
	p := r.pending[key]
	fail := func(code ProtocolError, cause error, format string, args ...any) error {
		return &ReassemblyError{TransactionID: h.TransactionID, Type: h.Type, Code: code,
			Detail: fmt.Sprintf(format, args...), Err: cause}
	}

	if uint64(h.Length) != uint64(len(frag)) {
		delete(r.pending, key)
		return nil, fail(ErrLengthMismatch, &FormatError{Type: h.Type, Field: "message length", Offset: offLength,
			Reason: strconv.FormatUint(uint64(h.Length), 10) + " does not match the " + strconv.Itoa(len(frag)) + " bytes received"},
			"fragment says it is %d bytes long but %d bytes were received", h.Length, len(frag))
	}
	const hdr = HeaderLen + FragmentHeaderLen
	if len(frag) < hdr {
		delete(r.pending, key)
		return nil, fail(ErrLengthMismatch, &FormatError{Type: h.Type, Field: "fragment header", Offset: offTotalFrags,
			Reason: "need " + strconv.Itoa(hdr) + " bytes, have " + strconv.Itoa(len(frag))},
			"%d-byte fragment has no room for a fragment header", len(frag))
	}
	total := binary.LittleEndian.Uint32(frag[offTotalFrags:])
	cur := binary.LittleEndian.Uint32(frag[offCurrentFrag:])

	// An incomplete message that has been idle too long is gone.
	var prev error
	if p != nil && r.expired(p, now) {
		delete(r.pending, key)
		prev = fail(ErrTimeoutFragment, nil, "fragment %d of %d did not arrive within %v", p.next, p.total, r.timeout)
		p = nil
		if cur != 0 {
			return nil, prev
		}
	}

	if total == 0 || cur >= total {
		delete(r.pending, key)
		return nil, join(prev, fail(ErrFragmentOutOfSequence, nil,
			"fragment number %d of %d is impossible", cur, total))
	}

	if cur == 0 {
		if p != nil {
			delete(r.pending, key)
			prev = fail(ErrFragmentOutOfSequence, nil,
				"a new message started before fragment %d of %d arrived", p.next, p.total)
		}
		if total == 1 {
			return frag, prev
		}
		if len(frag) > r.maxMessage {
			return nil, join(prev, fail(ErrMaxTransfer, nil,
				"first fragment alone is %d bytes, above the %d-byte limit", len(frag), r.maxMessage))
		}
		if prev == nil && len(r.pending) >= MaxPendingMessages {
			prev = r.evictOldest()
		}
		buf := make([]byte, len(frag), min(2*len(frag), r.maxMessage))
		copy(buf, frag)
		r.pending[key] = &partialMessage{total: total, next: 1, last: now, buf: buf}
		return nil, prev
	}

	// A continuation fragment.
	if p == nil {
		return nil, fail(ErrFragmentOutOfSequence, nil,
			"fragment %d of %d arrived without the fragments before it", cur, total)
	}
	if total != p.total {
		delete(r.pending, key)
		return nil, fail(ErrLengthMismatch, nil,
			"total fragments changed from %d to %d at fragment %d", p.total, total, cur)
	}
	if cur != p.next {
		delete(r.pending, key)
		if cur < p.next {
			return nil, fail(ErrFragmentOutOfSequence, nil,
				"fragment %d of %d received again, want fragment %d", cur, total, p.next)
		}
		return nil, fail(ErrFragmentOutOfSequence, nil,
			"got fragment %d of %d, want fragment %d", cur, total, p.next)
	}
	body := frag[hdr:]
	need := len(p.buf) + len(body)
	if need > r.maxMessage {
		delete(r.pending, key)
		return nil, fail(ErrMaxTransfer, nil,
			"message grows beyond the %d-byte limit at fragment %d of %d", r.maxMessage, cur, total)
	}
	if need > cap(p.buf) {
		grown := make([]byte, len(p.buf), min(max(2*cap(p.buf), need), r.maxMessage))
		copy(grown, p.buf)
		p.buf = grown
	}
	p.buf = append(p.buf, body...)
	p.next++
	p.last = now
	if p.next < p.total {
		return nil, nil
	}

	delete(r.pending, key)
	out := p.buf
	binary.LittleEndian.PutUint32(out[offLength:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[offTotalFrags:], 1)
	binary.LittleEndian.PutUint32(out[offCurrentFrag:], 0)
	if err := checkReassembledLength(h.Type, out); err != nil {
		return nil, fail(ErrLengthMismatch, err, "reassembled %d-byte message from %d fragments: %s",
			len(out), total, err.(*FormatError).Reason)
	}
	return out, nil
}

// join returns err alone when prev is nil, and both joined otherwise.
func join(prev, err error) error {
	if prev == nil {
		return err
	}
	return errors.Join(prev, err)
}

// checkReassembledLength verifies that the fixed fields fit and that
// InformationBufferLength accounts exactly for the rest of the message.
func checkReassembledLength(t MessageType, b []byte) error {
	minLen, off := lenCommand, offBufLen
	if t == TypeIndicateStatus {
		minLen, off = lenIndicateStatus, offBufLenInd
	}
	if len(b) < minLen {
		return &FormatError{Type: t, Field: "message length", Offset: offLength,
			Reason: strconv.Itoa(len(b)) + " is below the minimum of " + strconv.Itoa(minLen) + " for " + t.String()}
	}
	n := binary.LittleEndian.Uint32(b[off:])
	if uint64(n) != uint64(len(b)-minLen) {
		return &FormatError{Type: t, Field: "information buffer length", Offset: off,
			Reason: "information buffer length " + strconv.FormatUint(uint64(n), 10) + " does not match the " +
				strconv.Itoa(len(b)-minLen) + " bytes received after offset " + strconv.Itoa(minLen)}
	}
	return nil
}

func (r *Reassembler) expired(p *partialMessage, now time.Time) bool {
	return r.timeout > 0 && now.Sub(p.last) > r.timeout
}

// evictOldest drops the message that has been idle longest.
func (r *Reassembler) evictOldest() error {
	var oldKey reassemblyKey
	var old *partialMessage
	for k, p := range r.pending {
		if old == nil || p.last.Before(old.last) || (p.last.Equal(old.last) && keyLess(k, oldKey)) {
			oldKey, old = k, p
		}
	}
	if old == nil {
		return nil
	}
	delete(r.pending, oldKey)
	return &ReassemblyError{TransactionID: oldKey.tid, Type: oldKey.typ, Code: ErrFragmentOutOfSequence,
		Detail: fmt.Sprintf("abandoned at fragment %d of %d: more than %d messages were being reassembled at once",
			old.next, old.total, MaxPendingMessages)}
}

func keyLess(a, b reassemblyKey) bool {
	if a.tid != b.tid {
		return a.tid < b.tid
	}
	return a.typ < b.typ
}

// Expire drops every incomplete message that has received no fragment for
// longer than the fragment timeout and returns one ErrTimeoutFragment error
// for each, ordered by transaction id. It returns nil if nothing expired.
func (r *Reassembler) Expire(now time.Time) []*ReassemblyError {
	var out []*ReassemblyError
	for k, p := range r.pending {
		if !r.expired(p, now) {
			continue
		}
		delete(r.pending, k)
		out = append(out, &ReassemblyError{TransactionID: k.tid, Type: k.typ, Code: ErrTimeoutFragment,
			Detail: fmt.Sprintf("fragment %d of %d did not arrive within %v", p.next, p.total, r.timeout)})
	}
	slices.SortFunc(out, func(a, b *ReassemblyError) int {
		if c := cmp.Compare(a.TransactionID, b.TransactionID); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	return out
}

// Deadline returns the time after which Expire will drop the incomplete
// message that has been idle longest, and false if no message is incomplete
// or there is no timeout. A session can arm its timer with it.
func (r *Reassembler) Deadline() (time.Time, bool) {
	if r.timeout <= 0 {
		return time.Time{}, false
	}
	var d time.Time
	found := false
	for _, p := range r.pending {
		t := p.last.Add(r.timeout)
		if !found || t.Before(d) {
			d, found = t, true
		}
	}
	return d, found
}

// Pending returns the number of incomplete messages.
func (r *Reassembler) Pending() int { return len(r.pending) }

// Reset drops all incomplete messages without reporting them, e.g. when the
// session is closed or re-opened.
func (r *Reassembler) Reset() { clear(r.pending) }

package mbim

import (
	"errors"
	"strconv"
)

// ErrUnknownMessageType is matched (with errors.Is) by the *FormatError that
// ParseMessage returns for a header whose MessageType is not one of the nine
// MBIM 1.0 control message types. The Message returned alongside still has
// Type and TransactionID set, so a caller can log the header or answer it.
var ErrUnknownMessageType = errors.New("mbim: unknown message type")

// FormatError reports a malformed control message: which message type was
// being parsed, which field is wrong, the byte offset of that field from the
// start of the message, and why.
//
// Its Error text reads like
//
//	mbim: command-done: information buffer length at offset 44: 400 bytes do not fit in the 12 bytes after offset 48 (message length 60)
type FormatError struct {
	// Type is the MessageType from the header, or 0 if the header itself
	// could not be read. Unknown types are printed as "message".
	Type MessageType
	// Field names the offending field in plain words ("message length",
	// "information buffer length", ...).
	Field string
	// Offset is the byte offset of Field from the start of the message.
	Offset int
	// Reason says what is wrong with the field's value.
	Reason string
	// Err optionally classifies the problem (for example
	// ErrUnknownMessageType); it is returned by Unwrap.
	Err error
}

func (e *FormatError) Error() string {
	b := make([]byte, 0, 64+len(e.Field)+len(e.Reason))
	b = append(b, "mbim: "...)
	if e.Type.Known() {
		b = append(b, e.Type.String()...)
		b = append(b, ": "...)
	}
	b = append(b, e.Field...)
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	if e.Reason != "" {
		b = append(b, ": "...)
		b = append(b, e.Reason...)
	}
	return string(b)
}

// Unwrap returns e.Err.
func (e *FormatError) Unwrap() error { return e.Err }

// ReassemblyError reports a fragment that the Reassembler could not use, or a
// partially received message that had to be abandoned. Code is the MBIM
// protocol error that describes the failure, so a session can answer with a
// HOST_ERROR message carrying TransactionID and Code.
//
// errors.Is(err, ErrFragmentOutOfSequence) (or any other ProtocolError)
// matches on Code; errors.As also reaches Err, the underlying cause if any
// (typically a *FormatError).
type ReassemblyError struct {
	TransactionID uint32
	Type          MessageType
	Code          ProtocolError
	// Detail explains the failure in plain words, e.g.
	// "got fragment 3 of 5, want fragment 2".
	Detail string
	// Err is the underlying cause, or nil.
	Err error
}

func (e *ReassemblyError) Error() string {
	b := make([]byte, 0, 96+len(e.Detail))
	b = append(b, "mbim: "...)
	if e.Type.Known() {
		b = append(b, e.Type.String()...)
	} else {
		b = append(b, "message"...)
	}
	b = append(b, " transaction "...)
	b = strconv.AppendUint(b, uint64(e.TransactionID), 10)
	b = append(b, ": "...)
	b = append(b, e.Code.description()...)
	if e.Detail != "" {
		b = append(b, ": "...)
		b = append(b, e.Detail...)
	}
	b = append(b, " (protocol error "...)
	b = strconv.AppendUint(b, uint64(e.Code), 10)
	b = append(b, ')')
	return string(b)
}

// Unwrap returns Code and, when set, Err.
func (e *ReassemblyError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Code, e.Err}
	}
	return []error{e.Code}
}

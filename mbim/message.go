package mbim

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MessageType is the MessageType field of the MBIM control message header
// (MBIM 1.0 section 9.1). String returns libmbim's MbimMessageType nickname
// ("command-done", ...), or "0x%08x" for an unknown value.
type MessageType uint32

// MBIM control message types. Host-to-function types have the high bit
// clear; function-to-host types have it set.
const (
	TypeOpen           MessageType = 0x00000001
	TypeClose          MessageType = 0x00000002
	TypeCommand        MessageType = 0x00000003
	TypeHostError      MessageType = 0x00000004
	TypeOpenDone       MessageType = 0x80000001
	TypeCloseDone      MessageType = 0x80000002
	TypeCommandDone    MessageType = 0x80000003
	TypeFunctionError  MessageType = 0x80000004
	TypeIndicateStatus MessageType = 0x80000007
)

var messageTypes = [...]struct {
	t    MessageType
	nick string
}{
	{TypeOpen, "open"},
	{TypeClose, "close"},
	{TypeCommand, "command"},
	{TypeHostError, "host-error"},
	{TypeOpenDone, "open-done"},
	{TypeCloseDone, "close-done"},
	{TypeCommandDone, "command-done"},
	{TypeFunctionError, "function-error"},
	{TypeIndicateStatus, "indicate-status"},
}

// MessageTypes returns the nine MBIM 1.0 control message types.
func MessageTypes() []MessageType {
	out := make([]MessageType, len(messageTypes))
	for i, e := range messageTypes {
		out[i] = e.t
	}
	return out
}

// String returns the libmbim nickname of t, or "0x%08x" if t is unknown.
func (t MessageType) String() string {
	for _, e := range messageTypes {
		if e.t == t {
			return e.nick
		}
	}
	return hex32(uint32(t))
}

// Known reports whether t is one of the nine MBIM 1.0 control message types.
func (t MessageType) Known() bool {
	switch t {
	case TypeOpen, TypeClose, TypeCommand, TypeHostError,
		TypeOpenDone, TypeCloseDone, TypeCommandDone, TypeFunctionError, TypeIndicateStatus:
		return true
	}
	return false
}

// Fragmentable reports whether messages of type t carry a fragment header
// and may be split into fragments: COMMAND, COMMAND_DONE and INDICATE_STATUS.
func (t MessageType) Fragmentable() bool {
	return t == TypeCommand || t == TypeCommandDone || t == TypeIndicateStatus
}

// MarshalText implements encoding.TextMarshaler using String.
func (t MessageType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It accepts a nickname
// (case-insensitive) or a number (decimal or 0x-prefixed hexadecimal).
func (t *MessageType) UnmarshalText(b []byte) error {
	s := string(b)
	for _, e := range messageTypes {
		if strings.EqualFold(s, e.nick) {
			*t = e.t
			return nil
		}
	}
	if n, ok := parseUint32(s); ok {
		*t = MessageType(n)
		return nil
	}
	return fmt.Errorf("mbim: unknown message type %q", s)
}

// CommandType is the CommandType field of a COMMAND message.
type CommandType uint32

// Command types.
const (
	CommandQuery CommandType = 0
	CommandSet   CommandType = 1
)

// String returns "query", "set", or "0x%08x" for other values.
func (c CommandType) String() string {
	switch c {
	case CommandQuery:
		return "query"
	case CommandSet:
		return "set"
	}
	return hex32(uint32(c))
}

// MarshalText implements encoding.TextMarshaler using String.
func (c CommandType) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("query", "set", or a
// number).
func (c *CommandType) UnmarshalText(b []byte) error {
	s := string(b)
	switch {
	case strings.EqualFold(s, "query"):
		*c = CommandQuery
	case strings.EqualFold(s, "set"):
		*c = CommandSet
	default:
		n, ok := parseUint32(s)
		if !ok {
			return fmt.Errorf("mbim: unknown command type %q", s)
		}
		*c = CommandType(n)
	}
	return nil
}

// Wire sizes.
const (
	// HeaderLen is the size of the MBIM_MESSAGE_HEADER.
	HeaderLen = 12
	// FragmentHeaderLen is the size of the MBIM_FRAGMENT_HEADER that follows
	// the header in COMMAND, COMMAND_DONE and INDICATE_STATUS messages.
	FragmentHeaderLen = 8
)

// Field offsets, from the start of a message.
const (
	offType        = 0
	offLength      = 4
	offTID         = 8
	offScalar      = 12 // MaxControlTransfer, Status or ErrorStatusCode
	offTotalFrags  = 12
	offCurrentFrag = 16
	offService     = 20
	offCID         = 36
	offCmdField    = 40 // CommandType (COMMAND) or Status (COMMAND_DONE)
	offBufLen      = 44 // COMMAND and COMMAND_DONE
	offBufLenInd   = 40 // INDICATE_STATUS

	// fixed lengths before the information buffer
	lenScalarMessage  = 16 // OPEN, HOST_ERROR, OPEN_DONE, CLOSE_DONE, FUNCTION_ERROR
	lenCommand        = 48 // COMMAND and COMMAND_DONE
	lenIndicateStatus = 44
)

// Header is the 12-byte header that starts every MBIM control message and
// every fragment.
type Header struct {
	Type MessageType
	// Length is the MessageLength field: the size in bytes of this message
	// (or, for a fragment, of this fragment) including the header.
	Length        uint32
	TransactionID uint32
}

// ParseHeader decodes the first 12 bytes of b. It does not check the type or
// the length against len(b).
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &FormatError{Field: "header", Offset: 0,
			Reason: "need " + strconv.Itoa(HeaderLen) + " bytes, have " + strconv.Itoa(len(b))}
	}
	return Header{
		Type:          MessageType(binary.LittleEndian.Uint32(b[offType:])),
		Length:        binary.LittleEndian.Uint32(b[offLength:]),
		TransactionID: binary.LittleEndian.Uint32(b[offTID:]),
	}, nil
}

// AppendBinary appends the 12 header bytes to dst.
func (h Header) AppendBinary(dst []byte) ([]byte, error) {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(h.Type))
	dst = binary.LittleEndian.AppendUint32(dst, h.Length)
	dst = binary.LittleEndian.AppendUint32(dst, h.TransactionID)
	return dst, nil
}

// Message is one complete MBIM control message: an unfragmented message, or
// a fragmented one after reassembly (see Reassembler), which is represented
// exactly like an unfragmented one (TotalFragments 1, CurrentFragment 0).
//
// The struct is flat: only the fields that the message type carries are
// meaningful, the others are zero after ParseMessage and ignored by
// AppendBinary:
//
//	OPEN             MaxControlTransfer
//	CLOSE            -
//	COMMAND          Service, CID, CommandType, InformationBuffer
//	HOST_ERROR       ErrorCode
//	OPEN_DONE        Status
//	CLOSE_DONE       Status
//	COMMAND_DONE     Service, CID, Status, InformationBuffer
//	FUNCTION_ERROR   ErrorCode
//	INDICATE_STATUS  Service, CID, InformationBuffer
type Message struct {
	Type               MessageType
	TransactionID      uint32
	MaxControlTransfer uint32
	Status             Status
	ErrorCode          ProtocolError
	Service            UUID
	CID                uint32
	CommandType        CommandType
	// InformationBuffer aliases the bytes passed to ParseMessage (zero copy;
	// its capacity is clipped so appending to it never writes into them).
	InformationBuffer []byte
}

// ParseMessage decodes one complete control message. It does not allocate
// unless it returns an error.
//
// Validation:
//   - b must hold exactly one message: MessageLength must equal len(b);
//   - the type must be known (otherwise the error matches
//     ErrUnknownMessageType);
//   - the message must be long enough for the fixed fields of its type;
//   - COMMAND, COMMAND_DONE and INDICATE_STATUS must have TotalFragments 1
//     and CurrentFragment 0 (pass fragments through a Reassembler first),
//     and InformationBufferLength must fit in the message;
//   - COMMAND's CommandType must be query (0) or set (1).
//
// Bytes after the fixed fields of a fixed-size message, or after the
// information buffer, are tolerated and ignored (as libmbim does), so
// re-encoding such a message yields a shorter one.
//
// All errors are *FormatError values that name the field and its offset.
// Once the header has been read, the returned Message has Type and
// TransactionID set even when err is non-nil, so the caller can see what
// kind of message failed and answer it.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	err := ParseMessageTo(&m, b)
	return m, err
}

// ParseMessageTo is ParseMessage writing into *m, which it overwrites
// entirely; it avoids copying the Message when the caller reuses one.
func ParseMessageTo(m *Message, b []byte) error {
	if len(b) < HeaderLen {
		*m = Message{}
		return &FormatError{Field: "header", Offset: 0,
			Reason: "need " + strconv.Itoa(HeaderLen) + " bytes, have " + strconv.Itoa(len(b))}
	}
	t := MessageType(binary.LittleEndian.Uint32(b[offType:]))
	length := binary.LittleEndian.Uint32(b[offLength:])
	tid := binary.LittleEndian.Uint32(b[offTID:])
	*m = Message{Type: t, TransactionID: tid}
	if !t.Known() {
		return &FormatError{Type: t, Field: "message type", Offset: offType,
			Reason: "unknown message type " + hex32(uint32(t)) +
				" (transaction " + strconv.FormatUint(uint64(tid), 10) + ")",
			Err: ErrUnknownMessageType}
	}
	if uint64(length) != uint64(len(b)) {
		return &FormatError{Type: t, Field: "message length", Offset: offLength,
			Reason: strconv.FormatUint(uint64(length), 10) + " does not match the " +
				strconv.Itoa(len(b)) + " bytes supplied"}
	}
	switch t {
	case TypeClose:
		return nil
	case TypeOpen, TypeHostError, TypeOpenDone, TypeCloseDone, TypeFunctionError:
		if len(b) < lenScalarMessage {
			return shortMessage(t, len(b), lenScalarMessage)
		}
		v := binary.LittleEndian.Uint32(b[offScalar:])
		switch t {
		case TypeOpen:
			m.MaxControlTransfer = v
		case TypeOpenDone, TypeCloseDone:
			m.Status = Status(v)
		default:
			m.ErrorCode = ProtocolError(v)
		}
		return nil
	}

	// COMMAND, COMMAND_DONE, INDICATE_STATUS
	minLen, bufLenOff := lenCommand, offBufLen
	if t == TypeIndicateStatus {
		minLen, bufLenOff = lenIndicateStatus, offBufLenInd
	}
	if len(b) < minLen {
		return shortMessage(t, len(b), minLen)
	}
	if binary.LittleEndian.Uint32(b[offTotalFrags:]) != 1 || binary.LittleEndian.Uint32(b[offCurrentFrag:]) != 0 {
		return checkSingleFragment(t, b)
	}
	switch t {
	case TypeCommand:
		ct := CommandType(binary.LittleEndian.Uint32(b[offCmdField:]))
		if ct != CommandQuery && ct != CommandSet {
			return &FormatError{Type: t,
				Field: "command type", Offset: offCmdField,
				Reason: strconv.FormatUint(uint64(ct), 10) + " is neither 0 (query) nor 1 (set)"}
		}
		m.CommandType = ct
	case TypeCommandDone:
		m.Status = Status(binary.LittleEndian.Uint32(b[offCmdField:]))
	}
	n := binary.LittleEndian.Uint32(b[bufLenOff:])
	if avail := len(b) - minLen; uint64(n) > uint64(avail) {
		*m = Message{Type: t, TransactionID: tid}
		return &FormatError{Type: t,
			Field: "information buffer length", Offset: bufLenOff,
			Reason: strconv.FormatUint(uint64(n), 10) + " bytes do not fit in the " + strconv.Itoa(avail) +
				" bytes after offset " + strconv.Itoa(minLen) + " (message length " + strconv.Itoa(len(b)) + ")"}
	}
	m.Service = UUID(b[offService : offService+16])
	m.CID = binary.LittleEndian.Uint32(b[offCID:])
	end := minLen + int(n)
	m.InformationBuffer = b[minLen:end:end]
	return nil
}

func shortMessage(t MessageType, have, want int) error {
	return &FormatError{Type: t, Field: "message length", Offset: offLength,
		Reason: strconv.Itoa(have) + " is below the minimum of " + strconv.Itoa(want) + " for " + t.String()}
}

// checkSingleFragment requires TotalFragments 1 and CurrentFragment 0.
// b holds at least HeaderLen+FragmentHeaderLen bytes.
func checkSingleFragment(t MessageType, b []byte) error {
	total := binary.LittleEndian.Uint32(b[offTotalFrags:])
	cur := binary.LittleEndian.Uint32(b[offCurrentFrag:])
	if total != 1 {
		return &FormatError{Type: t, Field: "total fragments", Offset: offTotalFrags,
			Reason: strconv.FormatUint(uint64(total), 10) + ", want 1 (fragments must be reassembled first)"}
	}
	if cur != 0 {
		return &FormatError{Type: t, Field: "current fragment", Offset: offCurrentFrag,
			Reason: strconv.FormatUint(uint64(cur), 10) + ", want 0 in a single-fragment message"}
	}
	return nil
}

// fixedLen returns the size of the fields before the information buffer, or
// 0 for an unknown type.
func fixedLen(t MessageType) int {
	switch t {
	case TypeClose:
		return HeaderLen
	case TypeOpen, TypeHostError, TypeOpenDone, TypeCloseDone, TypeFunctionError:
		return lenScalarMessage
	case TypeCommand, TypeCommandDone:
		return lenCommand
	case TypeIndicateStatus:
		return lenIndicateStatus
	}
	return 0
}

// Len returns the size of the single-fragment encoding of m, or 0 if m.Type
// is unknown.
func (m *Message) Len() int {
	n := fixedLen(m.Type)
	if m.Type.Fragmentable() {
		n += len(m.InformationBuffer)
	}
	return n
}

// AppendBinary appends the single-fragment wire encoding of m to dst
// (TotalFragments 1, CurrentFragment 0 for the fragmentable types); use
// Fragment to split the result for a small MaxControlTransfer. It does not
// allocate when dst has enough spare capacity (see Len).
//
// It fails if the type is unknown, if a COMMAND has a CommandType other than
// query or set, if the message would exceed 4 GiB, or if InformationBuffer
// is non-empty for a type that has no information buffer.
func (m *Message) AppendBinary(dst []byte) ([]byte, error) {
	if !m.Type.Known() {
		return dst, &FormatError{Type: m.Type, Field: "message type", Offset: offType,
			Reason: "cannot encode unknown message type " + hex32(uint32(m.Type)), Err: ErrUnknownMessageType}
	}
	if !m.Type.Fragmentable() && len(m.InformationBuffer) != 0 {
		return dst, &FormatError{Type: m.Type, Field: "information buffer", Offset: fixedLen(m.Type),
			Reason: m.Type.String() + " messages have no information buffer, but " +
				strconv.Itoa(len(m.InformationBuffer)) + " bytes were given"}
	}
	if m.Type == TypeCommand && m.CommandType != CommandQuery && m.CommandType != CommandSet {
		return dst, &FormatError{Type: m.Type, Field: "command type", Offset: offCmdField,
			Reason: strconv.FormatUint(uint64(m.CommandType), 10) + " is neither 0 (query) nor 1 (set)"}
	}
	n := m.Len()
	if uint64(n) > math.MaxUint32 {
		return dst, &FormatError{Type: m.Type, Field: "message length", Offset: offLength,
			Reason: strconv.Itoa(n) + " bytes do not fit in 32 bits"}
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Type))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, m.TransactionID)
	switch m.Type {
	case TypeOpen:
		dst = binary.LittleEndian.AppendUint32(dst, m.MaxControlTransfer)
	case TypeOpenDone, TypeCloseDone:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Status))
	case TypeHostError, TypeFunctionError:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(m.ErrorCode))
	case TypeCommand, TypeCommandDone, TypeIndicateStatus:
		dst = binary.LittleEndian.AppendUint32(dst, 1) // TotalFragments
		dst = binary.LittleEndian.AppendUint32(dst, 0) // CurrentFragment
		dst = append(dst, m.Service[:]...)
		dst = binary.LittleEndian.AppendUint32(dst, m.CID)
		switch m.Type {
		case TypeCommand:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(m.CommandType))
		case TypeCommandDone:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Status))
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.InformationBuffer)))
		dst = append(dst, m.InformationBuffer...)
	}
	return dst, nil
}

// MarshalBinary returns the single-fragment encoding of m in a new slice.
func (m *Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.Len()))
}

// Header returns the header that the single-fragment encoding of m starts
// with.
func (m *Message) Header() Header {
	return Header{Type: m.Type, Length: uint32(m.Len()), TransactionID: m.TransactionID}
}

// Err returns the failure that m reports, or nil:
//   - OPEN_DONE, CLOSE_DONE: Status.Err();
//   - COMMAND_DONE: a *StatusError with Service and CID if Status is not
//     StatusNone;
//   - HOST_ERROR, FUNCTION_ERROR: ErrorCode (a ProtocolError);
//   - other types: nil.
func (m *Message) Err() error {
	switch m.Type {
	case TypeOpenDone, TypeCloseDone:
		return m.Status.Err()
	case TypeCommandDone:
		if m.Status == StatusNone {
			return nil
		}
		return &StatusError{Status: m.Status, Service: m.Service, CID: m.CID}
	case TypeHostError, TypeFunctionError:
		return m.ErrorCode
	}
	return nil
}

// String summarises m for logs, e.g.
// "command-done tid=7 service=a289cc33-bcbb-8b4f-b6b0-133ec2aae6df cid=1 status=none buffer=120B".
func (m *Message) String() string {
	b := make([]byte, 0, 128)
	b = append(b, m.Type.String()...)
	b = append(b, " tid="...)
	b = strconv.AppendUint(b, uint64(m.TransactionID), 10)
	switch m.Type {
	case TypeOpen:
		b = append(b, " max-control-transfer="...)
		b = strconv.AppendUint(b, uint64(m.MaxControlTransfer), 10)
	case TypeOpenDone, TypeCloseDone:
		b = append(b, " status="...)
		b = append(b, m.Status.String()...)
	case TypeHostError, TypeFunctionError:
		b = append(b, " error="...)
		b = append(b, m.ErrorCode.String()...)
	case TypeCommand, TypeCommandDone, TypeIndicateStatus:
		b = append(b, " service="...)
		b = m.Service.appendText(b)
		b = append(b, " cid="...)
		b = strconv.AppendUint(b, uint64(m.CID), 10)
		switch m.Type {
		case TypeCommand:
			b = append(b, " type="...)
			b = append(b, m.CommandType.String()...)
		case TypeCommandDone:
			b = append(b, " status="...)
			b = append(b, m.Status.String()...)
		}
		b = append(b, " buffer="...)
		b = strconv.AppendInt(b, int64(len(m.InformationBuffer)), 10)
		b = append(b, 'B')
	}
	return string(b)
}

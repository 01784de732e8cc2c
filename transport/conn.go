package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// HeaderSize is the size of the MBIM message header: MessageType,
// MessageLength and TransactionId, each a little-endian uint32.
const HeaderSize = 12

// DefaultMaxMessageSize is the default upper bound on the MessageLength a
// reader accepts (Options.MaxMessageSize).
const DefaultMaxMessageSize = 64 << 10

// DefaultMaxControlTransfer is the maximum control transfer assumed when the
// device does not say otherwise, and the one reported by streams, pipes and
// ptys unless configured.
const DefaultMaxControlTransfer = 4096

// Conn carries MBIM messages. Each message is one transfer (one fragment)
// as sent on the wire, header included.
//
// ReadMessage must be called from one goroutine at a time; WriteMessage may
// be called concurrently (writers are serialised, each message is written
// whole); Close may be called at any time from any goroutine and unblocks
// pending calls.
type Conn interface {
	// ReadMessage returns the next message. The slice is valid until the
	// next ReadMessage call. It returns io.EOF (possibly wrapped; test with
	// errors.Is) when the peer hung up or the device went away, ErrClosed
	// after Close, and a *FramingError for a corrupt header in the byte
	// stream, which is not fatal: the next call returns the next message
	// found after resynchronising.
	ReadMessage() ([]byte, error)
	// WriteMessage writes one whole message. b must hold exactly one
	// message: at least HeaderSize bytes, with MessageLength == len(b).
	WriteMessage(b []byte) error
	// MaxControlTransfer is the device's maximum control transfer, or the
	// configured (or default) one for streams.
	MaxControlTransfer() int
	// Close closes the connection and unblocks a pending ReadMessage at
	// once. It is safe to call more than once.
	Close() error
	// String describes the endpoint, e.g. "cdc-wdm /dev/cdc-wdm0 (max 4096)".
	String() string
}

// Options configures a Conn. The zero value is ready to use.
type Options struct {
	// MaxMessageSize is the largest MessageLength a reader accepts and the
	// size of its (single, reused) buffer; larger headers are framing
	// errors. 0 means DefaultMaxMessageSize. Values below HeaderSize are
	// raised to HeaderSize. Writes of larger messages are refused.
	MaxMessageSize int

	// MaxControlTransfer is what MaxControlTransfer reports for streams,
	// sockets, pipes and ptys (0 means DefaultMaxControlTransfer). For
	// cdc-wdm and WWAN devices a non-zero value overrides the value queried
	// from the device.
	MaxControlTransfer int

	// Shared allows opening a cdc-wdm or WWAN control port that another
	// process already has open. The kernel's cdc-wdm driver does not enforce
	// exclusive access, so Open looks for other holders in /proc and refuses
	// with a *BusyError unless Shared is set: two programs talking MBIM on
	// one port steal each other's responses.
	Shared bool

	// Name describes the stream in String() for NewStreamConn.
	Name string
}

func (o Options) maxMessage() int {
	switch {
	case o.MaxMessageSize <= 0:
		return DefaultMaxMessageSize
	case o.MaxMessageSize < HeaderSize:
		return HeaderSize
	}
	return o.MaxMessageSize
}

func (o Options) maxControl() int {
	if o.MaxControlTransfer > 0 {
		return o.MaxControlTransfer
	}
	return DefaultMaxControlTransfer
}

// Errors.
var (
	// ErrClosed is returned by operations on a Conn after Close.
	ErrClosed = errors.New("transport: connection closed")

	// ErrInvalidMessage is wrapped by the errors WriteMessage returns for
	// a buffer that is not exactly one well-formed message.
	ErrInvalidMessage = errors.New("transport: invalid message")

	// ErrNoClient is returned by PTY writes when no client has the slave
	// open (or the client the write was meant for has gone). The message
	// is dropped; the error is not fatal.
	ErrNoClient = errors.New("transport: no client has the pty open")
)

// FramingError reports a message header whose MessageLength is impossible
// (below HeaderSize or above the configured maximum). It is not fatal: the
// reader resynchronises by scanning forward for the next plausible header
// (see the package documentation) and the next ReadMessage returns the next
// message.
type FramingError struct {
	Offset int64  // stream offset of the bad header
	Type   uint32 // MessageType found in the bad header
	Length uint32 // MessageLength claimed by the bad header
	Limit  int    // the configured maximum message size
}

func (e *FramingError) Error() string {
	if e.Length < HeaderSize {
		return fmt.Sprintf("transport: message at stream offset %d claims length %d, below the minimum %d", e.Offset, e.Length, HeaderSize)
	}
	return fmt.Sprintf("transport: message at stream offset %d claims length %d, above the limit %d", e.Offset, e.Length, e.Limit)
}

// Process identifies a process holding a device open.
type Process struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

func (p Process) String() string { return fmt.Sprintf("%s (pid %d)", p.Name, p.PID) }

// BusyError is returned by Open when another program has the control port
// open (the driver returned EBUSY, or other holders were found in /proc).
// It unwraps to syscall.EBUSY.
type BusyError struct {
	Path    string
	Holders []Process // may be empty when the holders cannot be seen
}

func (e *BusyError) Error() string {
	who := "ModemManager? mbim-proxy?"
	if len(e.Holders) > 0 {
		s := make([]string, len(e.Holders))
		for i, p := range e.Holders {
			s[i] = p.String()
		}
		who = strings.Join(s, ", ")
	}
	return fmt.Sprintf("transport: another program (%s) has %s open; stop it or use --proxy", who, e.Path)
}

func (e *BusyError) Unwrap() error { return syscall.EBUSY }

// Cred holds the credentials of the process at the other end of a Unix
// socket, as reported by SO_PEERCRED at connect time.
type Cred struct {
	PID int32  `json:"pid"`
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
}

// PeerCreder is implemented by Unix socket Conns (both accepted and dialled).
type PeerCreder interface {
	PeerCred() (Cred, error)
}

// Deadliner is implemented by Conns whose underlying descriptor supports
// deadlines (sockets, character devices, ptys, and NewStreamConn streams
// that do). An expired deadline makes the pending call return an error
// wrapping os.ErrDeadlineExceeded; the stream state is kept, so reading can
// resume. A write interrupted part-way breaks the stream and later writes fail.
type Deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// RawWriter is implemented by byte-stream Conns. WriteRaw writes b as it is,
// without checking that it is a well-formed message, under the same lock as
// WriteMessage. It exists for fault injection (a simulator sending corrupt
// framing) and is not for normal use.
type RawWriter interface {
	WriteRaw(b []byte) error
}

// Bufferer is implemented by connections over a byte stream, where one read
// may bring several messages: Buffered reports whether a whole message is
// already buffered, so that the next ReadMessage returns without waiting.
type Bufferer interface {
	Buffered() bool
}

// MessageLength returns the MessageLength field of the header at the start
// of b, or 0 if b is shorter than a header.
func MessageLength(b []byte) uint32 {
	if len(b) < HeaderSize {
		return 0
	}
	return binary.LittleEndian.Uint32(b[4:8])
}

// checkMessage verifies that b is exactly one message within limit.
func checkMessage(b []byte, limit int) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrInvalidMessage, len(b), HeaderSize)
	}
	if n := MessageLength(b); int64(n) != int64(len(b)) {
		return fmt.Errorf("%w: header claims length %d but %d bytes were given", ErrInvalidMessage, n, len(b))
	}
	if len(b) > limit {
		return fmt.Errorf("%w: %d bytes is above the limit %d", ErrInvalidMessage, len(b), limit)
	}
	return nil
}

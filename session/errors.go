package session

import (
	"errors"
	"io"
	"strconv"

	"github.com/gombim/gombim/mbim"
)

// Errors a session returns. Test with errors.Is.
var (
	// ErrDeviceGone is matched by the *GoneError that every pending and
	// later request fails with once the transport reports that the modem
	// went away (end of file, hang-up, device removed).
	ErrDeviceGone = errors.New("session: the modem went away")

	// ErrClosed is returned by requests on a session that Close has shut
	// down, including requests that were still waiting when Close ran.
	ErrClosed = errors.New("session: closed")
)

// GoneError reports that the transport failed under the session: the modem
// was unplugged or reset, the simulator or proxy at the other end of a
// socket or pty exited, or reading failed for good. The session is closed
// when it is returned; open a new one to go on.
//
// errors.Is(err, ErrDeviceGone) is true, and so is errors.Is(err, io.EOF)
// when the transport reported end of file or a hang-up (which it does as
// errors wrapping io.EOF, or io.ErrUnexpectedEOF part-way through a
// message).
type GoneError struct {
	Device string // the transport's description, e.g. "cdc-wdm /dev/cdc-wdm0 (max 4096)"
	Err    error  // what the transport reported
}

func (e *GoneError) Error() string {
	return "session: the modem went away (" + e.Err.Error() + " on " + e.Device +
		"); check dmesg, reconnect the modem (or restart the simulator or proxy), then open the device again"
}

// Unwrap returns ErrDeviceGone and the transport's error, and io.EOF when
// that error is an unexpected EOF (the stream ended part-way through a
// message), which is an end of file too.
func (e *GoneError) Unwrap() []error {
	if errors.Is(e.Err, io.ErrUnexpectedEOF) && !errors.Is(e.Err, io.EOF) {
		return []error{ErrDeviceGone, e.Err, io.EOF}
	}
	return []error{ErrDeviceGone, e.Err}
}

// FunctionError is a FUNCTION_ERROR message the device sent in answer to a
// request: the device could not process the request at the protocol level
// (a fragment timed out or came out of sequence, the session is not open,
// ...). errors.Is(err, mbim.ErrTimeoutFragment) and the like match Code.
type FunctionError struct {
	Code          mbim.ProtocolError
	TransactionID uint32
	Request       string // what was asked, e.g. "basic-connect device-caps query"
}

func (e *FunctionError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "session: "...)
	b = append(b, e.Request...)
	b = append(b, " (transaction "...)
	b = strconv.AppendUint(b, uint64(e.TransactionID), 10)
	b = append(b, "): the device answered with FUNCTION_ERROR "...)
	b = append(b, e.Code.String()...)
	b = append(b, " ("...)
	b = strconv.AppendUint(b, uint64(e.Code), 10)
	b = append(b, ')')
	if e.Code == mbim.ErrNotOpened {
		b = append(b, "; the device has lost the session (was it reset, or opened by another program?): open it again"...)
	}
	return string(b)
}

// Unwrap returns Code.
func (e *FunctionError) Unwrap() error { return e.Code }

// RequestError wraps a failure of one request that is neither a status
// reported by the device (*mbim.StatusError) nor a FUNCTION_ERROR: a
// timeout, a cancelled context, a malformed or mismatched response, a
// transport write error. It names the request, so messages read like
//
//	session: basic-connect device-caps query (transaction 7): no response within 2s: context deadline exceeded
type RequestError struct {
	Request       string
	TransactionID uint32 // 0 when no transaction id was assigned yet
	Reason        string // optional explanation before Err
	Err           error
}

func (e *RequestError) Error() string {
	b := make([]byte, 0, 128)
	b = append(b, "session: "...)
	b = append(b, e.Request...)
	if e.TransactionID != 0 {
		b = append(b, " (transaction "...)
		b = strconv.AppendUint(b, uint64(e.TransactionID), 10)
		b = append(b, ')')
	}
	if e.Reason != "" {
		b = append(b, ": "...)
		b = append(b, e.Reason...)
	}
	if e.Err != nil {
		b = append(b, ": "...)
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns Err.
func (e *RequestError) Unwrap() error { return e.Err }

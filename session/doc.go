// Package session is the host side of an MBIM control session: it opens a
// modem's control channel (any transport.Conn), exchanges requests and
// responses with it, and delivers its indications.
//
// # Opening
//
// Open sends MBIM_OPEN with the maximum control transfer size (the
// transport's, unless Options.MaxControlTransfer overrides it) and waits
// for OPEN_DONE. An OPEN that goes unanswered is sent again with a new
// transaction id, after 1 s, 2 s, then every 4 s (Options.OpenRetryInterval
// sets the first interval), until the context or Options.OpenTimeout (30 s)
// expires; an OPEN_DONE answering any of the attempts is accepted. A device
// that answers OPEN with CLOSE_DONE, with FUNCTION_ERROR not-opened, or with
// a failed OPEN_DONE still holds an earlier session: the session sends
// CLOSE, waits for CLOSE_DONE, and opens again, once ("close before open").
//
// After OPEN_DONE the session queries DEVICE_SERVICES (basic-connect CID
// 16) and records the services and CIDs the device supports (Services,
// Supports), unless Options.SkipDeviceServices says the program does not
// need to know (then every CID counts as supported). If the device lists MS Basic Connect Extensions with its
// VERSION CID (15), or did not answer DEVICE_SERVICES, it negotiates the
// MBIM extensions version: it queries VERSION with MBIM 1.0 and the host's
// maximum (4.0, or Options.MaxMBIMEx) and uses the lower of that maximum
// and the version the device reports; a device that fails the query stays
// at 1.0. Each of these queries waits at most DiscoveryTimeout (5 s), or
// Options.RequestTimeout if shorter. MBIMEx reports the result, and every typed request, response and
// indication afterwards is encoded and decoded with the layout of that
// version (catalog.Layout, catalog.Decode).
//
// # Requests
//
// Any number of goroutines may issue requests at once. Transaction ids
// start at 1, increase by one per message and wrap around skipping 0 (and
// any id still in use). A response is matched to its request by
// transaction id and message type (COMMAND_DONE for COMMAND, OPEN_DONE for
// OPEN, CLOSE_DONE for CLOSE; FUNCTION_ERROR for any); a COMMAND_DONE must
// also carry the request's service and CID. Anything else (responses
// nobody waits for, responses to requests whose context ended, mismatched
// types) is logged to Options.Logger and dropped.
//
// Requests larger than the maximum control transfer are split into
// fragments (mbim.Fragment); the fragments of one message are never
// interleaved with another message's. Received fragments are reassembled
// (mbim.Reassembler) with a fragment timeout of 1250 ms
// (Options.FragmentTimeout, libmbim's value); a fragment out of sequence, a
// length mismatch, an oversized message or a timed-out message is answered
// with HOST_ERROR carrying the protocol error code, and fails the request
// waiting for that message with the *mbim.ReassemblyError (so
// errors.Is(err, mbim.ErrFragmentOutOfSequence) holds).
//
// The layers of a request's failure are distinct error types:
//   - the device answered with a status other than none: *mbim.StatusError
//     with the Service and CID set (Command also returns the information
//     buffer that came with it, which some failures carry);
//   - the device answered with FUNCTION_ERROR: *FunctionError, matching
//     the protocol error (errors.Is(err, mbim.ErrTimeoutFragment));
//   - no answer in time, a cancelled context, a malformed or mismatched
//     response, a write error: *RequestError, wrapping the cause
//     (context.DeadlineExceeded, context.Canceled, ...);
//   - the transport went away: *GoneError (ErrDeviceGone, and io.EOF when
//     the transport reported end of file or a hang-up); every pending
//     request fails with it at once and the session is closed;
//   - the session was closed: ErrClosed.
//
// Each request is bounded by its context and, when the context has no
// deadline, by Options.RequestTimeout (30 s). A request whose context ends
// returns at once; its late response is dropped.
//
// # APIs
//
// Command (the mbim.Caller interface, which the generated request helpers
// in the catalog packages use) exchanges raw information buffers. Query,
// Set and Request take a typed payload and return the response decoded by
// the catalog (*catalog.Decoded); they check that the payload type is the
// layout the negotiated MBIMEx version selects for that CID, so a v1
// payload is not sent to a device that expects the MBIMEx 3.0 one. Do
// decodes the response into a typed value the caller supplies. ops.go has
// typed helpers for everyday operations (DeviceCaps, SubscriberStatus,
// EnterPIN, SetRadioState, Register, Attach, Connect, IPConfiguration,
// Signal, ...) that pick the layout by version themselves.
//
// # Indications
//
// Indications returns a channel of decoded indications matching a filter,
// OnIndication runs a callback for each; both see indications that arrive
// at any time, including before OPEN_DONE (those are dropped when nobody
// listens yet). Delivery never blocks the session: a subscriber whose
// buffer (Options.IndicationBuffer, 64) is full loses the indication, and
// the loss is logged. Subscribe manages the device's
// DEVICE_SERVICE_SUBSCRIBE_LIST: the session sends the union of what all
// live subscriptions ask for, and sends it again when one is cancelled.
// Watch combines Subscribe and Indications.
//
// # Tracing
//
// Options.Trace sees every complete message sent and received (received
// ones after reassembly), raw and decoded, for "gombim -v".
//
// # Closing
//
// Close sends CLOSE, waits for CLOSE_DONE (at most Options.CloseTimeout,
// 2 s, or the context), closes the transport, fails what is still pending
// with ErrClosed, closes indication channels and waits for the session's
// goroutines to end. Once the device is gone, Close only cleans up.
package session

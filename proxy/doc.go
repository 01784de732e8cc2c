// Package proxy shares MBIM devices between several programs, speaking
// the protocol of libmbim's mbim-proxy so that libmbim clients
// (ModemManager, mbimcli -p) and gombim --proxy can use it unchanged.
//
// # Protocol
//
// The proxy listens on a Unix stream socket in the abstract namespace
// ("mbim-proxy" by default). A client first sends libmbim's proxy-control
// CONFIGURATION set (service 838cf7fb-8d0d-4d7f-871e-d71dbefbb39b, CID 1:
// DevicePath, Timeout), answered as libmbim answers it: success once the
// device is open; BUSY while an earlier configuration of the same client is
// still opening it; INVALID_PARAMETERS for a query, an unreadable path or
// timeout, or a path that does not resolve; FAILURE for a path other than
// the one the client configured before, and (where libmbim hangs up) when
// the device cannot be opened.
//
// Devices are keyed by their real path (symlinks resolved), so clients
// using different links share one session. The device is opened once (OPEN
// with the port's maximum control transfer, retried, with a CLOSE first if
// refused) and stays open while clients come and go; it is closed
// Config.EmptyTimeout after its last client left. A client's OPEN and
// CLOSE are answered by the proxy. Before admitting a client to a device
// believed open, the proxy checks it with a DEVICE_CAPS query, as libmbim
// does.
//
// # Requests
//
// Each request gets a transaction id of the proxy's on the device, and the
// answer is rewritten back to the client's id. A client's fragments are
// reassembled and the message is re-fragmented to the device's maximum
// control transfer under one transaction id; answers and indications are
// reassembled and passed to each client whole, or fragmented to the
// maximum control transfer the client announced in its OPEN. Payloads are
// not decoded, except for the three messages the proxy must understand:
// CONFIGURATION, DEVICE_SERVICE_SUBSCRIBE_LIST and the MBIMEx VERSION
// answer.
//
// # Indications
//
// Every client has its own subscribe list, libmbim's standard list until it
// sends one. An indication goes to every client whose list names its
// service with no CIDs or with its CID. The list set on the device is the
// standard list merged with the non-standard services the clients want; it
// is sent only when it changes (also when a client leaves), and the client
// is answered with an echo of its own list, with the device's status.
//
// When a client's MBIMEx VERSION query succeeds, the agreed version is kept
// for the device and reported to every client of the device with libmbim's
// proxy-control VERSION indication, which later clients also get just
// before their configuration is answered.
//
// # Failures
//
// If the device hangs up or answers NotOpened (it reset and forgot the
// session), every request waiting for it is answered with FUNCTION_ERROR
// NotOpened and the proxy reopens it, retrying until it comes back while it
// has clients; it then sets the merged subscribe list and the MBIMEx
// version again. Requests sent while an open is in progress wait for it;
// while the device is away they fail with NotOpened at once.
//
// One client cannot hold up another: a client's answers and indications go
// through a bounded queue, and a client that lets it fill up is
// disconnected rather than block the device reader; a client may have
// Config.MaxInFlight requests waiting for the device before the proxy stops
// reading from it; malformed input is answered or skipped, and a client
// sending nothing else is disconnected. Requests the device never answers
// are forgotten after Config.RequestTimeout.
//
// # Access
//
// Clients are identified with SO_PEERCRED. Root and the proxy's own user
// may connect, as may Config.AllowUIDs and processes with a group in
// Config.AllowGIDs (primary or supplementary); others are refused with a
// log line.
//
// # Metrics
//
// Server.Metrics counts requests, errors, timeouts, indications and bytes
// per device and per client; Server.ServeMetrics serves them over HTTP at
// /metrics in the Prometheus text format (Metrics.WritePrometheus writes
// that format for a server of your own).
package proxy

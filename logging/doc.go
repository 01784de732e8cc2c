// Package logging is the control plane of Microsoft's "MB modem logging
// with DSS" on the host: it asks a modem for its log stream over an MBIM
// session and delivers the stream, surviving resets and suspends.
//
// # The flow
//
// Start does, in order:
//
//  1. Checks what the modem advertises in DEVICE_SERVICES: the
//     ModemFileTransfer service (0EBB1CEB-AF2D-484D-8DF3-53BC51FD162C) with
//     a DSS payload that includes device to host (bit 1) and
//     MaxDssInstances > 0, MaxDssSessions > 0, and the DSS service's
//     connect CID. When one is missing it returns a *NotSupportedError
//     that says which (Support.Err).
//  2. Subscribes to MODEM_LOGGING_CONFIG indications (MS Basic Connect
//     Extensions CID 13) and reports each one (EventConfigIndication).
//  3. Reads the logging configuration and sets it (Version 1,
//     MaxSegmentSize in KiB, MaxFlushTime in ms, LevelConfig prod,
//     lab-verbose, lab-medium, lab-low or oem) with Options.Config over the
//     modem's values, and reports what the modem chose, which may differ
//     (EventConfig, Differences). A modem without the CID logs with what
//     it has (a warning).
//  4. Opens the data source (Options.Source: the modem's network interface
//     as datapath.OpenNetdev reads it, a raw NTB stream) before the
//     session exists, so that nothing is missed.
//  5. DSS CONNECT (service c08a26dd-7718-4382-8482-6e0d583c4d0e, CID 1)
//     with DeviceServiceId ModemFileTransfer, the DSS session id
//     (Options.DSSSession, or AutoSession: the first of 0-7 the modem does
//     not refuse as in use) and link state activate.
//
// The *Stream is then a datapath.Source of the log fragments (one DSS
// datagram each), so it can be written to rotating files with
// modemlog.Writer.Capture, read as an io.Reader with Stream.Reader, or
// handed to a callback with Stream.Each.
//
// Stop sends DSS CONNECT deactivate with the same session id, and the
// reads go on until the data stops coming (the end of the stream,
// Options.DrainIdle without data, at most Options.DrainMax), then end with
// io.EOF: whatever the modem sent is delivered. Close releases the rest.
//
// # Resets and suspends
//
// The DSS session lives on the modem, independent of the control
// session. When the control session ends (a device reset, the transport
// going away) a watchdog opens a new one with Options.Reopen, retrying
// until it works, subscribes and sets the configuration again and sends
// DSS CONNECT activate with the same id: the modem either still has the
// session (and refuses, which the stream reports as "still open") or had
// closed it and opens it again. A modem that forgot the MBIM session
// (suspend: FUNCTION_ERROR not-opened) is reopened the same way when the
// stream next needs it, at the latest to deactivate. Meanwhile the data
// source keeps being read; a source that ends (the network interface
// disappears, the socket closes) is opened again with Options.Source. Every
// step is reported through Options.Events.
package logging

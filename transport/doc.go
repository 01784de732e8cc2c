// Package transport moves MBIM control messages, as raw bytes, between the
// host and a device: a USB modem's cdc-wdm port, a PCIe modem's WWAN port,
// a pty or Unix socket served by a simulator or proxy, or an in-process
// Pipe. It looks no further into a message than its 12-byte header
// (MessageType, MessageLength, TransactionId; little-endian uint32s);
// parsing is the mbim package's job.
//
// # Framing
//
// Every transport but Pipe is read as a byte stream: a cdc-wdm read
// usually returns one message, but a pty or a socket may split a message
// or coalesce several. The reader keeps one buffer of
// Options.MaxMessageSize bytes (64 KiB by default), allocated once: it
// reads the header, checks that MessageLength is at least 12 and at most
// that limit, then reads the rest. A returned message aliases the buffer
// and is valid until the next ReadMessage; steady-state reads do not
// allocate.
//
// # Resynchronisation
//
// A header whose MessageLength is below 12 or above the limit is reported
// once, as a *FramingError ("transport: message at stream offset N claims
// length 4294967295, above the limit 65536"), and nothing is allocated for
// it. The error is not fatal: the reader then scans forward one byte at a
// time, dropping bytes silently, until the buffered data starts with a
// plausible header: a MessageType defined by MBIM (OPEN, CLOSE, COMMAND,
// HOST_ERROR and their device-side counterparts, INDICATE_STATUS) with a
// MessageLength between that type's minimum and the limit. The next
// ReadMessage returns the message found there. Unlike discarding whatever
// happens to be buffered, this also recovers valid messages that arrived
// in the same read as the garbage. The heuristic is only used after an
// error; in normal operation only MessageLength is checked, so vendor
// message types pass.
//
// End of stream at a message boundary is io.EOF; in the middle of a
// message it is an error wrapping io.ErrUnexpectedEOF (then io.EOF). A
// device that goes away (ENODEV) and a tty whose other side hung up (EIO)
// give errors wrapping io.EOF; test with errors.Is.
//
// # Devices
//
// Open recognises character devices by their sysfs class, so symlinks
// work. Devices are opened O_RDWR|O_NONBLOCK|O_CLOEXEC|O_NOCTTY (plus
// O_EXCL for modem ports) and wrapped with os.NewFile, so reads and writes
// go through the runtime poller and Close unblocks a pending read at once.
//
// For cdc-wdm, MaxControlTransfer comes from IOCTL_WDM_MAX_COMMAND; if the
// ioctl fails, from wMaxControlMessage in the MBIM functional descriptor
// (CDC class-specific descriptor 0x24, subtype 0x1B) found in the USB
// device's raw sysfs "descriptors" file for the port's interface and the
// active configuration; else 4096. Writes above it are refused, because
// cdc-wdm would silently truncate them. WWAN ports have no such ioctl; the
// same sysfs lookup is tried, else 4096.
//
// The cdc-wdm driver does not enforce exclusive access despite O_EXCL, and
// two programs on one port steal each other's responses. Open therefore
// looks for other holders in /proc/*/fd and refuses with a *BusyError
// naming them ("another program (ModemManager (pid 812)) has
// /dev/cdc-wdm0 open; stop it or use --proxy"), unless Options.Shared is
// set. An EBUSY from the driver (WWAN ports allow one opener) gives the
// same error.
//
// A tty (a serial line, or the slave of a simulator's pty) is put into raw
// mode (cfmakeraw semantics, through termios ioctls) so that bytes pass
// unchanged, and its input queue is flushed.
//
// # Simulators
//
// NewPTY gives a simulator the master side of a pty that clients open as
// if it were a modem port; see PTY for how it survives clients coming and
// going without ever handing one client's bytes to the next. Listen and
// DialUnix carry the same framing over Unix stream sockets (path or
// abstract names); accepted and dialled connections report the peer's
// credentials (PeerCreder). Pipe connects host and device code in one
// process.
//
// Discover lists the MBIM control ports present (cdc-wdm bound to
// cdc_mbim, WWAN ports of type MBIM) from sysfs.
package transport

package transport

import (
	"context"
	"strings"
)

// Open opens an MBIM control channel by name:
//
//   - "@name" or "unix-abstract:name": a Unix stream socket in the abstract
//     namespace (a proxy or simulator);
//   - "unix:/path": a Unix stream socket at /path;
//   - a path to a socket: the same;
//   - /dev/cdc-wdm*: a USB MBIM function (cdc_mbim), opened exclusively,
//     with MaxControlTransfer from IOCTL_WDM_MAX_COMMAND, else the MBIM
//     functional descriptor in sysfs, else 4096;
//   - /dev/wwan*mbim*: a WWAN-subsystem MBIM port (PCIe modems);
//   - any other character device: a byte stream; a tty (a pty slave of a
//     simulator, a serial line) is put into raw mode first.
//
// Character devices are recognised by their sysfs class, so symlinks and
// renamed nodes work. Devices are opened non-blocking and read through the
// runtime poller, so Close unblocks a pending ReadMessage.
func Open(path string, opts Options) (Conn, error) {
	return OpenContext(context.Background(), path, opts)
}

// OpenContext is Open with a context bounding the connect (sockets) or the
// retries (a pty whose owner is resetting it between clients, or refusing
// a second client: retried for two seconds, or until ctx's deadline if it
// has one).
func OpenContext(ctx context.Context, path string, opts Options) (Conn, error) {
	switch {
	case strings.HasPrefix(path, "@"):
		return dialUnix(ctx, path[1:], true, opts)
	case strings.HasPrefix(path, "unix-abstract:"):
		return dialUnix(ctx, strings.TrimPrefix(path, "unix-abstract:"), true, opts)
	case strings.HasPrefix(path, "unix:"):
		return dialUnix(ctx, strings.TrimPrefix(path, "unix:"), false, opts)
	}
	return openPath(ctx, path, opts)
}

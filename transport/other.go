//go:build !linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

var errUnsupported = errors.New("transport: character devices and ptys are supported on Linux only")

func peerCred(rc syscall.RawConn) (Cred, error) { return Cred{}, errUnsupported }

func openPath(ctx context.Context, path string, opts Options) (Conn, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	if fi.Mode().Type() == fs.ModeSocket {
		return dialUnix(ctx, path, false, opts)
	}
	return nil, fmt.Errorf("transport: %s: %w", path, errUnsupported)
}

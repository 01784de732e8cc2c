//go:build linux

package transport

import "golang.org/x/sys/unix"

const oNonblock = unix.O_NONBLOCK

func mkfifo(path string) error { return unix.Mkfifo(path, 0o600) }

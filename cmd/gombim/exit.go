package main

import (
	"context"
	"errors"
	"os"

	"github.com/gombim/gombim/mbim"
)

// Exit codes. Every command returns one of these from its Run function, so
// scripts can tell "the modem said no" from "wrong arguments" from "no
// modem" without parsing messages.
const (
	// exitOK: the command did what was asked.
	exitOK = 0
	// exitFailed: the modem answered with an error status (for decode: at
	// least one line could not be decoded).
	exitFailed = 1
	// exitUsage: bad command line (unknown command or flag, missing or
	// extra argument, invalid flag value).
	exitUsage = 2
	// exitDevice: the device or the transport failed (cannot open, I/O
	// error, protocol error); for decode, the input could not be read or
	// the output could not be written.
	exitDevice = 3
	// exitTimeout: the modem did not answer in time.
	exitTimeout = 4
	// exitInterrupted: stopped by SIGINT or SIGTERM (128 + SIGINT, as
	// shells report it).
	exitInterrupted = 130
)

// exitCodeFor maps an error returned by a library call to an exit code:
// nil is exitOK, a failed status from the modem (*mbim.StatusError) is
// exitFailed, a deadline is exitTimeout, a cancelled context is
// exitInterrupted, and anything else is exitDevice.
func exitCodeFor(err error) int {
	var se *mbim.StatusError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se):
		return exitFailed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return exitTimeout
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitDevice
}

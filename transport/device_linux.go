//go:build linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlWdmMaxCommand is IOCTL_WDM_MAX_COMMAND, _IOR('H', 0xA0, __u16):
// 0x800248A0 on most architectures. The direction bits are taken from
// TIOCGPTN (an _IOR too) so that architectures with a different _IOC
// layout (mips, powerpc, sparc) get the right number.
const ioctlWdmMaxCommand = uint(unix.TIOCGPTN)&0xE0000000 | 2<<16 | 'H'<<8 | 0xA0

// sysfsRoot is where device code looks for sysfs; tests may change it.
var sysfsRoot = "/sys"

// procRoot is where holders() looks for processes.
var procRoot = "/proc"

var wwanMBIMName = regexp.MustCompile(`^wwan\d+mbim\d+$`)

// Unix98 pty slaves use majors 136-143.
func isPTYSlave(rdev uint64) bool {
	m := unix.Major(rdev)
	return m >= 136 && m <= 143
}

func peerCred(rc syscall.RawConn) (Cred, error) {
	var cr *unix.Ucred
	var serr error
	err := rc.Control(func(fd uintptr) {
		cr, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return Cred{}, fmt.Errorf("transport: SO_PEERCRED: %w", err)
	}
	return Cred{PID: cr.Pid, UID: cr.Uid, GID: cr.Gid}, nil
}

// makeRaw puts the tty fd into raw mode with cfmakeraw(3) semantics, plus
// CREAD|CLOCAL so that a real serial line receives without modem control.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

func isTTY(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// wdmMaxCommand asks cdc-wdm for wMaxCommand.
func wdmMaxCommand(fd int) (int, error) {
	var v uint16
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(ioctlWdmMaxCommand), uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// holders lists the processes with path open, from /proc/*/fd, skipping
// descriptor skipFD of this process. Processes whose fd directory cannot
// be read (other users', without privileges) are not seen.
func holders(path string, skipFD int) []Process {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	self := os.Getpid()
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, f := range fds {
			if pid == self && f.Name() == strconv.Itoa(skipFD) {
				continue
			}
			if l, err := os.Readlink(filepath.Join(fdDir, f.Name())); err == nil && l == real {
				name := readAttr(filepath.Join(procRoot, e.Name()), "comm")
				out = append(out, Process{PID: pid, Name: name})
				break
			}
		}
	}
	return out
}

// hangupErr turns the errors a character device returns when its peer or
// the hardware is gone into errors wrapping io.EOF.
func hangupErr(path string, tty bool) func(error) error {
	return func(err error) error {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return err
		}
		switch {
		case errno == unix.ENODEV || errno == unix.ENXIO || errno == unix.ESHUTDOWN:
			return fmt.Errorf("transport: %s was removed (%w): %w", path, errno, io.EOF)
		case tty && errno == unix.EIO:
			return fmt.Errorf("transport: %s hung up (%w): %w", path, errno, io.EOF)
		}
		return err
	}
}

// openDevice opens a character device as a Conn.
func openDevice(ctx context.Context, path string, st *unix.Stat_t, opts Options) (Conn, error) {
	major, minor := unix.Major(st.Rdev), unix.Minor(st.Rdev)
	subsys, sysName := charDevSubsystem(sysfsRoot, major, minor)
	base := filepath.Base(path)
	kind := "chardev"
	switch {
	case (subsys == "usbmisc" || subsys == "usb") && strings.HasPrefix(sysName, "cdc-wdm"),
		subsys == "" && strings.HasPrefix(base, "cdc-wdm"):
		kind = "cdc-wdm"
	case subsys == "wwan" || subsys == "" && wwanMBIMName.MatchString(base):
		kind = "wwan"
	}

	flags := unix.O_RDWR | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	if kind != "chardev" {
		// Exclusive where the driver honours it (libmbim does the same);
		// cdc-wdm does not, hence the holders check below.
		flags |= unix.O_EXCL
	}
	pty := isPTYSlave(st.Rdev)
	var fd int
	var err error
	// A pty refusing opens is retried for two seconds, or until ctx's
	// deadline if it has one.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	for delay := time.Millisecond; ; delay = min(2*delay, 20*time.Millisecond) {
		fd, err = unix.Open(path, flags, 0)
		if err != unix.EINTR && !(pty && (err == unix.EIO || err == unix.EBUSY)) {
			break
		}
		// A PTY simulator refuses opens (EIO/EBUSY) while a client is
		// connected and while it scrubs the pty after a client left.
		if err != unix.EINTR && time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
	if err != nil {
		if err == unix.EBUSY {
			return nil, &BusyError{Path: path, Holders: holders(path, -1)}
		}
		if pty && err == unix.EIO {
			return nil, fmt.Errorf("transport: open %s: %w (the pty's owner refuses new clients while one is connected)", path, err)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	closeFD := true
	defer func() {
		if closeFD {
			unix.Close(fd)
		}
	}()

	if (kind == "cdc-wdm" || kind == "wwan") && !opts.Shared {
		if h := holders(path, fd); len(h) > 0 {
			return nil, &BusyError{Path: path, Holders: h}
		}
	}

	maxCtl := opts.MaxControlTransfer
	tty := false
	switch kind {
	case "cdc-wdm":
		if maxCtl <= 0 {
			if v, err := wdmMaxCommand(fd); err == nil && v > 0 {
				maxCtl = v
			} else {
				maxCtl = maxControlFromSysfs(sysfsRoot, major, minor)
			}
		}
	case "wwan":
		if maxCtl <= 0 {
			maxCtl = maxControlFromSysfs(sysfsRoot, major, minor)
		}
	default:
		if isTTY(fd) {
			tty = true
			kind = "tty"
			if err := makeRaw(fd); err != nil {
				return nil, fmt.Errorf("transport: %s: raw mode: %w", path, err)
			}
			// Anything queued before we opened is not ours.
			_ = unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)
		}
	}
	if maxCtl <= 0 {
		maxCtl = DefaultMaxControlTransfer
	}

	f := os.NewFile(uintptr(fd), path)
	closeFD = false
	o := opts
	o.MaxControlTransfer = maxCtl
	c := newStreamConn(f, fmt.Sprintf("%s %s (max %d)", kind, path, maxCtl), o, hangupErr(path, tty))
	// cdc-wdm truncates a write to wMaxCommand; refuse instead.
	c.strictCtl = kind == "cdc-wdm"
	return c, nil
}

// statPath stats path (following symlinks).
func statPath(path string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return &st, nil
}

func openPath(ctx context.Context, path string, opts Options) (Conn, error) {
	st, err := statPath(path)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFSOCK:
		return dialUnix(ctx, path, false, opts)
	case unix.S_IFCHR:
		return openDevice(ctx, path, st, opts)
	}
	return nil, fmt.Errorf("transport: %s is neither a character device nor a socket", path)
}

//go:build linux

package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestIoctlNumber(t *testing.T) {
	switch runtime.GOARCH {
	case "amd64", "386", "arm", "arm64", "riscv64", "loong64", "s390x":
		if ioctlWdmMaxCommand != 0x800248A0 {
			t.Fatalf("IOCTL_WDM_MAX_COMMAND = %#x", ioctlWdmMaxCommand)
		}
	}
}

// holders finds another process that has a file open.
func TestHolders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdc-wdm-fake")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "30")
	cmd.Stdin = f
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	// Our own descriptor is skipped when named; the child is found.
	deadline := time.Now().Add(waitTimeout)
	for {
		h := holders(path, int(f.Fd()))
		var child bool
		for _, p := range h {
			if p.PID == os.Getpid() {
				t.Fatalf("own skipped descriptor reported: %v", h)
			}
			if p.PID == cmd.Process.Pid {
				child = p.Name == "sleep"
			}
		}
		if child {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holders(%s) = %v, want the sleep child %d", path, h, cmd.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Without skipping, this process is listed too.
	found := false
	for _, p := range holders(path, -1) {
		found = found || p.PID == os.Getpid()
	}
	if !found {
		t.Fatal("this process not listed")
	}

	e := &BusyError{Path: "/dev/cdc-wdm0", Holders: []Process{{PID: 812, Name: "ModemManager"}}}
	if got, want := e.Error(), "transport: another program (ModemManager (pid 812)) has /dev/cdc-wdm0 open; stop it or use --proxy"; got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	e = &BusyError{Path: "/dev/cdc-wdm0"}
	if got, want := e.Error(), "transport: another program (ModemManager? mbim-proxy?) has /dev/cdc-wdm0 open; stop it or use --proxy"; got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	if !errors.Is(e, syscall.EBUSY) {
		t.Fatal("BusyError is not EBUSY")
	}
}

func TestOpenDispatch(t *testing.T) {
	// A character device that is not a tty: a plain byte stream; /dev/null
	// reads EOF at once.
	c, err := Open("/dev/null", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "chardev /dev/null (max 4096)" {
		t.Fatalf("String() = %q", got)
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("read /dev/null: %v", err)
	}
	if err := c.WriteMessage(mkMsg(tOpen, 1, 16)); err != nil {
		t.Fatal(err)
	}
	c.Close()

	reg := filepath.Join(t.TempDir(), "f")
	os.WriteFile(reg, nil, 0o600)
	if _, err := Open(reg, Options{}); err == nil || !strings.Contains(err.Error(), "neither a character device nor a socket") {
		t.Fatalf("regular file: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := Open("@", Options{}); err == nil {
		t.Fatal("empty abstract name accepted")
	}
}

func TestHangupErr(t *testing.T) {
	m := hangupErr("/dev/cdc-wdm0", false)
	if err := m(&os.PathError{Op: "read", Path: "x", Err: unix.ENODEV}); !errors.Is(err, io.EOF) || !errors.Is(err, unix.ENODEV) {
		t.Fatalf("ENODEV: %v", err)
	}
	if err := m(&os.PathError{Op: "read", Path: "x", Err: unix.EIO}); errors.Is(err, io.EOF) {
		t.Fatalf("EIO on cdc-wdm is transient, got %v", err)
	}
	if err := hangupErr("/dev/pts/1", true)(unix.EIO); !errors.Is(err, io.EOF) {
		t.Fatalf("EIO on a tty: %v", err)
	}
}

// The cdc-wdm and WWAN code paths on a real character device: a fake
// sysfs maps /dev/null's major:minor to cdc-wdm0 (whose descriptors say
// wMaxControlMessage 2048), then to a WWAN MBIM port.
func TestOpenDeviceKindsViaFakeSysfs(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		t.Skip(err)
	}
	devnum := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	f, paths := buildFakeSysfs(t)
	os.Remove(f.abs("dev/char/" + devnum))
	f.link("dev/char/"+devnum, paths["cdc-wdm0"])
	old := sysfsRoot
	sysfsRoot = f.root
	defer func() { sysfsRoot = old }()

	// Another program holds the "modem" open: refused, naming it.
	cmd := exec.Command("sleep", "30") // stdin is /dev/null
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(50 * time.Millisecond)
	_, err := Open("/dev/null", Options{})
	var be *BusyError
	if !errors.As(err, &be) || !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("Open with another holder: %v, want *BusyError", err)
	}
	found := false
	for _, h := range be.Holders {
		found = found || (h.PID == cmd.Process.Pid && h.Name == "sleep")
	}
	if !found || !strings.Contains(err.Error(), fmt.Sprintf("sleep (pid %d)", cmd.Process.Pid)) {
		t.Fatalf("holders %v do not include the sleep child: %v", be.Holders, err)
	}

	c, err := Open("/dev/null", Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.MaxControlTransfer() != 2048 || c.String() != "cdc-wdm /dev/null (max 2048)" {
		t.Fatalf("got %d, %q", c.MaxControlTransfer(), c.String())
	}
	// cdc-wdm would truncate a write above wMaxCommand: refused.
	if err := c.WriteMessage(mkMsg(tCommand, 1, 2049)); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("oversized write: %v", err)
	}
	if err := c.WriteMessage(mkMsg(tCommand, 1, 2048)); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// An explicit MaxControlTransfer wins.
	c, err = Open("/dev/null", Options{Shared: true, MaxControlTransfer: 512})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxControlTransfer() != 512 {
		t.Fatal(c.MaxControlTransfer())
	}
	c.Close()

	// As a WWAN port: no ioctl, nothing in sysfs, 4096.
	os.Remove(f.abs("dev/char/" + devnum))
	f.link("dev/char/"+devnum, paths["wwan0mbim0"])
	c, err = Open("/dev/null", Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.String() != "wwan /dev/null (max 4096)" {
		t.Fatalf("got %q", c.String())
	}
}

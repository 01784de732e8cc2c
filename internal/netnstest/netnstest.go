//go:build linux

// Package netnstest gives tests a private network namespace with a veth
// pair, created with iproute2 and always removed again.
//
// Tests that use it need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and the ip
// command. Without them they are skipped, except in CI (CI set), where
// that is a failure.
package netnstest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const prefix = "gombim-test-"

var counter atomic.Int64

// NS is a network namespace created for one test.
type NS struct {
	Name string
	t    testing.TB
}

// New creates a network namespace, removed when the test ends. Stale
// namespaces of earlier test processes that died are removed first.
func New(t testing.TB) *NS {
	t.Helper()
	if err := available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("network namespace tests are required in CI: %v", err)
		}
		t.Skip(err)
	}
	removeStale()
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), counter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, t: t}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ns.MustIP("link", "set", "lo", "up")
	return ns
}

func available() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("needs the ip command (iproute2)")
	}
	return nil
}

// removeStale deletes namespaces named by this package for processes that
// no longer exist (a test binary killed before its cleanups ran).
func removeStale() {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// IP runs "ip -n NS args..." and returns its combined output.
func (ns *NS) IP(args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, strings.TrimSpace(b.String()))
	}
	return b.String(), err
}

// MustIP is IP, failing the test on error.
func (ns *NS) MustIP(args ...string) string {
	ns.t.Helper()
	out, err := ns.IP(args...)
	if err != nil {
		ns.t.Fatal(err)
	}
	return out
}

// Veth creates a veth pair a <-> b with the given MTU, both up.
func (ns *NS) Veth(a, b string, mtu int) {
	ns.t.Helper()
	ns.MustIP("link", "add", a, "mtu", strconv.Itoa(mtu), "type", "veth", "peer", "name", b, "mtu", strconv.Itoa(mtu))
	// No IPv6 link-local addresses: keep the links quiet.
	ns.IP("link", "set", a, "addrgenmode", "none")
	ns.IP("link", "set", b, "addrgenmode", "none")
	ns.MustIP("link", "set", a, "up")
	ns.MustIP("link", "set", b, "up")
	ns.WaitUp(a, b)
}

// WaitUp waits until the links are operationally up (carrier on, and the
// kernel's link watch has processed it), failing the test after 30
// seconds.
//
// Call it after anything that toggles a veth pair's carrier (creating it,
// setting either end down and up) before sending on it: while carrier is
// off the kernel gives the link a no-op queueing discipline, and it only
// restores the real one asynchronously, from the link watch work queue,
// shortly after carrier comes back. Until then frames sent on the link are
// silently dropped (counted as TX dropped), which on a loaded machine can
// be long enough to lose a whole burst. The link watch records the
// operational state together with the queueing discipline, so "state UP"
// means frames get through.
func (ns *NS) WaitUp(links ...string) {
	ns.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, l := range links {
		for {
			out, err := ns.IP("-o", "link", "show", "dev", l)
			if err != nil {
				ns.t.Fatal(err)
			}
			if strings.Contains(out, " state UP ") {
				break
			}
			if time.Now().After(deadline) {
				ns.t.Fatalf("%s in %s did not come up: %s", l, ns.Name, strings.TrimSpace(out))
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Do runs fn on an OS thread switched into the namespace. Sockets created
// by fn (AF_PACKET, netlink) stay in the namespace for their whole life,
// whatever thread uses them later; goroutines started by fn do not run in
// it.
func (ns *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", ns.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: do not let the runtime
		// reuse it (a locked thread that is not unlocked is destroyed
		// when its goroutine exits).
		runtime.LockOSThread()
		return fmt.Errorf("setns back: %w", err)
	}
	return ferr
}

// VLANSupported reports whether the kernel can create 802.1Q VLAN links
// (CONFIG_VLAN_8021Q built in or the 8021q module loadable), by trying in
// the namespace.
func (ns *NS) VLANSupported(parent string) error {
	out, err := ns.IP("link", "add", "link", parent, "name", "gmbprobe", "type", "vlan", "id", "4000")
	if err != nil {
		return fmt.Errorf("kernel cannot create 802.1Q VLAN links (CONFIG_VLAN_8021Q / module 8021q): %v", err)
	}
	_ = out
	ns.IP("link", "del", "gmbprobe")
	return nil
}

//go:build linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openClient opens a pty slave the way a plain client would: os.OpenFile
// read-write, no controlling tty, non-blocking so that deadlines work, then
// raw mode. Opens refused while the PTY scrubs itself after the previous
// client (EIO/EBUSY) are retried, as documented.
func openClient(t testing.TB, path string) *os.File {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
		if err == nil {
			if err := makeRaw(int(f.Fd())); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}
		if !(errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EBUSY)) || time.Now().After(deadline) {
			t.Fatalf("open %s: %v", path, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// readMsgRaw reads exactly one message of length n from a raw client file.
func readMsgRaw(t testing.TB, f *os.File, n int) []byte {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(waitTimeout))
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatalf("client read: %v", err)
	}
	return b
}

func TestPTYExchange(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.SlavePath(), "/dev/pts/") {
		t.Fatalf("slave path %q", p.SlavePath())
	}
	if got := p.String(); got != "pty "+p.SlavePath()+" (max 4096)" {
		t.Fatalf("String() = %q", got)
	}
	if err := p.WriteMessage(mkMsg(tIndicate, 1, 20)); !errors.Is(err, ErrNoClient) {
		t.Fatalf("write without client: %v, want ErrNoClient", err)
	}

	link := filepath.Join(t.TempDir(), "cdc-wdm-sim")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	cl := openClient(t, link)

	// client -> device
	if _, err := cl.Write(mkMsg(tOpen, 1, 16)); err != nil {
		t.Fatal(err)
	}
	b, client, err := p.ReadMessageFrom()
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, b, tOpen, 1, 16)
	if client == 0 || client != p.Client() {
		t.Fatalf("client id %d, Client() %d", client, p.Client())
	}
	// device -> client, a reply and a large indication
	if err := p.WriteMessageTo(client, mkMsg(tOpenDone, 1, 16)); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMessage(mkMsg(tIndicate, 2, 3000)); err != nil {
		t.Fatal(err)
	}
	checkMsg(t, readMsgRaw(t, cl, 16), tOpenDone, 1, 16)
	checkMsg(t, readMsgRaw(t, cl, 3000), tIndicate, 2, 3000)

	// bytes pass unchanged (raw mode): CR, LF, ^C, ^D, XOFF, 0xFF...
	m := mkMsg(tCommand, 3, 12+256)
	for i := 0; i < 256; i++ {
		m[12+i] = byte(i)
	}
	if _, err := cl.Write(m); err != nil {
		t.Fatal(err)
	}
	b, err = readWithin(t, p, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(m) {
		t.Fatalf("bytes altered in transit: % x", b[12:40])
	}

	p.Close()
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Fatalf("link not removed by Close: %v", err)
	}
}

// Clients open and close the slave 50 times; each leaves stale bytes
// behind in both directions, and no client may ever see the previous
// one's bytes, nor the PTY a previous client's partial message.
func TestPTYReconnectNoStaleData(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var events []ClientEvent
	var emu sync.Mutex
	p.SetClientHook(func(ev ClientEvent) {
		emu.Lock()
		events = append(events, ev)
		emu.Unlock()
	})

	// Device side: answer every request with a reply to the sender and
	// then an extra message that the client will never read.
	stop := make(chan struct{})
	srvDone := make(chan error, 1)
	go func() {
		for {
			b, client, err := p.ReadMessageFrom()
			if err != nil {
				select {
				case <-stop:
					srvDone <- nil
				default:
					srvDone <- err
				}
				return
			}
			tid := tidOf(b)
			if err := p.WriteMessageTo(client, mkMsg(tCommandDone, tid, 64)); err != nil && !errors.Is(err, ErrNoClient) {
				srvDone <- err
				return
			}
			_ = p.WriteMessageTo(client, mkMsg(tIndicate, 0xDEAD0000+tid, 40)) // stale if unread
		}
	}()

	const rounds = 50
	for i := 1; i <= rounds; i++ {
		cl := openClient(t, p.SlavePath())
		tid := uint32(i)
		if i%2 == 0 {
			// Leave half a message from the device's point of view...
			if _, err := cl.Write(mkMsg(tCommand, 0xBAD, 100)[:57]); err != nil {
				t.Fatal(err)
			}
			// ...and reopen: the fragment must not corrupt the next
			// client's first message.
			cl.Close()
			cl = openClient(t, p.SlavePath())
		}
		got := exchangeRaw(t, cl, tid)
		checkMsg(t, got, tCommandDone, tid, 64) // not 0xDEAD.... from the previous client
		if i%5 == 0 {
			// A client that sends and leaves without reading anything.
			if _, err := cl.Write(mkMsg(tCommand, 1000+tid, 48)); err != nil {
				t.Fatal(err)
			}
		}
		cl.Close()
	}

	// A last client: nothing at all may be waiting for it.
	cl := openClient(t, p.SlavePath())
	cl.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 64)
	if n, err := cl.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("fresh client read %d stale bytes (% x), err %v", n, buf[:n], err)
	}
	checkMsg(t, exchangeRaw(t, cl, 4242), tCommandDone, 4242, 64)
	cl.Close()

	close(stop)
	p.Close()
	if err := <-srvDone; err != nil {
		t.Fatalf("device side: %v", err)
	}
	emu.Lock()
	defer emu.Unlock()
	// rounds + 25 half-message clients + the last one, each connect and disconnect.
	// Each of the rounds+rounds/2+1 sessions connects and disconnects
	// (the very last disconnect may race with p.Close).
	want := 2 * (rounds + rounds/2 + 1)
	if len(events) < want-1 || len(events) > want {
		t.Fatalf("got %d client events, want %d", len(events), want)
	}
	for i, ev := range events {
		if ev.Connected != (i%2 == 0) || ev.Client != uint64(i/2+1) {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
}

// exchangeRaw sends a 48-byte request and returns the first 64-byte message
// the client receives, resending the request (same tid) if nothing comes
// within 100ms, as an MBIM host retries MBIM_OPEN. A retry is needed when
// a client opened, wrote and closed, and the next one opened and wrote,
// before the PTY saw the first open: the PTY then drops both clients'
// bytes rather than deliver a mix (see the PTY documentation).
func exchangeRaw(t *testing.T, cl *os.File, tid uint32) []byte {
	t.Helper()
	got := make([]byte, 64)
	deadline := time.Now().Add(waitTimeout)
	for try := 0; ; try++ {
		if _, err := cl.Write(mkMsg(tCommand, tid, 48)); err != nil {
			t.Fatal(err)
		}
		cl.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := io.ReadFull(cl, got)
		if err == nil {
			return got
		}
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) || time.Now().After(deadline) {
			t.Fatalf("client read (try %d): %d bytes (% x), %v", try, n, got[:n], err)
		}
		t.Logf("tid %d: no answer, resending", tid)
	}
}

// waitCleanup waits until the PTY has scrubbed itself after client epoch ep.
func waitCleanup(t *testing.T, p *PTY, ep uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		p.Client() // applies pending events
		p.smu.Lock()
		cur := p.epoch
		p.smu.Unlock()
		if cur > ep {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PTY still in epoch %d", cur)
		}
		time.Sleep(time.Millisecond)
	}
}

// transport.Open on the slave (or a link to it) gives a working tty Conn.
func TestPTYOpenAsClient(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	link := filepath.Join(t.TempDir(), "wwan0mbim0-sim")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		// Right after the previous client left: the PTY refuses opens
		// until it has scrubbed itself, and OpenContext retries.
		c, err := openWithin(link)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.String(), "tty "+link) {
			t.Fatalf("String() = %q", c.String())
		}
		if err := c.WriteMessage(mkMsg(tOpen, uint32(round), 16)); err != nil {
			t.Fatal(err)
		}
		b, client, err := p.ReadMessageFrom()
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, b, tOpen, uint32(round), 16)
		if err := p.WriteMessageTo(client, mkMsg(tOpenDone, uint32(round), 16)); err != nil {
			t.Fatal(err)
		}
		got, err := readWithin(t, c, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, got, tOpenDone, uint32(round), 16)
		p.WriteMessage(mkMsg(tIndicate, 99, 30)) // left unread
		c.Close()
	}

	// The PTY going away is a hang-up (io.EOF) for the client.
	c, err := openWithin(p.SlavePath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.Close()
	_, err = readWithin(t, c, waitTimeout)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after PTY close: %v, want io.EOF", err)
	}
}

// While a client is connected, a second open is refused.
func TestPTYSecondClientRefused(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cl := openClient(t, p.SlavePath())
	// Wait until the PTY has seen the client.
	deadline := time.Now().Add(waitTimeout)
	for p.Client() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("client never seen")
		}
		time.Sleep(time.Millisecond)
	}
	_, err = os.OpenFile(p.SlavePath(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if !errors.Is(err, syscall.EIO) && !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("second open: %v, want EIO or EBUSY", err)
	}
	cl.Close()
	cl = openClient(t, p.SlavePath())
	cl.Write(mkMsg(tOpen, 1, 16))
	b, err := readWithin(t, p, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, b, tOpen, 1, 16)
}

func TestPTYRawTermios(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A client that is not raw-aware (it does not touch termios).
	f, err := os.OpenFile(p.SlavePath(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || tio.Oflag&unix.OPOST != 0 || tio.Iflag&(unix.ICRNL|unix.IXON) != 0 {
		t.Fatalf("slave not raw: %+v", tio)
	}
	// The client spoils termios; after it leaves, raw mode is restored
	// before the next client can open the slave.
	tio.Lflag |= unix.ICANON | unix.ECHO
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitCleanup(t, p, 1)
	f, err = os.OpenFile(p.SlavePath(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err = unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ICANON|unix.ECHO) != 0 {
		t.Fatal("raw mode not restored after the client left")
	}
}

// Closing the PTY hangs the slave up, and the kernel discards what the
// client had not read yet; WaitRead waits until it has.
func TestPTYWaitRead(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.WaitRead(0) {
		t.Fatal("WaitRead without a client: something is unread")
	}
	c, err := Open(p.SlavePath(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitClient(t, p)
	if err := p.WriteMessage(mkMsg(tIndicate, 1, 200)); err != nil {
		t.Fatal(err)
	}
	// Nobody reads: WaitRead gives up after the timeout.
	if p.WaitRead(20 * time.Millisecond) {
		t.Fatal("WaitRead: nothing unread, but the client has not read")
	}
	type result struct {
		msg []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := c.ReadMessage()
		if err != nil {
			got <- result{err: err}
			return
		}
		b = append([]byte(nil), b...)
		_, err = c.ReadMessage()
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("after the message: %v, want EOF", err)
		} else {
			err = nil
		}
		got <- result{b, err}
	}()
	if !p.WaitRead(waitTimeout) {
		t.Fatal("the client did not read the message")
	}
	p.Close()
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkMsg(t, r.msg, tIndicate, 1, 200)
}

// openWithin opens path with OpenContext, retrying a pty that refuses the
// open for up to waitTimeout (Open gives up after two seconds, which a
// loaded machine may need to scrub the pty after the previous client).
func openWithin(path string) (Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return OpenContext(ctx, path, Options{})
}

// waitClient waits until the PTY has seen a client open the slave.
func waitClient(t *testing.T, p *PTY) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for p.Client() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("client never seen")
		}
		time.Sleep(time.Millisecond)
	}
}

// OpenContext retries a pty that refuses opens until the context's
// deadline, not only for Open's two seconds.
func TestPTYOpenContextRetriesUntilDeadline(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	openClient(t, p.SlavePath()) // connected: the pty refuses other opens
	waitClient(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 2200*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := OpenContext(ctx, p.SlavePath(), Options{})
	if err == nil {
		c.Close()
		t.Fatal("a second client was let in")
	}
	if d := time.Since(start); d < 2150*time.Millisecond {
		t.Fatalf("gave up after %v (%v), before the context's deadline", d, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, syscall.EIO) {
		t.Fatalf("refused open: %v", err)
	}
}

// WriteMessagesTo writes several whole messages at once, refuses a buffer
// that does not end on a message boundary, and like WriteMessageTo drops
// what is meant for a client that has left.
func TestPTYWriteMessagesTo(t *testing.T) {
	p, err := NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	link := filepath.Join(t.TempDir(), "sim")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	cl := openClient(t, link)
	if _, err := cl.Write(mkMsg(tOpen, 1, 16)); err != nil {
		t.Fatal(err)
	}
	_, client, err := p.ReadMessageFrom()
	if err != nil {
		t.Fatal(err)
	}
	two := append(mkMsg(tOpenDone, 1, 16), mkMsg(tIndicate, 2, 100)...)
	for _, bad := range [][]byte{two[:len(two)-1], append(two, 0, 0, 0), make([]byte, 8)} {
		if err := p.WriteMessagesTo(client, bad); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%d bytes: %v, want ErrInvalidMessage", len(bad), err)
		}
	}
	if err := p.WriteMessagesTo(client, two); err != nil {
		t.Fatal(err)
	}
	checkMsg(t, readMsgRaw(t, cl, 16), tOpenDone, 1, 16)
	checkMsg(t, readMsgRaw(t, cl, 100), tIndicate, 2, 100)
	if err := p.WriteMessagesTo(client+1, two); !errors.Is(err, ErrNoClient) {
		t.Fatalf("to another client: %v, want ErrNoClient", err)
	}
}

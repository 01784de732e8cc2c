package transport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// Message types used in tests.
const (
	tOpen        = 0x00000001
	tCommand     = 0x00000003
	tOpenDone    = 0x80000001
	tCommandDone = 0x80000003
	tIndicate    = 0x80000007
)

// mkMsg builds a message of total length n (>= HeaderSize) whose payload is
// a pattern derived from tid, so corruption is detectable.
func mkMsg(typ, tid uint32, n int) []byte {
	b := make([]byte, n)
	binary.LittleEndian.PutUint32(b[0:], typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	binary.LittleEndian.PutUint32(b[8:], tid)
	for i := HeaderSize; i < n; i++ {
		b[i] = byte(int(tid)*7 + i)
	}
	return b
}

func tidOf(b []byte) uint32 { return binary.LittleEndian.Uint32(b[8:]) }

// checkMsg verifies b is exactly mkMsg(typ, tid, n).
func checkMsg(t testing.TB, b []byte, typ, tid uint32, n int) {
	t.Helper()
	if want := mkMsg(typ, tid, n); !bytes.Equal(b, want) {
		t.Fatalf("message mismatch: got %d bytes (type %#x tid %d), want %d bytes (type %#x tid %d)",
			len(b), safeU32(b, 0), safeU32(b, 8), n, typ, tid)
	}
}

func safeU32(b []byte, off int) uint32 {
	if len(b) < off+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}

// readWithin runs c.ReadMessage and fails if it takes longer than d. The
// returned slice is a copy.
func readWithin(t testing.TB, c Conn, d time.Duration) ([]byte, error) {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := c.ReadMessage()
		ch <- res{append([]byte(nil), b...), err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(d):
		t.Fatalf("ReadMessage on %v did not return within %v", c, d)
		return nil, nil
	}
}

// waitTimeout bounds waiting for something that is expected to happen. It
// only bounds a failure, so it is long: on a loaded machine under the race
// detector a few seconds are not enough.
const waitTimeout = 30 * time.Second

// settleGoroutines waits for the goroutine count to drop to base.
func settleGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d goroutines, want <= %d\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hexHead(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return fmt.Sprintf("% x", b)
}

// putLen overwrites the MessageLength field.
func putLen(b []byte, n uint32) {
	b[4], b[5], b[6], b[7] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
}

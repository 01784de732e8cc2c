package datapath

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// waitTimeout bounds waiting for something that is expected to happen (a
// datagram, a read unblocking). It only bounds a failure, so it is long: on
// a loaded machine under the race detector a few seconds are not enough.
const waitTimeout = 30 * time.Second

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func unsafePointer(p *uint16) unsafe.Pointer { return unsafe.Pointer(p) }

func strconvItoa(i int) string { return strconv.Itoa(i) }

package transport

import (
	"fmt"
	"io"
	"sync"
)

// PipeQueue is the number of messages a Pipe direction buffers before
// WriteMessage blocks.
const PipeQueue = 64

// Pipe returns two connected in-process Conns, for tests and for embedding
// a simulator in the same process. Messages are copied on write; each
// direction buffers up to PipeQueue messages, after which WriteMessage
// blocks until the reader catches up or either end is closed. Buffers are
// recycled, so steady-state traffic does not allocate.
//
// After one end is closed, the other end's ReadMessage returns the
// messages already queued and then io.EOF, and its WriteMessage returns
// io.ErrClosedPipe.
func Pipe() (host, device Conn) { return NewPipe(Options{}) }

// NewPipe is Pipe with options (MaxMessageSize, MaxControlTransfer).
func NewPipe(opts Options) (host, device Conn) {
	h2d := newPipeDir()
	d2h := newPipeDir()
	hd := make(chan struct{})
	dd := make(chan struct{})
	h := &pipeEnd{name: "host", in: d2h, out: h2d, done: hd, peerDone: dd,
		maxMsg: opts.maxMessage(), maxCtl: opts.maxControl()}
	d := &pipeEnd{name: "device", in: h2d, out: d2h, done: dd, peerDone: hd,
		maxMsg: opts.maxMessage(), maxCtl: opts.maxControl()}
	return h, d
}

type pipeDir struct {
	q    chan []byte // queued messages
	free chan []byte // recycled buffers
}

func newPipeDir() *pipeDir {
	return &pipeDir{q: make(chan []byte, PipeQueue), free: make(chan []byte, PipeQueue+2)}
}

type pipeEnd struct {
	name     string
	in, out  *pipeDir
	done     chan struct{} // closed by our Close
	peerDone chan struct{} // closed by the peer's Close
	once     sync.Once
	maxMsg   int
	maxCtl   int

	rmu  sync.Mutex
	last []byte // message returned by the previous ReadMessage
	wmu  sync.Mutex
}

func (p *pipeEnd) ReadMessage() ([]byte, error) {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	if p.last != nil {
		select {
		case p.in.free <- p.last[:0]:
		default:
		}
		p.last = nil
	}
	select {
	case <-p.done:
		return nil, ErrClosed
	default:
	}
	select {
	case m := <-p.in.q:
		p.last = m
		return m, nil
	case <-p.done:
		return nil, ErrClosed
	case <-p.peerDone:
		// Deliver what the peer queued before closing.
		select {
		case m := <-p.in.q:
			p.last = m
			return m, nil
		default:
			return nil, io.EOF
		}
	}
}

func (p *pipeEnd) WriteMessage(b []byte) error {
	if err := checkMessage(b, p.maxMsg); err != nil {
		return err
	}
	// Serialise writers so that messages keep the order of the calls
	// that returned.
	p.wmu.Lock()
	defer p.wmu.Unlock()
	select {
	case <-p.done:
		return ErrClosed
	case <-p.peerDone:
		return io.ErrClosedPipe
	default:
	}
	var buf []byte
	select {
	case buf = <-p.out.free:
	default:
	}
	buf = append(buf[:0], b...)
	select {
	case p.out.q <- buf:
		return nil
	case <-p.done:
		return ErrClosed
	case <-p.peerDone:
		return io.ErrClosedPipe
	}
}

func (p *pipeEnd) MaxControlTransfer() int { return p.maxCtl }

func (p *pipeEnd) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *pipeEnd) String() string {
	return fmt.Sprintf("pipe %s end (max %d)", p.name, p.maxCtl)
}

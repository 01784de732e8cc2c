package proxy

import (
	"encoding/binary"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

// fakeDev is a minimal MBIM function on a pty, driven by the tests for
// protocol edge cases: it answers OPEN and CLOSE, echoes every command's
// information buffer back in COMMAND_DONE, agrees to MBIMEx VERSION
// queries, records subscribe lists, and sends indications on demand. It
// answers NotOpened while not opened, like a device after a reset.
type fakeDev struct {
	t    testing.TB
	link string

	mu        sync.Mutex
	pty       *transport.PTY
	opened    bool
	subLists  [][]byte       // information buffers of the subscribe sets received
	commands  []mbim.Message // every command received (buffers copied)
	openDelay time.Duration
	hold      map[uint32]bool // CIDs of basic-connect whose commands get no answer
	silent    bool            // answer nothing at all

	opens  atomic.Int32
	closes atomic.Int32
	done   chan struct{}
}

func newFakeDev(t testing.TB) *fakeDev {
	t.Helper()
	d := &fakeDev{t: t, link: filepath.Join(t.TempDir(), "fake-modem"), hold: map[uint32]bool{}}
	d.start()
	t.Cleanup(d.stop)
	return d
}

// start (re)creates the pty at d.link.
func (d *fakeDev) start() {
	p, err := transport.NewPTY()
	if err != nil {
		d.t.Fatal(err)
	}
	if err := p.Link(d.link); err != nil {
		d.t.Fatal(err)
	}
	d.mu.Lock()
	d.pty = p
	d.opened = false
	d.done = make(chan struct{})
	done := d.done
	d.mu.Unlock()
	go d.serve(p, done)
}

// stop closes the pty: the proxy sees the device hang up.
func (d *fakeDev) stop() {
	d.mu.Lock()
	p, done := d.pty, d.done
	d.pty = nil
	d.mu.Unlock()
	if p != nil {
		p.Close()
		<-done
	}
}

func (d *fakeDev) serve(p *transport.PTY, done chan struct{}) {
	defer close(done)
	r := mbim.NewReassembler(0, time.Second)
	for {
		b, client, err := p.ReadMessageFrom()
		if err != nil {
			if _, ok := err.(*transport.FramingError); ok {
				continue
			}
			return
		}
		b, _ = r.Add(b, time.Now())
		if b == nil {
			continue
		}
		m, err := mbim.ParseMessage(b)
		if err != nil {
			continue
		}
		reply := d.handle(m)
		for _, r := range reply {
			frags, _ := mbim.Fragment(nil, r, p.MaxControlTransfer())
			for _, f := range frags {
				p.WriteMessageTo(client, f)
			}
		}
	}
}

func (d *fakeDev) handle(m mbim.Message) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.silent {
		return nil
	}
	switch m.Type {
	case mbim.TypeOpen:
		d.opens.Add(1)
		if d.openDelay > 0 {
			d.mu.Unlock()
			time.Sleep(d.openDelay)
			d.mu.Lock()
		}
		d.opened = true
		return [][]byte{buildScalar(mbim.TypeOpenDone, m.TransactionID, 0)}
	case mbim.TypeClose:
		d.closes.Add(1)
		d.opened = false
		return [][]byte{buildScalar(mbim.TypeCloseDone, m.TransactionID, 0)}
	case mbim.TypeCommand:
		if !d.opened {
			return [][]byte{functionError(m.TransactionID, mbim.ErrNotOpened)}
		}
		cm := m
		cm.InformationBuffer = clone(m.InformationBuffer)
		d.commands = append(d.commands, cm)
		if m.Service == uuidBasicConnect && d.hold[m.CID] {
			return nil
		}
		info := m.InformationBuffer
		switch {
		case m.Service == uuidBasicConnect && m.CID == cidSubscribeList:
			d.subLists = append(d.subLists, clone(info))
			info = nil
		case m.Service == uuidMSBasicExt && m.CID == cidMSVersion && len(info) >= 4:
			ex := min(binary.LittleEndian.Uint16(info[2:]), 0x0300)
			info = binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 0x0100), ex)
		}
		return [][]byte{buildCommandDone(m.TransactionID, m.Service, m.CID, 0, info)}
	}
	return nil
}

// indicate sends an indication to whoever has the pty open.
func (d *fakeDev) indicate(svc mbim.UUID, cid uint32, info []byte) {
	d.mu.Lock()
	p := d.pty
	d.mu.Unlock()
	if err := p.WriteMessage(buildIndication(0, svc, cid, info)); err != nil {
		d.t.Errorf("indicate: %v", err)
	}
}

// forget makes the device lose its session (a firmware reset): commands
// get NotOpened until the next OPEN.
func (d *fakeDev) forget() {
	d.mu.Lock()
	d.opened = false
	d.mu.Unlock()
}

func (d *fakeDev) lastSubList() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.subLists) == 0 {
		return nil
	}
	return d.subLists[len(d.subLists)-1]
}

func (d *fakeDev) numSubLists() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.subLists)
}

func (d *fakeDev) set(f func(d *fakeDev)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

package transport

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// chunkReader serves data in reads of at most chunk bytes, then io.EOF.
type chunkReader struct {
	data  []byte
	chunk int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.chunk, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// loopReader serves the same bytes forever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func TestFramerSteadyStateNoAlloc(t *testing.T) {
	var stream []byte
	for i := 0; i < 7; i++ { // 7 messages whose sizes do not divide the buffer
		stream = append(stream, mkMsg(tCommandDone, uint32(i), 64+i*333)...)
	}
	fr := newFramer(&loopReader{data: stream}, DefaultMaxMessageSize)
	n := 0
	allocs := testing.AllocsPerRun(5000, func() {
		m, err := fr.next()
		if err != nil || len(m) != 64+(n%7)*333 {
			t.Fatalf("message %d: %d bytes, %v", n, len(m), err)
		}
		n++
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per message", allocs)
	}
}

func TestFramerLimits(t *testing.T) {
	const limit = 1000
	var s []byte
	s = append(s, mkMsg(tCommandDone, 1, limit)...) // exactly the limit: fine
	over := mkMsg(tCommandDone, 2, 12)
	putLen(over, limit+1)
	s = append(s, over...)
	s = append(s, mkMsg(tCommandDone, 3, 500)...)
	fr := newFramer(&chunkReader{data: s, chunk: 97}, limit)
	m, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, m, tCommandDone, 1, limit)
	_, err = fr.next()
	var fe *FramingError
	if !errors.As(err, &fe) || fe.Offset != limit || fe.Length != limit+1 || fe.Limit != limit {
		t.Fatalf("got %v", err)
	}
	m, err = fr.next()
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, m, tCommandDone, 3, 500)
	if _, err := fr.next(); err != io.EOF {
		t.Fatal(err)
	}
	if cap(fr.buf) != limit {
		t.Fatalf("buffer grew to %d", cap(fr.buf))
	}
}

// A header claiming 4 GiB costs the error value and nothing else.
func TestFramerHugeHeaderDoesNotAllocate(t *testing.T) {
	h := mkMsg(tCommandDone, 1, 12)
	putLen(h, 0xFFFFFFFF)
	fr := newFramer(&loopReader{data: h}, DefaultMaxMessageSize)
	allocs := testing.AllocsPerRun(100, func() {
		fr.reset()
		if _, err := fr.next(); err == nil {
			t.Fatal("no error")
		}
	})
	if allocs > 1 {
		t.Fatalf("%.1f allocations for a bad header", allocs)
	}
}

// Resync finds a header that straddles two reads, and a message
// that follows garbage containing near-miss headers.
func TestFramerResyncAcrossReads(t *testing.T) {
	var s []byte
	bad := mkMsg(tCommand, 1, 12)
	putLen(bad, 3)
	s = append(s, bad...)
	// near misses: known type with too small a length, unknown type with a good length
	nm := mkMsg(tOpenDone, 0, 16)
	putLen(nm, 15)
	s = append(s, nm...)
	s = append(s, mkMsg(0x12345678, 0, 40)...)
	s = append(s, mkMsg(tIndicate, 42, 300)...)
	for chunk := 1; chunk <= 41; chunk += 4 {
		fr := newFramer(&chunkReader{data: s, chunk: chunk}, 4096)
		var fe *FramingError
		if _, err := fr.next(); !errors.As(err, &fe) {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		m, err := fr.next()
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		checkMsg(t, m, tIndicate, 42, 300)
		if _, err := fr.next(); err != io.EOF {
			t.Fatalf("chunk %d: trailing %v", chunk, err)
		}
	}
}

type epochReader struct {
	chunks [][]byte
	eps    []uint64
	ep     uint64
}

func (r *epochReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.ep = r.eps[0]
	r.chunks, r.eps = r.chunks[1:], r.eps[1:]
	return n, nil
}

func (r *epochReader) epoch() uint64 { return r.ep }

// Bytes buffered from an earlier epoch are dropped when a new one starts.
func TestFramerEpochRestart(t *testing.T) {
	old := mkMsg(tCommand, 1, 100)[:60]
	nw := mkMsg(tCommand, 2, 48)
	r := &epochReader{chunks: [][]byte{old, nw}, eps: []uint64{1, 2}}
	fr := newFramer(r, 4096)
	fr.epoch = 1
	m, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	checkMsg(t, m, tCommand, 2, 48)
	if fr.msgEp != 2 || fr.off != 48 {
		t.Fatalf("epoch %d offset %d", fr.msgEp, fr.off)
	}
}

func TestFramerNoProgress(t *testing.T) {
	fr := newFramer(readerFunc(func([]byte) (int, error) { return 0, nil }), 100)
	if _, err := fr.next(); err != io.ErrNoProgress {
		t.Fatal(err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestFramerTransientErrorKeepsState(t *testing.T) {
	m := mkMsg(tCommandDone, 9, 80)
	calls := 0
	boom := errors.New("transient")
	fr := newFramer(readerFunc(func(p []byte) (int, error) {
		calls++
		switch calls {
		case 1:
			return copy(p, m[:30]), nil
		case 2:
			return 0, boom
		case 3:
			return copy(p, m[30:]), nil
		}
		return 0, io.EOF
	}), 1024)
	if _, err := fr.next(); err != boom {
		t.Fatalf("got %v", err)
	}
	got, err := fr.next()
	if err != nil || !bytes.Equal(got, m) {
		t.Fatalf("after transient error: %v", err)
	}
}

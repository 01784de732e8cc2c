package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

var fuzzTypes = []uint32{1, 2, 3, 4, 0x80000001, 0x80000002, 0x80000003, 0x80000004, 0x80000007}

// FuzzStreamFramer feeds an arbitrary byte stream, in reads of an arbitrary
// size, to the framer. It must not panic nor grow its buffer; every message
// it returns must be well formed and be the bytes at its stream offset; it
// must terminate. Then a valid stream built from the same input must come
// back exactly.
func FuzzStreamFramer(f *testing.F) {
	f.Add(append(mkMsg(tOpenDone, 1, 16), mkMsg(tCommandDone, 2, 48)...), uint8(1))
	f.Add([]byte{0x03, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0}, uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		const limit = 512
		fr := newFramer(&chunkReader{data: data, chunk: int(chunk)%64 + 1}, limit)
		buf0, cap0 := &fr.buf[0], cap(fr.buf)
		errs := 0
		for calls := 0; ; calls++ {
			if calls > 2*len(data)+2 {
				t.Fatalf("no termination after %d calls", calls)
			}
			m, err := fr.next()
			if err == nil {
				if len(m) < HeaderSize || len(m) > limit || int(MessageLength(m)) != len(m) {
					t.Fatalf("malformed message of %d bytes: %s", len(m), hexHead(m))
				}
				off := int(fr.off) - len(m)
				if off < 0 || off+len(m) > len(data) || !bytes.Equal(m, data[off:off+len(m)]) {
					t.Fatalf("message at offset %d is not the input's bytes", off)
				}
				continue
			}
			var fe *FramingError
			if errors.As(err, &fe) {
				if fe.Offset < 0 || fe.Offset >= int64(len(data)) {
					t.Fatalf("framing error at offset %d of %d", fe.Offset, len(data))
				}
				errs++
				continue
			}
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			t.Fatalf("unexpected error %v", err)
		}
		if &fr.buf[0] != buf0 || cap(fr.buf) != cap0 {
			t.Fatal("framer reallocated its buffer")
		}
		if errs > len(data) {
			t.Fatalf("%d errors for %d bytes", errs, len(data))
		}

		// A valid stream derived from data: message sizes and types from
		// the input bytes, payload from the input.
		var msgs [][]byte
		var stream []byte
		for i := 0; i < len(data) && len(msgs) < 64; i += 3 {
			n := HeaderSize + int(data[i])*2%(limit-HeaderSize+1)
			m := make([]byte, n)
			binary.LittleEndian.PutUint32(m, fuzzTypes[int(data[i])%len(fuzzTypes)])
			binary.LittleEndian.PutUint32(m[4:], uint32(n))
			binary.LittleEndian.PutUint32(m[8:], uint32(i))
			for j := HeaderSize; j < n; j++ {
				m[j] = data[(i+j)%len(data)]
			}
			msgs = append(msgs, m)
			stream = append(stream, m...)
		}
		fr = newFramer(&chunkReader{data: stream, chunk: int(chunk)%64 + 1}, limit)
		for i, want := range msgs {
			got, err := fr.next()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("valid message %d: %v (%s)", i, err, hexHead(got))
			}
		}
		if _, err := fr.next(); err != io.EOF {
			t.Fatalf("after valid stream: %v", err)
		}
	})
}

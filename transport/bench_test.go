//go:build linux

package transport

import (
	"testing"
	"time"
)

// echo reads messages from c and writes them back until an error.
func echo(c Conn) {
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(m); err != nil {
			return
		}
	}
}

// roundTrips sends a 64-byte message and waits for its echo, b.N times.
func roundTrips(b *testing.B, c Conn) {
	msg := mkMsg(tCommand, 1, 64)
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := c.WriteMessage(msg); err != nil {
			b.Fatal(err)
		}
		m, err := c.ReadMessage()
		if err != nil || len(m) != 64 {
			b.Fatalf("%d bytes, %v", len(m), err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkStreamUnix: 64-byte message echo through a Unix socketpair.
func BenchmarkStreamUnix(b *testing.B) {
	x, y := socketpair(b)
	c, d := NewStreamConn(x, Options{}), NewStreamConn(y, Options{})
	defer c.Close()
	defer d.Close()
	go echo(d)
	roundTrips(b, c)
}

// BenchmarkPTY: 64-byte message echo between a tty client (Open on the
// slave) and a PTY.
func BenchmarkPTY(b *testing.B) {
	p, err := NewPTY()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c, err := Open(p.SlavePath(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	go echo(p)
	roundTrips(b, c)
}

// BenchmarkPipe: 64-byte message echo through the in-process Pipe.
func BenchmarkPipe(b *testing.B) {
	h, d := Pipe()
	defer h.Close()
	defer d.Close()
	go echo(d)
	roundTrips(b, h)
}

// BenchmarkFramer: framing alone, from memory.
func BenchmarkFramer(b *testing.B) {
	var s []byte
	for i := 0; i < 64; i++ {
		s = append(s, mkMsg(tCommandDone, uint32(i), 64)...)
	}
	fr := newFramer(&loopReader{data: s}, DefaultMaxMessageSize)
	b.ReportAllocs()
	b.SetBytes(64)
	for i := 0; i < b.N; i++ {
		if _, err := fr.next(); err != nil {
			b.Fatal(err)
		}
	}
}

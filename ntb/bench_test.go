package ntb

import (
	"bytes"
	"testing"
)

// block16K returns a block of at most 16 KiB holding ten 1500-byte IPv4
// datagrams in one IPS NDP, as a modem would send at full rate.
func block16K(b testing.TB, f Format) []byte {
	bld := &Builder{Format: f, MaxSize: 16384}
	dg := make([]byte, 1500)
	dg[0] = 0x45
	for i := range 10 {
		dg[1] = byte(i)
		if err := bld.Add(IPS, 0, dg); err != nil {
			b.Fatal(err)
		}
	}
	return bytes.Clone(bld.Bytes())
}

func benchParse(b *testing.B, f Format) {
	blk := block16K(b, f)
	b.SetBytes(int64(len(blk)))
	b.ReportAllocs()
	var p Parser
	sum := 0
	for b.Loop() {
		parsed, err := p.Parse(blk)
		if err != nil {
			b.Fatal(err)
		}
		it := parsed.Iter()
		for it.Next() {
			d := it.Datagram()
			sum += len(d.Data) + int(d.Data[0])
		}
	}
	if sum == 0 {
		b.Fatal("nothing parsed")
	}
}

// BenchmarkParse16K validates a ~15 KB NTB16 (10 x 1500-byte datagrams)
// and iterates over its datagrams, reading each one's first byte.
func BenchmarkParse16K(b *testing.B) { benchParse(b, NTB16) }

// BenchmarkParse16K32 is BenchmarkParse16K for NTB32.
func BenchmarkParse16K32(b *testing.B) { benchParse(b, NTB32) }

// BenchmarkWalk16K uses the package-level Walk with a callback.
func BenchmarkWalk16K(b *testing.B) {
	blk := block16K(b, NTB16)
	b.SetBytes(int64(len(blk)))
	b.ReportAllocs()
	sum := 0
	fn := func(d Datagram) error { sum += len(d.Data); return nil }
	for b.Loop() {
		if err := Walk(blk, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild16K builds the same ~15 KB block: Reset, ten Adds (each a
// 1500-byte copy) and Bytes.
func BenchmarkBuild16K(b *testing.B) {
	bld := &Builder{MaxSize: 16384}
	dg := make([]byte, 1500)
	b.SetBytes(int64(len(block16K(b, NTB16))))
	b.ReportAllocs()
	for b.Loop() {
		bld.Reset()
		for range 10 {
			if err := bld.Add(IPS, 0, dg); err != nil {
				b.Fatal(err)
			}
		}
		if bld.Bytes() == nil {
			b.Fatal("empty")
		}
	}
}

// BenchmarkReader16K reads back-to-back ~15 KB blocks from an in-memory
// stream (including the copy into the Reader's buffer) and walks them.
func BenchmarkReader16K(b *testing.B) {
	blk := block16K(b, NTB16)
	rd := NewReader(&loopReader{b: bytes.Repeat(blk, 8)})
	b.SetBytes(int64(len(blk)))
	b.ReportAllocs()
	sum := 0
	for b.Loop() {
		parsed, err := rd.Next()
		if err != nil {
			b.Fatal(err)
		}
		sum += parsed.Count
	}
}

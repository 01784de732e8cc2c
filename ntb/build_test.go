package ntb

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

type added struct {
	kind    Kind
	session uint8
	data    []byte
}

// randomBuilder returns a builder with random but valid settings.
func randomBuilder(r *rand.Rand) *Builder {
	b := &Builder{Format: NTB16}
	if r.IntN(2) == 1 {
		b.Format = NTB32
	}
	if b.Format == NTB16 {
		b.MaxSize = 2048 + r.IntN(65535-2048+1)
	} else {
		b.MaxSize = 2048 + r.IntN(200000)
	}
	divs := []int{1, 2, 3, 4, 5, 7, 8, 16, 32, 64, 128, 512}
	b.Divisor = divs[r.IntN(len(divs))]
	b.Remainder = r.IntN(b.Divisor)
	aligns := []int{4, 8, 16, 32, 64, 256, 1024}
	b.NdpAlignment = aligns[r.IntN(len(aligns))]
	if r.IntN(4) == 0 {
		b.MaxDatagrams = 1 + r.IntN(20)
	}
	b.Sequence = uint16(r.IntN(1 << 16))
	return b
}

func randomDatagram(r *rand.Rand, nKinds int) added {
	kinds := []Kind{IPS, DSS, NCM}
	k := kinds[r.IntN(nKinds)]
	s := uint8(r.IntN(4)) // few sessions so that groups repeat
	if r.IntN(8) == 0 {
		s = uint8(r.IntN(256))
	}
	if k == NCM {
		s %= 2
	}
	d := make([]byte, 1+r.IntN(2000))
	for i := range d {
		d[i] = byte(r.Uint32())
	}
	return added{k, s, d}
}

// checkBuilt parses blk and checks it against what was added and the
// builder's settings.
func checkBuilt(t *testing.T, bld *Builder, blk []byte, want []added) {
	t.Helper()
	div, rem, align := bld.Divisor, bld.Remainder, bld.NdpAlignment
	if div == 0 {
		div = DefaultDivisor
	}
	if align == 0 {
		align = DefaultNdpAlignment
	}
	maxSize := bld.MaxSize
	if maxSize == 0 {
		maxSize = DefaultNTBOutSize
	}
	if len(blk) > maxSize {
		t.Fatalf("block of %d bytes exceeds MaxSize %d", len(blk), maxSize)
	}
	if len(blk) != bld.Len() {
		t.Errorf("Len() = %d, block is %d bytes", bld.Len(), len(blk))
	}
	format := bld.Format
	if format == 0 {
		format = NTB16
	}
	p := Parser{Format: format, MaxSize: maxSize}
	b, ds, err := collect(&p, blk)
	if err != nil {
		t.Fatalf("parsing built block: %v", err)
	}
	if b.Len() != len(blk) || b.Sequence != bld.Sequence || b.Format != format {
		t.Errorf("block len %d seq %d format %v; want %d %d %v", b.Len(), b.Sequence, b.Format, len(blk), bld.Sequence, format)
	}
	// Expected order: NDPs in order of first use of (kind, session), each
	// listing its datagrams in the order they were added.
	type key struct {
		k Kind
		s uint8
	}
	var order []key
	groups := map[key][]added{}
	for _, a := range want {
		k := key{a.kind, a.session}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], a)
	}
	var exp []added
	for _, k := range order {
		exp = append(exp, groups[k]...)
	}
	if len(ds) != len(exp) || b.Count != len(exp) || b.NDPs != len(order) {
		t.Fatalf("parsed %d datagrams in %d NDPs (Count %d), want %d in %d", len(ds), b.NDPs, b.Count, len(exp), len(order))
	}
	lastNDP := -1
	for i, d := range ds {
		if d.Kind != exp[i].kind || d.Session != exp[i].session || !bytes.Equal(d.Data, exp[i].data) {
			t.Fatalf("datagram %d: got %v/%d %d bytes, want %v/%d %d bytes",
				i, d.Kind, d.Session, len(d.Data), exp[i].kind, exp[i].session, len(exp[i].data))
		}
		if d.Offset%div != rem {
			t.Fatalf("datagram %d at offset %d: %d %% %d != %d", i, d.Offset, d.Offset, div, rem)
		}
		if d.NDP%align != 0 {
			t.Fatalf("NDP at offset %d not aligned to %d", d.NDP, align)
		}
		if d.NDP != lastNDP && d.NDP < lastNDP {
			t.Fatalf("NDPs not in increasing order: %d after %d", d.NDP, lastNDP)
		}
		lastNDP = d.NDP
	}
}

func TestBuilderRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		bld := randomBuilder(r)
		nKinds := 1 + r.IntN(3)
		for round := range 3 { // reuse the builder across Reset
			var want []added
			for {
				a := randomDatagram(r, nKinds)
				// Every Add follows a finished block (Bytes).
				bld.Bytes()
				err := bld.Add(a.kind, a.session, a.data)
				if errors.Is(err, ErrFull) {
					// A refused Add leaves the block as it was: the block
					// the same datagrams make in a new builder (compared
					// once, rather than copying the block before every
					// Add, which made the test quadratic).
					if after, ref := bld.Bytes(), rebuilt(t, bld, want); !bytes.Equal(ref, after) {
						t.Fatalf("iter %d: block changed by a refused Add", iter)
					}
					break
				}
				if errors.Is(err, ErrTooLarge) {
					if len(want) != 0 {
						t.Fatalf("iter %d: ErrTooLarge on a non-empty builder", iter)
					}
					continue
				}
				if err != nil {
					t.Fatalf("iter %d: Add: %v", iter, err)
				}
				want = append(want, a)
				if bld.Count() != len(want) {
					t.Fatalf("Count() = %d, want %d", bld.Count(), len(want))
				}
				// Finishing the block part way through must not disturb
				// the following Adds.
				if r.IntN(10) == 0 {
					checkBuilt(t, bld, bld.Bytes(), want)
				}
			}
			if bld.MaxDatagrams > 0 && len(want) > bld.MaxDatagrams {
				t.Fatalf("%d datagrams, limit %d", len(want), bld.MaxDatagrams)
			}
			blk := bld.Bytes()
			checkBuilt(t, bld, blk, want)
			seq := bld.Sequence
			bld.Reset()
			if bld.Sequence != seq+1 {
				t.Fatalf("Reset: Sequence %d, want %d", bld.Sequence, seq+1)
			}
			_ = round
		}
	}
}

// rebuilt returns the block that a new builder configured as bld makes of
// the datagrams want.
func rebuilt(t *testing.T, bld *Builder, want []added) []byte {
	t.Helper()
	ref := &Builder{Format: bld.Format, MaxSize: bld.MaxSize, Divisor: bld.Divisor, Remainder: bld.Remainder,
		NdpAlignment: bld.NdpAlignment, MaxDatagrams: bld.MaxDatagrams, Sequence: bld.Sequence}
	for _, a := range want {
		if err := ref.Add(a.kind, a.session, a.data); err != nil {
			t.Fatalf("rebuilding the block: %v", err)
		}
	}
	return ref.Bytes()
}

func TestBuilderDeterministicAcrossReuse(t *testing.T) {
	// Padding bytes must be zero, not left over from an earlier block.
	r := rand.New(rand.NewPCG(3, 4))
	used := &Builder{Divisor: 64, Remainder: 10, NdpAlignment: 32}
	for range 50 {
		d := randomDatagram(r, 2)
		if used.Add(d.kind, d.session, bytes.Repeat([]byte{0xEE}, len(d.data))) != nil {
			break
		}
	}
	used.Bytes()
	used.Reset()
	used.Sequence = 0
	fresh := &Builder{Divisor: 64, Remainder: 10, NdpAlignment: 32}
	for i := range 5 {
		d := pattern(100+i, byte(i))
		if err := used.Add(IPS, uint8(i%2), d); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Add(IPS, uint8(i%2), d); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(used.Bytes(), fresh.Bytes()) {
		t.Error("reused builder produced different bytes than a fresh one")
	}
}

func TestBuilderLayout(t *testing.T) {
	// One exact layout, checked byte for byte.
	b := &Builder{Divisor: 4, NdpAlignment: 4, Sequence: 0x1234}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Add(IPS, 0, []byte{1, 2, 3}))
	must(b.Add(DSS, 9, []byte{4, 5}))
	must(b.Add(IPS, 0, []byte{6}))
	got := b.Bytes()
	want := make([]byte, 64)
	nth16(want, 0x1234, 64, 24)
	copy(want[12:], []byte{1, 2, 3})
	copy(want[16:], []byte{4, 5})
	copy(want[20:], []byte{6})
	ndp16(want, 24, ips16(0), 0, 44, [2]int{12, 3}, [2]int{20, 1})
	ndp16(want, 44, dss16(9), 0, 0, [2]int{16, 2})
	want = want[:60]
	p16(want, 8, 60)
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}
	if b.Len() != 60 {
		t.Errorf("Len = %d", b.Len())
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Error("second Bytes call differs")
	}
}

func TestBuilderLimits(t *testing.T) {
	b := &Builder{MaxSize: 100}
	if err := b.Add(IPS, 0, make([]byte, 100)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized datagram: %v", err)
	}
	if b.Bytes() != nil || b.Len() != 0 || b.Count() != 0 {
		t.Error("builder not empty after a refused datagram")
	}
	// 12 header + 64 data + 16 NDP = 92 fits; another 4+4 bytes does not.
	if err := b.Add(IPS, 0, make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 92 {
		t.Errorf("Len = %d, want 92", b.Len())
	}
	if err := b.Add(IPS, 0, make([]byte, 5)); !errors.Is(err, ErrFull) {
		t.Errorf("overflowing datagram: %v", err)
	}
	if err := b.Add(IPS, 0, make([]byte, 4)); err != nil {
		t.Errorf("datagram that just fits: %v", err)
	}
	if b.Len() != 100 {
		t.Errorf("Len = %d, want 100", b.Len())
	}
	// A new NDP needs 16 more bytes.
	b.Reset()
	if err := b.Add(IPS, 0, make([]byte, 56)); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(IPS, 1, make([]byte, 4)); !errors.Is(err, ErrFull) {
		t.Errorf("datagram needing a second NDP: %v", err)
	}
	if err := b.Add(IPS, 0, make([]byte, 4)); err != nil {
		t.Errorf("same datagram in the existing NDP: %v", err)
	}

	m := &Builder{MaxDatagrams: 2}
	for i := range 3 {
		err := m.Add(IPS, 0, []byte{1})
		if (i < 2) != (err == nil) || (i == 2 && !errors.Is(err, ErrFull)) {
			t.Errorf("MaxDatagrams: Add %d: %v", i, err)
		}
	}

	// More (kind, session) pairs than a default Parser accepts NDPs.
	n := &Builder{Format: NTB32, MaxSize: 1 << 20}
	for i := range DefaultMaxNDPs + 1 {
		err := n.Add(DSS, uint8(i), []byte{1})
		if (i < DefaultMaxNDPs) != (err == nil) {
			t.Errorf("NDP limit: Add %d: %v", i, err)
		}
	}
	if _, err := Parse(n.Bytes()); err != nil {
		t.Error(err)
	}

	// NTB16 sizes are capped at 65535.
	big := &Builder{MaxSize: 1 << 20}
	for {
		if err := big.Add(IPS, 0, make([]byte, 2000)); err != nil {
			if !errors.Is(err, ErrFull) {
				t.Fatal(err)
			}
			break
		}
	}
	if l := len(big.Bytes()); l > 0xFFFF || l < 60000 {
		t.Errorf("NTB16 block of %d bytes", l)
	}
	if _, err := Parse(big.Bytes()); err != nil {
		t.Error(err)
	}
}

func TestBuilderInvalid(t *testing.T) {
	tests := []struct {
		name  string
		b     Builder
		kind  Kind
		sess  uint8
		data  []byte
		field string
	}{
		{"format", Builder{Format: 8}, IPS, 0, []byte{1}, "Format"},
		{"negative size", Builder{MaxSize: -1}, IPS, 0, []byte{1}, "MaxSize"},
		{"negative divisor", Builder{Divisor: -4}, IPS, 0, []byte{1}, "Divisor"},
		{"remainder", Builder{Divisor: 8, Remainder: 8}, IPS, 0, []byte{1}, "Remainder"},
		{"alignment not power of two", Builder{NdpAlignment: 12}, IPS, 0, []byte{1}, "NdpAlignment"},
		{"alignment below 4", Builder{NdpAlignment: 2}, IPS, 0, []byte{1}, "NdpAlignment"},
		{"empty datagram", Builder{}, IPS, 0, nil, ""},
		{"unknown kind", Builder{}, Unknown, 0, []byte{1}, ""},
		{"NCM session", Builder{}, NCM, 2, []byte{1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Add(tc.kind, tc.sess, tc.data)
			var e *Error
			if !errors.Is(err, ErrConfig) || !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("Add = %v", err)
			}
		})
	}
}

func TestBuilderSequence(t *testing.T) {
	b := &Builder{Sequence: 0xFFFF}
	b.Reset() // nothing finished: no increment
	if b.Sequence != 0xFFFF {
		t.Fatalf("Sequence = %d", b.Sequence)
	}
	_ = b.Add(IPS, 0, []byte{1})
	blk, err := Parse(b.Bytes())
	if err != nil || blk.Sequence != 0xFFFF {
		t.Fatalf("sequence %d, %v", blk.Sequence, err)
	}
	b.Reset()
	if b.Sequence != 0 {
		t.Fatalf("Sequence did not wrap: %d", b.Sequence)
	}
}

func TestBuilderNoAllocs(t *testing.T) {
	b := &Builder{}
	data := pattern(1500, 7)
	run := func() {
		b.Reset()
		for i := range 10 {
			if err := b.Add(IPS, uint8(i&1), data); err != nil {
				t.Fatal(err)
			}
		}
		if b.Bytes() == nil {
			t.Fatal("no block")
		}
	}
	run() // grow buffers
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per block, want 0", n)
	}
}

func TestParameters(t *testing.T) {
	raw := []byte{
		0x1c, 0x00, // wLength 28
		0x03, 0x00, // NTB16 | NTB32
		0x00, 0x80, 0x00, 0x00, // dwNtbInMaxSize 32768
		0x04, 0x00, // wNdpInDivisor
		0x00, 0x00, // wNdpInPayloadRemainder
		0x04, 0x00, // wNdpInAlignment
		0x00, 0x00, // wPadding1
		0x00, 0x40, 0x00, 0x00, // dwNtbOutMaxSize 16384
		0x20, 0x00, // wNdpOutDivisor 32
		0x02, 0x00, // wNdpOutPayloadRemainder 2
		0x08, 0x00, // wNdpOutAlignment 8
		0x28, 0x00, // wNtbOutMaxDatagrams 40
	}
	var p Parameters
	if err := p.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	want := Parameters{
		FormatsSupported: FormatsNTB16 | FormatsNTB32,
		InMaxSize:        32768, InDivisor: 4, InAlignment: 4,
		OutMaxSize: 16384, OutDivisor: 32, OutPayloadRemainder: 2, OutAlignment: 8,
		OutMaxDatagrams: 40,
	}
	if p != want {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	out, _ := p.MarshalBinary()
	if !bytes.Equal(out, raw) {
		t.Errorf("MarshalBinary = %x, want %x", out, raw)
	}
	if err := p.UnmarshalBinary(raw[:27]); !errors.Is(err, ErrTruncated) {
		t.Errorf("short: %v", err)
	}
	bad := bytes.Clone(raw)
	bad[0] = 20
	if err := p.UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("wLength 20: %v", err)
	}

	b := NewBuilder(NTB16, want)
	if b.MaxSize != 16384 || b.Divisor != 32 || b.Remainder != 2 || b.NdpAlignment != 8 || b.MaxDatagrams != 40 || b.Format != NTB16 {
		t.Errorf("NewBuilder = %+v", b)
	}
	// Unusable values fall back to Linux's defaults.
	b = NewBuilder(0, Parameters{OutMaxSize: 1 << 20, OutDivisor: 6, OutPayloadRemainder: 9, OutAlignment: 2})
	if b.MaxSize != DefaultNTBOutSize || b.Divisor != 4 || b.Remainder != 0 || b.NdpAlignment != 4 || b.Format != NTB16 {
		t.Errorf("NewBuilder fallback = %+v", b)
	}
	b = NewBuilder(NTB16, Parameters{OutMaxSize: 2048, OutDivisor: 4096, OutAlignment: 4096})
	if b.MaxSize != 2048 || b.Divisor != 4 || b.NdpAlignment != 4 {
		t.Errorf("NewBuilder small = %+v", b)
	}
	d := DefaultParameters()
	if d.InMaxSize != DefaultNTBInSize || d.OutDivisor != DefaultDivisor || d.FormatsSupported != FormatsNTB16 {
		t.Errorf("DefaultParameters = %+v", d)
	}
	// A builder made from the defaults produces parseable blocks.
	b = NewBuilder(NTB32, d)
	if err := b.Add(IPS, 1, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Parser{Format: NTB32}).Parse(b.Bytes()); err != nil {
		t.Error(err)
	}
}

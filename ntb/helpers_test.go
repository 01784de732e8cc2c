package ntb

import "encoding/binary"

// Hand-assembly helpers: they write fields at explicit offsets without any
// validation, so tests can build both valid and deliberately broken blocks.

var le = binary.LittleEndian

func p16(b []byte, off int, v int) { le.PutUint16(b[off:], uint16(v)) }
func p32(b []byte, off int, v int) { le.PutUint32(b[off:], uint32(v)) }

// nth16 writes an NTH16 at offset 0.
func nth16(b []byte, seq, blockLen, ndp int) {
	p32(b, 0, int(SignatureNTH16))
	p16(b, 4, NTH16Length)
	p16(b, 6, seq)
	p16(b, 8, blockLen)
	p16(b, 10, ndp)
}

// nth32 writes an NTH32 at offset 0.
func nth32(b []byte, seq, blockLen, ndp int) {
	p32(b, 0, int(SignatureNTH32))
	p16(b, 4, NTH32Length)
	p16(b, 6, seq)
	p32(b, 8, blockLen)
	p32(b, 12, ndp)
}

// ndp16 writes an NDP16 at off with the given pointer entries followed by a
// null entry. wLength 0 means "exactly what is needed".
func ndp16(b []byte, off int, sig uint32, wLength, next int, entries ...[2]int) {
	if wLength == 0 {
		wLength = NDP16HeaderLen + 4*(len(entries)+1)
	}
	p32(b, off, int(sig))
	p16(b, off+4, wLength)
	p16(b, off+6, next)
	o := off + NDP16HeaderLen
	for _, e := range entries {
		p16(b, o, e[0])
		p16(b, o+2, e[1])
		o += 4
	}
	p16(b, o, 0)
	p16(b, o+2, 0)
}

// ndp32 is ndp16 for NDP32.
func ndp32(b []byte, off int, sig uint32, wLength, next int, entries ...[2]int) {
	if wLength == 0 {
		wLength = NDP32HeaderLen + 8*(len(entries)+1)
	}
	p32(b, off, int(sig))
	p16(b, off+4, wLength)
	p16(b, off+6, 0)
	p32(b, off+8, next)
	p32(b, off+12, 0)
	o := off + NDP32HeaderLen
	for _, e := range entries {
		p32(b, o, e[0])
		p32(b, o+4, e[1])
		o += 8
	}
	p32(b, o, 0)
	p32(b, o+4, 0)
}

// fill writes a recognisable pattern (seed, seed+1, ...) into b[off:off+n].
func fill(b []byte, off, n int, seed byte) {
	for i := range n {
		b[off+i] = seed + byte(i)
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	fill(b, 0, n, seed)
	return b
}

func ips16(s uint8) uint32 { return Signature(IPS, s, false) }
func dss16(s uint8) uint32 { return Signature(DSS, s, false) }
func ips32(s uint8) uint32 { return Signature(IPS, s, true) }
func dss32(s uint8) uint32 { return Signature(DSS, s, true) }

// collect parses b with p and returns the datagrams.
func collect(p *Parser, b []byte) (Block, []Datagram, error) {
	blk, err := p.Parse(b)
	if err != nil {
		return blk, nil, err
	}
	var ds []Datagram
	err = blk.Walk(func(d Datagram) error {
		ds = append(ds, d)
		return nil
	})
	return blk, ds, err
}

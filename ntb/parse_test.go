package ntb

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type wantDG struct {
	kind    Kind
	session uint8
	off     int
	data    []byte
}

func checkDatagrams(t *testing.T, b []byte, got []Datagram, want []wantDG) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Session != w.session || g.Offset != w.off {
			t.Errorf("datagram %d: got kind %v session %d offset %d, want %v %d %d",
				i, g.Kind, g.Session, g.Offset, w.kind, w.session, w.off)
		}
		if !bytes.Equal(g.Data, w.data) {
			t.Errorf("datagram %d: data %x, want %x", i, g.Data, w.data)
		}
		if len(g.Data) > 0 && &g.Data[0] != &b[g.Offset] {
			t.Errorf("datagram %d: data is not a sub-slice of the input", i)
		}
		if cap(g.Data) != len(g.Data) {
			t.Errorf("datagram %d: cap %d != len %d", i, cap(g.Data), len(g.Data))
		}
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name      string
		build     func() []byte
		parser    Parser
		format    Format
		seq       uint16
		blockLen  int
		ndps      int
		datagrams func(b []byte) []wantDG
	}{
		{
			name: "NTB16 one IPS NDP",
			build: func() []byte {
				b := make([]byte, 64)
				nth16(b, 7, 64, 12)
				ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 5}, [2]int{40, 20})
				fill(b, 32, 5, 0xA0)
				fill(b, 40, 20, 0x10)
				return b
			},
			format: NTB16, seq: 7, blockLen: 64, ndps: 1,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{{IPS, 0, 32, b[32:37]}, {IPS, 0, 40, b[40:60]}}
			},
		},
		{
			name: "NTB32 one IPS NDP",
			build: func() []byte {
				b := make([]byte, 96)
				nth32(b, 0xFFFF, 96, 16)
				ndp32(b, 16, ips32(4), 0, 0, [2]int{56, 30}, [2]int{88, 8})
				fill(b, 56, 30, 1)
				fill(b, 88, 8, 2)
				return b
			},
			format: NTB32, seq: 0xFFFF, blockLen: 96, ndps: 1,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{{IPS, 4, 56, b[56:86]}, {IPS, 4, 88, b[88:96]}}
			},
		},
		{
			name: "NTB16 chained IPS and DSS NDPs, NDPs after payload",
			build: func() []byte {
				b := make([]byte, 160)
				nth16(b, 1, 160, 100)
				fill(b, 12, 40, 0x30) // IPS 0
				fill(b, 52, 10, 0x40) // DSS 3
				fill(b, 62, 30, 0x50) // IPS 5
				ndp16(b, 100, ips16(0), 0, 116, [2]int{12, 40})
				ndp16(b, 116, dss16(3), 0, 132, [2]int{52, 10})
				ndp16(b, 132, ips16(5), 0, 0, [2]int{62, 30}, [2]int{12, 4})
				return b
			},
			format: NTB16, seq: 1, blockLen: 160, ndps: 3,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{
					{IPS, 0, 12, b[12:52]},
					{DSS, 3, 52, b[52:62]},
					{IPS, 5, 62, b[62:92]},
					{IPS, 5, 12, b[12:16]},
				}
			},
		},
		{
			name: "NTB32 chained DSS then IPS, chain going backwards",
			build: func() []byte {
				b := make([]byte, 200)
				nth32(b, 2, 200, 160)
				ndp32(b, 160, dss32(255), 0, 16, [2]int{100, 50})
				ndp32(b, 16, ips32(1), 0, 0, [2]int{60, 40})
				return b
			},
			format: NTB32, seq: 2, blockLen: 200, ndps: 2,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{{DSS, 255, 100, b[100:150]}, {IPS, 1, 60, b[60:100]}}
			},
		},
		{
			name: "NCM0 and NCM1 signatures",
			build: func() []byte {
				b := make([]byte, 100)
				nth16(b, 0, 100, 12)
				ndp16(b, 12, SignatureNCM16, 0, 28, [2]int{60, 14})
				ndp16(b, 28, SignatureNCM16CRC, 0, 0, [2]int{80, 20})
				return b
			},
			format: NTB16, blockLen: 100, ndps: 2,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{{NCM, 0, 60, b[60:74]}, {NCM, 1, 80, b[80:100]}}
			},
		},
		{
			name: "empty NDP and entries after the first null entry ignored",
			build: func() []byte {
				b := make([]byte, 80)
				nth16(b, 0, 80, 12)
				// NDP at 12, wLength 16: entry 0 is {0, 7} (a zero index
				// ends the table), entry 1 {60, 4} must be ignored.
				ndp16(b, 12, ips16(0), 16, 28, [2]int{0, 7}, [2]int{60, 4})
				// NDP at 28, wLength 20: {48, 4}, then {64, 0} (a zero
				// length ends the table), then junk.
				ndp16(b, 28, ips16(1), 20, 0, [2]int{48, 4}, [2]int{64, 0}, [2]int{9999, 9999})
				return b
			},
			format: NTB16, blockLen: 80, ndps: 2,
			datagrams: func(b []byte) []wantDG {
				return []wantDG{{IPS, 1, 48, b[48:52]}}
			},
		},
		{
			name: "zero wBlockLength spans the whole buffer",
			build: func() []byte {
				b := make([]byte, 50)
				nth16(b, 0, 0, 12)
				ndp16(b, 12, ips16(0), 0, 0, [2]int{40, 10})
				return b
			},
			format: NTB16, blockLen: 50, ndps: 1,
			datagrams: func(b []byte) []wantDG { return []wantDG{{IPS, 0, 40, b[40:50]}} },
		},
		{
			name: "buffer longer than the block",
			build: func() []byte {
				b := make([]byte, 100)
				nth16(b, 0, 48, 12)
				ndp16(b, 12, ips16(0), 0, 0, [2]int{40, 8})
				return b
			},
			format: NTB16, blockLen: 48, ndps: 1,
			datagrams: func(b []byte) []wantDG { return []wantDG{{IPS, 0, 40, b[40:48]}} },
		},
		{
			name:   "unknown signature allowed",
			parser: Parser{AllowUnknown: true},
			build: func() []byte {
				b := make([]byte, 48)
				nth16(b, 0, 48, 12)
				ndp16(b, 12, 0x44434241, 0, 0, [2]int{40, 8})
				return b
			},
			format: NTB16, blockLen: 48, ndps: 1,
			datagrams: func(b []byte) []wantDG { return []wantDG{{Unknown, 0, 40, b[40:48]}} },
		},
		{
			name:   "format and size restrictions satisfied",
			parser: Parser{Format: NTB32, MaxSize: 64, MaxNDPs: 1},
			build: func() []byte {
				b := make([]byte, 64)
				nth32(b, 0, 64, 16)
				ndp32(b, 16, ips32(0), 0, 0, [2]int{60, 4})
				return b
			},
			format: NTB32, blockLen: 64, ndps: 1,
			datagrams: func(b []byte) []wantDG { return []wantDG{{IPS, 0, 60, b[60:64]}} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.build()
			p := tc.parser
			blk, ds, err := collect(&p, b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if blk.Format != tc.format || blk.Sequence != tc.seq || blk.Len() != tc.blockLen || blk.NDPs != tc.ndps {
				t.Errorf("block = %v seq %d len %d ndps %d, want %v %d %d %d",
					blk.Format, blk.Sequence, blk.Len(), blk.NDPs, tc.format, tc.seq, tc.blockLen, tc.ndps)
			}
			want := tc.datagrams(b)
			if blk.Count != len(want) {
				t.Errorf("Count = %d, want %d", blk.Count, len(want))
			}
			checkDatagrams(t, b, ds, want)

			// The other access paths must agree.
			var viaAll, viaSeq, viaIter []Datagram
			for d := range blk.All() {
				viaAll = append(viaAll, d)
			}
			it := blk.Iter()
			for it.Next() {
				viaIter = append(viaIter, it.Datagram())
			}
			if it.Err() != nil {
				t.Errorf("Iterator.Err = %v", it.Err())
			}
			checkDatagrams(t, b, viaAll, want)
			checkDatagrams(t, b, viaIter, want)
			if tc.parser == (Parser{}) {
				for d, err := range Datagrams(b) {
					if err != nil {
						t.Fatalf("Datagrams: %v", err)
					}
					viaSeq = append(viaSeq, d)
				}
				checkDatagrams(t, b, viaSeq, want)
				var viaWalk []Datagram
				if err := Walk(b, func(d Datagram) error { viaWalk = append(viaWalk, d); return nil }); err != nil {
					t.Fatalf("Walk: %v", err)
				}
				checkDatagrams(t, b, viaWalk, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	type tcase struct {
		name   string
		build  func() []byte
		parser Parser
		kind   error
		st     string
		off    int
		entry  int
		field  string
		text   string // substring of Error()
	}
	// ok16 returns a valid 64-byte NTB16 with one NDP16 at 12 and one
	// datagram at 32; cases break one thing in it.
	ok16 := func() []byte {
		b := make([]byte, 64)
		nth16(b, 0, 64, 12)
		ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 16})
		return b
	}
	ok32 := func() []byte {
		b := make([]byte, 96)
		nth32(b, 0, 96, 16)
		ndp32(b, 16, ips32(0), 0, 0, [2]int{64, 16})
		return b
	}
	mod := func(base func() []byte, f func(b []byte) []byte) func() []byte {
		return func() []byte { return f(base()) }
	}
	tests := []tcase{
		{name: "empty", build: func() []byte { return nil },
			kind: ErrTruncated, st: "NTB", off: 0, entry: -1, text: "buffer of 0 bytes"},
		{name: "bad NTH signature", build: mod(ok16, func(b []byte) []byte { b[0] = 'X'; return b }),
			kind: ErrSignature, st: "NTH", off: 0, entry: -1, field: "dwSignature", text: `"XCMH"`},
		{name: "NTH16 truncated", build: mod(ok16, func(b []byte) []byte { return b[:10] }),
			kind: ErrTruncated, st: "NTH16", off: 0, entry: -1, text: "10 bytes is shorter than the 12-byte header"},
		{name: "NTH32 truncated", build: mod(ok32, func(b []byte) []byte { return b[:15] }),
			kind: ErrTruncated, st: "NTH32", off: 0, entry: -1, text: "15 bytes is shorter than the 16-byte header"},
		{name: "wrong format for parser", parser: Parser{Format: NTB16}, build: ok32,
			kind: ErrSignature, st: "NTH32", off: 0, entry: -1, field: "dwSignature", text: "NTB32 header but NTB16 is expected"},
		{name: "NTH16 header length", build: mod(ok16, func(b []byte) []byte { p16(b, 4, 16); return b }),
			kind: ErrMalformed, st: "NTH16", off: 0, entry: -1, field: "wHeaderLength", text: "16, want 12"},
		{name: "NTH32 header length", build: mod(ok32, func(b []byte) []byte { p16(b, 4, 12); return b }),
			kind: ErrMalformed, st: "NTH32", off: 0, entry: -1, field: "wHeaderLength", text: "12, want 16"},
		{name: "block length below header", build: mod(ok16, func(b []byte) []byte { p16(b, 8, 11); return b }),
			kind: ErrMalformed, st: "NTH16", off: 0, entry: -1, field: "wBlockLength", text: "11 is smaller than the 12-byte header"},
		{name: "block length beyond buffer", build: mod(ok16, func(b []byte) []byte { p16(b, 8, 65); return b }),
			kind: ErrTruncated, st: "NTH16", off: 0, entry: -1, field: "wBlockLength", text: "65 beyond buffer length 64"},
		{name: "NTH32 block length huge", build: mod(ok32, func(b []byte) []byte { p32(b, 8, 0xFFFFFFF0); return b }),
			kind: ErrTruncated, st: "NTH32", off: 0, entry: -1, field: "dwBlockLength", text: "beyond buffer length 96"},
		{name: "block larger than MaxSize", parser: Parser{MaxSize: 63}, build: ok16,
			kind: ErrTooLarge, st: "NTH16", off: 0, entry: -1, field: "wBlockLength", text: "64 exceeds the maximum NTB size 63"},
		{name: "no NDP", build: mod(ok16, func(b []byte) []byte { p16(b, 10, 0); return b }),
			kind: ErrMalformed, st: "NTH16", off: 0, entry: -1, field: "wNdpIndex", text: "0: the block has no NDP"},
		{name: "NDP index inside header", build: mod(ok16, func(b []byte) []byte { p16(b, 10, 8); return b }),
			kind: ErrBounds, st: "NTH16", off: 0, entry: -1, field: "wNdpIndex", text: "8 points into the 12-byte transfer header"},
		{name: "NDP index unaligned", build: mod(ok16, func(b []byte) []byte { p16(b, 10, 14); return b }),
			kind: ErrMalformed, st: "NTH16", off: 0, entry: -1, field: "wNdpIndex", text: "14 is not a multiple of 4"},
		{name: "NDP index beyond block", build: mod(ok16, func(b []byte) []byte { p16(b, 10, 60); return b }),
			kind: ErrBounds, st: "NTH16", off: 0, entry: -1, field: "wNdpIndex", text: "60+8 beyond block length 64"},
		{name: "NTH32 NDP index beyond block", build: mod(ok32, func(b []byte) []byte { p32(b, 12, 0x7FFFFFFC); return b }),
			kind: ErrBounds, st: "NTH32", off: 0, entry: -1, field: "dwNdpIndex", text: "2147483644+16 beyond block length 96"},
		{name: "NDP bad signature", build: mod(ok16, func(b []byte) []byte { p32(b, 12, 0x21212121); return b }),
			kind: ErrSignature, st: "NDP16", off: 12, entry: -1, field: "dwSignature", text: `0x21212121 ("!!!!") is not an IPS, DSS or NCM signature`},
		{name: "NDP32 signature in NTB16", build: mod(ok16, func(b []byte) []byte { p32(b, 12, int(ips32(0))); return b }),
			kind: ErrSignature, st: "NDP16", off: 12, entry: -1, field: "dwSignature", text: "NDP32 signature inside an NTB16 block"},
		{name: "NDP16 signature in NTB32", build: mod(ok32, func(b []byte) []byte { p32(b, 16, int(dss16(2))); return b }),
			kind: ErrSignature, st: "NDP32", off: 16, entry: -1, field: "dwSignature", text: "NDP16 signature inside an NTB32 block"},
		{name: "NDP16 length below minimum", build: mod(ok16, func(b []byte) []byte { p16(b, 16, 12); return b }),
			kind: ErrMalformed, st: "NDP16", off: 12, entry: -1, field: "wLength", text: "12 is less than the minimum 16"},
		{name: "NDP32 length below minimum", build: mod(ok32, func(b []byte) []byte { p16(b, 20, 24); return b }),
			kind: ErrMalformed, st: "NDP32", off: 16, entry: -1, field: "wLength", text: "24 is less than the minimum 32"},
		{name: "NDP length not a multiple of 4", build: mod(ok16, func(b []byte) []byte { p16(b, 16, 18); return b }),
			kind: ErrMalformed, st: "NDP16", off: 12, entry: -1, field: "wLength", text: "18 is not a multiple of 4"},
		{name: "NDP length beyond block", build: mod(ok16, func(b []byte) []byte { p16(b, 16, 56); return b }),
			kind: ErrBounds, st: "NDP16", off: 12, entry: -1, field: "wLength", text: "12+56 beyond block length 64"},
		{name: "NDP16 without terminator", build: mod(ok16, func(b []byte) []byte {
			p16(b, 24, 48)
			p16(b, 26, 4)
			return b
		}), kind: ErrMalformed, st: "NDP16", off: 12, entry: -1, field: "wLength", text: "no room for a terminating null entry after 2 entries"},
		{name: "NDP32 without terminator", build: mod(ok32, func(b []byte) []byte {
			p32(b, 40, 80)
			p32(b, 44, 4)
			return b
		}), kind: ErrMalformed, st: "NDP32", off: 16, entry: -1, field: "wLength", text: "after 2 entries"},
		{name: "datagram inside header", build: mod(ok16, func(b []byte) []byte { p16(b, 20, 4); return b }),
			kind: ErrBounds, st: "NDP16", off: 12, entry: 0, field: "wDatagramIndex", text: "datagram 0 wDatagramIndex: 4 points into the 12-byte transfer header"},
		{name: "datagram beyond block", build: func() []byte {
			b := make([]byte, 64)
			nth16(b, 0, 64, 12)
			ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 16}, [2]int{60, 100})
			return b
		}, kind: ErrBounds, st: "NDP16", off: 12, entry: 1, field: "wDatagramIndex",
			text: "ntb: NDP16 at offset 12: datagram 1 wDatagramIndex: 60+100 beyond block length 64"},
		{name: "datagram beyond block length but within buffer", build: func() []byte {
			b := make([]byte, 128)
			nth16(b, 0, 64, 12)
			ndp16(b, 12, ips16(0), 0, 0, [2]int{60, 5})
			return b
		}, kind: ErrBounds, st: "NDP16", off: 12, entry: 0, field: "wDatagramIndex", text: "60+5 beyond block length 64"},
		{name: "NDP32 datagram overflowing 32 bits", build: mod(ok32, func(b []byte) []byte {
			p32(b, 32, 0xFFFFFFF0)
			p32(b, 36, 0x20)
			return b
		}), kind: ErrBounds, st: "NDP32", off: 16, entry: 0, field: "dwDatagramIndex", text: "beyond block length 96"},
		{name: "next NDP unaligned", build: mod(ok16, func(b []byte) []byte { p16(b, 18, 50); return b }),
			kind: ErrMalformed, st: "NDP16", off: 12, entry: -1, field: "wNextNdpIndex", text: "50 is not a multiple of 4"},
		{name: "next NDP beyond block", build: mod(ok16, func(b []byte) []byte { p16(b, 18, 0x1000); return b }),
			kind: ErrBounds, st: "NDP16", off: 12, entry: -1, field: "wNextNdpIndex", text: "4096+8 beyond block length 64"},
		{name: "next NDP32 in header", build: mod(ok32, func(b []byte) []byte { p32(b, 24, 12); return b }),
			kind: ErrBounds, st: "NDP32", off: 16, entry: -1, field: "dwNextNdpIndex", text: "12 points into the 16-byte transfer header"},
		{name: "NDP chain points to itself", build: mod(ok16, func(b []byte) []byte { p16(b, 18, 12); return b }),
			kind: ErrLoop, st: "NDP16", off: 12, entry: -1, field: "wNextNdpIndex", text: "12 points back to an NDP already in the chain"},
		{name: "NDP chain two-cycle", build: func() []byte {
			b := make([]byte, 64)
			nth16(b, 0, 64, 12)
			ndp16(b, 12, ips16(0), 0, 28, [2]int{48, 4})
			ndp16(b, 28, ips16(1), 0, 12, [2]int{52, 4})
			return b
		}, kind: ErrLoop, st: "NDP16", entry: -1, field: "wNextNdpIndex", off: -2, text: "points back to an NDP already in the chain"},
		{name: "NDP32 chain three-cycle after a tail", build: func() []byte {
			b := make([]byte, 256)
			nth32(b, 0, 256, 16)
			ndp32(b, 16, ips32(0), 0, 48, [2]int{240, 4})
			ndp32(b, 48, ips32(1), 0, 80, [2]int{240, 4})
			ndp32(b, 80, ips32(2), 0, 112, [2]int{240, 4})
			ndp32(b, 112, ips32(3), 0, 48, [2]int{240, 4})
			return b
		}, kind: ErrLoop, st: "NDP32", entry: -1, field: "dwNextNdpIndex", off: -2, text: "points back"},
		{name: "too many NDPs", parser: Parser{MaxNDPs: 3}, build: func() []byte {
			b := make([]byte, 128)
			nth16(b, 0, 128, 12)
			for i := range 4 {
				next := 12 + 16*(i+1)
				if i == 3 {
					next = 0
				}
				ndp16(b, 12+16*i, ips16(uint8(i)), 0, next, [2]int{100, 4})
			}
			return b
		}, kind: ErrLoop, st: "NDP16", off: 60, entry: -1, text: "chain holds more than 3 NDPs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.build()
			p := tc.parser
			blk, err := p.Parse(b)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", blk)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Struct != tc.st || e.Entry != tc.entry || e.Field != tc.field || (tc.off != -2 && e.Offset != tc.off) {
				t.Errorf("got Struct %q Offset %d Entry %d Field %q, want %q %d %d %q",
					e.Struct, e.Offset, e.Entry, e.Field, tc.st, tc.off, tc.entry, tc.field)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.text) {
				t.Errorf("error %q does not contain %q", msg, tc.text)
			}
			wantPrefix := fmt.Sprintf("ntb: %s at offset %d: ", e.Struct, e.Offset)
			if !strings.HasPrefix(msg, wantPrefix) {
				t.Errorf("error %q does not start with %q", msg, wantPrefix)
			}
			if tc.field != "" && !strings.Contains(msg, tc.field+": ") {
				t.Errorf("error %q does not name field %s", msg, tc.field)
			}
			if blk.Count != 0 || blk.Bytes() != nil {
				t.Errorf("failed Parse returned a non-zero block %+v", blk)
			}

			// Walk and Datagrams must report the same error without
			// handing out any datagram first.
			if tc.parser == (Parser{}) {
				calls := 0
				if err := Walk(b, func(Datagram) error { calls++; return nil }); err == nil || err.Error() != msg {
					t.Errorf("Walk error = %v, want %v", err, msg)
				}
				if calls != 0 {
					t.Errorf("Walk called fn %d times on an invalid block", calls)
				}
				n := 0
				for d, err := range Datagrams(b) {
					n++
					if err == nil || d.Data != nil {
						t.Errorf("Datagrams yielded %+v, %v", d, err)
					}
				}
				if n != 1 {
					t.Errorf("Datagrams yielded %d times, want 1", n)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Struct: "NDP16", Offset: 12, Entry: 3, Field: "wDatagramIndex",
		Reason: "4000+1500 beyond block length 2048", Err: ErrBounds}
	want := "ntb: NDP16 at offset 12: datagram 3 wDatagramIndex: 4000+1500 beyond block length 2048"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
	e = &Error{Struct: "Builder", Offset: -1, Entry: -1, Field: "Divisor", Reason: "x", Err: ErrConfig}
	if got := e.Error(); got != "ntb: Builder: Divisor: x" {
		t.Errorf("got %q", got)
	}
	if !errors.Is(e, ErrConfig) || errors.Is(e, ErrBounds) {
		t.Error("errors.Is does not follow Err")
	}
}

func TestSignatures(t *testing.T) {
	ascii := map[string]uint32{
		"IPS\x00": Signature(IPS, 0, false),
		"IPS\x07": Signature(IPS, 7, false),
		"ips\xff": Signature(IPS, 255, true),
		"DSS\x01": Signature(DSS, 1, false),
		"dss\x02": Signature(DSS, 2, true),
		"NCM0":    Signature(NCM, 0, false),
		"NCM1":    Signature(NCM, 1, false),
		"ncm0":    Signature(NCM, 0, true),
		"ncm1":    Signature(NCM, 1, true),
		"NCMH":    SignatureNTH16,
		"ncmh":    SignatureNTH32,
	}
	for s, v := range ascii {
		if got := le.Uint32([]byte(s)); got != v {
			t.Errorf("%q: signature %#08x, want %#08x", s, v, got)
		}
	}
	for _, kind := range []Kind{IPS, DSS, NCM} {
		for s := range 256 {
			for _, is32 := range []bool{false, true} {
				sig := Signature(kind, uint8(s), is32)
				if kind == NCM && s > 1 {
					if sig != 0 {
						t.Errorf("Signature(NCM, %d) = %#x, want 0", s, sig)
					}
					continue
				}
				k, ss, i32, ok := ParseSignature(sig)
				if !ok || k != kind || ss != uint8(s) || i32 != is32 {
					t.Errorf("ParseSignature(Signature(%v, %d, %v)) = %v %d %v %v", kind, s, is32, k, ss, i32, ok)
				}
			}
		}
	}
	for _, sig := range []uint32{0, SignatureNTH16, SignatureNTH32, 0x324D434E, 0x00535048, 0x41414141} {
		if k, _, _, ok := ParseSignature(sig); ok || k != Unknown {
			t.Errorf("ParseSignature(%#x) = %v, %v; want Unknown, false", sig, k, ok)
		}
	}
	if Signature(Unknown, 0, false) != 0 || Signature(Kind(99), 0, true) != 0 {
		t.Error("Signature of an invalid kind is not 0")
	}
	if IPS.String() != "IPS" || Unknown.String() != "Unknown" || Kind(9).String() != "Kind(9)" ||
		NTB16.String() != "NTB16" || NTB32.String() != "NTB32" || Format(3).String() != "Format(3)" {
		t.Error("String methods")
	}
}

// TestIteratorAfterMutation checks that iterating a Block whose buffer was
// changed after Parse stays in bounds and reports an error.
func TestIteratorAfterMutation(t *testing.T) {
	b := make([]byte, 64)
	nth16(b, 0, 64, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 16})
	mutations := []func([]byte){
		func(b []byte) { p16(b, 20, 60) },   // datagram beyond the block
		func(b []byte) { p16(b, 18, 12) },   // chain loop
		func(b []byte) { p16(b, 16, 1000) }, // NDP length
		func(b []byte) { p32(b, 12, 1) },    // NDP signature
	}
	for i, m := range mutations {
		c := bytes.Clone(b)
		blk, err := Parse(c)
		if err != nil {
			t.Fatal(err)
		}
		m(c)
		it := blk.Iter()
		for it.Next() {
			d := it.Datagram()
			if d.Offset+len(d.Data) > len(c) {
				t.Fatalf("mutation %d: datagram out of bounds", i)
			}
		}
		if it.Err() == nil {
			t.Errorf("mutation %d: no error", i)
		}
	}
	// A hand-made Block with a nonsense NDP index must not panic either.
	for _, idx := range []int{-8, 0, 4, 60, 1 << 20} {
		blk, _ := Parse(b)
		blk.NDPIndex = idx
		n := 0
		for range blk.All() {
			n++
		}
		if idx != 0 && blk.Walk(func(Datagram) error { return nil }) == nil {
			t.Errorf("NDPIndex %d: Walk succeeded", idx)
		}
	}
	var zero Block
	if zero.Walk(func(Datagram) error { t.Error("datagram from zero Block"); return nil }) != nil {
		t.Error("zero Block Walk error")
	}
}

func TestWalkStopsOnCallbackError(t *testing.T) {
	b := make([]byte, 64)
	nth16(b, 0, 64, 12)
	ndp16(b, 12, ips16(0), 0, 0, [2]int{32, 4}, [2]int{40, 4}, [2]int{48, 4})
	stop := errors.New("stop")
	n := 0
	err := Walk(b, func(Datagram) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("Walk = %v after %d calls", err, n)
	}
	n = 0
	for range Datagrams(b) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break in range over Datagrams: %d", n)
	}
}

func TestParseNoAllocs(t *testing.T) {
	bld := &Builder{}
	for i := range 10 {
		if err := bld.Add(IPS, uint8(i%3), pattern(1400, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	b := bld.Bytes()
	var sink int
	check := func(name string, f func()) {
		t.Helper()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
	check("Parse+Iter", func() {
		blk, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		it := blk.Iter()
		for it.Next() {
			sink += len(it.Datagram().Data)
		}
	})
	check("Parser.Parse+Walk", func() {
		p := Parser{Format: NTB16, MaxSize: 16384}
		blk, err := p.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		_ = blk.Walk(func(d Datagram) error { sink += len(d.Data); return nil })
	})
	check("Walk", func() {
		_ = Walk(b, func(d Datagram) error { sink += len(d.Data); return nil })
	})
	check("Block.All", func() {
		blk, _ := Parse(b)
		for d := range blk.All() {
			sink += len(d.Data)
		}
	})
	check("Datagrams", func() {
		for d, err := range Datagrams(b) {
			if err != nil {
				t.Fatal(err)
			}
			sink += len(d.Data)
		}
	})
	if sink == 0 {
		t.Fatal("nothing parsed")
	}
}

package sim

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Log content kinds (modem_logging.content).
const (
	LogText    = "text"    // log lines, as a modem's diagnostic output might read
	LogRandom  = "random"  // pseudo-random bytes
	LogCounter = "counter" // each 8-byte word holds its stream offset, big-endian
)

// LogContent is the simulated modem's log stream for one DSS session: an
// endless byte stream that depends only on the kind, the seed and the
// session, so that a test can produce the same bytes again and compare
// checksums. Segments are consecutive pieces of it: where a segment ends
// (the segment size, the flush time) does not change the stream.
//
// The stream of DSS session n is NewLogContent(kind, seed+n).
type LogContent struct {
	kind string
	seed uint64
	off  int64

	// text
	line   []byte
	pos    int
	lineNo uint64
}

// NewLogContent returns the stream of kind (LogText, LogRandom or
// LogCounter; "" is LogText) for seed, at offset 0.
func NewLogContent(kind string, seed uint64) (*LogContent, error) {
	switch kind {
	case "":
		kind = LogText
	case LogText, LogRandom, LogCounter:
	default:
		return nil, fmt.Errorf("content %q: want text, random or counter", kind)
	}
	return &LogContent{kind: kind, seed: seed}, nil
}

// Offset returns how many bytes have been read.
func (c *LogContent) Offset() int64 { return c.off }

// Read fills p with the next bytes of the stream. It never fails.
func (c *LogContent) Read(p []byte) (int, error) {
	switch c.kind {
	case LogRandom:
		c.words(p, func(w uint64) uint64 { return mix64(c.seed, w) }, binary.LittleEndian.PutUint64)
	case LogCounter:
		c.words(p, func(w uint64) uint64 { return w * 8 }, binary.BigEndian.PutUint64)
	default:
		c.text(p)
	}
	return len(p), nil
}

// words fills p from 8-byte words: word w (bytes 8w..8w+7 of the stream)
// is put(val(w)).
func (c *LogContent) words(p []byte, val func(uint64) uint64, put func([]byte, uint64)) {
	var tmp [8]byte
	for len(p) > 0 {
		w, in := uint64(c.off)/8, int(c.off%8)
		if in == 0 && len(p) >= 8 {
			// The bulk: whole words straight into p.
			n := len(p) &^ 7
			for i := 0; i < n; i += 8 {
				put(p[i:], val(w))
				w++
			}
			p = p[n:]
			c.off += int64(n)
			continue
		}
		put(tmp[:], val(w))
		n := copy(p, tmp[in:])
		p = p[n:]
		c.off += int64(n)
	}
}

// mix64 is SplitMix64's output function over seed and a word index.
func mix64(seed, w uint64) uint64 {
	z := seed + (w+1)*0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

var logLineParts = []struct{ tag, text string }{
	{"LTE/RRC", "measurement report: serving rsrp %d dBm rsrq %d dB"},
	{"LTE/MAC", "rach attempt %d preamble %d"},
	{"NAS/EMM", "tracking area update accepted, tac %d t3412 %d s"},
	{"NAS/ESM", "bearer %d qci %d modified"},
	{"NR5G/PHY", "ssb %d rsrp %d dBm beam switch"},
	{"IMS/SIP", "REGISTER 200 OK expires %d cseq %d"},
	{"DS/MUX", "ul grant %d bytes, dl %d bytes"},
	{"MBIM/CTL", "command cid %d transaction %d done"},
	{"UIM", "apdu status 90 00, %d bytes, channel %d"},
	{"THERMAL", "pa temperature %d C, mitigation level %d"},
}

var logLevels = [...]string{"D", "I", "I", "I", "W", "E"}

// text fills p with log lines. Line n is made from mix64(seed, n) alone.
func (c *LogContent) text(p []byte) {
	for len(p) > 0 {
		if c.pos == len(c.line) {
			c.nextLine()
		}
		n := copy(p, c.line[c.pos:])
		c.pos += n
		c.off += int64(n)
		p = p[n:]
	}
}

func (c *LogContent) nextLine() {
	n := c.lineNo
	c.lineNo++
	r := mix64(c.seed, n)
	part := logLineParts[r%uint64(len(logLineParts))]
	// A simulated clock: 1.5 ms per line on average.
	usec := n*1500 + (r>>8)%1000
	b := c.line[:0]
	b = append(b, '[')
	b = appendPadded(b, n, 10)
	b = append(b, "] "...)
	b = strconv.AppendUint(b, usec/1_000_000, 10)
	b = append(b, '.')
	b = appendPadded(b, usec%1_000_000, 6)
	b = append(b, ' ')
	b = append(b, logLevels[(r>>16)%uint64(len(logLevels))]...)
	b = append(b, ' ')
	b = append(b, part.tag...)
	b = append(b, ": "...)
	// The message with its two numbers filled in, without fmt (this runs
	// at the log data rate).
	a1, a2 := int64((r>>24)%200)-120, int64((r>>40)%40)-20
	arg := 0
	t := part.text
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+1 < len(t) && t[i+1] == 'd' {
			v := a1
			if arg == 1 {
				v = a2
			}
			arg++
			b = strconv.AppendInt(b, v, 10)
			i++
			continue
		}
		b = append(b, t[i])
	}
	b = append(b, '\n')
	c.line, c.pos = b, 0
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gombim/gombim/catalog"
	"github.com/gombim/gombim/mbim"
)

// maxLineLen bounds one input line (name, hex and comment). Longer lines
// are reported as an error and skipped without being buffered.
const maxLineLen = 1 << 20

const decodeUsage = `Usage: gombim decode [--mbimex VERSION] [--json] [FILE|-]

Decode MBIM control messages written as hex, one per line, and print them
field by field. FILE "-" or no FILE reads standard input.

Input:
  Each line holds one MBIM control message, or one fragment of a
  fragmented message, as hex bytes. Spaces, colons and dashes between
  bytes are ignored, as is a leading 0x. A line may begin with a name and
  a TAB ("name<TAB>hex"); the name is printed with the message. "#" starts
  a comment that runs to the end of the line; blank lines are skipped.
  Fragments of one message must be on consecutive lines, in order: they
  are reassembled and the whole message is printed once. Lines longer
  than 1 MiB are rejected.

Options:
  --mbimex VERSION  MBIM Extensions version whose layouts decode the
                    messages that MBIMEx changed (1.0, 2.0, 3.0 or 4.0;
                    default 1.0), until a VERSION exchange in the input
                    says otherwise (see below)
  --json            print one JSON object per line instead of text

MBIMEx version:
  Some messages (register-state, connect, ...) have other layouts once host
  and device agree on MBIMEx 2.0 or later with the MS Basic Connect
  Extensions VERSION command (CID 15). decode follows that exchange the way
  libmbim and ModemManager do: the version in effect is the lower of what
  the host and the device support.
    - A VERSION command from the host records the host's
      MbimExtendedVersion; it does not change the layout yet.
    - A successful VERSION response (or a VERSION notification) switches to
      the lower of the device's MbimExtendedVersion and the host's. If the
      input holds no VERSION command, the host's version is the --mbimex
      value when that flag is given, and is not limited otherwise.
  The new version applies from the message after the response on; the
  VERSION messages themselves use the version before them.

Output:
  Text: each message as its header and one line per field, preceded by its
  name when the line has one; messages are separated by blank lines.
  JSON: one object per message, e.g.
    {"line":2,"name":"register_state","type":"command-done","transaction_id":7,
     "service":"basic-connect","cid":"register-state","status":"none",
     "fields":{"RegisterState":"home",...}}
  "line" is the line that completed the message, "name" appears when the
  line has one. A message of an unknown service or CID shows its header and
  its information buffer in hex ("information_buffer").
  A line that cannot be decoded prints, on standard output in order with
  the messages,
    line 3: error: WHAT WENT WRONG; WHAT TO DO         (text)
    {"line":3,"error":"WHAT WENT WRONG; WHAT TO DO"}   (JSON)
  (with the name, if the line has one: "line 3 (NAME): error: ..." or a
  "name" key), and decoding goes on with the next line.

Exit status:
  0  every message decoded
  1  some line could not be decoded (bad hex, bad header, reassembly error,
     incomplete message at the end, or a payload that does not match its
     layout)
  2  usage error
  3  FILE could not be read, or the output could not be written

Examples:
  gombim decode capture.hex
  gombim decode --mbimex 3.0 --json capture.hex | jq .fields
  printf 'open\t01000000100000000100000000100000\n' | gombim decode
`

func init() {
	register(&Command{
		Name:    "decode",
		Summary: "decode MBIM messages written as hex, one per line",
		Usage:   decodeUsage,
		Run:     runDecode,
	})
}

// decodeOptions are the flags of gombim decode.
type decodeOptions struct {
	mbimex versionFlag
	json   bool
}

// versionFlag is an MBIMEx version flag that remembers whether it was set.
type versionFlag struct {
	v   mbim.Version
	set bool
}

func (f *versionFlag) String() string {
	if f == nil {
		return ""
	}
	return f.v.String()
}

func (f *versionFlag) Set(s string) error {
	v, err := mbim.ParseVersion(s)
	if err != nil {
		return fmt.Errorf("invalid MBIMEx version %q: want 1.0, 2.0, 3.0 or 4.0", s)
	}
	if v < mbim.MBIMEx1 {
		return fmt.Errorf("invalid MBIMEx version %q: the lowest is 1.0", s)
	}
	f.v, f.set = v, true
	return nil
}

// decodeFlags defines the flags of gombim decode on fs.
func decodeFlags(fs *flag.FlagSet) *decodeOptions {
	o := &decodeOptions{mbimex: versionFlag{v: mbim.MBIMEx1}}
	fs.Var(&o.mbimex, "mbimex", "MBIMEx `VERSION` for versioned layouts")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per message")
	return o
}

func runDecode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("decode")
	fs := newFlagSet(c)
	opts := decodeFlags(fs)
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return usageError(c, stderr, "too many arguments (%d); give one FILE, or - or nothing for standard input", len(pos))
	}
	in, inName := stdinOf(ctx), "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "gombim decode: %v; check the path, or pass - to read standard input\n", err)
			return exitDevice
		}
		defer f.Close()
		in, inName = f, pos[0]
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	d := newStreamDecoder(out, opts)
	err := d.run(ctx, in)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = &writeError{ferr}
	}
	var we *writeError
	switch {
	case err == nil:
	case errors.As(err, &we):
		fmt.Fprintf(stderr, "gombim decode: writing the output: %v; check that the output is writable (disk full? closed pipe?)\n", we.err)
		return exitDevice
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "gombim decode: interrupted after line %d\n", d.line)
		return exitCodeFor(ctx.Err())
	default:
		fmt.Fprintf(stderr, "gombim decode: reading %s after line %d: %v; check that the input is a readable text file\n", inName, d.line, err)
		return exitDevice
	}
	if d.failed {
		return exitFailed
	}
	return exitOK
}

// writeError marks a failure to write the output.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// fragKey identifies a message being reassembled.
type fragKey struct {
	typ mbim.MessageType
	tid uint32
}

// fragStart is where a multi-fragment message began.
type fragStart struct {
	line int
	name string
}

// streamDecoder decodes one input stream.
type streamDecoder struct {
	out  *bufio.Writer
	opts *decodeOptions

	version     mbim.Version // layouts in effect
	hostVersion mbim.Version // from the last VERSION command, if hostSeen
	hostSeen    bool

	reasm  *mbim.Reassembler
	starts map[fragKey]fragStart // first lines of incomplete messages
	buf    []byte                // bytes of the current line, reused
	line   int                   // number of the current line
	blocks int                   // output blocks so far (text separators)
	failed bool
}

// The Reassembler reads no clock: decode gives it line numbers as
// nanoseconds, so "time" only advances with the input and no message
// expires before the end, where Expire reports the incomplete ones.
var (
	clockBase   = time.Unix(0, 0)
	fragTimeout = time.Hour
)

func newStreamDecoder(out *bufio.Writer, opts *decodeOptions) *streamDecoder {
	return &streamDecoder{
		out:     out,
		opts:    opts,
		version: opts.mbimex.v,
		reasm:   mbim.NewReassembler(0, fragTimeout),
		starts:  make(map[fragKey]fragStart),
	}
}

func (d *streamDecoder) now() time.Time { return clockBase.Add(time.Duration(d.line)) }

// run decodes every line of in. It returns nil at the end of the input, or
// the error that stopped it: a read error, a *writeError, or ctx's error.
func (d *streamDecoder) run(ctx context.Context, in io.Reader) error {
	lr := lineReader{r: bufio.NewReaderSize(in, 64<<10), max: maxLineLen}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		d.line++
		if tooLong {
			d.lineError("", fmt.Sprintf("line is longer than %d bytes; each line must hold one MBIM message or fragment in hex (split larger messages into fragments)", maxLineLen))
		} else {
			d.decodeLine(line)
		}
		if err := d.out.Flush(); err != nil {
			return &writeError{err}
		}
	}
	d.finish()
	if err := d.out.Flush(); err != nil {
		return &writeError{err}
	}
	return nil
}

const hexHint = "each line must be hex bytes of one MBIM message, optionally preceded by a name and a TAB"

// decodeLine handles one input line.
func (d *streamDecoder) decodeLine(line []byte) {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	name, hexPart, col := "", line, 1
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		name = string(bytes.TrimSpace(line[:i]))
		hexPart, col = line[i+1:], i+2
	}
	b, err := appendHex(d.buf[:0], bytes.TrimRight(hexPart, " \t"), col)
	d.buf = b[:0]
	if err != nil {
		d.lineError(name, err.Error()+"; "+hexHint)
		return
	}

	// Remember where a multi-fragment message starts, to name it and to
	// report it if it never completes.
	var key fragKey
	multi, first := false, false
	if h, err := mbim.ParseHeader(b); err == nil && h.Type.Fragmentable() && len(b) >= mbim.HeaderLen+mbim.FragmentHeaderLen {
		key = fragKey{h.Type, h.TransactionID}
		total := binary.LittleEndian.Uint32(b[mbim.HeaderLen:])
		cur := binary.LittleEndian.Uint32(b[mbim.HeaderLen+4:])
		multi = total > 1
		first = multi && cur == 0
		if first {
			d.addStart(key, fragStart{d.line, name})
		}
	}

	msg, err := d.reasm.Add(b, d.now())
	if err != nil {
		d.lineError(name, errText(err)+"; "+reassemblyHint(err))
	}
	if msg == nil {
		if err != nil && multi && !first {
			delete(d.starts, key) // the Reassembler dropped the message
		}
		return
	}
	if multi {
		if s, ok := d.starts[key]; ok && name == "" {
			name = s.name
		}
		delete(d.starts, key)
	}
	m, err := mbim.ParseMessage(msg)
	if err != nil {
		d.lineError(name, errText(err)+"; the bytes are not a valid MBIM control message: check that the line holds one whole message (or fragment) starting at its header")
		return
	}
	dec := catalog.Decode(m, d.version)
	if dec.Err != nil {
		d.failed = true
	}
	d.printMessage(name, dec)
	d.followVersion(&m)
}

// addStart records the first fragment of a message, keeping the table no
// larger than the Reassembler's.
func (d *streamDecoder) addStart(k fragKey, s fragStart) {
	d.starts[k] = s
	for len(d.starts) > mbim.MaxPendingMessages {
		var oldest fragKey
		first := true
		for k, v := range d.starts {
			if first || v.line < d.starts[oldest].line {
				oldest, first = k, false
			}
		}
		delete(d.starts, oldest)
	}
}

// finish reports the messages whose last fragments never came.
func (d *streamDecoder) finish() {
	for _, e := range d.reasm.Expire(d.now().Add(2 * fragTimeout)) {
		k := fragKey{e.Type, e.TransactionID}
		s, ok := d.starts[k]
		if !ok {
			s = fragStart{line: d.line}
		}
		saved := d.line
		d.line = s.line
		d.lineError(s.name, fmt.Sprintf("%s transaction %d: the input ended before its last fragment; fragments of one message must be on consecutive lines, in order", e.Type, e.TransactionID))
		d.line = saved
	}
	clear(d.starts)
}

// MS Basic Connect Extensions VERSION (MBIMEx 2.0 and later).
var (
	basicConnectExt = mbim.MustParseUUID("3d01dcc5-fef5-4d05-0d3a-bef7058e9aaf")
	cidVersion      = uint32(15)
)

// followVersion tracks the MBIMEx version exchange; see decodeUsage. The
// information buffer of VERSION is u16 MbimVersion, u16
// MbimExtendedVersion in every direction.
func (d *streamDecoder) followVersion(m *mbim.Message) {
	if m.Service != basicConnectExt || m.CID != cidVersion || len(m.InformationBuffer) < 4 {
		return
	}
	ext := mbim.Version(binary.LittleEndian.Uint16(m.InformationBuffer[2:]))
	switch m.Type {
	case mbim.TypeCommand:
		d.hostVersion, d.hostSeen = ext, true
		return
	case mbim.TypeCommandDone:
		if m.Status != mbim.StatusNone {
			return
		}
	case mbim.TypeIndicateStatus:
	default:
		return
	}
	v := ext
	switch {
	case d.hostSeen:
		v = min(v, d.hostVersion)
	case d.opts.mbimex.set:
		v = min(v, d.opts.mbimex.v)
	}
	d.version = max(v, mbim.MBIMEx1)
}

// printMessage writes one decoded message.
func (d *streamDecoder) printMessage(name string, dec *catalog.Decoded) {
	if d.opts.json {
		j, err := dec.MarshalJSON()
		if err != nil || len(j) < 2 || j[0] != '{' {
			d.lineError(name, fmt.Sprintf("cannot encode the message as JSON: %v; run without --json to see it as text", err))
			return
		}
		d.out.WriteString(`{"line":`)
		d.out.WriteString(strconv.Itoa(d.line))
		if name != "" {
			d.out.WriteString(`,"name":`)
			d.out.Write(jsonString(name))
		}
		if j[1] != '}' {
			d.out.WriteByte(',')
		}
		d.out.Write(j[1:])
		d.out.WriteByte('\n')
		return
	}
	d.separate()
	if name != "" {
		d.out.WriteString(name)
		d.out.WriteString(":\n")
	}
	dec.Format(d.out)
}

// lineError reports a line that could not be decoded.
func (d *streamDecoder) lineError(name, msg string) {
	d.failed = true
	if d.opts.json {
		d.out.WriteString(`{"line":`)
		d.out.WriteString(strconv.Itoa(d.line))
		if name != "" {
			d.out.WriteString(`,"name":`)
			d.out.Write(jsonString(name))
		}
		d.out.WriteString(`,"error":`)
		d.out.Write(jsonString(msg))
		d.out.WriteString("}\n")
		return
	}
	d.separate()
	if name != "" {
		fmt.Fprintf(d.out, "line %d (%s): error: %s\n", d.line, name, msg)
		return
	}
	fmt.Fprintf(d.out, "line %d: error: %s\n", d.line, msg)
}

// separate writes the blank line between two text blocks.
func (d *streamDecoder) separate() {
	if d.blocks > 0 {
		d.out.WriteByte('\n')
	}
	d.blocks++
}

// jsonString encodes s as a JSON string without HTML escaping, like
// catalog's MarshalJSON.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// errText renders an error from package mbim on one line, without the
// "mbim: " prefixes.
func errText(err error) string {
	parts := strings.Split(err.Error(), "\n")
	for i, p := range parts {
		parts[i] = strings.TrimPrefix(p, "mbim: ")
	}
	return strings.Join(parts, "; ")
}

func reassemblyHint(err error) string {
	var re *mbim.ReassemblyError
	if errors.As(err, &re) {
		return "fragments of one message must be on consecutive lines, in order, each a whole fragment"
	}
	return "the bytes are not a valid MBIM control message: check that the line holds one whole message (or fragment) starting at its header"
}

// appendHex decodes the hex digits of s to dst. Spaces, tabs, ':' and '-'
// may separate bytes; a leading 0x is skipped. col is the column of s[0] in
// its line, for error messages.
func appendHex(dst, s []byte, col int) ([]byte, error) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		i += 2
	}
	var hi byte
	half, digits := false, 0
	for ; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == '\t' || c == ':' || c == '-':
			if half {
				return dst, fmt.Errorf("the two hex digits of a byte are split by %q at column %d", c, col+i)
			}
			continue
		default:
			return dst, fmt.Errorf("invalid character %q at column %d", c, col+i)
		}
		digits++
		if half {
			dst = append(dst, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	switch {
	case digits == 0:
		return dst, errors.New("no hex digits")
	case half:
		return dst, fmt.Errorf("odd number of hex digits (%d)", digits)
	}
	return dst, nil
}

// lineReader reads lines of at most max bytes; longer lines are skipped
// without being kept in memory.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// next returns the next line without its line ending. tooLong reports a
// line longer than max, whose content is dropped. err is io.EOF after the
// last line.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	n := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // room for "\r\n"
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if n == 0 {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, err
		}
		break
	}
	line = bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !tooLong && len(line) > lr.max {
		tooLong, line = true, nil
	}
	return line, tooLong, nil
}

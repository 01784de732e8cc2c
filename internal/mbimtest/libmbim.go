package mbimtest

import (
	"bufio"
	_ "embed"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed testdata/oracle.c
var oracleSource string

// Oracle decodes messages with Debian's libmbim (through a small C program
// built on first use), for differential tests.
type Oracle struct {
	bin string
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// ErrNoLibmbim is returned when libmbim's development files are missing.
var ErrNoLibmbim = fmt.Errorf("libmbim-glib-dev is not installed (apt-get install libmbim-glib-dev pkg-config gcc)")

// StartOracle builds and starts the oracle in dir.
func StartOracle(dir string) (*Oracle, error) {
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "mbim-glib").Output()
	if err != nil {
		return nil, ErrNoLibmbim
	}
	src := filepath.Join(dir, "oracle.c")
	bin := filepath.Join(dir, "oracle")
	if err := os.WriteFile(src, []byte(oracleSource), 0o644); err != nil {
		return nil, err
	}
	args := append([]string{"-O1", "-o", bin, src}, strings.Fields(string(flags))...)
	if out, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the libmbim oracle: %v\n%s", err, out)
	}
	o := &Oracle{bin: bin}
	return o, o.start()
}

func (o *Oracle) start() error {
	o.cmd = exec.Command(o.bin)
	o.cmd.Stderr = io.Discard
	var err error
	if o.in, err = o.cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := o.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	o.out = bufio.NewReaderSize(stdout, 1<<16)
	return o.cmd.Start()
}

// Close stops the oracle.
func (o *Oracle) Close() error {
	o.in.Close()
	return o.cmd.Wait()
}

// ErrOracleHung is returned when libmbim did not answer in time (it loops
// on some malformed inputs); the oracle is restarted.
var ErrOracleHung = fmt.Errorf("libmbim did not answer (it hung or aborted)")

// Print returns libmbim's printable rendering of msg, decoded with the
// layouts of MBIMEx major.minor. An empty string means libmbim rejected the
// message as a whole.
func (o *Oracle) Print(msg []byte, major, minor int) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := fmt.Fprintf(o.in, "%d %d %s\n", major, minor, hex.EncodeToString(msg)); err != nil {
		return "", err
	}
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	out := o.out
	go func() {
		var b strings.Builder
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				done <- result{b.String(), err}
				return
			}
			if line == "\x1e\n" {
				done <- result{b.String(), nil}
				return
			}
			b.WriteString(line)
		}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			// libmbim aborted (it does on some hostile inputs): restart.
			o.cmd.Wait()
			if err := o.start(); err != nil {
				return "", err
			}
			return "", ErrOracleHung
		}
		return r.text, nil
	case <-time.After(30 * time.Second): // generous: a loaded machine is not a hang
		o.cmd.Process.Kill()
		o.cmd.Wait()
		<-done
		if err := o.start(); err != nil {
			return "", err
		}
		return "", ErrOracleHung
	}
}

// Field is one field of libmbim's rendering: a scalar Value, or Items (for
// arrays: one map per element; for a single struct: one map).
type Field struct {
	Value string
	Items []map[string]*Field
	Block bool
}

var (
	scalarLine = regexp.MustCompile(`^\s*([A-Za-z0-9_]+) = '(.*)'\s*$`)
	blockStart = regexp.MustCompile(`^\s*([A-Za-z0-9_]+) = '?\{\s*$`)
	itemStart  = regexp.MustCompile(`^\s*\[(\d+)\] = \{\s*$`)
)

// ParseFields parses the "Fields:" section of libmbim's rendering. ok is
// false when there is no such section (libmbim does not know the message)
// or libmbim reported an error inside it.
func ParseFields(text string) (fields map[string]*Field, errText string, ok bool) {
	i := strings.Index(text, "\nFields:\n")
	if i < 0 {
		if j := strings.Index(text, "ERROR"); j >= 0 {
			return nil, text[j:], false
		}
		return nil, "", false
	}
	lines := strings.Split(text[i+len("\nFields:\n"):], "\n")
	if j := strings.Index(text, "ERROR"); j >= 0 {
		errText = text[j:]
	}
	if j := strings.Index(text, "oracle-error:"); j >= 0 {
		errText = text[j:]
	}
	pos := 0
	fields = parseBlock(lines, &pos)
	return fields, errText, errText == ""
}

func parseBlock(lines []string, pos *int) map[string]*Field {
	out := map[string]*Field{}
	for *pos < len(lines) {
		l := lines[*pos]
		t := strings.TrimSpace(l)
		switch {
		case t == "" || t == "}," || t == "}'" || t == "}":
			*pos++
			if t != "" {
				return out
			}
		case blockStart.MatchString(l):
			name := blockStart.FindStringSubmatch(l)[1]
			*pos++
			if *pos < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[*pos]), "tlv ") {
				out[name] = parseTLV(lines, pos)
				continue
			}
			f := &Field{Block: true}
			if !strings.Contains(l, "'{") {
				// A struct printed in place: fields up to "}".
				f.Items = append(f.Items, parseBlock(lines, pos))
				out[name] = f
				continue
			}
			for *pos < len(lines) {
				lt := strings.TrimSpace(lines[*pos])
				if lt == "}'" || lt == "}" {
					*pos++
					break
				}
				if itemStart.MatchString(lines[*pos]) {
					*pos++
					f.Items = append(f.Items, parseBlock(lines, pos))
					continue
				}
				// A single struct: its fields directly.
				f.Items = append(f.Items, parseBlock(lines, pos))
			}
			out[name] = f
		case scalarLine.MatchString(l):
			m := scalarLine.FindStringSubmatch(l)
			out[m[1]] = &Field{Value: m[2]}
			*pos++
		default:
			*pos++
		}
	}
	return out
}

// parseTLV reads an information element that libmbim renders as
//
//	Name = '{
//	  tlv type   = wchar-str (0x000a)
//	  tlv data   = ...
//	  tlv string = text
//	}'
//
// and returns its decoded value ("tlv string", or "tlv uint16 array"
// without brackets) as a scalar; other element types give their data bytes.
func parseTLV(lines []string, pos *int) *Field {
	f := &Field{}
	for *pos < len(lines) {
		t := strings.TrimSpace(lines[*pos])
		*pos++
		if t == "}'" || t == "}" || t == "}," {
			break
		}
		key, val, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimPrefix(val, " ")
		switch key {
		case "tlv string":
			f.Value = val
		case "tlv uint16 array":
			f.Value = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(val), "["), "]")
		case "tlv data":
			if f.Value == "" {
				f.Value = strings.TrimSpace(val)
			}
		}
	}
	return f
}

// GIREnums reads libmbim's GObject introspection data and returns, per type
// name without the Mbim prefix (e.g. "DataClass"), the values libmbim
// knows and whether the type is a flag set.
func GIREnums(path string) (map[string]GIREnum, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Namespace struct {
			Enums []girEnum `xml:"enumeration"`
			Flags []girEnum `xml:"bitfield"`
		} `xml:"namespace"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := map[string]GIREnum{}
	add := func(list []girEnum, flags bool) {
		for _, e := range list {
			g := GIREnum{Flags: flags, Values: map[uint32]string{}}
			for _, m := range e.Members {
				v, err := strconv.ParseInt(m.Value, 0, 64)
				if err != nil {
					continue
				}
				g.Values[uint32(v)] = m.Nick
				g.Mask |= uint32(v)
			}
			out[e.Name] = g
		}
	}
	add(doc.Namespace.Enums, false)
	add(doc.Namespace.Flags, true)
	return out, nil
}

// GIREnum is one libmbim enumeration or flag set.
type GIREnum struct {
	Flags  bool
	Values map[uint32]string
	Mask   uint32
}

type girEnum struct {
	Name    string `xml:"name,attr"`
	Members []struct {
		Value string `xml:"value,attr"`
		Nick  string `xml:"http://www.gtk.org/introspection/glib/1.0 nick,attr"`
	} `xml:"member"`
}

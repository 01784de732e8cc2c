package modemlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// IndexName is the name of the index file in the log directory.
const IndexName = "index.jsonl"

// Record types of the index (the "type" member).
const (
	RecSource  = "source"  // a capture started reading a source
	RecFile    = "file"    // a data file was created
	RecSegment = "segment" // a segment was written (or recorded as truncated)
	RecClose   = "close"   // a data file was finished
	RecDelete  = "delete"  // a data file was deleted (max-files, or found missing)
	RecLoss    = "loss"    // the source reported data lost before it reached us
	RecLink    = "link"    // the network interface went down or came back
	RecEvent   = "event"   // something else happened to the capture (the modem's logging configuration, a reset, the DSS session)
)

// Record is one line of the index. Which members are present depends on
// Type; see the package documentation.
type Record struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	File string    `json:"file,omitempty"`

	// segment
	Seq       uint64 `json:"seq,omitempty"`
	Offset    int64  `json:"offset"`
	Size      int64  `json:"size"`
	Length    int64  `json:"length"`
	Truncated bool   `json:"truncated,omitempty"`
	Session   int    `json:"session"`
	Recovered bool   `json:"recovered,omitempty"`

	// close
	Segments int64  `json:"segments,omitempty"`
	SHA256   string `json:"sha256,omitempty"`

	// loss
	Count int64 `json:"count,omitempty"`
	Bytes int64 `json:"bytes,omitempty"`

	// source, delete, loss, link, truncated segments
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// appendRecord encodes r as one JSON line, by hand: this runs once per
// segment, so it avoids reflection and allocation.
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r.File != "" {
		b = append(b, `,"file":`...)
		b = appendString(b, r.File)
	}
	switch r.Type {
	case RecSegment:
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, r.Seq, 10)
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, r.Offset, 10)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, r.Size, 10)
		b = append(b, `,"length":`...)
		b = strconv.AppendInt(b, r.Length, 10)
		b = append(b, `,"session":`...)
		b = strconv.AppendInt(b, int64(r.Session), 10)
		b = append(b, `,"truncated":`...)
		b = strconv.AppendBool(b, r.Truncated)
	case RecClose:
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, r.Size, 10)
		b = append(b, `,"segments":`...)
		b = strconv.AppendInt(b, r.Segments, 10)
		if r.SHA256 != "" {
			b = append(b, `,"sha256":`...)
			b = appendString(b, r.SHA256)
		}
	case RecLoss:
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, r.Count, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, r.Bytes, 10)
	}
	if r.Recovered {
		b = append(b, `,"recovered":true`...)
	}
	if r.Source != "" {
		b = append(b, `,"source":`...)
		b = appendString(b, r.Source)
	}
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, r.Reason)
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// Index is an index file read back: its records, and the final view of
// segments and files they describe.
type Index struct {
	// Records in file order.
	Records []Record
	// Partial is the length of an incomplete last line (no newline: the
	// writer stopped in the middle of it), which was ignored. Zero
	// normally.
	Partial int
	// Complete is the byte length of the complete lines.
	Complete int64
}

// IndexError reports a line of the index that is not a valid record.
type IndexError struct {
	Line int
	Err  error
}

func (e *IndexError) Error() string {
	return "modemlog: index line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

func (e *IndexError) Unwrap() error { return e.Err }

// MaxIndexLine is the longest index line accepted when reading.
const MaxIndexLine = 1 << 20

// ReadIndex parses an index. A last line without its newline is treated
// as cut off by a crash: reported in Partial, not as an error.
func ReadIndex(r io.Reader) (*Index, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	ix := &Index{}
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// A long line: collect it (bounded).
			long := append([]byte(nil), b...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxIndexLine {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			if len(long) > MaxIndexLine {
				return ix, &IndexError{Line: line, Err: fmt.Errorf("longer than %d bytes", MaxIndexLine)}
			}
			b = long
		}
		if err == io.EOF {
			ix.Partial = len(b)
			return ix, nil
		}
		if err != nil {
			return ix, err
		}
		ix.Complete += int64(len(b))
		body := bytes.TrimSpace(b)
		if len(body) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(body, &rec); err != nil {
			return ix, &IndexError{Line: line, Err: err}
		}
		if err := rec.check(); err != nil {
			return ix, &IndexError{Line: line, Err: err}
		}
		ix.Records = append(ix.Records, rec)
	}
}

func (r *Record) check() error {
	switch r.Type {
	case RecSegment:
		if r.Seq == 0 || r.File == "" || r.Offset < 0 || r.Size < 0 {
			return fmt.Errorf("segment record needs seq > 0, file, offset >= 0 and size >= 0")
		}
		if r.Length < r.Size && r.Length >= 0 {
			return fmt.Errorf("segment %d: length %d below size %d", r.Seq, r.Length, r.Size)
		}
	case RecFile, RecClose, RecDelete:
		if r.File == "" {
			return fmt.Errorf("%s record without file", r.Type)
		}
	case "":
		return errors.New("record without type")
	}
	return nil
}

// Segments returns the final view of the segments, ordered by sequence
// number: when several records have the same seq (recovery corrects a
// segment after an unclean shutdown), the last one counts.
func (ix *Index) Segments() []Record {
	last := map[uint64]int{}
	for i, r := range ix.Records {
		if r.Type == RecSegment {
			last[r.Seq] = i
		}
	}
	out := make([]Record, 0, len(last))
	for _, i := range last {
		out = append(out, ix.Records[i])
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out
}

// FileState summarises one data file from the index.
type FileState struct {
	Name     string
	Created  time.Time
	Closed   bool
	Deleted  bool
	Size     int64  // from the close record
	Segments int64  // from the close record
	SHA256   string // from the close record
	Reason   string // deletion reason
}

// Files returns the data files named by the index, in creation order.
func (ix *Index) Files() []FileState {
	var order []string
	m := map[string]*FileState{}
	get := func(name string) *FileState {
		f, ok := m[name]
		if !ok {
			f = &FileState{Name: name}
			m[name] = f
			order = append(order, name)
		}
		return f
	}
	for _, r := range ix.Records {
		switch r.Type {
		case RecFile:
			get(r.File).Created = r.Time
		case RecClose:
			f := get(r.File)
			f.Closed, f.Size, f.Segments, f.SHA256 = true, r.Size, r.Segments, r.SHA256
		case RecDelete:
			f := get(r.File)
			f.Deleted, f.Reason = true, r.Reason
		case RecSegment:
			get(r.File)
		}
	}
	out := make([]FileState, len(order))
	for i, n := range order {
		out[i] = *m[n]
	}
	return out
}

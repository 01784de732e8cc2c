package modemlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func sampleRecords() []Record {
	t0 := time.Date(2026, 11, 21, 9, 15, 0, 123456789, time.UTC)
	return []Record{
		{Type: RecSource, Time: t0, Source: "raw NTB stream from unix socket /run/x \"quoted\"\n"},
		{Type: RecFile, Time: t0, File: "modem-log-20261121T091500Z-0001.bin"},
		{Type: RecSegment, Time: t0, File: "modem-log-20261121T091500Z-0001.bin", Seq: 1, Offset: 0, Size: 16384, Length: 16384, Session: 1},
		{Type: RecSegment, Time: t0.Add(time.Millisecond), File: "modem-log-20261121T091500Z-0001.bin", Seq: 2, Offset: 16384, Size: 10, Length: 100, Session: 1, Truncated: true, Reason: "write failed: no space left on device"},
		{Type: RecSegment, Time: t0, File: "f.bin", Seq: 3, Offset: 7, Size: 5, Length: -1, Session: -1, Truncated: true, Recovered: true, Reason: "recovered: \x00\x1f\x7f é \xff"},
		{Type: RecClose, Time: t0, File: "modem-log-20261121T091500Z-0001.bin", Size: 16394, Segments: 2, SHA256: strings.Repeat("ab", 32)},
		{Type: RecDelete, Time: t0, File: "old.bin", Reason: "max-files 3"},
		{Type: RecLoss, Time: t0, Count: 2, Bytes: -1, Reason: "malformed NTB"},
		{Type: RecLink, Time: t0, Reason: "down"},
	}
}

func TestIndexRoundTrip(t *testing.T) {
	var b []byte
	recs := sampleRecords()
	for i := range recs {
		b = appendRecord(b, &recs[i])
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("line %d is not valid JSON: %s", i+1, line)
		}
	}
	ix, err := ReadIndex(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Partial != 0 || ix.Complete != int64(len(b)) || len(ix.Records) != len(recs) {
		t.Fatalf("partial %d complete %d records %d", ix.Partial, ix.Complete, len(ix.Records))
	}
	for i := range recs {
		want := recs[i]
		// Invalid UTF-8 comes back as U+FFFD.
		want.Reason = strings.ToValidUTF8(want.Reason, "\uFFFD")
		if !reflect.DeepEqual(ix.Records[i], want) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, ix.Records[i], want)
		}
	}
	if s := ix.Segments(); len(s) != 3 || s[2].Seq != 3 {
		t.Errorf("segments %+v", s)
	}
	files := ix.Files()
	if len(files) != 3 || !files[0].Closed || files[0].Size != 16394 || files[0].Segments != 2 || !files[2].Deleted || files[2].Reason != "max-files 3" {
		t.Errorf("files %+v", files)
	}
}

func TestReadIndexErrors(t *testing.T) {
	good := appendRecord(nil, &sampleRecords()[2])
	// A cut-off last line is not an error.
	ix, err := ReadIndex(bytes.NewReader(append(bytes.Clone(good), good[:20]...)))
	if err != nil || len(ix.Records) != 1 || ix.Partial != 20 || ix.Complete != int64(len(good)) {
		t.Fatalf("partial line: %+v %v", ix, err)
	}
	// A bad line in the middle is.
	bad := append(append(bytes.Clone(good), "{not json}\n"...), good...)
	_, err = ReadIndex(bytes.NewReader(bad))
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Line != 2 {
		t.Fatalf("bad line: %v", err)
	}
	for _, line := range []string{
		`{"time":"2026-01-01T00:00:00Z"}`,
		`{"type":"segment","time":"2026-01-01T00:00:00Z","file":"f","offset":0,"size":1,"length":1}`,
		`{"type":"segment","time":"2026-01-01T00:00:00Z","seq":1,"file":"f","offset":0,"size":5,"length":2}`,
		`{"type":"close","time":"2026-01-01T00:00:00Z"}`,
	} {
		if _, err := ReadIndex(strings.NewReader(line + "\n")); !errors.As(err, &ie) {
			t.Errorf("%s: %v", line, err)
		}
	}
	// Blank lines are fine; a huge line is refused.
	if ix, err := ReadIndex(strings.NewReader("\n\n" + string(good))); err != nil || len(ix.Records) != 1 {
		t.Errorf("blank lines: %v", err)
	}
	huge := `{"type":"link","time":"2026-01-01T00:00:00Z","reason":"` + strings.Repeat("x", MaxIndexLine+10) + "\"}\n"
	if _, err := ReadIndex(strings.NewReader(huge)); !errors.As(err, &ie) {
		t.Errorf("huge line: %v", err)
	}
	long := `{"type":"link","time":"2026-01-01T00:00:00Z","reason":"` + strings.Repeat("x", 200000) + "\"}\n"
	if ix, err := ReadIndex(strings.NewReader(long)); err != nil || len(ix.Records[0].Reason) != 200000 {
		t.Errorf("long line: %v", err)
	}
}

func FuzzReadIndex(f *testing.F) {
	var b []byte
	recs := sampleRecords()
	for i := range recs {
		b = appendRecord(b, &recs[i])
		f.Add(appendRecord(nil, &recs[i]))
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"type":"segment","seq":1,"file":"a","offset":-1}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadIndex(bytes.NewReader(data))
		if err != nil {
			return
		}
		if ix.Complete+int64(ix.Partial) != int64(len(data)) {
			t.Fatalf("complete %d + partial %d != %d", ix.Complete, ix.Partial, len(data))
		}
		ix.Files()
		for _, s := range ix.Segments() {
			if s.Seq == 0 || s.Offset < 0 || s.Size < 0 {
				t.Fatalf("invalid segment accepted: %+v", s)
			}
		}
		// What we accepted re-encodes to something we accept again.
		var out []byte
		for i := range ix.Records {
			out = appendRecord(out, &ix.Records[i])
		}
		if _, err := ReadIndex(bytes.NewReader(out)); err != nil {
			t.Fatalf("re-encoded index rejected: %v", err)
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\", "\x00\x1f\x7f", "é€😀", "\xff\xfe", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}

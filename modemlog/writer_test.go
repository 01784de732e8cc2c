package modemlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// seg returns segment i of a test stream: 1..max bytes derived from i.
func seg(rng *rand.Rand, i, max int) []byte {
	b := make([]byte, 1+rng.IntN(max))
	for j := range b {
		b[j] = byte(i*131 + j*7)
	}
	return b
}

func readIndexFile(t *testing.T, dir string) *Index {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := ReadIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// checkDir verifies a log directory against the segments that were
// written (want[i] is segment seq firstSeq+i; nil entries are segments
// whose files may have been deleted): every indexed segment's bytes are
// in its file at its offset, files are exactly the concatenation of their
// segments, close records match the files.
func checkDir(t *testing.T, dir string, want map[uint64][]byte) *Index {
	t.Helper()
	ix := readIndexFile(t, dir)
	segs := ix.Segments()
	fileData := map[string][]byte{}
	next := map[string]int64{}
	for _, s := range segs {
		data, ok := fileData[s.File]
		if !ok {
			var err error
			data, err = os.ReadFile(filepath.Join(dir, s.File))
			if errors.Is(err, os.ErrNotExist) {
				data = nil
			} else if err != nil {
				t.Fatal(err)
			}
			fileData[s.File] = data
		}
		if data == nil {
			continue // deleted for max-files
		}
		if s.Offset != next[s.File] {
			t.Fatalf("segment %d at offset %d of %s, expected %d (gap or overlap)", s.Seq, s.Offset, s.File, next[s.File])
		}
		next[s.File] = s.Offset + s.Size
		if s.Offset+s.Size > int64(len(data)) {
			t.Fatalf("segment %d beyond the end of %s", s.Seq, s.File)
		}
		got := data[s.Offset : s.Offset+s.Size]
		if w, ok := want[s.Seq]; ok {
			if s.Truncated {
				if !bytes.Equal(got, w[:s.Size]) {
					t.Fatalf("truncated segment %d: bytes differ", s.Seq)
				}
			} else if !bytes.Equal(got, w) || s.Length != int64(len(w)) {
				t.Fatalf("segment %d: %d bytes in file (length %d), want %d", s.Seq, len(got), s.Length, len(w))
			}
		}
	}
	for _, f := range ix.Files() {
		data, ok := fileData[f.Name]
		if f.Deleted {
			if _, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
				t.Errorf("%s recorded as deleted but present", f.Name)
			}
			continue
		}
		if !ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(dir, f.Name)); err != nil {
				t.Fatal(err)
			}
		}
		if next[f.Name] != int64(len(data)) {
			t.Errorf("%s: %d bytes, segments cover %d", f.Name, len(data), next[f.Name])
		}
		if f.Closed {
			sum := sha256.Sum256(data)
			if f.Size != int64(len(data)) || (f.SHA256 != "" && f.SHA256 != hex.EncodeToString(sum[:])) {
				t.Errorf("%s: close record size %d sha256 %s, file %d %x", f.Name, f.Size, f.SHA256, len(data), sum)
			}
		}
	}
	return ix
}

var fileNameRE = regexp.MustCompile(`^modem-log-\d{8}T\d{6}Z-\d{4}\.bin$`)

func TestRotationAndIndex(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 11, 21, 9, 15, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(10 * time.Millisecond)
		return clock
	}
	w, err := Create(Options{Dir: dir, MaxFileBytes: 64 << 10, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[uint64][]byte{}
	var total int64
	for i := 1; i <= 400; i++ {
		d := seg(rng, i, 4000)
		if i == 200 {
			d = bytes.Repeat([]byte{0xAB}, 100<<10) // larger than a file: a file of its own
		}
		if err := w.WriteSegment(Segment{Session: 3, Data: d, Length: len(d)}); err != nil {
			t.Fatal(err)
		}
		want[uint64(i)] = d
		total += int64(len(d))
	}
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if st.Segments != 400 || st.Bytes != total || st.Truncated != 0 || st.Files < 10 {
		t.Fatalf("stats %+v", st)
	}
	ix := checkDir(t, dir, want)
	segs := ix.Segments()
	if len(segs) != 400 {
		t.Fatalf("%d segments indexed", len(segs))
	}
	for _, s := range segs {
		if s.Session != 3 || s.Truncated || s.Time.IsZero() {
			t.Fatalf("segment %+v", s)
		}
	}
	files := ix.Files()
	if len(files) != st.Files {
		t.Fatalf("%d files indexed, %d created", len(files), st.Files)
	}
	for _, f := range files {
		if !fileNameRE.MatchString(f.Name) || !f.Closed || f.SHA256 == "" {
			t.Errorf("file %+v", f)
		}
		fi, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 64<<10 && f.Segments != 1 {
			t.Errorf("%s has %d bytes in %d segments: over the limit", f.Name, fi.Size(), f.Segments)
		}
	}
	// The file names carry the UTC creation time.
	if !strings.HasPrefix(files[0].Name, "modem-log-20261121T0915") {
		t.Errorf("first file %s", files[0].Name)
	}
}

func TestMaxFiles(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, MaxFileBytes: 1000, MaxFiles: 3}
	w, err := Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := w.Write(bytes.Repeat([]byte{byte(i)}, 800)); err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	w.Close()
	if st.Files != 10 || st.Deleted != 7 {
		t.Fatalf("stats %+v", st)
	}
	names := binFiles(t, dir)
	if len(names) != 3 || !strings.HasSuffix(names[0], "-0008.bin") || !strings.HasSuffix(names[2], "-0010.bin") {
		t.Fatalf("files left: %v", names)
	}
	ix := checkDir(t, dir, nil)
	deleted := 0
	for _, f := range ix.Files() {
		if f.Deleted {
			deleted++
			if f.Reason != "max-files 3" {
				t.Errorf("delete reason %q", f.Reason)
			}
		}
	}
	if deleted != 7 {
		t.Fatalf("%d delete records", deleted)
	}

	// A second run continues the numbering and counts the old files.
	w, err = Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("next run"))
	w.Close()
	names = binFiles(t, dir)
	if len(names) != 3 || !strings.HasSuffix(names[2], "-0011.bin") || !strings.HasSuffix(names[0], "-0009.bin") {
		t.Fatalf("after the second run: %v", names)
	}
	segs := readIndexFile(t, dir).Segments()
	if last := segs[len(segs)-1]; last.Seq != 11 || last.Size != 8 {
		t.Fatalf("last segment %+v", last)
	}
}

func binFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func TestTruncatedWrite(t *testing.T) {
	dir := t.TempDir()
	files := 0
	w, err := create(Options{Dir: dir}, func(path string) (dataFile, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		files++
		if files == 1 {
			return &failingFile{File: f, limit: 1500, err: syscall.ENOSPC}, nil
		}
		return f, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := bytes.Repeat([]byte("a"), 1000)
	b := bytes.Repeat([]byte("b"), 1000)
	c := bytes.Repeat([]byte("c"), 1000)
	if err := w.WriteSegment(Segment{Data: a, Length: 1000}); err != nil {
		t.Fatal(err)
	}
	err = w.WriteSegment(Segment{Data: b, Length: 1000})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("interrupted write: %v", err)
	}
	if err := w.WriteSegment(Segment{Data: c, Length: 1000}); err != nil {
		t.Fatalf("write after the failure: %v", err)
	}
	// A segment the source could only deliver in part.
	if err := w.WriteSegment(Segment{Data: c[:100], Length: 1000}); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	w.Close()
	if st.Truncated != 2 || st.Segments != 4 || st.Bytes != 1000+500+1000+100 {
		t.Fatalf("stats %+v", st)
	}
	ix := checkDir(t, dir, map[uint64][]byte{1: a, 2: b, 3: c, 4: c})
	segs := ix.Segments()
	if s := segs[1]; !s.Truncated || s.Size != 500 || s.Length != 1000 || !strings.Contains(s.Reason, "no space left on device") {
		t.Fatalf("interrupted segment %+v", s)
	}
	if s := segs[2]; s.Truncated || s.File == segs[1].File || s.Offset != 0 {
		t.Fatalf("segment after the failure %+v (should start a new file)", s)
	}
	if s := segs[3]; !s.Truncated || s.Size != 100 || s.Length != 1000 || !strings.Contains(s.Reason, "truncated by the source") {
		t.Fatalf("source-truncated segment %+v", s)
	}
	fs := ix.Files()
	if len(fs) != 2 || fs[0].SHA256 != "" || fs[0].Size != 1500 || fs[1].SHA256 == "" {
		t.Fatalf("files %+v", fs)
	}
}

func TestRecoverAfterCrash(t *testing.T) {
	for _, tc := range []string{"cut inside a segment", "unindexed tail", "file gone", "orphan file"} {
		t.Run(tc, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Create(Options{Dir: dir, IndexFlushInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			want := map[uint64][]byte{}
			for i := 1; i <= 5; i++ {
				d := bytes.Repeat([]byte{byte(i)}, 100*i)
				w.Write(d)
				want[uint64(i)] = d
			}
			// Segments 1-5 are indexed; 6 and 7 are written to the file
			// but their index lines are still in memory when we "die".
			w.Flush()
			name := w.Stats().File
			path := filepath.Join(dir, name)
			w.Write(bytes.Repeat([]byte{6}, 600))
			w.Write(bytes.Repeat([]byte{7}, 700))
			w.crash()

			switch tc {
			case "cut inside a segment":
				// Power loss: the file lost its end, inside segment 5.
				os.Truncate(path, 100+200+300+400+250)
			case "file gone":
				os.Remove(path)
			case "orphan file":
				os.WriteFile(filepath.Join(dir, "modem-log-20260101T000000Z-0042.bin"), []byte("orphan"), 0o644)
			}

			w, err = Create(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			rec := w.Recovered()
			w.Write([]byte("after recovery"))
			w.Close()
			for _, r := range rec {
				if !r.Recovered {
					t.Errorf("recovery record without recovered: %+v", r)
				}
			}
			ix := checkDir(t, dir, want)
			segs := ix.Segments()
			bySeq := map[uint64]Record{}
			for _, s := range segs {
				bySeq[s.Seq] = s
			}
			switch tc {
			case "cut inside a segment":
				s := bySeq[5]
				if !s.Truncated || !s.Recovered || s.Size != 250 || s.Length != 500 {
					t.Fatalf("segment 5 after recovery: %+v", s)
				}
				if _, ok := bySeq[6]; ok && bySeq[6].File == name {
					t.Fatalf("a segment beyond the cut: %+v", bySeq[6])
				}
			case "unindexed tail":
				s := bySeq[6]
				if s.File != name || s.Offset != 1500 || s.Size != 1300 || s.Length != -1 || !s.Truncated || !s.Recovered {
					t.Fatalf("tail segment: %+v", s)
				}
				if last := segs[len(segs)-1]; last.Seq != 7 || last.Size != int64(len("after recovery")) {
					t.Fatalf("numbering after recovery: %+v", last)
				}
			case "file gone":
				for _, f := range ix.Files() {
					if f.Name == name && (!f.Deleted || !strings.Contains(f.Reason, "missing")) {
						t.Fatalf("missing file: %+v", f)
					}
				}
			case "orphan file":
				found := false
				for _, s := range segs {
					if s.File == "modem-log-20260101T000000Z-0042.bin" {
						found = s.Size == 6 && s.Truncated && s.Length == -1
					}
				}
				if !found {
					t.Fatalf("orphan file not indexed: %+v", segs)
				}
				// Numbering continues after the highest number seen.
				if n := binFiles(t, dir); !strings.HasSuffix(n[len(n)-1], "-0043.bin") {
					t.Fatalf("files %v", n)
				}
			}
			// Every file is closed in the index now.
			for _, f := range ix.Files() {
				if !f.Closed && !f.Deleted {
					t.Errorf("file left open: %+v", f)
				}
			}
		})
	}
}

func TestRecoverCutIndexLine(t *testing.T) {
	dir := t.TempDir()
	w, _ := Create(Options{Dir: dir})
	w.Write([]byte("one"))
	w.Close()
	idx := filepath.Join(dir, IndexName)
	b, _ := os.ReadFile(idx)
	os.WriteFile(idx, append(b, `{"type":"segment","ti`...), 0o644)
	w, err := Create(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("two"))
	w.Close()
	ix := readIndexFile(t, dir)
	if ix.Partial != 0 || len(ix.Segments()) != 2 {
		t.Fatalf("partial %d, segments %+v", ix.Partial, ix.Segments())
	}
	// A corrupt line in the middle is not repaired silently.
	os.WriteFile(idx, append([]byte("garbage\n"), b...), 0o644)
	if _, err := Create(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("corrupt index: %v", err)
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second writer: %v", err)
	}
	w.Close()
	w2, err := Create(Options{Dir: dir})
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	w2.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	if _, err := Create(Options{}); err == nil {
		t.Fatal("no directory accepted")
	}
}

func TestFlushWritesIndex(t *testing.T) {
	dir := t.TempDir()
	w, _ := Create(Options{Dir: dir, IndexFlushInterval: time.Hour})
	defer w.Close()
	for i := 0; i < 10; i++ {
		w.Write([]byte("segment"))
	}
	if n := len(readIndexFile(t, dir).Segments()); n != 0 {
		t.Fatalf("%d segments indexed before Flush (index lines should be buffered)", n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(readIndexFile(t, dir).Segments()); n != 10 {
		t.Fatalf("%d segments indexed after Flush", n)
	}
	// The background flusher writes index lines within the interval even
	// when no further segment arrives.
	dir2 := t.TempDir()
	w2, _ := Create(Options{Dir: dir2, IndexFlushInterval: 20 * time.Millisecond})
	defer w2.Close()
	w2.Write([]byte("x"))
	deadline := time.Now().Add(waitTimeout)
	for len(readIndexFile(t, dir2).Segments()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("index line not written by the background flusher")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var reports []Stats
	w, err := Create(Options{Dir: t.TempDir(), ProgressInterval: 10 * time.Millisecond, Progress: func(s Stats) {
		mu.Lock()
		reports = append(reports, s)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		w.Write(make([]byte, 1000))
		time.Sleep(2 * time.Millisecond)
	}
	// At least one report while writing (the ticker's goroutine may not
	// have run yet on a loaded machine), then Close's final one.
	deadline := time.Now().Add(waitTimeout)
	for {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no progress report while writing")
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 2 {
		t.Fatalf("%d progress reports", len(reports))
	}
	last := reports[len(reports)-1]
	if last.Bytes != 20000 || last.Segments != 20 || last.Files != 1 || last.AvgRate <= 0 || last.Elapsed <= 0 {
		t.Fatalf("final report %+v", last)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].Bytes < reports[i-1].Bytes {
			t.Fatal("bytes went backwards")
		}
	}
	s := last.String()
	if !strings.Contains(s, "0.0 MiB, 20 segments (0 truncated), 1 file") || !strings.Contains(s, "Mbit/s") {
		t.Errorf("String() = %q", s)
	}
	last.Losses = 2
	if !strings.Contains(last.String(), "2 losses at the source") {
		t.Errorf("String() = %q", last.String())
	}
}

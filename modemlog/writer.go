package modemlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultPrefix             = "modem-log"
	DefaultMaxFileBytes       = 64 << 20
	DefaultProgressInterval   = time.Second
	DefaultIndexFlushInterval = time.Second
	indexFlushBytes           = 64 << 10
)

// Options configures a Writer. Only Dir is required.
type Options struct {
	// Dir is the directory for the data files and the index; it is
	// created if missing.
	Dir string
	// Prefix starts every data file name; default "modem-log".
	Prefix string
	// MaxFileBytes starts a new data file when the next segment would
	// take the current one past this size (--max-file-mib). A segment is
	// never split across files, so a segment larger than this gets a file
	// of its own. 0 means DefaultMaxFileBytes; negative means no limit.
	MaxFileBytes int64
	// MaxFiles, if positive, is the most data files kept in Dir
	// (--max-files): when a new file would exceed it, the oldest are
	// deleted (and the deletion recorded in the index). Files of earlier
	// runs in Dir count too.
	MaxFiles int
	// Progress, if set, is called about every ProgressInterval (default
	// 1s) from a separate goroutine, and once more by Close.
	Progress         func(Stats)
	ProgressInterval time.Duration
	// IndexFlushInterval bounds how long index lines are kept in memory
	// before they are written (they are also written every 64 KiB, at
	// each rotation, Flush and Close); default 1s. Data is never held
	// back: each segment is written to its file when it is received.
	IndexFlushInterval time.Duration
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Stats reports a Writer's progress.
type Stats struct {
	Bytes     int64 // segment bytes written to data files
	Segments  int64 // segments written (including truncated ones)
	Truncated int64 // segments recorded as truncated
	Losses    int64 // loss events reported by the source (RecLoss records)
	Files     int   // data files created by this Writer
	Deleted   int   // data files deleted for MaxFiles by this Writer
	File      string
	Start     time.Time
	Elapsed   time.Duration
	// Rate is the write rate in bytes per second over the last progress
	// interval (over the whole run if there is no progress callback);
	// AvgRate over the whole run.
	Rate, AvgRate float64
}

// String formats the stats for a progress line, e.g.
// "12.5 MiB, 830 segments (0 truncated), 1 file, 100.2 Mbit/s (avg 98.7 Mbit/s)".
func (s Stats) String() string {
	files := "files"
	if s.Files == 1 {
		files = "file"
	}
	str := fmt.Sprintf("%.1f MiB, %d segments (%d truncated), %d %s, %.1f Mbit/s (avg %.1f Mbit/s)",
		float64(s.Bytes)/(1<<20), s.Segments, s.Truncated, s.Files, files, s.Rate*8/1e6, s.AvgRate*8/1e6)
	if s.Losses > 0 {
		str += fmt.Sprintf(", %d losses at the source", s.Losses)
	}
	return str
}

// ErrClosed is returned by a closed Writer.
var ErrClosed = errors.New("modemlog: writer closed")

// dataFile is what the Writer needs of a data file (tests substitute
// failing ones).
type dataFile interface {
	io.Writer
	Sync() error
	Close() error
}

// Writer writes log segments to rotating data files in a directory, with
// an index of every segment. Its methods are safe for concurrent use.
type Writer struct {
	opts    Options
	dir     string
	now     func() time.Time
	create  func(path string) (dataFile, error)
	maxFile int64

	mu        sync.Mutex
	idx       *os.File
	unlock    func()
	idxBuf    []byte
	lastFlush time.Time
	cur       dataFile
	curName   string
	curSize   int64
	curSegs   int64
	curHash   hash.Hash
	broken    bool // the current file had a write error: rotate
	fileSeq   int  // numeric suffix of the next data file
	seq       uint64
	files     []string // data files in Dir, oldest first
	st        Stats
	err       error // sticky: the index cannot be written
	closed    bool
	recovered []Record // what recovery appended (for tests and reports)

	stop     chan struct{}
	stopped  chan struct{}
	lastRate struct {
		at    time.Time
		bytes int64
	}
}

var nameRE = regexp.MustCompile(`^(.+)-(\d{8}T\d{6}Z)-(\d+)\.bin$`)

// Create opens (creating it if needed) a log directory for writing. If
// the directory holds the index of an earlier run that stopped uncleanly,
// the index is first brought in line with the data files (see Recover).
// Only one Writer may use a directory at a time (it is locked).
func Create(opts Options) (*Writer, error) {
	return create(opts, func(path string) (dataFile, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	})
}

func create(opts Options, createFile func(string) (dataFile, error)) (*Writer, error) {
	if opts.Dir == "" {
		return nil, errors.New("modemlog: no directory given")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	if opts.IndexFlushInterval <= 0 {
		opts.IndexFlushInterval = DefaultIndexFlushInterval
	}
	w := &Writer{opts: opts, dir: opts.Dir, now: opts.Now, create: createFile, maxFile: opts.MaxFileBytes}
	if w.now == nil {
		w.now = time.Now
	}
	if w.maxFile == 0 {
		w.maxFile = DefaultMaxFileBytes
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("modemlog: %w", err)
	}
	idx, err := os.OpenFile(filepath.Join(opts.Dir, IndexName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("modemlog: %w", err)
	}
	unlock, err := lockFile(idx)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("modemlog: %s is in use by another writer: %w", opts.Dir, err)
	}
	w.idx, w.unlock = idx, unlock
	if err := w.recover(); err != nil {
		unlock()
		idx.Close()
		return nil, err
	}
	w.st.Start = w.now()
	w.lastFlush = w.st.Start
	w.lastRate.at = w.st.Start
	w.stop, w.stopped = make(chan struct{}), make(chan struct{})
	go w.background()
	return w, nil
}

// Dir returns the log directory.
func (w *Writer) Dir() string { return w.dir }

// Recovered returns the records that Create appended to bring the index
// of an unclean earlier run in line with the data files.
func (w *Writer) Recovered() []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Record(nil), w.recovered...)
}

// dataFiles lists the data files of this prefix in the directory, oldest
// (lowest number) first, and the highest number.
func (w *Writer) dataFiles() ([]string, int, error) {
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, 0, err
	}
	type nf struct {
		name string
		n    int
	}
	var fs []nf
	max := 0
	for _, e := range ents {
		m := nameRE.FindStringSubmatch(e.Name())
		if m == nil || m[1] != w.opts.Prefix || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.Atoi(m[3])
		if err != nil {
			continue
		}
		fs = append(fs, nf{e.Name(), n})
		max = maxInt(max, n)
	}
	sort.Slice(fs, func(a, b int) bool {
		if fs[a].n != fs[b].n {
			return fs[a].n < fs[b].n
		}
		return fs[a].name < fs[b].name
	})
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names, max, nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// Write writes p as one segment (session 0, received now). It implements
// io.Writer: each call is one segment.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.writeSegment(Segment{Data: p, Length: len(p)})
	return n, err
}

// WriteSegment writes one segment to the current data file and indexes
// it. The segment is written completely, or recorded in the index as
// truncated (with the size actually written) and the error returned; the
// next segment then goes to a new file. A segment the source already
// delivered truncated (Segment.Truncated) is written and recorded as
// truncated.
func (w *Writer) WriteSegment(s Segment) error {
	_, err := w.writeSegment(s)
	return err
}

func (w *Writer) writeSegment(s Segment) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	now := s.Time
	if now.IsZero() {
		now = w.now()
	}
	length := int64(s.Length)
	if length < int64(len(s.Data)) {
		length = int64(len(s.Data))
	}
	if w.cur == nil || w.broken || (w.maxFile > 0 && w.curSize > 0 && w.curSize+int64(len(s.Data)) > w.maxFile) {
		if err := w.rotate(now); err != nil {
			return 0, err
		}
	}
	n, werr := w.cur.Write(s.Data)
	if n < 0 || n > len(s.Data) {
		n = 0
	}
	w.curHash.Write(s.Data[:n])
	w.seq++
	rec := Record{
		Type: RecSegment, Time: now, File: w.curName, Seq: w.seq,
		Offset: w.curSize, Size: int64(n), Length: length, Session: int(s.Session),
	}
	if werr == nil && n < len(s.Data) {
		werr = io.ErrShortWrite
	}
	switch {
	case werr != nil:
		rec.Truncated = true
		rec.Reason = fmt.Sprintf("write failed after %d of %d bytes: %v", n, len(s.Data), werr)
		w.broken = true
	case length > int64(len(s.Data)):
		rec.Truncated = true
		rec.Reason = fmt.Sprintf("truncated by the source: %d of %d bytes received", len(s.Data), length)
	}
	w.curSize += int64(n)
	w.curSegs++
	w.st.Bytes += int64(n)
	w.st.Segments++
	if rec.Truncated {
		w.st.Truncated++
	}
	w.idxBuf = appendRecord(w.idxBuf, &rec)
	if werr != nil || len(w.idxBuf) >= indexFlushBytes || now.Sub(w.lastFlush) >= w.opts.IndexFlushInterval {
		if err := w.flushIndex(now); err != nil {
			return n, err
		}
	}
	if werr != nil {
		return n, fmt.Errorf("modemlog: writing segment %d to %s: %w", w.seq, w.curName, werr)
	}
	return n, nil
}

// record appends a non-segment record to the index.
func (w *Writer) record(r Record, flush bool) error {
	w.idxBuf = appendRecord(w.idxBuf, &r)
	if flush {
		return w.flushIndex(r.Time)
	}
	return nil
}

func (w *Writer) flushIndex(now time.Time) error {
	w.lastFlush = now
	if len(w.idxBuf) == 0 {
		return nil
	}
	_, err := w.idx.Write(w.idxBuf)
	w.idxBuf = w.idxBuf[:0]
	if err != nil {
		w.err = fmt.Errorf("modemlog: writing the index: %w", err)
		return w.err
	}
	return nil
}

// rotate finishes the current file and starts the next one.
func (w *Writer) rotate(now time.Time) error {
	if err := w.finishFile(now); err != nil {
		return err
	}
	var f dataFile
	var name string
	for tries := 0; ; tries++ {
		w.fileSeq++
		name = fmt.Sprintf("%s-%s-%04d.bin", w.opts.Prefix, now.UTC().Format("20060102T150405Z"), w.fileSeq)
		var err error
		f, err = w.create(filepath.Join(w.dir, name))
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || tries > 1000 {
			return fmt.Errorf("modemlog: %w", err)
		}
	}
	w.cur, w.curName, w.curSize, w.curSegs, w.broken = f, name, 0, 0, false
	w.curHash = sha256.New()
	w.files = append(w.files, name)
	w.st.Files++
	w.st.File = name
	for w.opts.MaxFiles > 0 && len(w.files) > w.opts.MaxFiles {
		old := w.files[0]
		w.files = w.files[1:]
		reason := fmt.Sprintf("max-files %d", w.opts.MaxFiles)
		if err := os.Remove(filepath.Join(w.dir, old)); err != nil && !errors.Is(err, os.ErrNotExist) {
			reason += fmt.Sprintf(" (removing failed: %v)", err)
		} else {
			w.st.Deleted++
		}
		w.record(Record{Type: RecDelete, Time: now, File: old, Reason: reason}, false)
	}
	// The file is in the index before any of its data is written.
	if err := w.record(Record{Type: RecFile, Time: now, File: name}, true); err != nil {
		return err
	}
	syncDir(w.dir)
	return nil
}

// finishFile closes the current data file, after an fsync, and records
// its size and checksum.
func (w *Writer) finishFile(now time.Time) error {
	if w.cur == nil {
		return nil
	}
	f := w.cur
	w.cur = nil
	serr := f.Sync()
	cerr := f.Close()
	rec := Record{Type: RecClose, Time: now, File: w.curName, Size: w.curSize, Segments: w.curSegs}
	if !w.broken {
		rec.SHA256 = hex.EncodeToString(w.curHash.Sum(nil))
	}
	if err := errors.Join(serr, cerr); err != nil {
		rec.Reason = err.Error()
	}
	return w.record(rec, true)
}

// RecordLoss notes in the index that the source lost data before it
// reached the writer (a malformed NTB, frames dropped by the kernel).
func (w *Writer) RecordLoss(count, bytes int64, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	w.st.Losses++
	return w.record(Record{Type: RecLoss, Time: w.now(), Count: count, Bytes: bytes, Reason: reason}, true)
}

// RecordEvent notes a capture event in the index: typ is RecSource (with
// the source's description), RecLink or RecEvent (with what happened as
// the reason).
func (w *Writer) RecordEvent(typ, source, reason string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	return w.record(Record{Type: typ, Time: w.now(), Source: source, Reason: reason}, true)
}

// Flush writes the pending index lines and fsyncs the current data file,
// the index and the directory: everything received so far is on disk.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.syncLocked()
}

func (w *Writer) syncLocked() error {
	var errs []error
	if err := w.flushIndex(w.now()); err != nil {
		errs = append(errs, err)
	}
	if w.cur != nil {
		if err := w.cur.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("modemlog: fsync %s: %w", w.curName, err))
		}
	}
	if err := w.idx.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("modemlog: fsync index: %w", err))
	}
	syncDir(w.dir)
	return errors.Join(errs...)
}

// Close finishes the current data file (recording its size and SHA-256),
// writes and fsyncs everything, unlocks the directory, and reports the
// final progress. It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	now := w.now()
	err := w.finishFile(now)
	if serr := w.syncLocked(); err == nil {
		err = serr
	}
	w.closed = true
	w.unlock()
	if cerr := w.idx.Close(); err == nil && cerr != nil {
		err = cerr
	}
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	if w.opts.Progress != nil {
		w.opts.Progress(w.Stats())
	}
	return err
}

// Stats returns the current counters.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statsLocked(w.now())
}

func (w *Writer) statsLocked(now time.Time) Stats {
	s := w.st
	s.Elapsed = now.Sub(s.Start)
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.AvgRate = float64(s.Bytes) / secs
	}
	s.Rate = s.AvgRate
	if w.opts.Progress != nil {
		if d := now.Sub(w.lastRate.at).Seconds(); d > 0 {
			s.Rate = float64(s.Bytes-w.lastRate.bytes) / d
		}
	}
	return s
}

// background writes index lines that have waited IndexFlushInterval
// (when no segment arrives to trigger it) and calls Progress.
func (w *Writer) background() {
	defer close(w.stopped)
	tick := min(w.opts.ProgressInterval, w.opts.IndexFlushInterval)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastProgress := w.now()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return
		}
		now := w.now()
		if now.Sub(w.lastFlush) >= w.opts.IndexFlushInterval {
			w.flushIndex(now)
		}
		report := w.opts.Progress != nil && now.Sub(lastProgress) >= w.opts.ProgressInterval-tick/2
		var s Stats
		if report {
			s = w.statsLocked(now)
			w.lastRate.at, w.lastRate.bytes = now, s.Bytes
			lastProgress = now
		}
		w.mu.Unlock()
		if report {
			w.opts.Progress(s)
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

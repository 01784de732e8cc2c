package modemlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// recover reads the index of earlier runs and, for every data file the
// index does not show as finished (the writer was killed or the machine
// lost power), compares the index with the file and appends records that
// make them agree:
//
//   - a segment that the file ends inside of is recorded again (same seq)
//     with the size actually present and "truncated": true;
//   - bytes after the last indexed segment (written, but their index lines
//     were still in memory) become one segment of unknown boundaries
//     ("length": -1, "truncated": true);
//   - a close record with the file's real size and SHA-256;
//   - a data file that has disappeared gets a delete record.
//
// Data files with no trace in the index are indexed the same way. An
// index line cut off by the crash is removed. All such records carry
// "recovered": true. Nothing in the data files is changed.
func (w *Writer) recover() error {
	if _, err := w.idx.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("modemlog: %w", err)
	}
	ix, err := ReadIndex(w.idx)
	if err != nil {
		return fmt.Errorf("modemlog: %s: %w (move it away to start a new index)", filepath.Join(w.dir, IndexName), err)
	}
	if ix.Partial > 0 {
		if err := w.idx.Truncate(ix.Complete); err != nil {
			return fmt.Errorf("modemlog: removing the cut-off last line of the index: %w", err)
		}
	}
	if _, err := w.idx.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("modemlog: %w", err)
	}
	segs := ix.Segments()
	for _, s := range segs {
		w.seq = max(w.seq, s.Seq)
	}
	onDisk, maxN, err := w.dataFiles()
	if err != nil {
		return fmt.Errorf("modemlog: %w", err)
	}
	w.fileSeq = maxN

	bySeg := map[string][]Record{}
	for _, s := range segs {
		bySeg[s.File] = append(bySeg[s.File], s)
	}
	known := map[string]bool{}
	var pending []string
	for _, f := range ix.Files() {
		known[f.Name] = true
		if m := nameRE.FindStringSubmatch(f.Name); m != nil {
			var n int
			fmt.Sscan(m[3], &n)
			w.fileSeq = max(w.fileSeq, n)
		}
		if !f.Closed && !f.Deleted {
			pending = append(pending, f.Name)
		}
	}
	now := w.now()
	for _, name := range onDisk {
		if !known[name] {
			w.add(Record{Type: RecFile, Time: now, File: name, Reason: "recovered: data file missing from the index", Recovered: true})
			pending = append(pending, name)
		}
	}
	for _, name := range pending {
		if err := w.recoverFile(name, bySeg[name], now); err != nil {
			return err
		}
	}
	if len(w.recovered) > 0 {
		if err := w.flushIndex(now); err != nil {
			return err
		}
		if err := w.idx.Sync(); err != nil {
			return fmt.Errorf("modemlog: fsync index: %w", err)
		}
	}
	// Files of earlier runs count for MaxFiles.
	w.files, _, err = w.dataFiles()
	return err
}

func (w *Writer) add(r Record) {
	r.Recovered = true
	w.record(r, false)
	w.recovered = append(w.recovered, r)
}

func (w *Writer) recoverFile(name string, segs []Record, now time.Time) error {
	path := filepath.Join(w.dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		w.add(Record{Type: RecDelete, Time: now, File: name, Reason: "recovered: the data file is missing"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("modemlog: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("modemlog: reading %s: %w", path, err)
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].Offset < segs[b].Offset })
	var end int64
	for _, s := range segs {
		if s.Offset+s.Size > size {
			c := s
			c.Time = now
			c.Size = max(0, size-s.Offset)
			c.Truncated, c.Recovered = true, true
			c.Reason = fmt.Sprintf("recovered: the data file ends inside this segment (unclean shutdown): %d of %d bytes present", c.Size, s.Size)
			w.add(c)
			end = max(end, s.Offset+c.Size)
		} else {
			end = max(end, s.Offset+s.Size)
		}
	}
	n := int64(len(segs))
	if size > end {
		w.seq++
		n++
		w.add(Record{
			Type: RecSegment, Time: now, File: name, Seq: w.seq, Offset: end, Size: size - end,
			Length: -1, Session: -1, Truncated: true, Recovered: true,
			Reason: "recovered: bytes after the last indexed segment (unclean shutdown); their segment boundaries are unknown",
		})
	}
	w.add(Record{
		Type: RecClose, Time: now, File: name, Size: size, Segments: n,
		SHA256: hex.EncodeToString(h.Sum(nil)), Recovered: true,
		Reason: "closed by recovery after an unclean shutdown",
	})
	return nil
}

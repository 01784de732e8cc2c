package modemlog

import (
	"os"
	"time"
)

// waitTimeout bounds waiting for something that is expected to happen. It
// only bounds a failure, so it is long: on a loaded machine under the race
// detector a few seconds are not enough.
const waitTimeout = 30 * time.Second

// crash abandons the writer as a killed process would: the index lines
// still in memory are lost, files are closed without fsync or close
// records, the lock is released.
func (w *Writer) crash() {
	w.mu.Lock()
	w.closed = true
	w.idxBuf = nil
	if w.cur != nil {
		w.cur.Close()
	}
	w.unlock()
	w.idx.Close()
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
}

// failingFile is a data file whose writes fail once limit bytes have been
// written (a full disk).
type failingFile struct {
	*os.File
	limit int
	err   error
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.limit])
	f.limit = 0
	return n, f.err
}

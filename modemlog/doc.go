// Package modemlog writes a modem's log stream (Microsoft's "MB modem
// logging with DSS") to files, and gives the stream to Go code as an
// io.Reader or a callback.
//
// # Segments
//
// A segment is one log fragment as the modem sends it: one DSS datagram.
// Microsoft's "MB modem logging with DSS" describes the modem filling its
// log buffer until a segment is full, or MaxFlushTime has passed, and then
// sending it to the host; the host receives these fragments as
// DataServiceSessionRead packets until it deactivates the DSS session
// (https://learn.microsoft.com/windows-hardware/drivers/network/mb-modem-logging-with-dss).
// WWAN_MODEM_LOGGING_CONFIG defines MaxSegmentSize as "the segment size,
// in kilobytes (KB), for each fragment sent by the modem". So segment =
// fragment = DataServiceSessionRead packet = one datagram of the
// session's DSS NDP, which is what datapath sources deliver.
//
// # Files
//
// The data files hold the segments' bytes back to back, nothing added, so
// a vendor's log decoder can read them directly. They are named
//
//	<prefix>-<UTC creation time>-<number>.bin   e.g. modem-log-20261121T091500Z-0001.bin
//
// with the number counting up across runs in the same directory (so names
// sort in writing order). A new file is started when the next segment
// would take the current one past MaxFileBytes (--max-file-mib); a
// segment is never split between files. With MaxFiles (--max-files), the
// oldest files are deleted to keep at most that many.
//
// Each segment is written to its file (one write(2), straight from the
// source's buffer) as soon as it is received. Flush and Close fsync the
// data file, the index and the directory; finished files are fsynced when
// the writer moves on.
//
// # Index
//
// index.jsonl in the same directory has one JSON object per line, in
// writing order, appended to by every run. Every record has "type" and
// "time" (RFC 3339, UTC, receive or event time). By type:
//
//	source   "source": which data source a capture reads and why
//	         (datapath.Source.Describe).
//	file     "file": a data file was created (before any data is written
//	         to it).
//	segment  "seq" (1, 2, ... across runs), "file", "offset" (in the file),
//	         "size" (bytes in the file), "length" (bytes the modem sent;
//	         -1 if unknown), "session" (DSS session id; -1 if unknown),
//	         "truncated" (size < length, or the segment's boundaries are
//	         not known), and for a truncated segment "reason".
//	close    "file", "size", "segments", "sha256" (of the whole file; left
//	         out after a write error), "reason" if closing failed.
//	delete   "file", "reason" (e.g. "max-files 8").
//	loss     "count", "bytes" (-1 if unknown), "reason": data the source
//	         could not deliver (a malformed NTB, frames the kernel
//	         dropped).
//	link     "reason": the network interface went down.
//	event    "reason": something else that happened to the capture, in
//	         words: the logging configuration the modem chose, a modem
//	         reset and the control session opened again, the DSS session
//	         activated or deactivated (gombim modem-log records them).
//
// A record may carry "recovered": true, see below.
//
// # Nothing received is lost
//
// Every segment received is either written completely or recorded as
// truncated, with the bytes that did reach the file:
//
//   - A failed or short write (a full disk) records the segment with
//     "truncated": true, the size written and the error, returns the error,
//     and moves on to a new file.
//   - A segment the source could only deliver in part (a packet socket
//     buffer smaller than the frame) is written and recorded as truncated.
//   - Index lines are buffered for at most IndexFlushInterval (1s); data
//     never is. If the process dies, the next Create in the directory
//     compares the index with the files (recover): a segment the file ends
//     inside of is recorded again with the same seq, its real size and
//     "truncated": true; bytes after the last indexed segment become one
//     segment with "length": -1 and "truncated": true; the file gets a
//     close record with its real size and SHA-256. ReadIndex's
//     Index.Segments applies the corrections (the last record of a seq
//     wins).
//
// On SIGINT/SIGTERM a command cancels the Capture context and calls
// Close, which writes and fsyncs everything received.
package modemlog

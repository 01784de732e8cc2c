package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The metrics are served by a minimal HTTP/1.1 responder written on net,
// not by net/http: importing net/http (and crypto/tls, which comes with
// it) made every gombim command start slower, since the proxy is part of
// the gombim binary. Programs that run their own net/http server can
// serve the metrics with a handler that sets MetricsContentType and calls
// Server.Metrics().WritePrometheus.

// MetricsPath is the path the metrics are served at.
const MetricsPath = "/metrics"

// MetricsContentType is the Content-Type of the Prometheus text format.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// Limits of the metrics responder.
const (
	// metricsMaxRequest bounds the request line and headers, in bytes.
	metricsMaxRequest = 8 << 10
	// metricsMaxConns is how many connections are served at once; more
	// are closed at once.
	metricsMaxConns = 16
)

// Timeouts of the metrics responder (variables for the tests, read when
// ServeMetrics starts).
var (
	// metricsReadTimeout bounds the reading of the request, and
	// metricsWriteTimeout the writing of the response.
	metricsReadTimeout  = 10 * time.Second
	metricsWriteTimeout = 10 * time.Second
	// metricsLinger is how long, after the response, unread request data
	// is drained before the connection is closed (closing with unread data
	// would reset the connection and could lose the response).
	metricsLinger = 500 * time.Millisecond
)

// ServeMetrics serves the proxy's metrics over HTTP/1.1 on ln, at
// MetricsPath in the Prometheus text format (GET and HEAD; other paths get
// 404 Not Found, other methods 405). Each connection carries one request
// and is closed after the response (Connection: close); requests are
// bounded in size and time. ServeMetrics returns when ln is closed (nil)
// or fails, after the connections it was serving have been closed.
func (s *Server) ServeMetrics(ln net.Listener) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
		slots = make(chan struct{}, metricsMaxConns)
	)
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	t := metricsTimeouts{read: metricsReadTimeout, write: metricsWriteTimeout, linger: metricsLinger}
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if isTemporaryAccept(err) {
				// Out of file descriptors and the like: wait and retry.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		select {
		case slots <- struct{}{}:
		default:
			c.Close() // too many at once: a scraper does not need more
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveMetricsConn(c, t)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
			<-slots
		}()
	}
}

type metricsTimeouts struct{ read, write, linger time.Duration }

// serveMetricsConn answers the one request of c.
func (s *Server) serveMetricsConn(c net.Conn, t metricsTimeouts) {
	c.SetReadDeadline(time.Now().Add(t.read))
	r := bufio.NewReaderSize(io.LimitReader(c, metricsMaxRequest+1), metricsMaxRequest+1)
	method, target, status := readMetricsRequest(r)
	if status < 0 {
		return // the client went away without asking anything
	}
	c.SetWriteDeadline(time.Now().Add(t.write))
	var body bytes.Buffer
	header := []string{"Connection: close"}
	switch {
	case status != 0:
	case method != "GET" && method != "HEAD":
		status = 405
		header = append(header, "Allow: GET, HEAD")
	case requestPath(target) != MetricsPath:
		status = 404
	default:
		status = 200
		header = append(header, "Content-Type: "+MetricsContentType)
		s.Metrics().WritePrometheus(&body)
	}
	if status != 200 {
		header = append(header, "Content-Type: text/plain; charset=utf-8")
		body.WriteString(strconv.Itoa(status) + " " + statusText[status] + "\n")
	}
	var b bytes.Buffer
	b.Grow(256 + body.Len())
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + statusText[status] + "\r\n")
	b.WriteString("Date: " + time.Now().UTC().Format(httpDate) + "\r\n")
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(body.Len()) + "\r\n\r\n")
	if method != "HEAD" {
		b.Write(body.Bytes())
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return
	}
	// Tell the client we are done, and drain what it may still send
	// (a request body, a pipelined request) for a moment, so that closing
	// does not reset the connection before it has read the response.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		c.SetReadDeadline(time.Now().Add(t.linger))
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}
}

// httpDate is the date format of HTTP (RFC 9110, IMF-fixdate).
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

var statusText = map[int]string{
	200: "OK",
	400: "Bad Request",
	404: "Not Found",
	405: "Method Not Allowed",
	408: "Request Timeout",
	431: "Request Header Fields Too Large",
	505: "HTTP Version Not Supported",
}

// readMetricsRequest reads the request line and headers from r (which
// returns at most metricsMaxRequest+1 bytes). It returns the method and
// target, or a status other than 0 when the request cannot be answered.
func readMetricsRequest(r *bufio.Reader) (method, target string, status int) {
	n := 0
	readLine := func() (string, int) {
		line, err := r.ReadSlice('\n')
		n += len(line)
		var ne net.Error
		switch {
		case n > metricsMaxRequest:
			return "", 431
		case err == nil:
			return strings.TrimRight(string(line), "\r\n"), 0
		case n == 0 && errors.Is(err, io.EOF):
			return "", -1
		case errors.As(err, &ne) && ne.Timeout():
			return "", 408
		}
		return "", 400
	}
	line, status := readLine()
	for status == 0 && line == "" { // RFC 9112 2.2: ignore empty lines before the request line
		if n > 64 {
			return "", "", 400
		}
		line, status = readLine()
	}
	if status != 0 {
		return "", "", status
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", 400
	}
	method, target, proto := parts[0], parts[1], parts[2]
	if !strings.HasPrefix(proto, "HTTP/") {
		return "", "", 400
	}
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" {
		return method, target, 505
	}
	for {
		h, status := readLine()
		if status != 0 {
			return method, target, status
		}
		if h == "" {
			return method, target, 0
		}
		if name, _, ok := strings.Cut(h, ":"); !ok || name == "" || strings.ContainsAny(name, " \t") {
			return method, target, 400
		}
	}
}

// requestPath returns the path of a request target: origin form
// ("/metrics?x") or absolute form ("http://host:9478/metrics").
func requestPath(target string) string {
	if i := strings.Index(target, "://"); i > 0 && !strings.HasPrefix(target, "/") {
		rest := target[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "/"
		}
		target = rest[j:]
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return target
}

// isTemporaryAccept reports whether an Accept error is worth retrying
// (EMFILE, ENFILE, ECONNABORTED and the like).
func isTemporaryAccept(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

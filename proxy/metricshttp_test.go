package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
)

// serveMetrics serves s's metrics on a loopback port until the end of the
// test, and returns the address.
func serveMetrics(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeMetrics(ln) }()
	t.Cleanup(func() {
		ln.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeMetrics: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("ServeMetrics did not return after the listener was closed")
		}
	})
	return ln.Addr().String()
}

// rawHTTP sends req on a new connection and returns all the server sent
// back before closing the connection.
func rawHTTP(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v after %q", req, err, b)
	}
	return string(b)
}

func TestMetricsHTTP(t *testing.T) {
	leakCheck(t)
	dev := newFakeDev(t)
	s, _ := startProxy(t, Config{})
	a := dial(t, s.cfg.Socket)
	a.setup(dev.link)
	a.request(uuidVendor, 1, mbim.CommandQuery, []byte("abc"))
	dev.indicate(uuidBasicConnect, 11, nil)
	a.waitFor("indication", 5*time.Second, isIndication(uuidBasicConnect, 11))
	addr := serveMetrics(t, s)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" || !resp.Close || resp.ContentLength != int64(len(body)) {
		t.Errorf("status %d, header %v, close %v, length %d for %d bytes", resp.StatusCode, resp.Header, resp.Close, resp.ContentLength, len(body))
	}
	if _, err := time.Parse(http.TimeFormat, resp.Header.Get("Date")); err != nil {
		t.Errorf("Date: %v", err)
	}
	text := string(body)
	real, _ := filepath.EvalSymlinks(dev.link)
	for _, want := range []string{
		`gombim_proxy_device_up{device="` + real + `",state="open",mbimex=""} 1`,
		`gombim_proxy_device_requests_total{device="` + real + `"} `,
		`gombim_proxy_device_indications_total{device="` + real + `"} 1`,
		`# TYPE gombim_proxy_client_requests_total counter`,
		`gombim_proxy_client_indications_total{client="1",pid="`,
		`gombim_proxy_clients 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	cm := s.Metrics().Clients[0]
	if cm.Requests != 2 || cm.Indications != 1 || cm.BytesIn == 0 || cm.BytesOut == 0 {
		t.Errorf("client counters %+v", cm)
	}

	// HEAD: the same headers, no body.
	resp, err = client.Head("http://" + addr + "/metrics?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength < int64(len(body))-100 || resp.Header.Get("Content-Type") != MetricsContentType {
		t.Errorf("HEAD: status %d, length %d, header %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	resp.Body.Close()

	// Other paths and methods.
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 404},
		{"GET", "/metrics/", 404},
		{"GET", "/favicon.ico", 404},
		{"POST", "/metrics", 405},
		{"DELETE", "/metrics", 405},
	} {
		req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, strings.NewReader("a body the server does not read"))
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), http.StatusText(tt.status)) {
			t.Errorf("%s %s: %d %q, want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
		}
		if tt.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q", tt.method, resp.Header.Get("Allow"))
		}
	}
}

func TestMetricsHTTPRequests(t *testing.T) {
	leakCheck(t)
	s, _ := startProxy(t, Config{})
	addr := serveMetrics(t, s)
	long := strings.Repeat("x", metricsMaxRequest)
	for _, tt := range []struct {
		name, req, status string
		body              bool
	}{
		{"HTTP/1.0", "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", true},
		{"bare LF", "GET /metrics HTTP/1.1\nHost: x\n\n", "HTTP/1.1 200 OK\r\n", true},
		{"absolute form", "GET http://example.net:9478/metrics HTTP/1.1\r\nHost: example.net\r\n\r\n", "HTTP/1.1 200 OK\r\n", true},
		{"empty lines first", "\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n", true},
		{"HEAD", "HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n", false},
		{"pipelined", "GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n", true},
		{"not found", "GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", true},
		{"lower-case method", "get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n", true},
		{"garbage", "hello\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true},
		{"no version", "GET /metrics\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true},
		{"bad header", "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true},
		{"folded header", "GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true},
		{"HTTP/2", "GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n", true},
		{"cut short", "GET /metrics HTTP/1.1\r\nHost: x\r\n", "HTTP/1.1 400 Bad Request\r\n", true},
		{"long target", "GET /" + long + " HTTP/1.1\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n", true},
		{"long headers", "GET /metrics HTTP/1.1\r\n" + strings.Repeat("A: 0123456789abcdef\r\n", metricsMaxRequest/20) + "\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if tt.name == "cut short" {
				// The client stops writing without ending the headers.
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, req)
				c.(*net.TCPConn).CloseWrite()
				b, _ := io.ReadAll(c)
				if !strings.HasPrefix(string(b), tt.status) {
					t.Errorf("got %q, want %q", b, tt.status)
				}
				return
			}
			got := rawHTTP(t, addr, req)
			head, body, ok := strings.Cut(got, "\r\n\r\n")
			if !strings.HasPrefix(got, tt.status) || !ok {
				t.Fatalf("got %q, want %q", got, tt.status)
			}
			if !strings.Contains(head, "\r\nConnection: close\r\n") || !strings.Contains(head, "\r\nContent-Length: ") {
				t.Errorf("headers %q", head)
			}
			if tt.body != (body != "") {
				t.Errorf("body %q", body)
			}
			if tt.name == "pipelined" && strings.Count(got, "HTTP/1.1 200") != 1 {
				t.Errorf("answered more than one request: %q", got)
			}
			// What net/http makes of it.
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), &http.Request{Method: strings.Fields(req + " GET")[0]})
			if err != nil {
				t.Fatalf("%q: %v", got, err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.ContentLength != int64(len(b)) && !(tt.name == "HEAD" && len(b) == 0) {
				t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
			}
		})
	}
}

// A client that connects and says nothing, or too slowly, is answered 408
// and disconnected after the read timeout; the others are served
// meanwhile; closing the listener ends ServeMetrics and its connections.
func TestMetricsHTTPTimeouts(t *testing.T) {
	leakCheck(t)
	saved := metricsReadTimeout
	metricsReadTimeout = 300 * time.Millisecond
	t.Cleanup(func() { metricsReadTimeout = saved })
	s, _ := startProxy(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() { done <- s.ServeMetrics(ln) }()
	addr := ln.Addr().String()

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	io.WriteString(silent, "GET /metrics HTTP/1.1\r\n")
	if got := rawHTTP(t, addr, "GET /metrics HTTP/1.1\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("while another client is silent: %q", got)
	}
	start := time.Now()
	silent.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(silent)
	if err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 408 Request Timeout\r\n") {
		t.Errorf("silent client: %q, %v", b, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("silent client disconnected after %v", d)
	}

	ln.Close()
	if err := <-done; err != nil {
		t.Errorf("ServeMetrics: %v", err)
	}

	// A connection in the middle of a request when the listener closes.
	metricsReadTimeout = time.Minute
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { done <- s.ServeMetrics(ln) }()
	addr = ln.Addr().String()
	hung, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	io.WriteString(hung, "GET /metrics HTTP/1.1\r\n")
	// Connections are accepted in order: once this one is answered, the
	// hung one is being served.
	if got := rawHTTP(t, addr, "GET /metrics HTTP/1.1\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("%q", got)
	}
	ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeMetrics: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeMetrics did not return after the listener was closed")
	}
	hung.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(hung); err != nil {
		t.Errorf("the hung connection was not closed: %v", err)
	}
}

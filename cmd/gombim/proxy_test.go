package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProxyCommand(t *testing.T) {
	socket := fmt.Sprintf("gombim-cmd-proxy-test-%d", os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"proxy", "--socket", socket, "--metrics", "127.0.0.1:0", "--verbose"}, nil, io.Discard, &errOut)
	}()

	addrRE := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := addrRE.FindStringSubmatch(errOut.String()); m != nil {
			addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics address logged:\n%s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A client: the proxy answers a configuration query as libmbim does.
	conn, err := transport.DialUnix(socket, true)
	if err != nil {
		t.Fatal(err)
	}
	q := mbim.Message{Type: mbim.TypeCommand, TransactionID: 1, Service: mbim.MustParseUUID("838cf7fb-8d0d-4d7f-871e-d71dbefbb39b"), CID: 1, CommandType: mbim.CommandQuery}
	b, _ := q.MarshalBinary()
	if err := conn.WriteMessage(b); err != nil {
		t.Fatal(err)
	}
	raw, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if m, err := mbim.ParseMessage(raw); err != nil || m.Type != mbim.TypeCommandDone || m.Status != mbim.StatusInvalidParameters {
		t.Fatalf("answer %v %v", m.String(), err)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" ||
		!strings.Contains(string(body), "gombim_proxy_clients 1\n") || !strings.Contains(string(body), `comm="`) {
		t.Errorf("metrics: %s %v\n%s", resp.Status, resp.Header, body)
	}
	if resp, err := http.Get("http://" + addr + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	conn.Close()

	// A second proxy on the same socket cannot start.
	_, errOut2, code := gombim(t, "", "proxy", "--socket", socket)
	if code != exitDevice || !strings.Contains(errOut2, "already listening") {
		t.Errorf("second proxy: exit %d, %q", code, errOut2)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after the signal:\n%s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not stop")
	}
}

func TestProxyUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"proxy", "extra"},
		{"proxy", "--user", "no-such-user-gombim-test"},
		{"proxy", "--group", "no-such-group-gombim-test"},
		{"proxy", "--empty-timeout", "-1s"},
		{"proxy", "--bogus"},
	} {
		_, errOut, code := gombim(t, "", args...)
		if code != exitUsage || !strings.Contains(errOut, "gombim proxy") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

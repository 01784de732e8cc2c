package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gombim/gombim/mbim"
	"github.com/gombim/gombim/transport"
)

func TestSimUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sim"},
		{"sim", "--pty", "a", "--unix", "b"},
		{"sim", "--unix", "x", "--mbimex", "banana"},
		{"sim", "--unix", "x", "--scenario", "/nonexistent.json"},
		{"sim", "--unix", "x", "extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut.String())
		}
	}
}

func TestSimServesUnixAndPTY(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []string{"--unix", "--pty"} {
		path := filepath.Join(dir, "sim"+mode)
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut bytes.Buffer
		done := make(chan int)
		args := []string{"sim", mode, path, "--mbimex", "3.0"}
		go func() { done <- run(ctx, args, nil, &out, &errOut) }()
		dev := path
		if mode == "--unix" {
			dev = "unix:" + path
		}
		var c transport.Conn
		var err error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, serr := os.Lstat(path); serr != nil {
				continue
			}
			if c, err = transport.Open(dev, transport.Options{}); err == nil {
				break
			}
		}
		if c == nil {
			t.Fatalf("%s: cannot connect: %v", mode, err)
		}
		b, _ := (&mbim.Message{Type: mbim.TypeOpen, TransactionID: 1, MaxControlTransfer: 4096}).AppendBinary(nil)
		if err := c.WriteMessage(b); err != nil {
			t.Fatal(err)
		}
		resp, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m, err := mbim.ParseMessage(resp); err != nil || m.Type != mbim.TypeOpenDone {
			t.Fatalf("%s: %v %v", mode, m, err)
		}
		c.Close()
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("%s: exit %d: %s", mode, code, errOut.String())
		}
		if !strings.Contains(out.String(), path) {
			t.Errorf("%s: output %q does not name %s", mode, out.String(), path)
		}
	}
}

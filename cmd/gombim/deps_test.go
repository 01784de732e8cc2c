package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanImports checks that the gombim command does not link packages
// whose initialisation every invocation would pay for although only one
// rarely used path needs them: net/http (with crypto/tls and its
// certificates code) used to come in with the proxy's metrics, and cost
// start-up time to every command. The proxy serves its metrics with a
// small responder of its own (proxy.Server.ServeMetrics).
func TestLeanImports(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	out, err := exec.Command(gocmd, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "net/http", "crypto/tls", "crypto/x509", "net/url", "mime/multipart":
			t.Errorf("gombim links %s: every command pays for its initialisation (go list -deps ./cmd/gombim, and find who imports it with go list -f '{{.ImportPath}} {{.Imports}}' -deps ./cmd/gombim)", p)
		}
	}
}

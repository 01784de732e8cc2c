package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManPageUpToDate fails when docs/gombim.1 differs from what the
// command table and the catalog give now.
func TestManPageUpToDate(t *testing.T) {
	path := filepath.Join(repoRoot(t), "docs", "gombim.1")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; generate it with: go run ./cmd/gombim man > docs/gombim.1", err)
	}
	if want := manPage(); string(got) != want {
		t.Errorf("docs/gombim.1 is stale (the commands or the catalog changed); regenerate it with:\n\tgo run ./cmd/gombim man > docs/gombim.1")
	}
}

func TestManPage(t *testing.T) {
	out, errOut, code := gombim(t, "", "man")
	if code != exitOK || errOut != "" || out != manPage() {
		t.Fatalf("gombim man: exit %d, stderr %q", code, errOut)
	}
	for _, c := range commands {
		heading := ".SS " + roffEscape(c.Name) + "\n"
		if !strings.Contains(out, heading) {
			t.Errorf("no section for %s", c.Name)
		}
	}
	for _, w := range []string{".TH GOMBIM 1", ".SH GLOBAL OPTIONS", ".SH EXIT STATUS", `\-\-proxy`, ".B register\\-state\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("man page lacks %q", w)
		}
	}
	// groff, when installed, must render it without warnings.
	if _, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(out)
		if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
			t.Errorf("groff: %v\n%s", err, msg)
		}
	}
}

func TestComplete(t *testing.T) {
	fakeDiscovery(t)
	tests := []struct {
		words []string
		want  []string // all of these, in order, somewhere in the answer
		not   []string
	}{
		{[]string{""}, []string{"basic-connect", "completion", "connect", "status"}, nil},
		{[]string{"sta"}, []string{"status"}, []string{"sim"}},
		{[]string{"-d", "sim", "basic-connect", "reg"}, []string{"register-state"}, nil},
		{[]string{"basic-connect", "radio-state", ""}, []string{"query", "set", "watch"}, nil},
		{[]string{"basic-connect", "radio-state", "set", ""}, []string{"RadioState="}, nil},
		{[]string{"basic-connect", "radio-state", "set", "RadioState="}, []string{"RadioState=off", "RadioState=on"}, nil},
		{[]string{"register-state", "set", "DataClass=lte|"}, []string{"DataClass=lte|gprs", "DataClass=lte|umts"}, nil},
		{[]string{"basic-connect", "connect", "set", "SessionId=1", "Se"}, nil, []string{"SessionId="}},
		{[]string{"basic-connect", "connect", "set", "ContextType=i"}, []string{"ContextType=internet", "ContextType=ims"}, nil},
		{[]string{"-d", ""}, []string{"sim"}, nil},
		{[]string{"status", "--mbimex", ""}, []string{"1.0", "4.0"}, nil},
		{[]string{"connect", "--"}, []string{"--apn", "--auth", "--device", "--proxy", "--json"}, nil},
		{[]string{"connect", "--auth", ""}, []string{"chap", "pap"}, nil},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}, nil},
		{[]string{"help", "ms-basic-connect-extensions", "modem"}, []string{"modem-logging-config", "modem-configuration"}, nil},
		{[]string{"--timeout", "1s", "monitor", "--c"}, []string{"--count"}, nil},
	}
	for _, tt := range tests {
		got := complete(tt.words)
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				if g == w {
					found = true
				}
			}
			if !found {
				t.Errorf("complete(%q) = %q, lacks %q", tt.words, got, w)
			}
		}
		for _, w := range tt.not {
			for _, g := range got {
				if g == w {
					t.Errorf("complete(%q) = %q, has %q", tt.words, got, w)
				}
			}
		}
	}
	out, _, code := gombim(t, "", "__complete", "basic-connect", "radio-state", "set", "RadioState=o")
	if code != exitOK || out != "RadioState=off\nRadioState=on\n" {
		t.Errorf("__complete: exit %d, %q", code, out)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, check := range map[string][]string{"bash": {"bash", "-n"}, "zsh": {"zsh", "-n"}, "fish": {"fish", "--no-execute"}} {
		out, errOut, code := gombim(t, "", "completion", shell)
		if code != exitOK || errOut != "" || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, %q", shell, code, errOut)
			continue
		}
		if _, err := exec.LookPath(check[0]); err != nil {
			if shell == "bash" {
				t.Errorf("bash not found: %v", err)
			}
			continue
		}
		f := filepath.Join(t.TempDir(), "completion."+shell)
		os.WriteFile(f, []byte(out), 0o644)
		if msg, err := exec.Command(check[0], append(check[1:], f)...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", shell, err, msg)
		}
	}
}

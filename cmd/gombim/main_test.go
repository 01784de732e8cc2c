package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gombim/gombim/mbim"
)

func TestHelp(t *testing.T) {
	out, errOut, code := gombim(t, "", "help")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, c := range commands {
		if !strings.Contains(out, "\n  "+c.Name+" ") || !strings.Contains(out, c.Summary+"\n") {
			t.Errorf("command %s missing from\n%s", c.Name, out)
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}} {
		o, _, code := gombim(t, "", args...)
		if code != exitOK || o != out {
			t.Errorf("%q: exit %d, output differs from 'gombim help'", args, code)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		want := c.usage()
		if !strings.HasPrefix(want, "Usage: gombim "+c.Name) || !strings.HasSuffix(want, "\n") {
			t.Errorf("%s: Usage must start with %q and end in a newline", c.Name, "Usage: gombim "+c.Name)
		}
		for _, args := range [][]string{{"help", c.Name}, {c.Name, "--help"}, {c.Name, "-h"}} {
			out, errOut, code := gombim(t, "", args...)
			if code != exitOK || out != want || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q, stdout %.60q..., want the usage of %s", args, code, errOut, out, c.Name)
			}
		}
	}
}

func TestDecodeUsageListsEveryFlag(t *testing.T) {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	decodeFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(decodeUsage, "\n  --"+f.Name+" ") {
			t.Errorf("flag --%s is not described in the usage text", f.Name)
		}
		if !strings.Contains(strings.SplitN(decodeUsage, "\n", 2)[0], "--"+f.Name) {
			t.Errorf("flag --%s is not in the synopsis", f.Name)
		}
	})
}

func TestDispatchErrors(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{nil, "gombim: no command given.\n\ngombim controls MBIM"},
		{[]string{"frobnicate"}, `gombim: unknown command "frobnicate"; the commands are: completion, connect, decode, `},
		{[]string{"--frob", "decode"}, "gombim: unknown option --frob before the command; the global options are -d/--device, --proxy, --json, --timeout, --mbimex and -v/--verbose."},
		{[]string{"-d", "sim"}, "gombim: no command after the global options; e.g. 'gombim -d sim status'."},
		{[]string{"-d"}, "gombim: option -d needs a value."},
		{[]string{"-d", "sim", "decode"}, "gombim decode: flag provided but not defined: -d"},
		{[]string{"--version", "x"}, "--version takes no arguments"},
		{[]string{"help", "nope"}, `gombim help: unknown command "nope"; the commands are: `},
		{[]string{"help", "a", "b", "c"}, "gombim help: too many arguments; give at most one command name (or a service and one of its CIDs)\nRun 'gombim help help' for usage.\n"},
		{[]string{"help", "decode", "x"}, "gombim help: too many arguments"},
		{[]string{"help", "basic-connect", "nope"}, `gombim help: unknown CID "nope" of basic-connect; the CIDs are: device-caps, `},
		{[]string{"help", "--x"}, "gombim help: flag provided but not defined: -x"},
	}
	for _, tt := range tests {
		out, errOut, code := gombim(t, "", tt.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.err) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.err)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-version"} {
		out, errOut, code := gombim(t, "", arg)
		if code != exitOK || errOut != "" || out != "gombim "+version+"\n" && !strings.HasPrefix(out, "gombim v") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
}

func TestRegister(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append([]*Command(nil), saved...)

	noop := func(context.Context, []string, io.Writer, io.Writer) int { return exitOK }
	register(&Command{Name: "aaa", Summary: "s", Usage: "Usage: gombim aaa\n", Run: noop})
	if commands[0].Name != "aaa" || lookup("aaa") == nil {
		t.Errorf("commands not sorted or not found: %v", commandNames(""))
	}
	for _, c := range []*Command{
		{Name: "aaa", Summary: "s", Usage: "u", Run: noop}, // duplicate
		{Name: "bbb", Summary: "s", Usage: "u"},            // no Run
		{Summary: "s", Usage: "u", Run: noop},              // no name
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("register(%q) did not panic", c.Name)
				}
			}()
			register(c)
		}()
	}
}

func TestExitCodeFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{fmt.Errorf("query: %w", &mbim.StatusError{Status: mbim.StatusBusy}), exitFailed},
		{ctx.Err(), exitTimeout},
		{cctx.Err(), exitInterrupted},
		{io.ErrUnexpectedEOF, exitDevice},
	}
	for _, tt := range tests {
		if got := exitCodeFor(tt.err); got != tt.want {
			t.Errorf("exitCodeFor(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

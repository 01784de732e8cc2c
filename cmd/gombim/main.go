// Command gombim controls MBIM cellular modems and decodes MBIM messages.
//
// Run "gombim help" for the list of commands and "gombim help COMMAND" for
// the usage of one.
//
// # Adding a command
//
// Each command lives in its own file and registers itself from an init
// function:
//
//	func init() {
//		register(&Command{
//			Name:    "status",
//			Summary: "show registration, signal and connection state",
//			Usage:   statusUsage,
//			Run:     runStatus,
//		})
//	}
//
// Run parses its own flags with newFlagSet and parseFlags (which handle
// -h/--help and report bad flags uniformly), reads standard input, if it
// needs it, from stdinOf(ctx), writes results to stdout and diagnostics
// to stderr, and returns one of the exit codes in exit.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/gombim/gombim/catalog"
)

// version is the gombim version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Command is one gombim subcommand.
type Command struct {
	// Name is the word that selects the command ("decode").
	Name string
	// Summary is a one-line description for the command list, in lower
	// case without a final period.
	Summary string
	// Usage is the complete help text: a "Usage: gombim NAME ..." synopsis,
	// a description, every option and the exit status. It is printed as is
	// by "gombim help NAME" and "gombim NAME --help", and should end in a
	// newline.
	Usage string
	// UsageFunc, if set instead of Usage, computes the usage text when it
	// is needed (for the commands generated from the catalog, so that
	// start-up does not pay for texts that are rarely printed).
	UsageFunc func() string
	// Group is "" for the commands listed first by "gombim help", or
	// groupService for the commands generated from the catalog's services.
	Group string
	// Run executes the command. args are the arguments after the command
	// name. ctx is cancelled on SIGINT/SIGTERM and carries standard input
	// (see stdinOf). Run returns an exit code from exit.go.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands holds the registered commands, sorted by name.
var commands []*Command

// register adds a command to the table. It panics on an incomplete entry
// or a duplicate name, so mistakes show up in the first test run.
func register(c *Command) {
	if c.Name == "" || c.Summary == "" || (c.Usage == "" && c.UsageFunc == nil) || c.Run == nil {
		panic("gombim: register: command " + c.Name + " needs Name, Summary, Usage and Run")
	}
	i, found := slices.BinarySearchFunc(commands, c.Name, func(e *Command, name string) int {
		return strings.Compare(e.Name, name)
	})
	if found {
		panic("gombim: register: duplicate command " + c.Name)
	}
	commands = slices.Insert(commands, i, c)
}

// usage returns the command's usage text.
func (c *Command) usage() string {
	if c.UsageFunc != nil {
		return c.UsageFunc()
	}
	return c.Usage
}

// lookup returns the command called name, or nil.
func lookup(name string) *Command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

type stdinKey struct{}

// withStdin returns a context whose commands read standard input from r.
func withStdin(ctx context.Context, r io.Reader) context.Context {
	return context.WithValue(ctx, stdinKey{}, r)
}

// stdinOf returns the standard input carried by ctx, or os.Stdin.
func stdinOf(ctx context.Context) io.Reader {
	if r, ok := ctx.Value(stdinKey{}).(io.Reader); ok {
		return r
	}
	return os.Stdin
}

// newFlagSet returns an empty flag set for command c. It prints nothing by
// itself: parseFlags reports errors and help.
func newFlagSet(c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet("gombim "+c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("gombim decode in.hex --json"); "--" ends the flags. It
// returns the positional arguments and ok. When ok is false, Run must
// return code at once: exitOK after -h/--help printed c.Usage to stdout, or
// exitUsage after a bad flag was reported on stderr.
func parseFlags(c *Command, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, c.usage())
			return nil, exitOK, false
		}
		if err != nil {
			return nil, usageError(c, stderr, "%v", err), false
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage problem of command c on stderr, with a pointer
// to its help, and returns exitUsage.
func usageError(c *Command, stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "gombim %s: %s\nRun 'gombim help %s' for usage.\n", c.Name, fmt.Sprintf(format, args...), c.Name)
	return exitUsage
}

func init() {
	register(&Command{
		Name:    "help",
		Summary: "show the usage of gombim or of one command",
		Usage: `Usage: gombim help [COMMAND | SERVICE [CID] | CID]

Without arguments, list the commands and services. With COMMAND or
SERVICE, print its complete usage (the same as 'gombim COMMAND --help').
With SERVICE CID (or a CID name alone, where it is unambiguous), print the
operations and fields of that CID.
`,
		Run: runHelp,
	})
}

func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := lookup("help")
	fs := newFlagSet(c)
	pos, code, ok := parseFlags(c, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	switch len(pos) {
	case 0:
		io.WriteString(stdout, mainUsage())
		return exitOK
	case 1, 2:
		t := lookup(pos[0])
		if t == nil {
			if svc, _ := resolveAlias(pos[0]); svc != nil && len(pos) == 1 {
				io.WriteString(stdout, cidUsage(svc, svc.CIDByName(pos[0])))
				return exitOK
			}
			return usageError(c, stderr, "unknown command %q; the commands are: %s; the services are: %s", pos[0], commandNames(""), commandNames(groupService))
		}
		if len(pos) == 1 {
			io.WriteString(stdout, t.usage())
			return exitOK
		}
		if t.Group == groupService {
			svc := catalog.ServiceByName(t.Name)
			cid := findCID(svc, pos[1])
			if cid == nil {
				return usageError(c, stderr, "unknown CID %q of %s; the CIDs are: %s", pos[1], svc.Name, cidNames(svc))
			}
			io.WriteString(stdout, cidUsage(svc, cid))
			return exitOK
		}
	}
	return usageError(c, stderr, "too many arguments; give at most one command name (or a service and one of its CIDs)")
}

// commandNames lists the names of the commands of group.
func commandNames(group string) string {
	var names []string
	for _, c := range commands {
		if c.Group == group {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// mainUsage is the text of "gombim help".
func mainUsage() string {
	var b strings.Builder
	b.WriteString(`gombim controls MBIM cellular modems and decodes MBIM messages.

Usage:
  gombim [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGUMENTS]
  gombim [GLOBAL OPTIONS] SERVICE CID query|set|watch [Field=Value ...]
  gombim [GLOBAL OPTIONS] CID query|set|watch [Field=Value ...]
  gombim help [COMMAND | SERVICE [CID]]
  gombim --version

Try it without a modem, on the built-in simulated one:
  gombim -d sim status

Commands:
`)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.Name))
	}
	for _, c := range commands {
		if c.Group == "" {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, c.Summary)
		}
	}
	b.WriteString(`
Services (every operation of every CID; 'gombim help SERVICE' lists them):
`)
	for _, c := range commands {
		if c.Group == groupService {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, c.Summary)
		}
	}
	b.WriteString(`
A CID name alone stands for its service where that is unambiguous (Basic
Connect first, then MS Basic Connect Extensions): 'gombim register-state
query' is 'gombim basic-connect register-state query'.

`)
	b.WriteString(globalOptionsHelp)
	b.WriteString(`
Run 'gombim help COMMAND' or 'gombim COMMAND --help' for the options of a
command. Options may be written -name or --name.

Exit status (every command):
  0  success
  1  the modem answered with an error status (decode: some line could not
     be decoded)
  2  usage error
  3  device, transport or I/O error
  4  timeout
`)
	return b.String()
}

// versionString is the text of "gombim --version".
func versionString() string {
	v := version
	if v == "dev" {
		// "go install .../cmd/gombim@v1.2.3" records the module version.
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return "gombim " + v + "\n"
}

// run is main without the process: it dispatches args (without the program
// name) and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx = withStdin(ctx, stdin)
	// Diagnostics may come from several goroutines (-v traces the
	// session's reader).
	stderr = &lockedWriter{w: stderr}
	if len(args) == 0 {
		fmt.Fprintf(stderr, "gombim: no command given.\n\n%s", mainUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		io.WriteString(stdout, mainUsage())
		return exitOK
	case "-version", "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "gombim: --version takes no arguments.\nRun 'gombim help' for usage.\n")
			return exitUsage
		}
		io.WriteString(stdout, versionString())
		return exitOK
	}
	global, rest, err := splitGlobal(args)
	if err == nil && len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help") {
		io.WriteString(stdout, mainUsage())
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gombim: %v.\nRun 'gombim help' for usage.\n", err)
		return exitUsage
	}
	if len(rest) == 0 || rest[0] == "--" {
		fmt.Fprintf(stderr, "gombim: no command after the global options; e.g. 'gombim %s status'.\nRun 'gombim help' for usage.\n", strings.Join(global, " "))
		return exitUsage
	}
	name := rest[0]
	cmdArgs := append(global[:len(global):len(global)], rest[1:]...)
	if name == completeCommand {
		return runComplete(rest[1:], stdout)
	}
	if c := lookup(name); c != nil {
		return c.Run(ctx, cmdArgs, stdout, stderr)
	}
	svc, cands := resolveAlias(name)
	if svc != nil {
		return lookup(svc.Name).Run(ctx, append([]string{name}, cmdArgs...), stdout, stderr)
	}
	if cands != nil {
		fmt.Fprintf(stderr, "gombim: %q is a CID of several services; say which: gombim %s.\nRun 'gombim help' for usage.\n", name, strings.Join(cands, ", gombim "))
		return exitUsage
	}
	fmt.Fprintf(stderr, "gombim: unknown command %q; the commands are: %s; the services are: %s.\nRun 'gombim help' for usage.\n", name, commandNames(""), commandNames(groupService))
	return exitUsage
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

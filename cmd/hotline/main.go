// Command hotline is the voice assistant of the debt-collection hotline.
//
//	hotline [serve] [--config FILE]        run the service (SIP, HTTP)
//	hotline chat [--config FILE] [--cases FILE]
//	                                       talk to the assistant in the terminal
//	hotline cases import [--config FILE] FILE
//	                                       import cases (CSV or YAML) into Redis
//	hotline say [--amount 1234.56 | --date 2026-03-15 | --time 15:30 |
//	            --digits 123 | --prompt ID | TEXT]... --out FILE.wav
//	                                       render what a caller would hear
//	hotline prompts render --out DIR [--wav]
//	                                       regenerate the prompt pack (espeak-ng)
//
// Exit codes: 0 success, 2 bad usage or bad input, 1 anything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks errors that exit with code 2 (bad usage or bad input).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const usage = `usage:
  hotline [serve] [--config FILE]
  hotline chat [--config FILE] [--cases FILE]
  hotline cases import [--config FILE] FILE
  hotline say [--config FILE] [--amount 1234.56 | --date 2026-03-15 | --time 15:30 |
              --digits 123 | --prompt ID | TEXT]... --out FILE.wav
  hotline prompts render [--config FILE] --out DIR [--wav]
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: testable, returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := stopOnSignal(stderr)
	defer stop()
	err := dispatch(ctx, args, stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "hotline: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "hotline: %v\n", err)
		return 1
	}
}

// stopOnSignal returns a context that ends on the first SIGTERM or
// SIGINT — serve then drains: live calls may finish — and exits the
// process at once, with code 1, on the second: an operator who signals
// again does not want to wait for the drain.
func stopOnSignal(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "hotline: second signal (%v): stopping at once\n", sig)
			os.Exit(1)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, stderr)
	case "chat":
		return cmdChat(ctx, args, stdin, stdout, stderr)
	case "cases":
		if len(args) == 0 || args[0] != "import" {
			return usagef("cases: want \"cases import FILE\"\n%s", usage)
		}
		return cmdCasesImport(ctx, args[1:], stdout, stderr)
	case "say":
		return cmdSay(ctx, args, stdout, stderr)
	case "prompts":
		return cmdPrompts(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usagef("unknown command %q\n%s", cmd, usage)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

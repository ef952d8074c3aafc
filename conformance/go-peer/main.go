// Command go-peer is the Go reference conformance peer: it drives
// github.com/rsms/gotalk v1.3.7 through the command line described in
// conformance/README.md (the peer contract), so that the interop matrix can
// pair it with every other implementation.
//
//	go-peer serve --transport tcp|ws --addr 127.0.0.1:0 [options]
//	go-peer check --url tcp://HOST:PORT | ws://HOST:PORT/gotalk/ [--only ID[,ID...]] [--idle MS]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // check: at least one check failed
	exitUsage  = 2 // bad command line, or an option the reference cannot honour
)

// errReported is returned by argument parsers whose error has already been printed.
var errReported = errors.New("already reported")

const usage = `usage:
  go-peer serve --transport tcp|ws --addr 127.0.0.1:0 [--max-buffer-requests N]
                [--max-stream-requests N] [--read-timeout MS] [--heartbeat MS]
  go-peer check --url tcp://HOST:PORT|ws://HOST:PORT/gotalk/ [--only ID[,ID...]] [--idle MS]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one go-peer command. serve returns once ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "go-peer: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
}

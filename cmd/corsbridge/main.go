// Command corsbridge is a CORS proxy: /<url> fetches url server-to-server and
// answers with CORS headers a browser accepts. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the garbage collector's target when the operator does not set
// GOGC. A proxied request allocates a few kilobytes that die with it, over a
// live heap of a few megabytes, so at Go's default of 100 a collection
// starts every few hundred requests, and each one scans the stacks of three
// goroutines per connection. 400 collects a quarter as often for a larger
// heap between collections: peak RSS under load rises from about 26 to 43
// MiB (docs/performance.md); a 1 GiB stream still peaks at 14 MiB.
const gcPercent = 400

func main() {
	// Set here, not in run: it is process-wide, and tests call run.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// SIGINT and SIGTERM alike: Fly.io stops machines with SIGINT, most other
	// platforms with SIGTERM. Both start a graceful drain.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corsbridge:", err)
		var usage *usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

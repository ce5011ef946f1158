// Command corsbridge-soak runs a bounded soak test: mixed traffic (small,
// large, streaming, upstream errors, refused targets, rate-limited origins)
// through two corsbridge instances that share one Redis, with Redis
// restarted midway. It reports requests, errors by kind, latency and each
// instance's peak memory and goroutines, and exits 1 on any unexpected
// error. All traffic stays on loopback; it stops by itself.
//
//	go run ./internal/tools/soak -duration 3m
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corsbridge-soak:", err)
		os.Exit(1)
	}
}

type options struct {
	duration time.Duration
	workers  int
	binary   string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("corsbridge-soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 3*time.Minute, "how long traffic runs (Redis restarts at half time)")
	fs.IntVar(&o.workers, "workers", 16, "concurrent clients")
	fs.StringVar(&o.binary, "binary", "", "corsbridge binary to test (default: build ./cmd/corsbridge)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.duration <= 0 || o.duration > time.Hour || o.workers < 1 || o.workers > 256 {
		return fmt.Errorf("duration must be in (0, 1h] and workers in [1, 256]")
	}
	// A hard stop well past the planned end, whatever happens.
	ctx, cancel := context.WithTimeout(ctx, o.duration+2*time.Minute)
	defer cancel()
	return soak(ctx, o, out)
}

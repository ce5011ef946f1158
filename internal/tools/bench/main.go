// Command corsbridge-bench measures corsbridge under load against the proxies
// people would otherwise run: a plain httputil.ReverseProxy, nginx and
// cors-anywhere, with wrk straight at the upstream as the ceiling.
//
// It starts every process itself on loopback (an upstream, each proxy, and
// redis-server for the Redis-backed limits), interleaves the targets over
// several rounds, and prints the medians with ratios to each reference.
// Its subcommands are the processes it starts from its own binary:
//
//	corsbridge-bench [flags]               the whole comparison (see -help)
//	corsbridge-bench -profile DIR [flags]  CPU, allocation and lock profiles of the binary under load
//	corsbridge-bench upstream -addr A      the upstream: /1k and /stream?n=BYTES
//	corsbridge-bench plain -addr A         the plain ReverseProxy reference
//	corsbridge-bench fetch -url U          read one response, print MB/s
//
// See docs/performance.md for what it measures and the results.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corsbridge-bench:", err)
		os.Exit(1)
	}
}

package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// fetchResult is what the fetch subcommand prints, one JSON line.
type fetchResult struct {
	Status  int     `json:"status"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// runFetch reads one response to the end and reports its size and time. It
// runs as its own process so it can be pinned to the load generator's cores
// like wrk.
func runFetch(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	rawURL := fs.String("url", "", "URL to read (loopback)")
	origin := fs.String("origin", benchOrigin, "Origin header")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	caFile := fs.String("ca", "", "PEM file of the roots trusted for an https:// -url")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rawURL == "" {
		return errors.New("fetch: -url is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *rawURL, nil)
	if err != nil {
		return err
	}
	if err := requireLoopback(req.URL.Host); err != nil {
		return err
	}
	req.Header.Set("Origin", *origin)
	transport := &http.Transport{Proxy: nil, DisableCompression: true}
	if *caFile != "" {
		roots, err := loadRoots(*caFile)
		if err != nil {
			return fmt.Errorf("fetch: -ca %s: %w", *caFile, err)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	client := &http.Client{Transport: transport}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	n, err := io.CopyBuffer(io.Discard, res.Body, make([]byte, 256<<10))
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("fetch: after %d bytes: %w", n, err)
	}
	return json.NewEncoder(stdout).Encode(fetchResult{Status: res.StatusCode, Bytes: n, Seconds: elapsed.Seconds()})
}

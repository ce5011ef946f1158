package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// profiledTarget is the first corsbridge target of -targets (corsbridge-cache
// profiles cache hits, corsbridge-https the TLS path), else corsbridge.
func profiledTarget(targets []string) string {
	for _, t := range targets {
		if name, _ := splitTarget(t); name == "corsbridge" || name == "corsbridge-redis" || name == cacheRedisTarget {
			return t
		}
	}
	return "corsbridge"
}

// profile runs the throughput load against the corsbridge binary as
// profiledTarget, started as in the comparison plus CORSBRIDGE_PPROF=true,
// and saves CPU, allocation and mutex profiles of the middle of the run from
// its metrics listener.
func profile(ctx context.Context, l *lab, stdout, stderr io.Writer) error {
	cfg := l.cfg
	if err := os.MkdirAll(cfg.Profile, 0o755); err != nil {
		return err
	}
	target := profiledTarget(cfg.Targets)
	in, err := l.start(ctx, target)
	if err != nil {
		return err
	}
	defer in.proc.stop()
	if _, err := runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, max(cfg.Warmup, time.Second), l.url(in, in.path)); err != nil {
		return err
	}
	seconds := max(1, int(cfg.Duration.Seconds())-2)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, name := range []string{"profile", "allocs", "mutex"} {
		wg.Go(func() {
			time.Sleep(time.Second)
			file := map[string]string{"profile": "cpu.pprof"}[name]
			if file == "" {
				file = name + ".pprof"
			}
			errs <- fetchProfile(ctx, "http://"+in.metrics+"/debug/pprof/"+name+"?seconds="+strconv.Itoa(seconds), filepath.Join(cfg.Profile, file))
		})
	}
	res, err := runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, cfg.Duration, l.url(in, in.path))
	wg.Wait()
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "profiled %s: %.0f req/s, p50 %s, p99 %s%s\n", target, res.Requests, us(res.P50), us(res.P99), sample{Load: res}.warnings())
	fmt.Fprintf(stdout, "wrote %s/{cpu,allocs,mutex}.pprof; read them with:\n", cfg.Profile)
	for _, f := range []string{"cpu", "allocs", "mutex"} {
		fmt.Fprintf(stdout, "  go tool pprof -top -nodecount=40 %s\n", filepath.Join(cfg.Profile, f+".pprof"))
	}
	fmt.Fprintf(stderr, "(allocs: add -sample_index=alloc_space or alloc_objects)\n")
	return nil
}

func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s: %d %s", url, res.StatusCode, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

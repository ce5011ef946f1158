package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is one target's measurements in one round.
type sample struct {
	Load       wrkResult // -c CONNECTIONS
	Single     wrkResult // -c1
	StreamMBps float64
	RSSStream  int64         // peak RSS of a fresh process after the streaming test
	RSSPeak    int64         // peak RSS after every run
	CPUPerReq  time.Duration // the proxy's CPU time (all its processes) per request of the -c64 run
	Misses     int64         // cache hits scenario: requests of the -c64 run that reached the upstream
	RedisErrs  int64         // corsbridge-cache-redis: the cache's failed Redis calls during the -c64 run
	Err        error
}

// results holds every round's sample per target, in round order.
type results map[string][]sample

// compare runs every target once per round, in the same order each round,
// each on a fresh process, so slow drift on a shared machine lands on all
// targets alike and ratios are taken within one round.
func compare(ctx context.Context, l *lab, stderr io.Writer) results {
	res := results{}
	for round := 1; round <= l.cfg.Rounds; round++ {
		for _, target := range l.cfg.Targets {
			if ctx.Err() != nil {
				return res
			}
			s := l.measure(ctx, target)
			res[target] = append(res[target], s)
			if s.Err != nil {
				fmt.Fprintf(stderr, "round %d %-24s error: %v\n", round, target, s.Err)
				continue
			}
			fmt.Fprintf(stderr, "round %d %-24s %8.0f req/s  p50 %7s  p99 %7s  cpu/req %6s  1-conn p50 %7s  stream %6.0f MB/s  rss %s/%s%s\n",
				round, target, s.Load.Requests, us(s.Load.P50), us(s.Load.P99), us(s.CPUPerReq), us(s.Single.P50),
				s.StreamMBps, mib(s.RSSStream), mib(s.RSSPeak), s.warnings())
		}
	}
	return res
}

func (s sample) warnings() string {
	var w []string
	for _, r := range []wrkResult{s.Load, s.Single} {
		if r.Non2xx > 0 {
			w = append(w, fmt.Sprintf("%d non-2xx", r.Non2xx))
		}
		if r.Errors > 0 {
			w = append(w, fmt.Sprintf("%d socket errors", r.Errors))
		}
	}
	// A cache-hit run that mostly reached the upstream measured misses.
	if s.Misses > 0 && s.Misses*100 > s.Load.Completed {
		w = append(w, fmt.Sprintf("%d of %d requests reached the upstream, not cache hits", s.Misses, s.Load.Completed))
		if s.RedisErrs > 0 {
			w = append(w, fmt.Sprintf("%d Redis calls failed or timed out (the cache's Redis tier steps aside for 1 s after each)", s.RedisErrs))
		}
	}
	if len(w) == 0 {
		return ""
	}
	return "  WARNING: " + strings.Join(w, ", ")
}

// measure starts a fresh instance, streams through it (so its peak RSS is
// the streaming test's), warms it up, then runs one connection and many.
func (l *lab) measure(ctx context.Context, target string) (s sample) {
	in, err := l.start(ctx, target)
	if err != nil {
		return sample{Err: err}
	}
	defer in.proc.stop()
	rss := func() int64 {
		if in.proc == nil {
			return 0
		}
		n, _ := peakRSS(in.proc.pid())
		return n
	}
	cfg := l.cfg
	if _, scenario := splitTarget(target); cfg.StreamBytes > 0 && scenario != cacheSuffix { // a stream is never cached
		if s.StreamMBps, err = l.stream(ctx, in); err != nil {
			return sample{Err: fmt.Errorf("stream: %w", err)}
		}
		s.RSSStream = rss()
	}
	if cfg.Warmup >= time.Second {
		if _, err := runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, cfg.Warmup, l.url(in, in.path)); err != nil {
			return sample{Err: fmt.Errorf("warm-up: %w", err)}
		}
	}
	if cfg.SingleDuration >= time.Second {
		if s.Single, err = runWrk(ctx, cfg.Pin.Load, 1, 1, cfg.SingleDuration, l.url(in, in.path)); err != nil {
			return sample{Err: err}
		}
	}
	var cpuBefore time.Duration
	if in.proc != nil {
		cpuBefore = cpuTime(in.proc.pid())
	}
	_, scenario := splitTarget(target)
	countMisses := scenario == cacheSuffix && in.proc != nil
	var before, redisBefore int64
	if countMisses {
		if before, err = l.cacheableCount(ctx); err != nil {
			return sample{Err: err}
		}
		if in.metrics != "" {
			if redisBefore, err = scrape(ctx, in.metrics, redisErrorsMetric); err != nil {
				return sample{Err: err}
			}
		}
	}
	if s.Load, err = runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, cfg.Duration, l.url(in, in.path)); err != nil {
		return sample{Err: err}
	}
	if in.proc != nil && s.Load.Completed > 0 {
		s.CPUPerReq = (cpuTime(in.proc.pid()) - cpuBefore) / time.Duration(s.Load.Completed)
	}
	if countMisses {
		after, err := l.cacheableCount(ctx)
		if err != nil {
			return sample{Err: err}
		}
		s.Misses = after - before
		if in.metrics != "" {
			redisAfter, err := scrape(ctx, in.metrics, redisErrorsMetric)
			if err != nil {
				return sample{Err: err}
			}
			s.RedisErrs = redisAfter - redisBefore
		}
	}
	s.RSSPeak = rss()
	return s
}

// stream reads StreamBytes through the instance with the fetch subcommand,
// pinned like wrk, and checks every byte arrived.
func (l *lab) stream(ctx context.Context, in *instance) (float64, error) {
	n := l.cfg.StreamBytes
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	argv := []string{l.self, "fetch", "-url", l.url(in, "/stream?n="+strconv.FormatInt(n, 10))}
	if l.ca != nil {
		argv = append(argv, "-ca", l.ca.CAFile)
	}
	cmd := command(ctx, l.cfg.Pin.Load, argv...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return 0, fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	if err != nil {
		return 0, err
	}
	var r fetchResult
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, fmt.Errorf("fetch printed %q: %w", out, err)
	}
	if r.Status != 200 || r.Bytes != n || r.Seconds <= 0 {
		return 0, fmt.Errorf("status %d, %d of %d bytes", r.Status, r.Bytes, n)
	}
	return float64(r.Bytes) / r.Seconds / 1e6, nil
}

// us formats a latency; 0 is "not measured".
func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}

func mib(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fMiB", float64(n)/(1<<20))
}

// cacheableCount asks the upstream how often /1k-cacheable reached it.
func (l *lab) cacheableCount(ctx context.Context) (int64, error) {
	body, err := getText(ctx, "http://"+l.upstream+"/cacheable-count")
	if err != nil {
		return 0, fmt.Errorf("upstream count: %w", err)
	}
	return strconv.ParseInt(body, 10, 64)
}

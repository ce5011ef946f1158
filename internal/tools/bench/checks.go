package main

import (
	"fmt"
	"io"
)

// check is one performance target of an issue and its measured value;
// value 0 is "not measured".
type check struct {
	name  string
	value float64
	ok    func(float64) bool
	unit  string // shown after the value instead of "×"
}

func atLeast(min float64) func(float64) bool { return func(v float64) bool { return v >= min } }
func atMost(max float64) func(float64) bool  { return func(v float64) bool { return v <= max } }

func issue7Checks(r results) []check {
	checks := []check{
		{"req/s ≥ 1.2 × plain", r.ratio("corsbridge", "plain", reqs), atLeast(1.2), ""},
		{"(req/s ≥ 1.2 × plain-keepalive, not in the issue)", r.ratio("corsbridge", "plain-keepalive", reqs), atLeast(1.2), ""},
		{"req/s ≥ 0.7 × nginx", r.ratio("corsbridge", "nginx", reqs), atLeast(0.7), ""},
		{"req/s ≥ 5 × cors-anywhere (defaults)", r.ratio("corsbridge", "cors-anywhere", reqs), atLeast(5), ""},
		{"p99 ≤ 1.5 × nginx's", r.ratio("corsbridge", "nginx", p99), atMost(1.5), ""},
		{"Redis-backed req/s ≥ 0.8 × local", r.ratio("corsbridge-redis", "corsbridge", reqs), atLeast(0.8), ""},
		{"stream MB/s ≥ nginx's", r.ratio("corsbridge", "nginx", streamMB), atLeast(1), ""},
		{"peak RSS streaming < 64 MiB", r.median("corsbridge", rssStream) / (1 << 20), atMost(64), "MiB"},
	}
	if d, ok := r.overhead("corsbridge"); ok {
		checks = append(checks, check{"1-conn p50 over direct < 100 µs", float64(d) / 1e3, atMost(100), "µs"})
	}
	return checks
}

// issue17Checks are the second round's targets; the HTTPS one is the
// -https scenario's.
func issue17Checks(r results) []check {
	var overNginx float64
	if cb, ok := r.overhead("corsbridge"); ok && cb > 0 {
		if ng, ok := r.overhead("nginx"); ok && ng > 0 {
			overNginx = float64(cb) / float64(ng)
		}
	}
	return []check{
		{"req/s ≥ 1.3 × plain-keepalive", r.ratio("corsbridge", "plain-keepalive", reqs), atLeast(1.3), ""},
		{"CPU/req ≤ 0.75 × plain-keepalive's", r.ratio("corsbridge", "plain-keepalive", cpuPerReq), atMost(0.75), ""},
		{"req/s ≥ 5 × cors-anywhere (defaults)", r.ratio("corsbridge", "cors-anywhere", reqs), atLeast(5), ""},
		{"1-conn p50 over direct ≤ 1.5 × nginx's", overNginx, atMost(1.5), ""},
		{"HTTPS upstream: req/s > nginx-https", r.ratio("corsbridge-https", "nginx-https", reqs), func(v float64) bool { return v > 1 }, ""},
		{"peak RSS streaming < 64 MiB", r.median("corsbridge", rssStream) / (1 << 20), atMost(64), "MiB"},
		{"Redis-backed req/s ≥ 0.8 × local", r.ratio("corsbridge-redis", "corsbridge", reqs), atLeast(0.8), ""},
	}
}

// issue14Checks are the cache-hit scenario's goals, every feature on, in
// the same run: hits against nginx's proxy_cache hits and against
// corsbridge's own forwarded requests, a Redis-tier hit against a memory
// hit, and the hits' latencies (reported, no goal).
func issue14Checks(r results) []check {
	latency := func(target string, m metric) float64 { return r.median(target, m) / 1e3 }
	return []check{
		{"hits: req/s ≥ 0.6 × nginx-cache", r.ratio("corsbridge-cache", "nginx-cache", reqs), atLeast(0.6), ""},
		{"hits: req/s ≥ 3 × corsbridge uncached", r.ratio("corsbridge-cache", "corsbridge", reqs), atLeast(3), ""},
		{"Redis-tier hits: req/s ≥ 0.5 × memory hits", r.ratio(cacheRedisTarget, "corsbridge-cache", reqs), atLeast(0.5), ""},
		{"(hits: CPU/req ÷ nginx-cache's, not in the issue)", r.ratio("corsbridge-cache", "nginx-cache", cpuPerReq), nil, ""},
		{"memory hits: p50", latency("corsbridge-cache", p50), nil, "µs"},
		{"memory hits: p99", latency("corsbridge-cache", p99), nil, "µs"},
		{"Redis-tier hits: p50", latency(cacheRedisTarget, p50), nil, "µs"},
		{"Redis-tier hits: p99", latency(cacheRedisTarget, p99), nil, "µs"},
	}
}

// writeChecks prints checks as a table with a verdict each; a check
// without a goal is reported only.
func writeChecks(w io.Writer, title string, checks []check) {
	fmt.Fprintf(w, "\n| %s | measured | |\n|---|---:|---|\n", title)
	for _, c := range checks {
		verdict, shown := "not measured", "-"
		if c.value != 0 {
			switch {
			case c.ok == nil:
				verdict = "reported"
			case c.ok(c.value):
				verdict = "ok"
			default:
				verdict = "FAIL"
			}
			shown = times(c.value)
			if c.unit != "" {
				shown = fmt.Sprintf("%.0f %s", c.value, c.unit)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.name, shown, verdict)
	}
}

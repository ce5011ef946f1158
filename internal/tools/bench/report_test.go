package main

import (
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{0, 5, 0}, 5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Ratios pair the rounds: a target that was slow in the round the machine
// was busy is compared with the reference in that same round.
func TestRatioPairsRounds(t *testing.T) {
	load := func(rps float64, p50 time.Duration) sample {
		return sample{Load: wrkResult{Requests: rps}, Single: wrkResult{P50: p50}}
	}
	r := results{
		"corsbridge": {load(100, 300*time.Microsecond), load(50, 500*time.Microsecond), load(120, 260*time.Microsecond)},
		"nginx":      {load(100, 100*time.Microsecond), load(25, 100*time.Microsecond), load(100, 100*time.Microsecond)},
		"direct":     {load(200, 100*time.Microsecond), load(200, 200*time.Microsecond), load(200, 60*time.Microsecond)},
	}
	if got := r.ratio("corsbridge", "nginx", reqs); got != 1.2 {
		t.Errorf("ratio = %v, want 1.2 (the median of 1, 2 and 1.2)", got)
	}
	if got, ok := r.overhead("corsbridge"); !ok || got != 200*time.Microsecond {
		t.Errorf("overhead = %v, %v; want 200µs", got, ok)
	}
	r["nginx"][1].Err = errTest
	if got := r.ratio("corsbridge", "nginx", reqs); got != 1.1 {
		t.Errorf("ratio without the failed round = %v, want 1.1", got)
	}
}

var errTest = testError("failed")

type testError string

func (e testError) Error() string { return string(e) }

// The HTTPS scenario is its own section: its targets are compared with the
// HTTPS references and with themselves over plain HTTP, and their 1-conn
// overhead is taken over direct-https.
func TestReportHTTPSScenario(t *testing.T) {
	run := func(rps float64, p50 time.Duration) []sample {
		return []sample{{Load: wrkResult{Requests: rps}, Single: wrkResult{P50: p50}}}
	}
	r := results{
		"direct":           run(1000, 100*time.Microsecond),
		"corsbridge":       run(400, 300*time.Microsecond),
		"nginx":            run(800, 200*time.Microsecond),
		"direct-https":     run(900, 150*time.Microsecond),
		"corsbridge-https": run(300, 450*time.Microsecond),
		"nginx-https":      run(200, 350*time.Microsecond),
	}
	if d, ok := r.overhead("corsbridge-https"); !ok || d != 300*time.Microsecond {
		t.Errorf("overhead(corsbridge-https) = %v, %v; want 300µs over direct-https", d, ok)
	}
	var out strings.Builder
	l := &lab{cfg: Config{Rounds: 1, Targets: []string{"direct", "corsbridge", "nginx", "direct-https", "corsbridge-https", "nginx-https"}}}
	writeReport(&out, l, r)
	report := out.String()
	httpsAt := strings.Index(report, "### HTTPS upstream")
	if httpsAt < 0 || strings.Index(report, "### plain HTTP upstream") > httpsAt {
		t.Fatalf("want a plain HTTP section, then an HTTPS one:\n%s", report)
	}
	for _, want := range []string{
		"| corsbridge-https ÷ reference",
		"| nginx-https | 1.50× |",
		"| corsbridge (plain HTTP upstream) | 0.75× |",
		"| HTTPS upstream: req/s > nginx-https | 1.50× | ok |",
	} {
		if !strings.Contains(report[httpsAt:], want) {
			t.Errorf("HTTPS section lacks %q:\n%s", want, report[httpsAt:])
		}
	}
	if strings.Contains(report[:httpsAt], "-https") {
		t.Errorf("plain HTTP section mentions an -https target:\n%s", report[:httpsAt])
	}
}

// The cache-hit section compares the Redis-tier target with the memory
// hit, nginx's proxy_cache and corsbridge uncached, and issue 14's goals
// are judged from the same rounds.
func TestReportCacheScenario(t *testing.T) {
	run := func(rps float64, p50, p99 time.Duration) []sample {
		return []sample{{Load: wrkResult{Requests: rps, P50: p50, P99: p99}}}
	}
	r := results{
		"corsbridge":       run(5000, 9*time.Millisecond, 40*time.Millisecond),
		"direct-cache":     run(30000, 2*time.Millisecond, 30*time.Millisecond),
		"corsbridge-cache": run(20000, 3*time.Millisecond, 35*time.Millisecond),
		cacheRedisTarget:   run(8000, 8*time.Millisecond, 50*time.Millisecond),
		"nginx-cache":      run(40000, time.Millisecond, 30*time.Millisecond),
	}
	var out strings.Builder
	l := &lab{cfg: Config{Rounds: 1, Targets: []string{"corsbridge", "direct-cache", "corsbridge-cache", cacheRedisTarget, "nginx-cache"}}}
	writeReport(&out, l, r)
	report := out.String()
	cacheAt := strings.Index(report, "### cache hits")
	if cacheAt < 0 {
		t.Fatalf("no cache section:\n%s", report)
	}
	for _, want := range []string{
		"| corsbridge-cache-redis | 8000 |",
		"| corsbridge-cache-redis ÷ reference",
		"| corsbridge-cache | 0.40× |",
		"| nginx-cache | 0.20× |",
		"| corsbridge (uncached /1k) | 1.60× |",
		"| hits: req/s ≥ 0.6 × nginx-cache | 0.50× | FAIL |",
		"| hits: req/s ≥ 3 × corsbridge uncached | 4.00× | ok |",
		"| Redis-tier hits: req/s ≥ 0.5 × memory hits | 0.40× | FAIL |",
		"| memory hits: p99 | 35000 µs | reported |",
		"| Redis-tier hits: p50 | 8000 µs | reported |",
	} {
		if !strings.Contains(report[cacheAt:], want) {
			t.Errorf("report lacks %q:\n%s", want, report[cacheAt:])
		}
	}
	if strings.Contains(report, "| corsbridge-cache-redis | 1.00× |") {
		t.Errorf("the Redis-tier target is compared with itself:\n%s", report)
	}
}

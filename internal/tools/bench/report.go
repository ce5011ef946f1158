package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// references are what corsbridge is compared with, in table order.
var references = []string{"plain", "plain-keepalive", "nginx", "cors-anywhere", "cors-anywhere-keepalive", "direct"}

// median of the values that are present (> 0); 0 when none are.
func median(values []float64) float64 {
	var v []float64
	for _, x := range values {
		if x > 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// metric reads one figure from a sample; 0 means not measured.
type metric func(s sample) float64

var (
	reqs      metric = func(s sample) float64 { return s.Load.Requests }
	p50       metric = func(s sample) float64 { return float64(s.Load.P50) }
	p99       metric = func(s sample) float64 { return float64(s.Load.P99) }
	singleP50 metric = func(s sample) float64 { return float64(s.Single.P50) }
	streamMB  metric = func(s sample) float64 { return s.StreamMBps }
	rssStream metric = func(s sample) float64 { return float64(s.RSSStream) }
	rssPeak   metric = func(s sample) float64 { return float64(s.RSSPeak) }
	cpuPerReq metric = func(s sample) float64 { return float64(s.CPUPerReq) }
)

func (r results) median(target string, m metric) float64 {
	var v []float64
	for _, s := range r[target] {
		if s.Err == nil {
			v = append(v, m(s))
		}
	}
	return median(v)
}

// ratio is the median over rounds of a's figure over b's in the same round:
// only ratios measured side by side are trusted on a shared machine.
func (r results) ratio(a, b string, m metric) float64 {
	var v []float64
	for i := range min(len(r[a]), len(r[b])) {
		sa, sb := r[a][i], r[b][i]
		if sa.Err == nil && sb.Err == nil && m(sa) > 0 && m(sb) > 0 {
			v = append(v, m(sa)/m(sb))
		}
	}
	return median(v)
}

// overhead is the median over rounds of target's single-connection p50
// minus direct's in the same round.
func (r results) overhead(target string) (time.Duration, bool) {
	var v []float64
	for i := range min(len(r[target]), len(r["direct"])) {
		st, sd := r[target][i], r["direct"][i]
		if st.Err == nil && sd.Err == nil && st.Single.P50 > 0 && sd.Single.P50 > 0 {
			// Shifted to stay positive through median's "present" filter.
			v = append(v, float64(st.Single.P50-sd.Single.P50)+1e12)
		}
	}
	m := median(v)
	return time.Duration(m - 1e12), m > 0
}

func writeReport(w io.Writer, l *lab, r results) {
	cfg := l.cfg
	fmt.Fprintf(w, "\n## Results: medians of %d interleaved rounds\n\n", cfg.Rounds)
	fmt.Fprintf(w, "wrk -t%d -c%d -d%v (after %v warm-up); 1-conn: wrk -t1 -c1 -d%v; stream: %s once per round; pin: %s; %d CPUs.\n\n",
		cfg.Threads, cfg.Connections, cfg.Duration, cfg.Warmup, cfg.SingleDuration, sizeString(cfg.StreamBytes), cfg.Pin, numCPU())
	fmt.Fprintln(w, "| target | req/s | p50 | p99 | CPU/req | 1-conn p50 | 1-conn over direct | stream MB/s | peak RSS, stream | peak RSS, all runs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range cfg.Targets {
		over := "-"
		if d, ok := r.overhead(t); ok && t != "direct" {
			over = us(d)
		}
		cpu := "-"
		if c := r.median(t, cpuPerReq); c > 0 {
			cpu = us(time.Duration(c))
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n", t,
			r.median(t, reqs), us(time.Duration(r.median(t, p50))), us(time.Duration(r.median(t, p99))), cpu,
			us(time.Duration(r.median(t, singleP50))), over, mbps(r.median(t, streamMB)),
			mib(int64(r.median(t, rssStream))), mib(int64(r.median(t, rssPeak))))
	}
	for _, subject := range []string{"corsbridge", "candidate", "corsbridge-redis"} {
		if len(r[subject]) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n| %s ÷ reference (median of per-round ratios) | req/s | p99 | CPU/req | stream MB/s |\n|---|---:|---:|---:|---:|\n", subject)
		for _, ref := range append([]string{"corsbridge"}, references...) {
			if ref == subject || len(r[ref]) == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", ref, times(r.ratio(subject, ref, reqs)), times(r.ratio(subject, ref, p99)),
				times(r.ratio(subject, ref, cpuPerReq)), times(r.ratio(subject, ref, streamMB)))
		}
	}
	writeChecks(w, r)
	var failed int
	for _, t := range cfg.Targets {
		for _, s := range r[t] {
			if s.Err != nil || s.warnings() != "" {
				failed++
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(w, "\n%d runs had errors or non-2xx answers: see the progress lines above.\n", failed)
	}
}

// writeChecks compares the results with issue 7's targets.
func writeChecks(w io.Writer, r results) {
	type check struct {
		name  string
		value float64
		ok    func(float64) bool
		show  string
	}
	ge := func(min float64) func(float64) bool { return func(v float64) bool { return v >= min } }
	le := func(max float64) func(float64) bool { return func(v float64) bool { return v <= max } }
	checks := []check{
		{"req/s ≥ 1.2 × plain", r.ratio("corsbridge", "plain", reqs), ge(1.2), ""},
		{"(req/s ≥ 1.2 × plain-keepalive, not in the issue)", r.ratio("corsbridge", "plain-keepalive", reqs), ge(1.2), ""},
		{"req/s ≥ 0.7 × nginx", r.ratio("corsbridge", "nginx", reqs), ge(0.7), ""},
		{"req/s ≥ 5 × cors-anywhere (defaults)", r.ratio("corsbridge", "cors-anywhere", reqs), ge(5), ""},
		{"p99 ≤ 1.5 × nginx's", r.ratio("corsbridge", "nginx", p99), le(1.5), ""},
		{"Redis-backed req/s ≥ 0.8 × local", r.ratio("corsbridge-redis", "corsbridge", reqs), ge(0.8), ""},
		{"stream MB/s ≥ nginx's", r.ratio("corsbridge", "nginx", streamMB), ge(1), ""},
		{"peak RSS streaming < 64 MiB", r.median("corsbridge", rssStream) / (1 << 20), le(64), "MiB"},
	}
	if d, ok := r.overhead("corsbridge"); ok {
		checks = append(checks, check{"1-conn p50 over direct < 100 µs", float64(d) / 1e3, le(100), "µs"})
	}
	fmt.Fprintln(w, "\n| issue 7 target | measured | |\n|---|---:|---|")
	for _, c := range checks {
		verdict, shown := "not measured", "-"
		if c.value != 0 {
			verdict = "FAIL"
			if c.ok(c.value) {
				verdict = "ok"
			}
			shown = times(c.value)
			if c.show != "" {
				shown = fmt.Sprintf("%.0f %s", c.value, c.show)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.name, shown, verdict)
	}
}

func times(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", v)
}

func mbps(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dB", n)
}

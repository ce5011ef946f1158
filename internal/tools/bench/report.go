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
// minus direct's (direct-https's for an -https target) in the same round.
func (r results) overhead(target string) (time.Duration, bool) {
	_, scenario := splitTarget(target)
	direct := "direct" + scenario
	var v []float64
	for i := range min(len(r[target]), len(r[direct])) {
		st, sd := r[target][i], r[direct][i]
		if st.Err == nil && sd.Err == nil && st.Single.P50 > 0 && sd.Single.P50 > 0 {
			// Shifted to stay positive through median's "present" filter.
			v = append(v, float64(st.Single.P50-sd.Single.P50)+1e12)
		}
	}
	m := median(v)
	return time.Duration(m - 1e12), m > 0
}

// scenarios are the report's sections: the target-name suffix and a title.
var scenarios = []struct{ suffix, title string }{
	{"", "plain HTTP upstream"},
	{httpsSuffix, "HTTPS upstream (TLS 1.3, HTTP/2 offered; every proxy trusts the run's CA)"},
	{cacheSuffix, "cache hits (/1k-cacheable, Cache-Control: public, max-age=3600; no stream test)"},
}

func writeReport(w io.Writer, l *lab, r results) {
	cfg := l.cfg
	fmt.Fprintf(w, "\n## Results: medians of %d interleaved rounds\n\n", cfg.Rounds)
	fmt.Fprintf(w, "wrk -t%d -c%d -d%v (after %v warm-up); 1-conn: wrk -t1 -c1 -d%v; stream: %s once per round; pin: %s; %d CPUs.\n",
		cfg.Threads, cfg.Connections, cfg.Duration, cfg.Warmup, cfg.SingleDuration, sizeString(cfg.StreamBytes), cfg.Pin, numCPU())
	for _, sc := range scenarios {
		var targets []string
		for _, t := range cfg.Targets {
			if _, scenario := splitTarget(t); scenario == sc.suffix {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s\n\n", sc.title)
		writeTable(w, r, targets)
		for _, subject := range []string{"corsbridge", "candidate", "corsbridge-redis"} {
			writeRatios(w, r, subject+sc.suffix, sc.suffix)
		}
		if sc.suffix == cacheSuffix {
			writeRatios(w, r, cacheRedisTarget, sc.suffix)
		}
	}
	writeChecks(w, "issue 7 target", issue7Checks(r))
	writeChecks(w, "issue 17 target", issue17Checks(r))
	writeChecks(w, "issue 14 target (cache hits)", issue14Checks(r))
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

// writeTable is one scenario's medians, a row per target.
func writeTable(w io.Writer, r results, targets []string) {
	fmt.Fprintln(w, "| target | req/s | p50 | p99 | CPU/req | 1-conn p50 | 1-conn over direct | stream MB/s | peak RSS, stream | peak RSS, all runs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range targets {
		over := "-"
		if d, ok := r.overhead(t); ok {
			if name, _ := splitTarget(t); name != "direct" {
				over = us(d)
			}
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
}

// writeRatios compares subject with every reference of its scenario, and
// an -https subject also with itself over plain HTTP: what TLS costs it.
func writeRatios(w io.Writer, r results, subject, suffix string) {
	var refs []string
	for _, ref := range append([]string{"corsbridge"}, references...) {
		if ref+suffix != subject && len(r[ref+suffix]) > 0 {
			refs = append(refs, ref+suffix)
		}
	}
	name, scenario := splitTarget(subject)
	if name == cacheRedisTarget {
		name = "corsbridge" // its uncached self
	}
	if scenario != "" && len(r[name]) > 0 {
		refs = append(refs, name)
	}
	if len(r[subject]) == 0 || len(refs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n| %s ÷ reference (median of per-round ratios) | req/s | p99 | CPU/req | stream MB/s |\n|---|---:|---:|---:|---:|\n", subject)
	for _, ref := range refs {
		label := ref
		if _, scenario := splitTarget(ref); scenario == "" && suffix != "" {
			label += map[string]string{httpsSuffix: " (plain HTTP upstream)", cacheSuffix: " (uncached /1k)"}[suffix]
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", label, times(r.ratio(subject, ref, reqs)), times(r.ratio(subject, ref, p99)),
			times(r.ratio(subject, ref, cpuPerReq)), times(r.ratio(subject, ref, streamMB)))
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

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/web"
)

// benchOrigin is the Origin every request carries; corsbridge's policy in
// the benchmark allows it.
const benchOrigin = "https://app.example"

// defaultTargets run unless -targets says otherwise, in this order each
// round. plain-keepalive is the plain proxy with 256 idle upstream
// connections per host instead of the standard library's 2: the floor of a
// Go proxy on net/http, where plain with defaults mostly measures
// reconnecting. The -https targets are the same proxies in front of the
// upstream's TLS 1.3 listener (HTTP/2 offered), the way most real traffic
// reaches APIs.
var defaultTargets = []string{
	"direct", "plain", "plain-keepalive", "corsbridge", "corsbridge-redis", "nginx", "cors-anywhere", "cors-anywhere-keepalive",
	"direct-https", "plain-https", "plain-keepalive-https", "corsbridge-https", "nginx-https",
	"cors-anywhere-https", "cors-anywhere-keepalive-https",
	"direct-cache", "corsbridge-cache", cacheRedisTarget, "nginx-cache",
}

// The scenarios after the plain-HTTP one, by the suffix their targets
// carry: the upstream over TLS, and cache hits (a response the upstream
// lets shared caches keep, served by corsbridge's cache and by nginx's
// proxy_cache; direct-cache is the upstream itself, the ceiling).
const (
	httpsSuffix = "-https"
	cacheSuffix = "-cache"
)

// cacheRedisTarget is corsbridge in the cache-hit scenario with Redis as
// the cache's shared tier and nothing kept in memory
// (CORSBRIDGE_CACHE_LOCAL_TTL=0), so every hit is read from Redis: the
// memory tier's cost is corsbridge-cache's. The limits stay in memory, so
// the two differ only in the tier a hit comes from.
const cacheRedisTarget = "corsbridge-cache-redis"

// splitTarget reads "nginx-https" as nginx in the -https scenario;
// corsbridge-cache-redis is a name of its own in the cache-hit scenario.
func splitTarget(target string) (name, scenario string) {
	if target == cacheRedisTarget {
		return target, cacheSuffix
	}
	for _, suffix := range []string{httpsSuffix, cacheSuffix} {
		if name, ok := strings.CutSuffix(target, suffix); ok {
			return name, suffix
		}
	}
	return target, ""
}

// Config is one benchmark run.
type Config struct {
	Rounds         int
	Duration       time.Duration // each -c64 run
	SingleDuration time.Duration // each -c1 run
	Warmup         time.Duration
	Connections    int
	Threads        int
	StreamBytes    int64
	Pin            pinning
	Targets        []string
	Corsbridge     string // binary; empty builds ./cmd/corsbridge
	Candidate      string // a second corsbridge binary run as target "candidate", for A/B tests of a change
	Source         string // module directory to build from
	CacheDir       string // where cors-anywhere is installed by npm
	KeepDir        bool
	Profile        string   // non-empty: profile corsbridge under load into this directory instead
	CorsbridgeEnv  []string // extra KEY=VALUE for corsbridge instances (GOGC=400, ...)
}

// envList collects a repeated KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q: want KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func parseConfig(args []string, stderr io.Writer) (Config, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	var c Config
	var stream, pin, targets string
	fs := flag.NewFlagSet("corsbridge-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `corsbridge-bench compares corsbridge with a plain ReverseProxy, nginx and
cors-anywhere on loopback (wrk, 1 KiB responses, a streamed body), in front of
a plain HTTP upstream, an HTTPS one (TLS 1.3, HTTP/2, a CA made for the run:
targets ending in -https) and for cache hits (targets ending in -cache), then
prints medians and ratios per scenario. See docs/performance.md.

usage: corsbridge-bench [flags]
       corsbridge-bench upstream|plain|fetch [flags]   (the processes it starts)

`)
		fs.PrintDefaults()
	}
	fs.IntVar(&c.Rounds, "rounds", 3, "interleaved rounds (A B C A B C ...); medians are over rounds")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of each throughput run (wrk -c CONNECTIONS)")
	fs.DurationVar(&c.SingleDuration, "single-duration", 5*time.Second, "length of each single-connection run (wrk -t1 -c1)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured load on each fresh process before its runs")
	fs.IntVar(&c.Connections, "connections", 64, "connections of the throughput run")
	fs.IntVar(&c.Threads, "threads", 2, "wrk threads of the throughput run")
	fs.StringVar(&stream, "stream", "1GiB", "body size of the streaming test (KiB, MiB, GiB suffixes); 0 skips it")
	fs.StringVar(&pin, "pin", "none", `CPU pinning with taskset: "none", "split" (load generator on CPU 0; proxy, upstream and Redis on CPU 1), or "load=LIST,proxy=LIST,upstream=LIST" with taskset -c lists`)
	fs.StringVar(&targets, "targets", strings.Join(defaultTargets, ","), "targets to run, comma-separated")
	fs.StringVar(&c.Corsbridge, "corsbridge", "", "corsbridge binary to test; empty builds ./cmd/corsbridge from -src with go build")
	fs.StringVar(&c.Candidate, "candidate", "", `a changed corsbridge binary, run as target "candidate" right after corsbridge with the same settings`)
	fs.StringVar(&c.Source, "src", ".", "module directory -corsbridge is built from")
	fs.StringVar(&c.CacheDir, "cache", filepath.Join(cache, "corsbridge-bench"), "directory holding cors-anywhere (npm install --prefix DIR/cors-anywhere cors-anywhere)")
	fs.BoolVar(&c.KeepDir, "keep", false, "keep the temporary directory (configs, logs) and print its path")
	fs.Var((*envList)(&c.CorsbridgeEnv), "corsbridge-env", "KEY=VALUE added to every corsbridge instance's environment (repeatable), e.g. GOGC=400")
	fs.StringVar(&c.Profile, "profile", "", "instead of the comparison, write cpu.pprof, allocs.pprof and mutex.pprof of the corsbridge binary under load (CORSBRIDGE_PPROF) to this directory")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.StreamBytes, err = web.ParseBytes(stream); err != nil {
		return c, fmt.Errorf("-stream: %w", err)
	}
	if c.Pin, err = parsePin(pin); err != nil {
		return c, fmt.Errorf("-pin: %w", err)
	}
	if c.Targets, err = parseTargets(targets); err != nil {
		return c, fmt.Errorf("-targets: %w", err)
	}
	if c.Candidate != "" {
		c.Targets = withCandidate(c.Targets)
	}
	switch {
	case c.Rounds < 1 || c.Rounds > 20:
		return c, errors.New("-rounds must be 1..20")
	case c.Duration < time.Second || c.Duration > 2*time.Minute:
		return c, errors.New("-duration must be 1s..2m")
	case c.SingleDuration < 0 || c.SingleDuration > 2*time.Minute:
		return c, errors.New("-single-duration must be 0..2m")
	case c.Warmup < 0 || c.Warmup > time.Minute:
		return c, errors.New("-warmup must be 0..1m")
	case c.Connections < 1 || c.Connections > 4096:
		return c, errors.New("-connections must be 1..4096")
	case c.Threads < 1 || c.Threads > c.Connections:
		return c, errors.New("-threads must be 1..connections")
	case c.StreamBytes > maxStream:
		return c, errors.New("-stream must be at most 64GiB")
	}
	return c, nil
}

func parseTargets(s string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !knownTarget(name) {
			return nil, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(defaultTargets, ", "))
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("no targets")
	}
	return out, nil
}

// knownTarget: a default target, or candidate in any scenario corsbridge
// runs in.
func knownTarget(target string) bool {
	name, scenario := splitTarget(target)
	return slices.Contains(defaultTargets, target) || name == "candidate" && slices.Contains(defaultTargets, "corsbridge"+scenario)
}

// withCandidate runs -candidate right after corsbridge in each scenario
// that has corsbridge (at the end when none has), unless -targets names it.
func withCandidate(targets []string) []string {
	for _, t := range targets {
		if name, _ := splitTarget(t); name == "candidate" {
			return targets
		}
	}
	var out []string
	added := false
	for _, t := range targets {
		out = append(out, t)
		if name, scenario := splitTarget(t); name == "corsbridge" {
			out = append(out, "candidate"+scenario)
			added = true
		}
	}
	if !added {
		out = append(out, "candidate")
	}
	return out
}

// maxStream bounds the streaming test, so one mistyped size cannot keep
// the machine busy for hours.
const maxStream = 64 << 30

// pinning assigns taskset CPU lists to the three roles; empty means unpinned.
type pinning struct{ Load, Proxy, Upstream string }

func (p pinning) String() string {
	if p == (pinning{}) {
		return "none"
	}
	return fmt.Sprintf("load=%s,proxy=%s,upstream=%s", p.Load, p.Proxy, p.Upstream)
}

func parsePin(s string) (pinning, error) {
	switch s {
	case "", "none":
		return pinning{}, nil
	case "split":
		return pinning{Load: "0", Proxy: "1", Upstream: "1"}, nil
	}
	var p pinning
	for part := range strings.SplitSeq(s, ",") {
		role, cpus, ok := strings.Cut(part, "=")
		if !ok || cpus == "" || strings.Trim(cpus, "0123456789-:") != "" {
			return p, fmt.Errorf("%q: want role=CPULIST", part)
		}
		switch role {
		case "load":
			p.Load = cpus
		case "proxy":
			p.Proxy = cpus
		case "upstream":
			p.Upstream = cpus
		default:
			return p, fmt.Errorf("unknown role %q (load, proxy, upstream)", role)
		}
	}
	return p, nil
}

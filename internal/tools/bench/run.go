package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/corsbridge/corsbridge/internal/loopback"
)

// run dispatches the subcommands; without one it runs the comparison.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "upstream":
			return runUpstream(ctx, args[1:])
		case "plain":
			return runPlain(ctx, args[1:])
		case "fetch":
			return runFetch(ctx, args[1:], stdout)
		}
	}
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	l, cleanup, err := setUp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	if cfg.Profile != "" {
		return profile(ctx, l, stdout, stderr)
	}
	// Bounded: every run has its own limit, and so does the whole.
	perTarget := cfg.Duration + cfg.SingleDuration + cfg.Warmup + 20*time.Second
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Rounds*len(cfg.Targets))*perTarget+2*time.Minute)
	defer cancel()
	res := compare(ctx, l, stderr)
	writeReport(stdout, l, res)
	return ctx.Err()
}

func numCPU() int { return runtime.NumCPU() }

// setUp checks the tools, builds corsbridge, and starts the upstream and
// redis-server. Targets whose tool is missing are dropped with a note.
func setUp(ctx context.Context, cfg Config, stderr io.Writer) (*lab, func(), error) {
	note := func(format string, a ...any) { fmt.Fprintf(stderr, "note: "+format+"\n", a...) }
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, nil, errors.New("wrk not found: apt-get install -y wrk (make bench does)")
	}
	if cfg.Pin != (pinning{}) {
		if _, err := exec.LookPath("taskset"); err != nil {
			note("taskset not found: running unpinned")
			cfg.Pin = pinning{}
		}
	}
	dir, err := os.MkdirTemp("", "corsbridge-bench-")
	if err != nil {
		return nil, nil, err
	}
	l := &lab{cfg: cfg, dir: dir}
	var stops []func()
	cleanup := func() {
		for _, stop := range stops {
			stop()
		}
		if cfg.KeepDir {
			fmt.Fprintf(stderr, "kept %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}
	fail := func(err error) (*lab, func(), error) { cleanup(); return nil, nil, err }

	if l.self, err = os.Executable(); err != nil {
		return fail(err)
	}
	want := map[string]bool{} // by base name: nginx-https wants nginx
	wantTLS := false
	for _, t := range cfg.Targets {
		name, scenario := splitTarget(t)
		want[name], wantTLS = true, wantTLS || scenario == httpsSuffix
	}
	if cfg.Profile != "" {
		// Only one corsbridge target is profiled, through its own pprof
		// listener.
		name, scenario := splitTarget(profiledTarget(cfg.Targets))
		want, wantTLS = map[string]bool{name: true}, scenario == httpsSuffix
		l.cfg.CorsbridgeEnv = append(l.cfg.CorsbridgeEnv, "CORSBRIDGE_PPROF=true")
	}
	if want["corsbridge"] || want["corsbridge-redis"] || want[cacheRedisTarget] {
		if l.corsbridge, err = buildCorsbridge(ctx, cfg, dir); err != nil {
			return fail(err)
		}
	}
	if cfg.Candidate != "" && want["candidate"] {
		if l.candidate, err = filepath.Abs(cfg.Candidate); err != nil || !exists(l.candidate) {
			return fail(fmt.Errorf("-candidate %s: not found", cfg.Candidate))
		}
	}
	if want["nginx"] {
		if l.nginx, err = lookPath("nginx", "/usr/sbin/nginx"); err != nil {
			note("nginx not found (apt-get install -y nginx-light): skipping the nginx reference")
		}
	}
	if want["cors-anywhere"] || want["cors-anywhere-keepalive"] {
		l.caModule = filepath.Join(cfg.CacheDir, "cors-anywhere", "node_modules", "cors-anywhere")
		node, err := exec.LookPath("node")
		switch {
		case err != nil:
			note("node not found (apt-get install -y nodejs): skipping cors-anywhere")
		case !exists(filepath.Join(l.caModule, "package.json")):
			note("cors-anywhere not in %s (npm install --prefix %s cors-anywhere): skipping it", l.caModule, filepath.Dir(filepath.Dir(l.caModule)))
		default:
			l.node = node
		}
	}
	if err := l.startUpstream(ctx, wantTLS, func(stop func()) { stops = append(stops, stop) }); err != nil {
		return fail(err)
	}
	if want["corsbridge-redis"] || want[cacheRedisTarget] {
		if stop, err := l.startRedis(); err != nil {
			note("redis-server: %v: skipping corsbridge-redis and %s", err, cacheRedisTarget)
		} else {
			stops = append(stops, stop)
		}
	}
	var kept []string
	for _, t := range cfg.Targets {
		if l.available(t) {
			kept = append(kept, t)
		}
	}
	l.cfg.Targets = kept
	if cfg.Profile != "" {
		return l, cleanup, nil
	}
	fmt.Fprintf(stderr, "corsbridge-bench: %d rounds, pin %s, targets %v, dir %s\n", cfg.Rounds, cfg.Pin, kept, dir)
	return l, cleanup, nil
}

// startUpstream starts the upstream: plain HTTP always, and TLS with a CA
// made for this run when an -https target is wanted. onStop is handed what
// stops it.
func (l *lab) startUpstream(ctx context.Context, withTLS bool, onStop func(func())) error {
	ports := make([]int, 2)
	for i := range ports {
		var err error
		if ports[i], err = loopback.FreePort(); err != nil {
			return err
		}
	}
	l.upstream = "127.0.0.1:" + strconv.Itoa(ports[0])
	argv := []string{l.self, "upstream", "-addr", l.upstream}
	if withTLS {
		var err error
		if l.ca, err = newBenchCA(l.dir); err != nil {
			return fmt.Errorf("local CA: %w", err)
		}
		l.upstreamTLS = "127.0.0.1:" + strconv.Itoa(ports[1])
		argv = append(argv, "-tls-addr", l.upstreamTLS, "-cert", l.ca.CertFile, "-key", l.ca.KeyFile)
	}
	up, err := startProc("upstream", l.cfg.Pin.Upstream, cleanEnv(), filepath.Join(l.dir, "upstream.log"), argv...)
	if err != nil {
		return err
	}
	onStop(up.stop)
	if err := waitHTTP(ctx, up, "http://"+l.upstream+"/1k", nil, 10*time.Second); err != nil {
		return err
	}
	if l.ca != nil {
		return waitHTTP(ctx, up, "https://"+l.upstreamTLS+"/1k", l.ca.Pool, 10*time.Second)
	}
	return nil
}

func (l *lab) available(target string) bool {
	target, _ = splitTarget(target)
	switch target {
	case "corsbridge":
		return l.corsbridge != ""
	case "corsbridge-redis", cacheRedisTarget:
		return l.corsbridge != "" && l.redisURL != ""
	case "candidate":
		return l.candidate != ""
	case "nginx":
		return l.nginx != ""
	case "cors-anywhere", "cors-anywhere-keepalive":
		return l.node != ""
	}
	return true
}

func buildCorsbridge(ctx context.Context, cfg Config, dir string) (string, error) {
	if cfg.Corsbridge != "" {
		return filepath.Abs(cfg.Corsbridge)
	}
	bin := filepath.Join(dir, "corsbridge")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/corsbridge")
	cmd.Dir = cfg.Source
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/corsbridge in %s: %w\n%s", cfg.Source, err, out)
	}
	return bin, nil
}

func lookPath(name string, fallbacks ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, f := range fallbacks {
		if exists(f) {
			return f, nil
		}
	}
	return "", exec.ErrNotFound
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

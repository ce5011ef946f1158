package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/server"
)

// runProfiled serves corsbridge's handler wired as cmd/corsbridge wires it
// with the benchmark's settings (see corsbridgeEnv: policy, SSRF guard,
// local limits, JSON log, metrics recorded), plus pprof on a second
// loopback address. The binary itself exposes no pprof, so this is how its
// hot path is profiled under load.
func runProfiled(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("profiled", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "proxy listen address (loopback)")
	pprofAddr := fs.String("pprof-addr", "127.0.0.1:0", "pprof listen address (loopback)")
	logPath := fs.String("log", os.DevNull, "JSON request log file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, a := range []string{*addr, *pprofAddr} {
		if err := requireLoopback(a); err != nil {
			return err
		}
	}
	logFile, err := os.Create(*logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	policy, err := allowlist.New(allowlist.Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		AllowOrigins: []string{benchOrigin, "https://*.example.org"},
		AllowTargets: []string{"127.0.0.1"},
		SelfAddrs:    []netip.AddrPort{ln.Addr().(*net.TCPAddr).AddrPort()},
	})
	if err != nil {
		return err
	}
	cfg := server.DefaultConfig()
	cfg.MaxResponseBody = 64 << 30
	huge := ratelimit.Limit{Requests: ratelimit.MaxRequests, Window: time.Second}
	srv, err := server.New(server.Deps{
		Config:    cfg,
		Policy:    policy,
		Logger:    slog.New(slog.NewJSONHandler(logFile, nil)),
		RateLimit: &ratelimit.Config{Origin: huge, Client: huge},
		Metrics:   prometheus.NewRegistry(),
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	// One contention event in 100: enough to rank locks, too few to show
	// up in the CPU profile.
	runtime.SetMutexProfileFraction(100)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() { _ = serve(ctx, *pprofAddr, mux) }()
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { <-ctx.Done(); _ = httpSrv.Close() }()
	if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// profile runs the throughput load against the profiled server and saves
// CPU, allocation and mutex profiles of the middle of the run.
func profile(ctx context.Context, l *lab, stdout, stderr io.Writer) error {
	cfg := l.cfg
	if err := os.MkdirAll(cfg.Profile, 0o755); err != nil {
		return err
	}
	ports := make([]int, 2)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	addr, pprofAddr := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	p, err := startProc("profiled", cfg.Pin.Proxy, cleanEnv(), filepath.Join(l.dir, "profiled.log"),
		l.self, "profiled", "-addr", addr, "-pprof-addr", pprofAddr, "-log", filepath.Join(l.dir, "profiled-requests.log"))
	if err != nil {
		return err
	}
	defer p.stop()
	in := &instance{proc: p, base: "http://" + addr + "/http://" + l.upstream}
	if err := waitHTTP(ctx, p, l.url(in, "/1k"), 10*time.Second); err != nil {
		return err
	}
	if _, err := runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, max(cfg.Warmup, time.Second), l.url(in, "/1k")); err != nil {
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
			errs <- fetchProfile(ctx, "http://"+pprofAddr+"/debug/pprof/"+name+"?seconds="+strconv.Itoa(seconds), filepath.Join(cfg.Profile, file))
		})
	}
	res, err := runWrk(ctx, cfg.Pin.Load, cfg.Threads, cfg.Connections, cfg.Duration, l.url(in, "/1k"))
	wg.Wait()
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "profiled corsbridge handler: %.0f req/s, p50 %s, p99 %s%s\n", res.Requests, us(res.P50), us(res.P99), sample{Load: res}.warnings())
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

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/proxy"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/server"
	"github.com/corsbridge/corsbridge/usage"
	"github.com/corsbridge/corsbridge/web"
)

// run is the whole program: parse configuration, listen, serve until ctx is
// done, then drain. main only supplies the process's real arguments,
// environment and streams, so tests can run the binary in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return helped(healthcheck(ctx, args[1:], getenv, stdout))
		case "token":
			return helped(runToken(args[1:], getenv, stdout, stderr))
		case "admin":
			return helped(runAdmin(ctx, args[1:], getenv, stdin, stdout, stderr))
		}
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return helped(err)
	}
	cfg.Server.Version = versionString()
	logOut := newLogWriter(stderr)
	// Deferred first, so it runs last: every line, down to "stopped" and
	// whatever the deferred closes below log, is written before run returns.
	defer logOut.Close()
	logger := newLogger(cfg, logOut)

	door, err := openFrontDoor(cfg)
	if err != nil {
		return err
	}
	defer door.close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen on %s (metrics): %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}

	allow := cfg.Allow
	for _, a := range door.addrs() {
		allow.SelfAddrs = append(allow.SelfAddrs, selfAddrs(a)...)
	}
	if metricsLn != nil {
		// A proxied request must not reach the metrics listener either.
		allow.SelfAddrs = append(allow.SelfAddrs, selfAddrs(metricsLn.Addr())...)
	}
	policy, err := allowlist.New(allow)
	if err != nil {
		return &usageError{err}
	}
	site, err := web.New(siteInfo(cfg))
	if err != nil {
		return err
	}
	if cfg.RateLimit.RedisURL != "" || cfg.Cache.SharedRedisURL("") != "" {
		// go-redis logs every failed dial on its own; the limiter already
		// logs each change of Redis availability once.
		redis.SetLogger(ratelimit.RedisLog{Logger: logger, Level: slog.LevelDebug})
	}
	registry, err := newRegistry(cfg)
	if err != nil {
		return err
	}
	limits := cfg.RateLimit
	var rdb redis.UniversalClient
	if limits.RedisURL != "" {
		// One client for the shared limits and the access store; closed
		// after both (defers run last to first).
		opts, err := ratelimit.ParseRedisURL(limits.RedisURL)
		if err != nil {
			return &usageError{err}
		}
		rdb = redis.NewUniversalClient(opts)
		defer rdb.Close()
		limits.Redis = rdb
	}
	if err := door.loadCerts(cfg, rdb, logger); err != nil {
		return &usageError{err}
	}
	guard, err := newGuard(ctx, cfg.Access, rdb, logger)
	if err != nil {
		return &usageError{err}
	}
	defer guard.Close()
	roots, err := proxy.LoadRoots(cfg.UpstreamCAFile)
	if err != nil {
		return &usageError{fmt.Errorf("CORSBRIDGE_UPSTREAM_CA_FILE: %w", err)}
	}
	cacheCfg, cacheRedis, closeCacheRedis, err := cacheDeps(cfg, rdb)
	if err != nil {
		return &usageError{err}
	}
	defer closeCacheRedis()
	// Closed after the server (defers run last to first): its last flush
	// has every request, and before the Redis client it flushes to.
	ledger, err := usage.New(usageConfig(cfg.Access.KeysFile, rdb, logger))
	if err != nil {
		return &usageError{err}
	}
	defer ledger.Close()
	srv, err := server.New(server.Deps{Config: cfg.Server, Policy: policy, Logger: logger, Site: site, RateLimit: &limits,
		Metrics: registry, Access: guard, Usage: ledger, UpstreamRoots: roots, TLSStatus: door.tlsStatus(),
		Cache: cacheCfg, CacheRedis: cacheRedis})
	if err != nil {
		return &usageError{err}
	}
	defer srv.Close()

	door.serve(ctx, cfg, srv, logger)
	metricsErr := make(chan error, 1)
	var metricsSrv *http.Server
	if cfg.Pprof {
		// One lock contention event in 100: enough to rank locks, too few
		// to show in the CPU profile. Process-wide, so put back on return.
		defer runtime.SetMutexProfileFraction(runtime.SetMutexProfileFraction(100))
	}
	if metricsLn != nil {
		metricsSrv = newMetricsServer(srv.MetricsHandler(), cfg.Pprof, logger)
		go func() { metricsErr <- metricsSrv.Serve(metricsLn) }()
	}
	startAttrs := append(door.startAttrs(), "version", cfg.Server.Version, "usage", ledger.Backend())
	if metricsLn != nil {
		startAttrs = append(startAttrs, "metrics_addr", metricsLn.Addr().String())
	}
	startAttrs = append(startAttrs, slog.Group("config", anySlice(cfg.Effective)...))
	logger.Info("listening", startAttrs...)
	_ = logOut.Flush()

	select {
	case err := <-door.errs:
		return door.failed(fmt.Errorf("serve: %w", err))
	case err := <-metricsErr:
		door.closeNow()
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownGrace.String())
	_ = logOut.Flush()
	srv.Drain()
	if metricsSrv != nil {
		// Scrapes are short; the metrics listener does not wait for the
		// proxy's grace period.
		_ = metricsSrv.Close()
		<-metricsErr
	}
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	door.shutdown(graceCtx, logger)
	logger.Info("stopped")
	return nil
}

// newGuard builds the access guard: keys and blocks from the keys file when
// one is set, else from Redis when there is one; tokens from the secrets.
func newGuard(ctx context.Context, cfg AccessConfig, rdb redis.UniversalClient, logger *slog.Logger) (*access.Guard, error) {
	gc := access.Config{RequireKey: cfg.RequireKey, TokenSecrets: cfg.TokenSecrets, SecretsKey: cfg.SecretsKey, Logger: logger}
	switch {
	case cfg.KeysFile != "":
		store, err := access.OpenFileStore(cfg.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("CORSBRIDGE_KEYS_FILE: %w (create it with: corsbridge admin --keys-file %s keys add --name NAME)", err, cfg.KeysFile)
		}
		gc.Store = store
	case rdb != nil:
		gc.Store = access.NewRedisStore(rdb)
	}
	return access.New(ctx, gc)
}

// usageConfig says where the usage ledger keeps its figures: in Redis
// whenever there is one, shared by every instance (even when keys come
// from a keys file); else beside the keys file; else in memory.
func usageConfig(keysFile string, rdb redis.UniversalClient, logger *slog.Logger) usage.Config {
	cfg := usage.Config{Redis: rdb, Logger: logger}
	if rdb == nil && keysFile != "" {
		cfg.File = keysFile + usage.FileSuffix
	}
	return cfg
}

// newLogger logs to w, buffered (see logWriter); warnings and errors are
// flushed at once.
func newLogger(cfg Config, w *logWriter) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(logFlusher{Handler: h, out: w})
}

// selfAddrs lists the addresses the proxy listens on, which it must never
// dial: a request for its own address would loop. A wildcard listener is
// reachable on every interface address.
func selfAddrs(addr net.Addr) []netip.AddrPort {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	ap := tcp.AddrPort()
	port := ap.Port()
	self := []netip.AddrPort{netip.AddrPortFrom(ap.Addr().Unmap(), port)}
	if !ap.Addr().IsUnspecified() {
		return self
	}
	ifaceAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return self
	}
	for _, a := range ifaceAddrs {
		if prefix, err := netip.ParsePrefix(a.String()); err == nil {
			self = append(self, netip.AddrPortFrom(prefix.Addr().Unmap(), port))
		}
	}
	return self
}

func siteInfo(cfg Config) web.Info {
	info := web.Info{
		Version:         cfg.Server.Version,
		OriginLimit:     cfg.RateLimit.Origin.String(),
		ClientLimit:     cfg.RateLimit.Client.String(),
		SharedLimits:    cfg.RateLimit.RedisURL != "",
		AllowedOrigins:  cfg.Allow.AllowOrigins,
		MaxRequestBody:  cfg.Server.MaxRequestBody,
		MaxResponseBody: cfg.Server.MaxResponseBody,
		MaxRedirects:    cfg.Server.MaxRedirects,
		RequireHeader:   cfg.Server.RequireHeader,
		RequireKey:      cfg.Access.RequireKey,
		// Keys live in the keys file, else in Redis whenever there is one
		// (newGuard), and tokens need only a secret: any of them means a
		// key or token can be presented.
		KeysEnabled: cfg.Access.RequireKey || cfg.Access.KeysFile != "" || cfg.RateLimit.RedisURL != "" ||
			len(cfg.Access.TokenSecrets) > 0,
		SharedCache: cfg.Cache.SharedRedisURL(cfg.RateLimit.RedisURL) != "",
	}
	if cfg.Cache.Enabled {
		info.CacheSize = cfg.Cache.Size
	}
	if len(info.AllowedOrigins) == 0 {
		info.AllowedOrigins = cfg.OnlyOrigins
	}
	for _, p := range cfg.Allow.AllowPrivate {
		info.AllowPrivate = append(info.AllowPrivate, p.String())
	}
	for _, p := range cfg.Allow.AllowPorts {
		info.AllowPorts = append(info.AllowPorts, fmt.Sprint(p))
	}
	return info
}

// newRegistry builds the private Prometheus registry, with the Go runtime
// and process collectors, when metrics are enabled; nil otherwise, and the
// proxy records none.
func newRegistry(cfg Config) (*prometheus.Registry, error) {
	if !cfg.MetricsEnabled() {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// newMetricsServer serves /metrics, and with withPprof Go's profiles, on
// their own listener, so a public instance can keep them on a private
// address. The profiles are what make a slow instance diagnosable where it
// runs (make bench profiles the real binary this way). pprof's cmdline
// endpoint is left out: the command line may carry --token-secret or a
// Redis password.
func newMetricsServer(metrics http.Handler, withPprof bool, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	if withPprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index) // heap, allocs, mutex, goroutine, ...
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("GET /debug/pprof/cmdline", http.NotFound)
	}
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
}

func anySlice(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}

package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/corsbridge/corsbridge/internal/loopback"
)

// lab is what every target needs: the shared upstream, the binaries and
// a temporary directory for configs and logs.
type lab struct {
	cfg         Config
	dir         string
	self        string // this tool's binary, for its subcommands
	corsbridge  string
	candidate   string // -candidate, absolute
	node        string // node binary; empty skips cors-anywhere
	caModule    string // cors-anywhere's directory
	nginx       string // empty skips nginx
	redisURL    string // empty skips corsbridge-redis
	upstream    string // host:port of its plain HTTP listener
	upstreamTLS string // host:port of its HTTPS listener (TLS 1.3, HTTP/2 allowed)
	ca          *benchCA
	runs        int // processes started, for unique log names
}

// instance is one running target: its process (none for direct) and the
// base its request paths are appended to.
type instance struct {
	proc    *proc
	base    string // "http://127.0.0.1:P/http://upstream" or "http://127.0.0.1:P"
	path    string // what the load asks for: /1k, or /1k-cacheable for cache hits
	metrics string // corsbridge's metrics (and, when profiling, pprof) listener
}

func (l *lab) url(in *instance, path string) string { return in.base + path }

// env is a clean environment: no proxy variables, no CORSBRIDGE_* from the
// caller's shell, only what each target is given.
func cleanEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	return append(env, extra...)
}

// start launches a fresh instance of target and waits until it proxies.
// A target ending in -https is its base target in front of the upstream's
// TLS listener instead of its plain one; one ending in -cache asks for a
// response shared caches may keep, with the proxy's cache on.
func (l *lab) start(ctx context.Context, target string) (*instance, error) {
	name, scenario := splitTarget(target)
	https := scenario == httpsSuffix
	upstream := "http://" + l.upstream
	if https {
		upstream = "https://" + l.upstreamTLS
	}
	path := "/1k"
	if scenario == cacheSuffix {
		path = "/1k-cacheable"
	}
	if name == "direct" {
		return &instance{base: upstream, path: path}, nil
	}
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l.runs++
	logPath := filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", target, l.runs))
	in := &instance{base: "http://" + addr + "/" + upstream, path: path}
	cpus := l.cfg.Pin.Proxy
	switch name {
	case "plain", "plain-keepalive":
		argv := []string{l.self, "plain", "-addr", addr}
		if name == "plain-keepalive" {
			argv = append(argv, "-max-idle-per-host", "256")
		}
		if https {
			argv = append(argv, "-ca", l.ca.CAFile)
		}
		in.proc, err = startProc(target, cpus, cleanEnv(), logPath, argv...)
	case "corsbridge", "corsbridge-redis", cacheRedisTarget, "candidate":
		err = l.startCorsbridge(in, name, scenario, addr, logPath)
	case "nginx":
		in.base = "http://" + addr
		var conf string
		if conf, err = l.writeNginxConf(target, port, scenario); err == nil {
			in.proc, err = startProc(target, cpus, cleanEnv(), logPath, l.nginx, "-p", l.dir, "-e", logPath, "-c", conf)
		}
	case "cors-anywhere", "cors-anywhere-keepalive":
		in.proc, err = l.startCorsAnywhere(target, name == "cors-anywhere-keepalive", https, port, logPath)
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, in.proc, l.url(in, in.path), l.roots(), 15*time.Second); err != nil {
		in.proc.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", target, err, logPath)
	}
	return in, nil
}

// startCorsbridge runs the binary as a user would: settings in the
// environment, nothing else. For HTTPS it trusts the run's CA through
// CORSBRIDGE_UPSTREAM_CA_FILE; a -candidate binary from before that
// setting gets the CA through SSL_CERT_FILE too (Go's own variable for its
// roots), so older builds can be compared on the HTTPS scenario.
func (l *lab) startCorsbridge(in *instance, name, scenario, addr, logPath string) error {
	metricsPort, err := loopback.FreePort()
	if err != nil {
		return err
	}
	in.metrics = "127.0.0.1:" + strconv.Itoa(metricsPort)
	env := append(cleanEnv(l.corsbridgeEnv(addr, in.metrics)...), l.cfg.CorsbridgeEnv...)
	env = append(env, targetEnv(name, scenario, l.redisURL)...)
	bin := l.corsbridge
	if name == "candidate" {
		bin = l.candidate
	}
	if scenario == httpsSuffix {
		env = append(env, "CORSBRIDGE_UPSTREAM_CA_FILE="+l.ca.CAFile)
		if name == "candidate" {
			env = append(env, "SSL_CERT_FILE="+l.ca.CAFile)
		}
	}
	in.proc, err = startProc(name, l.cfg.Pin.Proxy, env, logPath, bin)
	return err
}

// targetEnv is what a corsbridge target adds to production's settings:
// limits in Redis for corsbridge-redis; the cache for the cache-hit
// scenario, and for corsbridge-cache-redis the cache's shared tier in Redis
// with nothing kept in memory.
func targetEnv(name, scenario, redisURL string) []string {
	var env []string
	if name == "corsbridge-redis" {
		env = append(env, "REDIS_URL="+redisURL)
	}
	if scenario == cacheSuffix {
		env = append(env, "CORSBRIDGE_CACHE=on")
	}
	if name == cacheRedisTarget {
		env = append(env, "CORSBRIDGE_CACHE_REDIS_URL="+redisURL, "CORSBRIDGE_CACHE_LOCAL_TTL=0")
	}
	return env
}

func (l *lab) startCorsAnywhere(target string, keepAlive, https bool, port int, logPath string) (*proc, error) {
	script, err := l.writeCorsAnywhereScript()
	if err != nil {
		return nil, err
	}
	env := cleanEnv("CA_MODULE="+l.caModule, "CA_PORT="+strconv.Itoa(port), "CA_KEEPALIVE="+strconv.FormatBool(keepAlive),
		"CA_HTTPS="+strconv.FormatBool(https))
	if https {
		// node adds these roots to its own for every TLS connection.
		env = append(env, "NODE_EXTRA_CA_CERTS="+l.ca.CAFile)
	}
	return startProc(target, l.cfg.Pin.Proxy, env, logPath, l.node, script)
}

// roots are the CAs the bench's own clients trust: the run's, when it has
// one.
func (l *lab) roots() *x509.CertPool {
	if l.ca == nil {
		return nil
	}
	return l.ca.Pool
}

// corsbridgeEnv is production's feature set: an origin and a target
// allowlist, the SSRF guard with loopback as the one private exception,
// per-origin and per-client limits and concurrency caps far above what the benchmark sends,
// Prometheus metrics on a separate loopback listener, and a JSON log (to the
// instance's log file). The response limit is raised so the streaming test
// fits under it.
func (l *lab) corsbridgeEnv(addr, metricsAddr string) []string {
	return []string{
		"CORSBRIDGE_ADDR=" + addr,
		"CORSBRIDGE_ALLOW_PRIVATE=127.0.0.0/8",
		"CORSBRIDGE_ALLOW_ORIGINS=" + benchOrigin + ",https://*.example.org",
		"CORSBRIDGE_ALLOW_TARGETS=127.0.0.1",
		"CORSBRIDGE_RATE_LIMIT=1000000/1s",
		"CORSBRIDGE_CLIENT_RATE_LIMIT=1000000/1s",
		// Every connection comes from one address and one origin: caps at
		// the -connections maximum, counted but never reached.
		"CORSBRIDGE_CLIENT_CONCURRENCY=4096",
		"CORSBRIDGE_ORIGIN_CONCURRENCY=4096",
		"CORSBRIDGE_MAX_RESPONSE_BODY=" + strconv.FormatInt(max(l.cfg.StreamBytes+1<<20, 100<<20), 10),
		"CORSBRIDGE_LOG_FORMAT=json",
		"CORSBRIDGE_METRICS_ADDR=" + metricsAddr,
	}
}

// writeCorsAnywhereScript writes the server cors-anywhere's README shows,
// with its defaults (a new upstream connection per request) or, with
// CA_KEEPALIVE=true, a keep-alive agent for the upstream (an https one for
// CA_HTTPS=true).
func (l *lab) writeCorsAnywhereScript() (string, error) {
	const script = `'use strict';
const http = require('http');
const corsAnywhere = require(process.env.CA_MODULE);
const options = {
  originWhitelist: [],
  requireHeader: ['origin', 'x-requested-with'],
  removeHeaders: ['cookie', 'cookie2'],
};
if (process.env.CA_KEEPALIVE === 'true') {
  const proto = process.env.CA_HTTPS === 'true' ? require('https') : http;
  options.httpProxyOptions = { agent: new proto.Agent({ keepAlive: true, maxSockets: 256 }) };
}
corsAnywhere.createServer(options).listen(Number(process.env.CA_PORT), '127.0.0.1');
`
	path := filepath.Join(l.dir, "cors-anywhere.js")
	return path, os.WriteFile(path, []byte(script), 0o644)
}

// cpuCount counts the CPUs of a taskset list ("1", "0-1", "0:2"); unpinned
// is every CPU this process may use.
func cpuCount(list string) int {
	if list == "" {
		return max(1, numCPU())
	}
	cmd := exec.Command("taskset", "-c", list, "nproc")
	out, err := cmd.Output()
	if err != nil {
		return 1
	}
	n, err := strconv.Atoi(string(out[:len(out)-1]))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

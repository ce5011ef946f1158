package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/corsbridge/corsbridge/internal/loopback"
)

// lab is what every target needs: the shared upstream, the binaries and
// a temporary directory for configs and logs.
type lab struct {
	cfg        Config
	dir        string
	self       string // this tool's binary, for its subcommands
	corsbridge string
	candidate  string // -candidate, absolute
	node       string // node binary; empty skips cors-anywhere
	caModule   string // cors-anywhere's directory
	nginx      string // empty skips nginx
	redisURL   string // empty skips corsbridge-redis
	upstream   string // host:port
	runs       int    // processes started, for unique log names
}

// instance is one running target: its process (none for direct) and the
// base its request paths are appended to.
type instance struct {
	proc    *proc
	base    string // "http://127.0.0.1:P/http://upstream" or "http://127.0.0.1:P"
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
func (l *lab) start(ctx context.Context, target string) (*instance, error) {
	if target == "direct" {
		return &instance{base: "http://" + l.upstream}, nil
	}
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l.runs++
	logPath := filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", target, l.runs))
	in := &instance{base: "http://" + addr + "/http://" + l.upstream}
	cpus := l.cfg.Pin.Proxy
	switch target {
	case "plain":
		in.proc, err = startProc(target, cpus, cleanEnv(), logPath, l.self, "plain", "-addr", addr)
	case "plain-keepalive":
		in.proc, err = startProc(target, cpus, cleanEnv(), logPath, l.self, "plain", "-addr", addr, "-max-idle-per-host", "256")
	case "corsbridge", "corsbridge-redis", "candidate":
		metricsPort, perr := loopback.FreePort()
		if perr != nil {
			return nil, perr
		}
		in.metrics = "127.0.0.1:" + strconv.Itoa(metricsPort)
		env := append(cleanEnv(l.corsbridgeEnv(addr, in.metrics)...), l.cfg.CorsbridgeEnv...)
		if target == "corsbridge-redis" {
			env = append(env, "REDIS_URL="+l.redisURL)
		}
		bin := l.corsbridge
		if target == "candidate" {
			bin = l.candidate
		}
		in.proc, err = startProc(target, cpus, env, logPath, bin)
	case "nginx":
		in.base = "http://" + addr
		var conf string
		if conf, err = l.writeNginxConf(target, port); err == nil {
			in.proc, err = startProc(target, cpus, cleanEnv(), logPath, l.nginx, "-p", l.dir, "-e", logPath, "-c", conf)
		}
	case "cors-anywhere", "cors-anywhere-keepalive":
		keepAlive := "0"
		if target == "cors-anywhere-keepalive" {
			keepAlive = "1"
		}
		var script string
		if script, err = l.writeCorsAnywhereScript(); err == nil {
			env := cleanEnv("CA_MODULE="+l.caModule, "CA_PORT="+strconv.Itoa(port), "CA_KEEPALIVE="+keepAlive)
			in.proc, err = startProc(target, cpus, env, logPath, l.node, script)
		}
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, in.proc, l.url(in, "/1k"), 15*time.Second); err != nil {
		in.proc.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", target, err, logPath)
	}
	return in, nil
}

// corsbridgeEnv is production's feature set: an origin and a target
// allowlist, the SSRF guard with loopback as the one private exception,
// per-origin and per-client limits far above what the benchmark sends,
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
		"CORSBRIDGE_MAX_RESPONSE_BODY=" + strconv.FormatInt(max(l.cfg.StreamBytes+1<<20, 100<<20), 10),
		"CORSBRIDGE_LOG_FORMAT=json",
		"CORSBRIDGE_METRICS_ADDR=" + metricsAddr,
	}
}

// writeNginxConf writes a minimal CORS-adding reverse proxy: upstream
// keep-alive, one access-log line per request to a file, no disk buffering
// of large bodies, as many workers as the proxy has CPUs.
func (l *lab) writeNginxConf(target string, port int) (string, error) {
	userLine := ""
	if os.Geteuid() == 0 {
		// As root, workers would switch to nobody; run them as we are.
		if u, err := user.Current(); err == nil {
			if g, err := user.LookupGroupId(u.Gid); err == nil {
				userLine = fmt.Sprintf("user %s %s;", u.Username, g.Name)
			}
		}
	}
	workers := cpuCount(l.cfg.Pin.Proxy)
	conf := fmt.Sprintf(`%s
daemon off;
worker_processes %d;
pid %[3]s/nginx-%[4]d.pid;
events { worker_connections 4096; }
http {
    access_log %[3]s/%[5]s-access.log;
    client_body_temp_path %[3]s/tmp-body;
    proxy_temp_path %[3]s/tmp-proxy;
    fastcgi_temp_path %[3]s/tmp-fastcgi;
    uwsgi_temp_path %[3]s/tmp-uwsgi;
    scgi_temp_path %[3]s/tmp-scgi;
    upstream backend {
        server %[6]s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:%[4]d;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;
            add_header Access-Control-Allow-Origin * always;
        }
    }
}
`, userLine, workers, l.dir, port, target, l.upstream)
	path := filepath.Join(l.dir, fmt.Sprintf("nginx-%d.conf", port))
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

// writeCorsAnywhereScript writes the server cors-anywhere's README shows,
// with its defaults (a new upstream connection per request) or, with
// CA_KEEPALIVE=1, a keep-alive agent for the upstream.
func (l *lab) writeCorsAnywhereScript() (string, error) {
	const script = `'use strict';
const http = require('http');
const corsAnywhere = require(process.env.CA_MODULE);
const options = {
  originWhitelist: [],
  requireHeader: ['origin', 'x-requested-with'],
  removeHeaders: ['cookie', 'cookie2'],
};
if (process.env.CA_KEEPALIVE === '1') {
  options.httpProxyOptions = { agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) };
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

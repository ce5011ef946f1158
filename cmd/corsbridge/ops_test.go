package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// startLine returns the instance's start-up log line, decoded.
func startLine(t *testing.T, inst *instance) map[string]any {
	t.Helper()
	for line := range strings.SplitSeq(inst.logs.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "listening" {
			return entry
		}
	}
	t.Fatalf("no start-up line:\n%s", inst.logs.String())
	return nil
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestRunVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got == "" || got != versionString() || strings.Contains(got, "\n") {
		t.Errorf("--version printed %q, want one line %q", out.String(), versionString())
	}
}

func TestStartupLogLine(t *testing.T) {
	// An unreachable Redis: the proxy starts anyway, counting in memory.
	inst := start(t, map[string]string{
		"REDIS_URL":             "redis://:hunter2@127.0.0.1:1/0",
		"CORSBRIDGE_RATE_LIMIT": "60/1m",
	})
	line := startLine(t, inst)
	if line["addr"] != strings.TrimPrefix(inst.base, "http://") || line["version"] != versionString() {
		t.Errorf("start-up line: addr %v version %v", line["addr"], line["version"])
	}
	config, _ := line["config"].(map[string]any)
	for _, s := range settings() {
		if _, ok := config[s.Flag]; !ok {
			t.Errorf("start-up line lacks setting %s", s.Flag)
		}
	}
	if config["rate-limit"] != "60/1m" || config["addr"] != "127.0.0.1:0" {
		t.Errorf("config shows rate-limit %v addr %v", config["rate-limit"], config["addr"])
	}
	if config["redis-url"] != "redis://:xxxxx@127.0.0.1:1/0" {
		t.Errorf("redis-url shown as %v", config["redis-url"])
	}
	if strings.Contains(inst.logs.String(), "hunter2") {
		t.Errorf("the log holds the Redis password:\n%s", inst.logs.String())
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:pw@redis:6379/0", "redis://:xxxxx@redis:6379/0"},
		{"rediss://user:pw@redis.example:6380", "rediss://user:xxxxx@redis.example:6380"},
		{"redis+sentinel://u:pw@s1:26379,s2:26379/mymaster?sentinel_password=pw2&sentinel_username=u",
			"redis+sentinel://u:xxxxx@s1:26379,s2:26379/mymaster?sentinel_password=xxxxx&sentinel_username=u"},
		{"not a url with pw", "(redacted)"},
		{"pw", "(redacted)"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(redactURL(tt.in), "pw") && tt.in != "" {
			t.Errorf("redactURL(%q) leaks the password", tt.in)
		}
	}
}

func TestHealthcheckSubcommand(t *testing.T) {
	inst := start(t, nil)
	addr := strings.TrimPrefix(inst.base, "http://")
	_, port, _ := net.SplitHostPort(addr)

	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"healthcheck", "--addr", addr}, nil},
		{"CORSBRIDGE_ADDR", []string{"healthcheck"}, map[string]string{"CORSBRIDGE_ADDR": addr}},
		{"PORT, probed on loopback", []string{"healthcheck"}, map[string]string{"PORT": port}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), tt.args, envOf(tt.env), nil, &out, io.Discard); err != nil {
				t.Fatalf("healthcheck: %v", err)
			}
			if !strings.HasPrefix(out.String(), "ok: http://") {
				t.Errorf("output %q", out.String())
			}
		})
	}

	// Nothing listening: an error (exit status 1), not a usage error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	err = run(context.Background(), []string{"healthcheck", "--addr", closed}, envOf(nil), nil, io.Discard, io.Discard)
	var usage *usageError
	if err == nil || errors.As(err, &usage) {
		t.Errorf("healthcheck of a closed port: %v, want a plain error", err)
	}
	// A server that answers but is not healthy.
	sick := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	})}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = sick.Serve(ln) }()
	defer sick.Close()
	err = run(context.Background(), []string{"healthcheck", "--addr", ln.Addr().String()}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("healthcheck of a 503: %v", err)
	}
}

func TestHealthURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/healthz"},
		{"localhost:9000", "http://localhost:9000/healthz"},
		{"[::1]:9000", "http://[::1]:9000/healthz"},
	}
	for _, tt := range tests {
		if got, err := healthURL(tt.addr); err != nil || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
	if _, err := healthURL("8080"); err == nil {
		t.Error("healthURL accepted an address without a port")
	}
}

func TestRunMetrics(t *testing.T) {
	upstreamHit := func(t *testing.T, base string) {
		t.Helper()
		if status, _ := get(t, base+"/https://api.example.com/", ""); status != 400 {
			t.Fatalf("request without Origin: %d, want 400", status)
		}
	}
	t.Run("separate address", func(t *testing.T) {
		inst := start(t, map[string]string{"CORSBRIDGE_METRICS_ADDR": "127.0.0.1:0"})
		upstreamHit(t, inst.base)
		metricsAddr, _ := startLine(t, inst)["metrics_addr"].(string)
		if metricsAddr == "" {
			t.Fatalf("no metrics_addr in the start-up line")
		}
		status, body := getBody(t, "http://"+metricsAddr+"/metrics")
		for _, want := range []string{
			`corsbridge_requests_total{class="4xx",code="header_required"} 1`,
			"corsbridge_build_info{", "go_goroutines ", "process_resident_memory_bytes ",
		} {
			if status != 200 || !strings.Contains(body, want) {
				t.Errorf("metrics listener: %d, lacks %q", status, want)
			}
		}
		if status, _ := getBody(t, inst.base+"/metrics"); status != 404 {
			t.Errorf("/metrics on the public port: %d, want 404", status)
		}
		if status, _ := getBody(t, "http://"+metricsAddr+"/healthz"); status != 404 {
			t.Errorf("the metrics listener serves more than /metrics: %d", status)
		}
	})
	t.Run("main port", func(t *testing.T) {
		inst := start(t, map[string]string{"CORSBRIDGE_METRICS": "true"})
		upstreamHit(t, inst.base)
		status, body := getBody(t, inst.base+"/metrics")
		if status != 200 || !strings.Contains(body, `corsbridge_requests_total{class="4xx",code="header_required"} 1`) {
			t.Errorf("/metrics on the main port: %d\n%.500s", status, body)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		inst := start(t, nil)
		if status, _ := getBody(t, inst.base+"/metrics"); status != 404 {
			t.Errorf("/metrics without settings: %d, want 404", status)
		}
	})
}

func TestRunPprof(t *testing.T) {
	metricsOf := func(t *testing.T, inst *instance) string {
		t.Helper()
		addr, _ := startLine(t, inst)["metrics_addr"].(string)
		if addr == "" {
			t.Fatal("no metrics_addr in the start-up line")
		}
		return "http://" + addr
	}
	t.Run("on the metrics listener only", func(t *testing.T) {
		inst := start(t, map[string]string{"CORSBRIDGE_METRICS_ADDR": "127.0.0.1:0", "CORSBRIDGE_PPROF": "true"},
			"--token-secret", "a-secret-that-must-not-show-0123456789")
		metrics := metricsOf(t, inst)
		if status, body := getBody(t, metrics+"/debug/pprof/"); status != 200 || !strings.Contains(body, "allocs") {
			t.Errorf("/debug/pprof/ on the metrics listener: %d\n%.300s", status, body)
		}
		if status, body := getBody(t, metrics+"/debug/pprof/allocs?debug=1"); status != 200 || !strings.Contains(body, "heap profile") {
			t.Errorf("allocation profile: %d\n%.300s", status, body)
		}
		if status, body := getBody(t, metrics+"/debug/pprof/cmdline"); status != 404 || strings.Contains(body, "a-secret") {
			t.Errorf("cmdline served (%d): the command line may hold secrets\n%.300s", status, body)
		}
		if status, _ := getBody(t, inst.base+"/debug/pprof/"); status != 404 {
			t.Errorf("/debug/pprof/ on the public port: %d, want 404", status)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		inst := start(t, map[string]string{"CORSBRIDGE_METRICS_ADDR": "127.0.0.1:0"})
		if status, _ := getBody(t, metricsOf(t, inst)+"/debug/pprof/"); status != 404 {
			t.Errorf("/debug/pprof/ without CORSBRIDGE_PPROF: %d, want 404", status)
		}
	})
	t.Run("needs the metrics listener", func(t *testing.T) {
		err := run(context.Background(), []string{"--pprof"}, envOf(nil), nil, io.Discard, io.Discard)
		var usage *usageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "CORSBRIDGE_METRICS_ADDR") {
			t.Errorf("--pprof alone: %v, want a usage error naming CORSBRIDGE_METRICS_ADDR", err)
		}
	})
}

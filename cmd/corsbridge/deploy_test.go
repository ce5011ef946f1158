package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/corsbridge/corsbridge/ratelimit"
)

// knownEnv lists every environment variable the binary reads.
func knownEnv() map[string]bool {
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.Env] = true
		for _, a := range s.Aliases {
			known[a] = true
		}
	}
	return known
}

// checkEnv fails on variables the binary does not read and on values it
// would refuse at start-up.
func checkEnv(t *testing.T, where string, env map[string]string) {
	t.Helper()
	known := knownEnv()
	for name := range env {
		if !known[name] {
			t.Errorf("%s sets %s, which corsbridge does not read", where, name)
		}
	}
	if _, err := parseConfig(nil, envOf(env), &bytes.Buffer{}); err != nil {
		t.Errorf("%s: corsbridge would refuse this environment: %v", where, err)
	}
}

// atLeastGrace: a platform's stop timeout must leave the drain its time.
func atLeastGrace(t *testing.T, where string, d time.Duration) {
	t.Helper()
	if d <= DefaultShutdownGrace {
		t.Errorf("%s is %s: the drain (CORSBRIDGE_SHUTDOWN_GRACE, %s) would be killed", where, d, DefaultShutdownGrace)
	}
}

type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Restart         string   `yaml:"restart"`
		StopGracePeriod string   `yaml:"stop_grace_period"`
		Volumes         []string `yaml:"volumes"`
		Healthcheck     struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Timeout  string   `yaml:"timeout"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestDockerCompose(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	app, ok := c.Services["corsbridge"]
	if !ok {
		t.Fatal("no corsbridge service")
	}
	redis, ok := c.Services["redis"]
	if !ok {
		t.Fatal("no redis service")
	}
	if app.Build == nil {
		t.Error("corsbridge is not built from this repository's Dockerfile")
	}
	if !slices.Contains(app.Ports, defaultPort(t)+":"+defaultPort(t)) {
		t.Errorf("ports %v do not publish the default port %s", app.Ports, defaultPort(t))
	}
	if app.Environment["REDIS_URL"] != "redis://redis:6379/0" {
		t.Errorf("REDIS_URL = %q", app.Environment["REDIS_URL"])
	}
	if _, err := ratelimit.ParseRedisURL(app.Environment["REDIS_URL"]); err != nil {
		t.Errorf("REDIS_URL: %v", err)
	}
	checkEnv(t, "docker-compose.yml", app.Environment)
	if app.DependsOn["redis"].Condition != "service_healthy" {
		t.Errorf("corsbridge depends on redis with condition %q, want service_healthy", app.DependsOn["redis"].Condition)
	}
	if app.Restart == "" || redis.Restart == "" {
		t.Error("a service has no restart policy")
	}
	grace, err := time.ParseDuration(app.StopGracePeriod)
	if err != nil {
		t.Fatalf("stop_grace_period %q: %v", app.StopGracePeriod, err)
	}
	atLeastGrace(t, "stop_grace_period", grace)
	if !strings.HasPrefix(redis.Image, "redis:7") {
		t.Errorf("redis image %q, want Redis 7", redis.Image)
	}
	if len(redis.Healthcheck.Test) < 2 || redis.Healthcheck.Test[0] != "CMD" {
		t.Errorf("redis healthcheck %q", redis.Healthcheck.Test)
	}
	// Access keys and blocks live in this Redis: they must survive a restart.
	if i := slices.Index(redis.Command, "--appendonly"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != "yes" {
		t.Errorf("redis command %q does not persist keys and blocks (--appendonly yes)", redis.Command)
	}
	// Cached responses are evicted under maxmemory; keys and blocks carry no
	// TTL, and only a volatile-* policy is sure never to evict them.
	if i := slices.Index(redis.Command, "--maxmemory-policy"); i < 0 || i+1 >= len(redis.Command) || !strings.HasPrefix(redis.Command[i+1], "volatile-") {
		t.Errorf("redis command %q: no volatile-* maxmemory-policy, so cache entries could crowd out (or evict) keys and blocks", redis.Command)
	}
	if !slices.Contains(redis.Command, "--maxmemory") {
		t.Errorf("redis command %q sets no maxmemory", redis.Command)
	}
	if len(redis.Volumes) == 0 || !strings.HasSuffix(redis.Volumes[0], ":/data") {
		t.Errorf("redis volumes %q: /data is not on a volume", redis.Volumes)
	}

	// The commented examples name real settings with values corsbridge
	// accepts, each uncommented into the file's environment.
	example := regexp.MustCompile(`^\s*#\s*([A-Z][A-Z0-9_]+):\s*(\S+)`)
	examples := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		if m := example.FindStringSubmatch(line); m != nil {
			examples++
			env := maps.Clone(app.Environment)
			env[m[1]] = m[2]
			checkEnv(t, "docker-compose.yml example "+m[1], env)
		}
	}
	if examples < 5 {
		t.Errorf("only %d commented setting examples", examples)
	}
}

type flyFile struct {
	App           string            `toml:"app"`
	PrimaryRegion string            `toml:"primary_region"`
	KillSignal    string            `toml:"kill_signal"`
	KillTimeout   any               `toml:"kill_timeout"`
	Build         map[string]string `toml:"build"`
	Env           map[string]string `toml:"env"`
	HTTPService   struct {
		InternalPort       int    `toml:"internal_port"`
		ForceHTTPS         bool   `toml:"force_https"`
		AutoStopMachines   string `toml:"auto_stop_machines"`
		AutoStartMachines  bool   `toml:"auto_start_machines"`
		MinMachinesRunning int    `toml:"min_machines_running"`
		Concurrency        struct {
			Type      string `toml:"type"`
			SoftLimit int    `toml:"soft_limit"`
			HardLimit int    `toml:"hard_limit"`
		} `toml:"concurrency"`
		Checks []struct {
			Method      string `toml:"method"`
			Path        string `toml:"path"`
			Interval    string `toml:"interval"`
			Timeout     string `toml:"timeout"`
			GracePeriod string `toml:"grace_period"`
		} `toml:"checks"`
	} `toml:"http_service"`
}

func TestFlyToml(t *testing.T) {
	var f flyFile
	md, err := toml.DecodeFile(filepath.Join(repoRoot, "fly.toml"), &f)
	if err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		t.Errorf("fly.toml keys this test does not check: %v", undecoded)
	}
	s := f.HTTPService
	if strconv.Itoa(s.InternalPort) != defaultPort(t) {
		t.Errorf("internal_port %d, want the default port %s", s.InternalPort, defaultPort(t))
	}
	if port, ok := f.Env["PORT"]; ok && port != strconv.Itoa(s.InternalPort) {
		t.Errorf("PORT=%s but internal_port is %d", port, s.InternalPort)
	}
	if !s.ForceHTTPS {
		t.Error("force_https is off")
	}
	if c := s.Concurrency; c.Type != "requests" || c.SoftLimit <= 0 || c.HardLimit < c.SoftLimit {
		t.Errorf("concurrency %+v", c)
	}
	healthz := false
	for _, c := range s.Checks {
		healthz = healthz || c.Path == "/healthz" && c.Method == "GET"
	}
	if !healthz {
		t.Error("no GET /healthz check")
	}
	if f.Env["CORSBRIDGE_TRUSTED_PROXY_HEADER"] != "Fly-Client-IP" {
		t.Errorf("CORSBRIDGE_TRUSTED_PROXY_HEADER = %q, want Fly-Client-IP", f.Env["CORSBRIDGE_TRUSTED_PROXY_HEADER"])
	}
	checkEnv(t, "fly.toml [env]", f.Env)
	if _, ok := f.Env["REDIS_URL"]; ok {
		t.Error("REDIS_URL belongs in fly secrets, not fly.toml")
	}

	// main.go drains on SIGINT and SIGTERM.
	if f.KillSignal != "SIGINT" && f.KillSignal != "SIGTERM" {
		t.Errorf("kill_signal %q: the binary drains on SIGINT and SIGTERM only", f.KillSignal)
	}
	var kill time.Duration
	switch v := f.KillTimeout.(type) {
	case int64:
		kill = time.Duration(v) * time.Second
	case string:
		if kill, err = time.ParseDuration(v); err != nil {
			t.Fatalf("kill_timeout %q: %v", v, err)
		}
	default:
		t.Fatalf("kill_timeout %v: want seconds or a duration", f.KillTimeout)
	}
	atLeastGrace(t, "kill_timeout", kill)
	if kill > 300*time.Second {
		t.Errorf("kill_timeout %s: Fly allows at most 300s", kill)
	}
	if df := f.Build["dockerfile"]; df != "Dockerfile" {
		t.Errorf("build.dockerfile %q", df)
	}
}

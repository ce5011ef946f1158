package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParsePin(t *testing.T) {
	tests := []struct {
		in   string
		want pinning
	}{
		{"none", pinning{}},
		{"split", pinning{Load: "0", Proxy: "1", Upstream: "1"}},
		{"load=0,proxy=1,upstream=0", pinning{Load: "0", Proxy: "1", Upstream: "0"}},
		{"proxy=0-1", pinning{Proxy: "0-1"}},
	}
	for _, tt := range tests {
		if got, err := parsePin(tt.in); err != nil || got != tt.want {
			t.Errorf("parsePin(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"half", "load=", "wrk=0", "load=0;rm"} {
		if _, err := parsePin(bad); err == nil {
			t.Errorf("parsePin(%q) accepted", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"-rounds", "5", "-duration", "3s", "-targets", "corsbridge,nginx,plain-keepalive",
		"-stream", "16MiB", "-corsbridge-env", "GOGC=400"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rounds != 5 || c.Duration != 3*time.Second || c.StreamBytes != 16<<20 ||
		!slices.Equal(c.Targets, []string{"corsbridge", "nginx", "plain-keepalive"}) ||
		!slices.Equal(c.CorsbridgeEnv, []string{"GOGC=400"}) {
		t.Errorf("parseConfig = %+v", c)
	}
	for _, bad := range [][]string{
		{"-rounds", "0"}, {"-duration", "100ms"}, {"-targets", "haproxy"}, {"-threads", "65"},
		{"-corsbridge-env", "GOGC"}, {"extra"}, {"-stream", "65GiB"}, {"-stream", "lots"},
	} {
		if _, err := parseConfig(bad, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted", bad)
		}
	}
}

func TestTargetsAndScenarios(t *testing.T) {
	tests := []struct {
		name      string
		targets   string
		candidate bool
		want      []string
	}{
		{"https targets are known", "nginx-https,corsbridge-https,direct-https", false,
			[]string{"nginx-https", "corsbridge-https", "direct-https"}},
		{"candidate follows corsbridge in each scenario", "corsbridge,nginx,corsbridge-https,nginx-https", true,
			[]string{"corsbridge", "candidate", "nginx", "corsbridge-https", "candidate-https", "nginx-https"}},
		{"candidate at the end without corsbridge", "nginx,direct", true, []string{"nginx", "direct", "candidate"}},
		{"candidate named explicitly stays where it is", "candidate-https,nginx-https", true, []string{"candidate-https", "nginx-https"}},
		{"cache hits have a candidate too", "corsbridge-cache,nginx-cache", true, []string{"corsbridge-cache", "candidate-cache", "nginx-cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"-targets", tt.targets}
			if tt.candidate {
				args = append(args, "-candidate", "/tmp/corsbridge-new")
			}
			c, err := parseConfig(args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Targets, tt.want) {
				t.Errorf("targets = %v, want %v", c.Targets, tt.want)
			}
		})
	}
	for _, bad := range []string{"haproxy-https", "corsbridge-redis-https", "-https", "plain-cache", "candidate-redis", "candidates"} {
		if _, err := parseConfig([]string{"-targets", bad}, io.Discard); err == nil {
			t.Errorf("-targets %s accepted", bad)
		}
	}
	for target, want := range map[string][2]string{
		"nginx-https": {"nginx", httpsSuffix}, "nginx": {"nginx", ""},
		"plain-keepalive-https": {"plain-keepalive", httpsSuffix}, "corsbridge-cache": {"corsbridge", cacheSuffix},
	} {
		if name, scenario := splitTarget(target); name != want[0] || scenario != want[1] {
			t.Errorf("splitTarget(%q) = %q, %q; want %q", target, name, scenario, want)
		}
	}
}

// corsbridge-cache-redis is a target of the cache-hit scenario: the cache
// on, its shared tier in Redis with nothing kept in memory, and the limits
// left in memory, so it differs from corsbridge-cache only in the tier.
func TestCacheRedisTarget(t *testing.T) {
	if name, scenario := splitTarget(cacheRedisTarget); name != cacheRedisTarget || scenario != cacheSuffix {
		t.Errorf("splitTarget(%q) = %q, %q", cacheRedisTarget, name, scenario)
	}
	c, err := parseConfig([]string{"-targets", "corsbridge-cache,corsbridge-cache-redis,nginx-cache"}, io.Discard)
	if err != nil || !slices.Equal(c.Targets, []string{"corsbridge-cache", cacheRedisTarget, "nginx-cache"}) {
		t.Fatalf("targets %v, %v", c.Targets, err)
	}
	if !slices.Contains(defaultTargets, cacheRedisTarget) {
		t.Error("make bench does not run it")
	}
	const url = "redis://127.0.0.1:6391"
	tests := []struct {
		target string
		want   []string
	}{
		{"corsbridge", nil},
		{"corsbridge-redis", []string{"REDIS_URL=" + url}},
		{"corsbridge-cache", []string{"CORSBRIDGE_CACHE=on"}},
		{cacheRedisTarget, []string{"CORSBRIDGE_CACHE=on", "CORSBRIDGE_CACHE_REDIS_URL=" + url, "CORSBRIDGE_CACHE_LOCAL_TTL=0"}},
	}
	for _, tt := range tests {
		name, scenario := splitTarget(tt.target)
		if got := targetEnv(name, scenario, url); !slices.Equal(got, tt.want) {
			t.Errorf("targetEnv(%s) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestProfiledTarget(t *testing.T) {
	tests := []struct {
		targets []string
		want    string
	}{
		{defaultTargets, "corsbridge"},
		{[]string{"nginx-cache", "corsbridge-cache"}, "corsbridge-cache"},
		{[]string{cacheRedisTarget}, cacheRedisTarget},
		{[]string{"nginx"}, "corsbridge"},
	}
	for _, tt := range tests {
		if got := profiledTarget(tt.targets); got != tt.want {
			t.Errorf("profiledTarget(%v) = %q, want %q", tt.targets, got, tt.want)
		}
	}
}

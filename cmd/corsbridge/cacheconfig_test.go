package main

import (
	"io"
	"testing"
	"time"
)

func TestCacheSettings(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
		fails bool
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if !c.Cache.Enabled || c.Cache.Size != 64<<20 || c.Cache.MaxEntry != 8<<20 || c.Cache.DefaultTTL != 0 || c.Cache.MaxTTL != 24*time.Hour || c.Cache.LocalTTL != time.Second {
				t.Fatalf("%+v", c.Cache)
			}
			if c.Cache.SharedRedisURL("") != "" {
				t.Fatal("a cache without Redis names one")
			}
		}},
		{name: "off", env: map[string]string{"CORSBRIDGE_CACHE": "off"}, check: func(t *testing.T, c Config) {
			if c.Cache.Enabled || c.Cache.SharedRedisURL("redis://127.0.0.1:1") != "" {
				t.Fatalf("%+v", c.Cache)
			}
		}},
		{name: "environment", env: map[string]string{"CORSBRIDGE_CACHE_SIZE": "1MiB", "CORSBRIDGE_CACHE_MAX_ENTRY": "64KiB", "CORSBRIDGE_CACHE_DEFAULT_TTL": "30", "CORSBRIDGE_CACHE_MAX_TTL": "1h"},
			check: func(t *testing.T, c Config) {
				if c.Cache.Size != 1<<20 || c.Cache.MaxEntry != 64<<10 || c.Cache.DefaultTTL != 30*time.Second || c.Cache.MaxTTL != time.Hour {
					t.Fatalf("%+v", c.Cache)
				}
			}},
		{name: "flags over environment", args: []string{"--cache-max-ttl", "10m"}, env: map[string]string{"CORSBRIDGE_CACHE_MAX_TTL": "1h"},
			check: func(t *testing.T, c Config) {
				if c.Cache.MaxTTL != 10*time.Minute {
					t.Fatalf("%+v", c.Cache)
				}
			}},
		{name: "max entry held to the response limit", env: map[string]string{"CORSBRIDGE_MAX_RESPONSE_BODY": "1MiB"},
			check: func(t *testing.T, c Config) {
				if c.Cache.MaxEntry != 1<<20 {
					t.Fatalf("max entry %d", c.Cache.MaxEntry)
				}
			}},
		{name: "REDIS_URL shared by default", env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"},
			check: func(t *testing.T, c Config) {
				if got := c.Cache.SharedRedisURL(c.RateLimit.RedisURL); got != "redis://127.0.0.1:6379/0" {
					t.Fatalf("cache Redis %q", got)
				}
			}},
		{name: "own Redis", env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "CORSBRIDGE_CACHE_REDIS_URL": "redis://127.0.0.1:6380/0"},
			check: func(t *testing.T, c Config) {
				if got := c.Cache.SharedRedisURL(c.RateLimit.RedisURL); got != "redis://127.0.0.1:6380/0" {
					t.Fatalf("cache Redis %q", got)
				}
			}},
		{name: "memory only despite REDIS_URL", env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "CORSBRIDGE_CACHE_REDIS_URL": "none"},
			check: func(t *testing.T, c Config) {
				if got := c.Cache.SharedRedisURL(c.RateLimit.RedisURL); got != "" {
					t.Fatalf("cache Redis %q", got)
				}
			}},
		{name: "local TTL", env: map[string]string{"CORSBRIDGE_CACHE_LOCAL_TTL": "250ms"}, check: func(t *testing.T, c Config) {
			if c.Cache.LocalTTL != 250*time.Millisecond {
				t.Fatalf("local TTL %v", c.Cache.LocalTTL)
			}
		}},
		{name: "no local copies", args: []string{"--cache-local-ttl", "0"}, check: func(t *testing.T, c Config) {
			if c.Cache.LocalTTL != 0 {
				t.Fatalf("local TTL %v", c.Cache.LocalTTL)
			}
		}},
		{name: "negative local TTL", env: map[string]string{"CORSBRIDGE_CACHE_LOCAL_TTL": "-1s"}, fails: true},
		{name: "not on or off", env: map[string]string{"CORSBRIDGE_CACHE": "maybe"}, fails: true},
		{name: "negative TTL", env: map[string]string{"CORSBRIDGE_CACHE_DEFAULT_TTL": "-5s"}, fails: true},
		{name: "default above max", env: map[string]string{"CORSBRIDGE_CACHE_DEFAULT_TTL": "2h", "CORSBRIDGE_CACHE_MAX_TTL": "1h"}, fails: true},
		{name: "zero size", env: map[string]string{"CORSBRIDGE_CACHE_SIZE": "0"}, fails: true},
		{name: "bad Redis URL", env: map[string]string{"CORSBRIDGE_CACHE_REDIS_URL": "http://nope"}, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.fails {
				if err == nil {
					t.Fatalf("accepted: %+v", cfg.Cache)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestCanonicalTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://API.Example.com:443/v1/items?x=1", "https://api.example.com/v1/items?x=1"},
		{"api.example.com/v1", "https://api.example.com/v1"},
		{"http://api.example.com:80/a%2Fb", "http://api.example.com/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := canonicalTarget(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("canonicalTarget(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := canonicalTarget("ftp://x"); err == nil {
		t.Fatal("ftp accepted")
	}
}

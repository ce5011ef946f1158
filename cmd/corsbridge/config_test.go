package main

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/server"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" {
		t.Errorf("Addr = %q", cfg.Addr)
	}
	want := server.DefaultConfig()
	got := cfg.Server
	if got.MaxRequestBody != want.MaxRequestBody || got.MaxResponseBody != want.MaxResponseBody ||
		got.MaxRedirects != want.MaxRedirects || got.UpstreamTimeout != want.UpstreamTimeout ||
		got.CORSMaxAge != want.CORSMaxAge || !slices.Equal(got.RequireHeader, want.RequireHeader) {
		t.Errorf("server config = %+v, want %+v", got, want)
	}
	if len(cfg.Allow.AllowPrivate) != 0 || len(cfg.Allow.AllowOrigins) != 0 {
		t.Errorf("the default must allow no private networks and any origin: %+v", cfg.Allow)
	}
}

func TestParseConfigSources(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"PORT when CORSBRIDGE_ADDR is unset", nil, map[string]string{"PORT": "9000"},
			func(t *testing.T, c Config) { expect(t, c.Addr, ":9000") }},
		{"CORSBRIDGE_ADDR wins over PORT", nil, map[string]string{"PORT": "9000", "CORSBRIDGE_ADDR": "127.0.0.1:7000"},
			func(t *testing.T, c Config) { expect(t, c.Addr, "127.0.0.1:7000") }},
		{"flag wins over env", []string{"--addr", "127.0.0.1:1"}, map[string]string{"CORSBRIDGE_ADDR": "127.0.0.1:2"},
			func(t *testing.T, c Config) { expect(t, c.Addr, "127.0.0.1:1") }},
		{"sizes with units", nil, map[string]string{"CORSBRIDGE_MAX_REQUEST_BODY": "1MiB", "CORSBRIDGE_MAX_RESPONSE_BODY": "2048"},
			func(t *testing.T, c Config) {
				expect(t, c.Server.MaxRequestBody, int64(1<<20))
				expect(t, c.Server.MaxResponseBody, int64(2048))
			}},
		{"max age in seconds or duration", []string{"-cors-max-age=1h"}, nil,
			func(t *testing.T, c Config) { expect(t, c.Server.CORSMaxAge, time.Hour) }},
		{"require header none", nil, map[string]string{"CORSBRIDGE_REQUIRE_HEADER": "none"},
			func(t *testing.T, c Config) { expect(t, len(c.Server.RequireHeader), 0) }},
		{"require header list", nil, map[string]string{"CORSBRIDGE_REQUIRE_HEADER": "X-Requested-With"},
			func(t *testing.T, c Config) { expect(t, strings.Join(c.Server.RequireHeader, ","), "X-Requested-With") }},
		{"allow private", nil, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "10.0.0.0/8, 127.0.0.1"},
			func(t *testing.T, c Config) {
				expect(t, len(c.Allow.AllowPrivate), 2)
				expect(t, c.Allow.AllowPrivate[0], netip.MustParsePrefix("10.0.0.0/8"))
			}},
		{"cors-anywhere whitelist alias", nil, map[string]string{"CORSANYWHERE_WHITELIST": "https://a.example,http://b.example:8080"},
			func(t *testing.T, c Config) {
				expect(t, strings.Join(c.Allow.AllowOrigins, " "), "https://a.example http://b.example:8080")
			}},
		{"own variable wins over the alias", nil, map[string]string{"CORSANYWHERE_BLACKLIST": "https://a.example", "CORSBRIDGE_DENY_ORIGINS": "https://b.example"},
			func(t *testing.T, c Config) { expect(t, strings.Join(c.Allow.DenyOrigins, " "), "https://b.example") }},
		{"rate limits", nil, map[string]string{"CORSBRIDGE_RATE_LIMIT": "60/1m", "CORSBRIDGE_CLIENT_RATE_LIMIT": "off", "CORSBRIDGE_RATE_LIMIT_EXEMPT": "a.example,*.b.example"},
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.Origin.String(), "60/1m")
				expect(t, c.RateLimit.Client.Off(), true)
				expect(t, strings.Join(c.RateLimitExempt, " "), "a.example *.b.example")
				expect(t, c.RateLimit.Exempt("x.b.example"), true)
				expect(t, c.RateLimit.Exempt("b.example"), false)
			}},
		{"cors-anywhere rate limit alias", nil, map[string]string{"CORSANYWHERE_RATELIMIT": "50 3 my.example /(.*\\.)?friendly\\.example$/"},
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.Origin.Requests, 50)
				expect(t, c.RateLimit.Origin.Window, 3*time.Minute)
				expect(t, len(c.RateLimitExempt), 2)
			}},
		{"cors-anywhere max 0 serves only the listed origins", nil, map[string]string{"CORSANYWHERE_RATELIMIT": `0 1 /(.*\.)?example\.com/`},
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.Origin.Off(), true)
				expect(t, c.Allow.AllowOriginFunc != nil, true)
				if c.Allow.AllowOriginFunc != nil {
					expect(t, c.Allow.AllowOriginFunc("https://app.example.com"), true)
					expect(t, c.Allow.AllowOriginFunc("https://evil.example"), false)
				}
			}},
		{"own rate limit wins over the alias", nil, map[string]string{"CORSANYWHERE_RATELIMIT": "50 3", "CORSBRIDGE_RATE_LIMIT": "5/1s"},
			func(t *testing.T, c Config) { expect(t, c.RateLimit.Origin.String(), "5/1s") }},
		{"concurrency caps", nil, map[string]string{"CORSBRIDGE_CLIENT_CONCURRENCY": "8", "CORSBRIDGE_ORIGIN_CONCURRENCY": "off"},
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.ClientConcurrency, 8)
				expect(t, c.RateLimit.OriginConcurrency, 0)
			}},
		{"concurrency caps by default", nil, nil,
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.ClientConcurrency, 64)
				expect(t, c.RateLimit.OriginConcurrency, 128)
			}},
		{"redis and fail mode", nil, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "CORSBRIDGE_RATE_LIMIT_FAIL": "closed"},
			func(t *testing.T, c Config) {
				expect(t, c.RateLimit.RedisURL, "redis://127.0.0.1:6379/0")
				expect(t, string(c.RateLimit.FailMode), "closed")
			}},
		{"booleans", []string{"--private-network-access", "--forward-client-ip=true"}, nil,
			func(t *testing.T, c Config) {
				expect(t, c.Server.PrivateNetworkAccess, true)
				expect(t, c.Server.ForwardClientIP, true)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, envOf(tt.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func expect[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		mentions string
	}{
		{"bad size", nil, map[string]string{"CORSBRIDGE_MAX_REQUEST_BODY": "lots"}, "CORSBRIDGE_MAX_REQUEST_BODY"},
		{"bad duration", []string{"--upstream-timeout", "soon"}, nil, "--upstream-timeout"},
		{"zero timeout", nil, map[string]string{"CORSBRIDGE_UPSTREAM_TIMEOUT": "0s"}, "upstream timeout"},
		{"negative redirects", nil, map[string]string{"CORSBRIDGE_MAX_REDIRECTS": "-1"}, "redirects"},
		{"bad CIDR", nil, map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "10.0.0.0/33"}, "CORSBRIDGE_ALLOW_PRIVATE"},
		{"bad port", nil, map[string]string{"CORSBRIDGE_ALLOW_PORTS": "80,http"}, "CORSBRIDGE_ALLOW_PORTS"},
		{"bad bool", nil, map[string]string{"CORSBRIDGE_FORWARD_CLIENT_IP": "maybe"}, "CORSBRIDGE_FORWARD_CLIENT_IP"},
		{"bad log format", nil, map[string]string{"CORSBRIDGE_LOG_FORMAT": "xml"}, "CORSBRIDGE_LOG_FORMAT"},
		{"bad rate limit", nil, map[string]string{"CORSBRIDGE_RATE_LIMIT": "lots"}, "CORSBRIDGE_RATE_LIMIT"},
		{"bad cors-anywhere rate limit", nil, map[string]string{"CORSANYWHERE_RATELIMIT": "fifty"}, "CORSANYWHERE_RATELIMIT"},
		{"cors-anywhere max 0 without hosts", nil, map[string]string{"CORSANYWHERE_RATELIMIT": "0 1"}, "none is listed"},
		{"zero concurrency", nil, map[string]string{"CORSBRIDGE_CLIENT_CONCURRENCY": "0"}, "CORSBRIDGE_CLIENT_CONCURRENCY"},
		{"bad concurrency", []string{"--origin-concurrency", "many"}, nil, "--origin-concurrency"},
		{"bad fail mode", nil, map[string]string{"CORSBRIDGE_RATE_LIMIT_FAIL": "ajar"}, "CORSBRIDGE_RATE_LIMIT_FAIL"},
		{"bad redis url", nil, map[string]string{"REDIS_URL": "mysql://x"}, "REDIS_URL"},
		{"redis password never echoed", nil, map[string]string{"REDIS_URL": "redis://:hunter2@x:1/0x"}, "REDIS_URL"},
		{"raw XFF never trusted", nil, map[string]string{"CORSBRIDGE_TRUSTED_PROXY_HEADER": "X-Forwarded-For"}, "Forwarded"},
		{"unknown flag", []string{"--nope"}, nil, "nope"},
		{"stray argument", []string{"extra"}, nil, "extra"},
		{"empty require list", nil, map[string]string{"CORSBRIDGE_REQUIRE_HEADER": " , "}, "CORSBRIDGE_REQUIRE_HEADER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, envOf(tt.env), &bytes.Buffer{})
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("error %q does not name %q", err, tt.mentions)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes a password", err)
			}
		})
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, envOf(nil), &out)
	if !errors.Is(err, errHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "--"+s.Flag) || !strings.Contains(out.String(), s.Env) {
			t.Errorf("--help does not list %s / %s", s.Flag, s.Env)
		}
	}
}

// The README's configuration table is generated from settings(): run
// `UPDATE_README=1 go test ./cmd/corsbridge -run TestReadmeTable` after
// changing a setting. The test fails when the two drift apart.
func TestReadmeTableMatchesSettings(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
	text := string(readme)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", begin, end)
	}
	want := settingsTable(settings())
	if got := text[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_README") != "" {
			if err := os.WriteFile(path, []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README settings table is stale; run UPDATE_README=1 go test ./cmd/corsbridge -run TestReadmeTable\ngot:\n%s\nwant:\n%s", got, want)
	}
}

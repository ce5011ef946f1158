package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name       string
		cfg        func(*Config)
		authorized bool
		method     string
		status     int
		header     http.Header
		length     int64
		reason     string
		lifetime   time.Duration
		swr, sie   time.Duration
	}{
		{name: "max-age", status: 200, header: http.Header{"Cache-Control": {"max-age=60"}}, lifetime: time.Minute},
		{name: "s-maxage over max-age", status: 200, header: http.Header{"Cache-Control": {"max-age=60, s-maxage=5"}}, lifetime: 5 * time.Second},
		{name: "Expires minus Date", status: 200, header: http.Header{"Date": {date}, "Expires": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, lifetime: 90 * time.Second},
		{name: "max-age over Expires", status: 200, header: http.Header{"Cache-Control": {"max-age=10"}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, lifetime: 10 * time.Second},
		{name: "invalid Expires is stale", status: 200, header: http.Header{"Expires": {"0"}}, reason: reasonStale},
		{name: "no freshness, no default", status: 200, header: http.Header{}, reason: reasonNoFreshness},
		{name: "default TTL for cacheable status", cfg: func(c *Config) { c.DefaultTTL = 30 * time.Second }, status: 404, header: http.Header{}, lifetime: 30 * time.Second},
		{name: "no default TTL for 500", cfg: func(c *Config) { c.DefaultTTL = 30 * time.Second }, status: 500, header: http.Header{}, reason: reasonNoFreshness},
		{name: "explicit freshness stores 500", status: 500, header: http.Header{"Cache-Control": {"max-age=5"}}, lifetime: 5 * time.Second},
		{name: "max TTL caps", cfg: func(c *Config) { c.MaxTTL = time.Minute }, status: 200, header: http.Header{"Cache-Control": {"max-age=86400, stale-if-error=86400"}}, lifetime: time.Minute, sie: time.Minute},
		{name: "no-store", status: 200, header: http.Header{"Cache-Control": {"max-age=60, no-store"}}, reason: reasonNoStore},
		{name: "private", status: 200, header: http.Header{"Cache-Control": {"private, max-age=60"}}, reason: reasonPrivate},
		{name: "no-cache", status: 200, header: http.Header{"Cache-Control": {"no-cache, max-age=60"}}, reason: reasonNoCache},
		{name: "Set-Cookie", status: 200, header: http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"a=b"}}, reason: reasonSetCookie},
		{name: "Vary star", status: 200, header: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept, *"}}, reason: reasonVaryStar},
		{name: "Authorization without public", authorized: true, status: 200, header: http.Header{"Cache-Control": {"max-age=60"}}, reason: reasonAuthorization},
		{name: "Authorization with public", authorized: true, status: 200, header: http.Header{"Cache-Control": {"public, max-age=60"}}, lifetime: time.Minute},
		{name: "Authorization with s-maxage", authorized: true, status: 200, header: http.Header{"Cache-Control": {"s-maxage=60"}}, lifetime: time.Minute},
		{name: "partial content", status: 206, header: http.Header{"Cache-Control": {"max-age=60"}}, reason: reasonStatus},
		{name: "HEAD", method: http.MethodHead, status: 200, header: http.Header{"Cache-Control": {"max-age=60"}}, reason: reasonMethod},
		{name: "declared too large", status: 200, length: 2 << 20, header: http.Header{"Cache-Control": {"max-age=60"}}, reason: reasonTooLarge},
		{name: "already older than max-age", status: 200, header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"61"}}, reason: reasonStale},
		{name: "old but stale-while-revalidate", status: 200, header: http.Header{"Cache-Control": {"max-age=60, stale-while-revalidate=30"}, "Age": {"61"}}, lifetime: time.Minute, swr: 30 * time.Second},
		{name: "must-revalidate forbids stale", status: 200, header: http.Header{"Cache-Control": {"max-age=60, must-revalidate, stale-while-revalidate=30, stale-if-error=30"}}, lifetime: time.Minute},
		{name: "s-maxage forbids stale", status: 200, header: http.Header{"Cache-Control": {"s-maxage=60, stale-if-error=30"}}, lifetime: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxEntry = 1 << 20
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := newCache(t, cfg, Options{})
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			res := &http.Response{StatusCode: tt.status, Header: tt.header, ContentLength: tt.length, Request: &http.Request{Method: method}}
			f, reason := c.decide(tt.authorized, res, now, now)
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if reason == "" && (f.lifetime != tt.lifetime || f.swr != tt.swr || f.sie != tt.sie) {
				t.Fatalf("freshness %+v, want lifetime %v swr %v sie %v", f, tt.lifetime, tt.swr, tt.sie)
			}
		})
	}
}

func TestAge(t *testing.T) {
	sent := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		header   http.Header
		received time.Time
		later    time.Duration
		want     time.Duration
	}{
		{"no Date, no Age: the round trip", http.Header{}, sent.Add(2 * time.Second), 0, 2 * time.Second},
		{"Age plus the round trip", http.Header{"Age": {"10"}}, sent.Add(time.Second), 0, 11 * time.Second},
		{"Date older than Age says", http.Header{"Age": {"1"}, "Date": {sent.Add(-30 * time.Second).Format(http.TimeFormat)}}, sent, 0, 30 * time.Second},
		{"Date in the future counts as 0", http.Header{"Date": {sent.Add(time.Hour).Format(http.TimeFormat)}}, sent, 0, 0},
		{"resident time adds", http.Header{"Age": {"5"}}, sent, 7 * time.Second, 12 * time.Second},
		{"invalid Age ignored", http.Header{"Age": {"soon"}}, sent, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := freshness{responseTime: tt.received, initialAge: initialAge(tt.header, sent, tt.received)}
			if got := f.age(tt.received.Add(tt.later)); got != tt.want {
				t.Fatalf("age %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"zero size", func(c *Config) { c.Size = 0 }, false},
		{"entry above size", func(c *Config) { c.MaxEntry = c.Size + 1 }, false},
		{"negative default TTL", func(c *Config) { c.DefaultTTL = -1 }, false},
		{"default TTL above max", func(c *Config) { c.DefaultTTL, c.MaxTTL = time.Hour, time.Minute }, false},
		{"no max TTL", func(c *Config) { c.MaxTTL = 0; c.DefaultTTL = time.Hour }, true},
		{"empty prefix", func(c *Config) { c.RedisPrefix = "" }, false},
		{"zero Redis timeout", func(c *Config) { c.RedisTimeout = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

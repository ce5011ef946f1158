package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/internal/redistest"
	"github.com/corsbridge/corsbridge/usage"
)

// Health, readiness and metrics answer however busy the limits are, and
// are never taken for proxy targets.
func TestOperationalEndpointsAreNeverLimited(t *testing.T) {
	upstream, rec := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
	p := newProxy(t, withMetrics, withLimits(t, "1/1m", "1/1m"))
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 200 {
		t.Fatalf("first proxied request: %d", res.StatusCode)
	}
	if res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil); res.StatusCode != 429 {
		t.Fatalf("second proxied request: %d, want 429", res.StatusCode)
	}
	for range 5 {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
			res, body := p.do(t, "GET", path, nil, nil)
			var got struct{ Status string }
			if res.StatusCode != 200 || json.Unmarshal(body, &got) != nil || got.Status != want {
				t.Fatalf("%s while limited: %d %s", path, res.StatusCode, body)
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Ratelimit-Limit") != "" {
				t.Errorf("%s headers: %v", path, res.Header)
			}
		}
		if res, _ := p.do(t, "GET", "/metrics", nil, nil); res.StatusCode != 200 {
			t.Fatalf("/metrics while limited: %d", res.StatusCode)
		}
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("the upstream saw %d requests, want 1", n)
	}
	p.Server.Drain()
	res, body := p.do(t, "GET", "/readyz", nil, nil)
	if res.StatusCode != 503 {
		t.Errorf("readyz while draining: %d %s", res.StatusCode, body)
	}
	if res, _ := p.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
		t.Errorf("healthz while draining: %d (alive, only not ready)", res.StatusCode)
	}
}

// readiness is the body of /readyz.
type readiness struct {
	Status    string `json:"status"`
	RateLimit string `json:"rate_limit"`
	Access    string `json:"access"`
	Usage     string `json:"usage"`
}

func readyz(t *testing.T, p *proxyFixture) (int, readiness) {
	t.Helper()
	res, body := p.do(t, "GET", "/readyz", nil, nil)
	var got readiness
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	return res.StatusCode, got
}

// TestReadyzReportsUsageStore: /readyz says where usage is kept, ready
// and draining alike.
func TestReadyzReportsUsageStore(t *testing.T) {
	srv := redistest.Dedicated(t)
	tests := []struct {
		name string
		cfg  *usage.Config // nil: no ledger
		want string
	}{
		{"no ledger", nil, "off"},
		{"memory", &usage.Config{}, "memory"},
		{"file", &usage.Config{File: filepath.Join(t.TempDir(), "keys.json.usage.json")}, "file"},
		{"redis", &usage.Config{Redis: redisClient(t, srv.URL())}, "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deps []func(*Deps)
			if tt.cfg != nil {
				deps = append(deps, withUsage(newLedger(t, *tt.cfg)))
			}
			p := newProxy(t, deps...)
			if status, got := readyz(t, p); status != 200 || got.Status != "ready" || got.Usage != tt.want {
				t.Errorf("readyz: %d %+v, want ready, usage %s", status, got, tt.want)
			}
			p.Server.Drain()
			if status, got := readyz(t, p); status != 503 || got.Status != "draining" || got.Usage != tt.want {
				t.Errorf("readyz while draining: %d %+v, want draining, usage %s", status, got, tt.want)
			}
		})
	}
}

func TestReadyzReportsAccessStore(t *testing.T) {
	tests := []struct {
		name string
		deps []func(*Deps)
		want string
	}{
		{"no guard", nil, access.StatusNotConfigured},
		{"empty keys file", []func(*Deps){withAccess(t, access.Config{}, access.Data{})}, access.StatusHealthy},
		{"tokens only", []func(*Deps){func(d *Deps) {
			g, err := access.New(context.Background(), access.Config{TokenSecrets: []string{tokenSecret}})
			if err != nil {
				t.Fatal(err)
			}
			d.Access = g
		}}, access.StatusHealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProxy(t, tt.deps...)
			if status, got := readyz(t, p); status != 200 || got.Status != "ready" || got.Access != tt.want {
				t.Errorf("readyz: %d %+v, want ready, access %s", status, got, tt.want)
			}
			p.Server.Drain()
			if status, got := readyz(t, p); status != 503 || got.Status != "draining" || got.Access != tt.want {
				t.Errorf("readyz while draining: %d %+v, want draining, access %s", status, got, tt.want)
			}
		})
	}
}

// TestReadyzAccessDegradedStaysReady: a key store that cannot be read makes
// /readyz say degraded, still 200, while the last keys read stay in force;
// draining is 503 as ever.
func TestReadyzAccessDegradedStaysReady(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	k, secret := newKey(t, "team", "off", time.Time{}, nil, nil)
	path := filepath.Join(t.TempDir(), "keys.json")
	raw, _ := json.Marshal(access.Data{Keys: []access.Key{k}})
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := access.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := access.New(context.Background(), access.Config{RequireKey: true, Store: store, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	p := newProxy(t, func(d *Deps) { d.Access = g })

	if status, got := readyz(t, p); status != 200 || got.Access != access.StatusHealthy {
		t.Fatalf("readyz: %d %+v, want 200, access healthy", status, got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, got := readyz(t, p)
		if got.Access == access.StatusDegraded {
			if status != 200 || got.Status != "ready" {
				t.Errorf("readyz while degraded: %d %+v, want 200 ready", status, got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never reported degraded: %d %+v", status, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"X-Requested-With": "x", HeaderKey: secret})
	if res.StatusCode != 200 {
		t.Errorf("the last known key while degraded: %d %s", res.StatusCode, body)
	}
	p.Server.Drain()
	if status, got := readyz(t, p); status != 503 || got.Status != "draining" || got.Access != access.StatusDegraded {
		t.Errorf("readyz while degraded and draining: %d %+v", status, got)
	}
}

package server

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/internal/redistest"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/usage"
)

// withUsage records usage in l.
func withUsage(l *usage.Ledger) func(*Deps) { return func(d *Deps) { d.Usage = l } }

func newLedger(t *testing.T, cfg usage.Config) *usage.Ledger {
	t.Helper()
	l, err := usage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func redisClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitUsage waits for the figures of name today to become want: a request
// is recorded when its handler returns, just after its client has the
// answer. Only equality passes, so a figure too high fails as one too low.
func waitUsage(t *testing.T, l *usage.Ledger, name string, want usage.Counts) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		days, err := l.Usage(context.Background(), name, 1, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got := days[0].Counts
		if len(got.Refused) == 0 {
			got.Refused = nil
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage of %s = %+v, want %+v", name, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUsageCountsEveryKeyedRequest: served requests, cache hits and
// refusals after the key is known count under the key, refusals by code,
// bytes as the client received them; preflights, requests without a key,
// unknown keys and reading the usage itself do not.
func TestUsageCountsEveryKeyedRequest(t *testing.T) {
	srv := redistest.Dedicated(t)
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := usage.Config{}
			if backend == "redis" {
				cfg.Redis = redisClient(t, srv.URL())
			}
			l := newLedger(t, cfg)
			upstream, _ := cacheableUpstream(t)
			team, teamKey := newKey(t, "team", "6/1m", time.Time{}, nil, nil)
			scoped, scopedKey := newKey(t, "scoped", "off", time.Time{}, []string{"https://app.example"}, nil)
			_, unknownKey := newKey(t, "never-stored", "off", time.Time{}, nil, nil)
			p := newProxy(t, withUsage(l), withCache(nil), withAccess(t, access.Config{}, access.Data{Keys: []access.Key{team, scoped}}))

			var teamBytes, scopedBytes int64
			send := func(method, path, key, origin string, extra map[string]string) *http.Response {
				h := map[string]string{"Origin": origin}
				if key != "" {
					h[HeaderKey] = key
				}
				for k, v := range extra {
					h[k] = v
				}
				res, body := p.do(t, method, path, nil, h)
				switch key {
				case teamKey:
					teamBytes += int64(len(body))
				case scopedKey:
					scopedBytes += int64(len(body))
				}
				return res
			}
			const o = "https://app.example"
			// 4 served (the second of each pair a cache hit), 1 upstream
			// failure, 1 over the key's rate of 6, 1 more over it.
			for _, path := range []string{"/a", "/a", "/b", "/b"} {
				if res := send("GET", "/"+upstream.URL+path, teamKey, o, nil); res.StatusCode != 200 {
					t.Fatalf("GET %s: %d", path, res.StatusCode)
				}
			}
			closed, _ := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
			closed.Close()
			if res := send("GET", "/"+closed.URL+"/", teamKey, o, nil); res.StatusCode != 502 {
				t.Fatalf("closed port: %d", res.StatusCode)
			}
			send("GET", "/"+upstream.URL+"/c", teamKey, o, nil)
			for range 2 {
				if res := send("GET", "/"+upstream.URL+"/d", teamKey, o, nil); res.StatusCode != 429 {
					t.Fatalf("over the key's rate: %d", res.StatusCode)
				}
			}
			// Never counted: a preflight, no key, an unknown key, reading
			// the usage.
			if res := send("OPTIONS", "/"+upstream.URL+"/a", "", o, map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": HeaderKey}); res.StatusCode != 204 {
				t.Fatalf("preflight: %d", res.StatusCode)
			}
			send("GET", "/"+upstream.URL+"/a", "", o, nil)
			if res := send("GET", "/"+upstream.URL+"/a", unknownKey, o, nil); res.StatusCode != 403 {
				t.Fatalf("unknown key: %d", res.StatusCode)
			}
			if res, body := p.do(t, "GET", UsagePath, nil, map[string]string{HeaderKey: teamKey}); res.StatusCode != 200 {
				t.Fatalf("usage: %d %s", res.StatusCode, body)
			}
			// A genuine key out of scope is refused under its name.
			if res := send("GET", "/"+upstream.URL+"/a", scopedKey, "https://evil.example", nil); res.StatusCode != 403 {
				t.Fatalf("scoped key, foreign origin: %d", res.StatusCode)
			}
			send("GET", "/"+upstream.URL+"/a", scopedKey, o, nil)

			waitUsage(t, l, "team", usage.Counts{Requests: 8, Bytes: teamBytes,
				Refused: map[string]int64{"upstream_unreachable": 1, "rate_limited": 2}})
			waitUsage(t, l, "scoped", usage.Counts{Requests: 2, Bytes: scopedBytes, Refused: map[string]int64{"key_forbidden": 1}})
			all, err := l.All(context.Background(), time.Now(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Errorf("names recorded: %v, want team and scoped only", all)
			}
			named := false
			for line := range strings.Lines(p.Logs.String()) {
				named = named || strings.Contains(line, `"error":"key_forbidden"`) && strings.Contains(line, `"key":"scoped"`)
			}
			if !named {
				t.Error("the log line of the refusal does not name the key")
			}
		})
	}
}

// TestUsageSumsAcrossInstances: two instances on one Redis, each with its
// own ledger, add up exactly.
func TestUsageSumsAcrossInstances(t *testing.T) {
	srv := redistest.Dedicated(t)
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) })
	team, teamKey := newKey(t, "team", "off", time.Time{}, nil, nil)
	keys := withAccess(t, access.Config{}, access.Data{Keys: []access.Key{team}})
	var proxies []*proxyFixture
	for range 2 {
		l := newLedger(t, usage.Config{Redis: redisClient(t, srv.URL()), FlushInterval: 10 * time.Millisecond})
		proxies = append(proxies, newProxy(t, withUsage(l), keys))
	}
	want := usage.Counts{}
	for i, n := range []int{7, 5} {
		for range n {
			res, body := proxies[i].do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://app.example", HeaderKey: teamKey})
			if res.StatusCode != 200 {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			want.Requests++
			want.Bytes += int64(len(body))
		}
	}
	// Each instance's figures reach Redis within its flush interval; a
	// third reader, with nothing pending, sees their sum.
	reader := newLedger(t, usage.Config{Redis: redisClient(t, srv.URL())})
	waitUsage(t, reader, "team", want)
}

// usageJSON decodes GET /_corsbridge/usage's answer.
type usageJSON struct {
	Name   string `json:"name"`
	Rate   string `json:"rate"`
	Quotas []struct {
		Name                   string
		Limit, Used, Remaining int64
		Resets                 time.Time
	} `json:"quotas"`
	Usage struct {
		Today, Month struct {
			From, To string
			Requests int64
			Bytes    int64
			Refused  map[string]int64
		}
	} `json:"usage"`
}

// TestUsageEndpoint: the JSON shape (quotas as the limiter counts them,
// usage as the ledger does), CORS, no-store, the credential from the header
// or the query, the token's origin scope, the refusals; and reading counts
// nowhere. In memory, and with the limits and the ledger in Redis.
func TestUsageEndpoint(t *testing.T) {
	srv := redistest.Dedicated(t)
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) { testUsageEndpoint(t, backend, srv.URL()) })
	}
}

func testUsageEndpoint(t *testing.T, backend, redisURL string) {
	cfg := usage.Config{}
	limits := &ratelimit.Config{}
	if backend == "redis" {
		cfg.Redis = redisClient(t, redisURL)
		limits.RedisURL = redisURL
	}
	l := newLedger(t, cfg)
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("0123456789")) })
	team, teamKey := newKey(t, "team", "100/1h", time.Time{}, nil, []string{"api.example.com"})
	token, err := access.SignToken(tokenSecret, access.Claims{Origins: []string{"https://demo.example"}, Targets: []string{"127.0.0.1"},
		Expires: time.Now().Add(time.Hour).Unix(), Rate: "50/1h", Daily: 5, MonthlyBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, withUsage(l), func(d *Deps) { d.RateLimit = limits },
		withAccess(t, access.Config{TokenSecrets: []string{tokenSecret}}, access.Data{Keys: []access.Key{team}}))
	for range 3 {
		if res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://demo.example", HeaderKey: token}); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	}
	waitUsage(t, l, access.TokenID(token), usage.Counts{Requests: 3, Bytes: 30})

	now := time.Now().UTC()
	today := now.Format(time.DateOnly)
	month := now.Format("2006-01") + "-01"
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	nextMonth := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		code    string // error code, or the name read
	}{
		{"token in the header, its origin", UsagePath, map[string]string{"Origin": "https://demo.example", HeaderKey: token}, 200, access.TokenID(token)},
		{"token in the query", UsagePath + "?corsbridge_key=" + token, map[string]string{"Origin": "https://demo.example"}, 200, access.TokenID(token)},
		{"token without an origin", UsagePath, map[string]string{HeaderKey: token}, 200, access.TokenID(token)},
		{"token from a foreign origin", UsagePath, map[string]string{"Origin": "https://evil.example", HeaderKey: token}, 403, "key_forbidden"},
		{"key: its target scope does not apply", UsagePath, map[string]string{"Origin": "https://any.example", HeaderKey: teamKey}, 200, "team"},
		{"no credential", UsagePath, map[string]string{"Origin": "https://demo.example"}, 401, "key_required"},
		{"unknown key", UsagePath, map[string]string{HeaderKey: "cbk_" + strings.Repeat("A", 43)}, 403, "key_forbidden"},
		{"malformed", UsagePath + "?corsbridge_key=nonsense", nil, 403, "key_forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.headers == nil {
				tc.headers = map[string]string{}
			}
			res, body := p.do(t, "GET", tc.path, nil, tc.headers)
			if tc.status != 200 {
				checkErrorContract(t, res, body, tc.status, tc.code)
				return
			}
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			for h, want := range map[string]string{"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*", "Content-Type": "application/json; charset=utf-8"} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			var got usageJSON
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if got.Name != tc.code {
				t.Errorf("name %q, want %q", got.Name, tc.code)
			}
			if got.Name == "team" {
				if got.Rate != "100/1h" || got.Usage.Today.Requests != 0 || got.Quotas == nil || len(got.Quotas) != 0 {
					t.Errorf("team: %s", body)
				}
				return
			}
			u := got.Usage
			if got.Rate != "50/1h" || u.Today.Requests != 3 || u.Today.Bytes != 30 || u.Today.From != today || u.Today.To != today ||
				u.Month.Requests != 3 || u.Month.From != month || u.Month.To != today || u.Today.Refused == nil {
				t.Errorf("answer: %s", body)
			}
			q := got.Quotas
			if len(q) != 2 || q[0].Name != "daily" || q[0].Limit != 5 || q[0].Used != 3 || q[0].Remaining != 2 || !q[0].Resets.Equal(tomorrow) ||
				q[1].Name != "monthly-bytes" || q[1].Limit != 1000 || q[1].Used != 30 || q[1].Remaining != 970 || !q[1].Resets.Equal(nextMonth) {
				t.Errorf("quotas: %s", body)
			}
		})
	}
	// Reading counts nowhere: the token's figures did not move, and its
	// quota still lets exactly two more requests through.
	waitUsage(t, l, access.TokenID(token), usage.Counts{Requests: 3, Bytes: 30})
	for i, want := range []int{200, 200, 429} {
		res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, map[string]string{"Origin": "https://demo.example", HeaderKey: token})
		if res.StatusCode != want {
			t.Fatalf("request %d after the reads: %d %s", i+4, res.StatusCode, body)
		}
	}
	// A page that sends the header asks first.
	res, _ := p.do(t, "OPTIONS", UsagePath, nil, map[string]string{"Origin": "https://demo.example",
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-corsbridge-key"})
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Headers") != "x-corsbridge-key" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

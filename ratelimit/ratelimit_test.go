package ratelimit

import (
	"github.com/corsbridge/corsbridge/allowlist"

	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// newTestLimiter builds a Limiter closed at the end of the test.
func newTestLimiter(t *testing.T, cfg Config) *Limiter {
	t.Helper()
	if cfg.OriginKey == nil {
		cfg.OriginKey = allowlist.OriginKey // as the server passes it
	}
	l, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// okHandler stands for the proxy behind the limiter.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("upstream"))
})

// onLimitedJSON stands for the server's error writer.
func onLimitedJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Corsbridge-Error", "rate_limited")
	w.WriteHeader(http.StatusTooManyRequests)
}

func onUnavailableJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Corsbridge-Error", "unavailable")
	w.WriteHeader(http.StatusServiceUnavailable)
}

// req is one request of a scenario.
type req struct {
	remote  string
	origin  string
	headers map[string]string
}

func (q req) do(h http.Handler) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/https://api.example/v1/items", nil)
	r.RemoteAddr = q.remote
	if r.RemoteAddr == "" {
		r.RemoteAddr = "192.0.2.1:5555"
	}
	if q.origin != "" {
		r.Header.Set("Origin", q.origin)
	}
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestMiddlewareHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(15 * time.Second) // 15s into a minute window
		l := newTestLimiter(t, Config{
			Origin:    Limit{Requests: 3, Window: time.Minute},
			Client:    Limit{Requests: 5, Window: time.Minute},
			OnLimited: onLimitedJSON,
		})
		h := l.Middleware(okHandler)
		reset := strconv.FormatInt(time.Now().Truncate(time.Minute).Add(time.Minute).Unix(), 10)
		q := req{origin: "https://app.example"}

		for i, remaining := range []string{"2", "1", "0"} {
			rec := q.do(h)
			if rec.Code != 200 || rec.Body.String() != "upstream" {
				t.Fatalf("request %d: %d %q, want 200 from upstream", i+1, rec.Code, rec.Body)
			}
			// The origin limit is the tighter one.
			wantHeaders(t, rec, map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": remaining,
				"X-RateLimit-Reset": reset, "Retry-After": ""})
		}
		rec := q.do(h)
		if rec.Code != 429 || rec.Header().Get("X-Corsbridge-Error") != "rate_limited" || rec.Body.Len() != 0 {
			t.Fatalf("4th request: %d %q, want OnLimited's 429", rec.Code, rec.Body)
		}
		// 3 in the window: a slot frees when the window ends, plus 1/3 of
		// the next one, while the previous window's weight decays.
		wantHeaders(t, rec, map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset": reset, "Retry-After": "65"})

		// Another origin from the same client: the client limit (5, of which
		// 4 used: the refused request counted too) is now the tighter one,
		// and then refuses.
		other := req{origin: "https://other.example"}
		wantHeaders(t, other.do(h), map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"})
		rec = other.do(h)
		if rec.Code != 429 {
			t.Fatalf("client over its limit: %d, want 429", rec.Code)
		}
		wantHeaders(t, rec, map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": "57"})

		time.Sleep(65 * time.Second)
		if rec := (req{remote: "192.0.2.2:1", origin: q.origin}).do(h); rec.Code != 200 {
			t.Fatalf("after Retry-After: %d, want 200", rec.Code)
		}
	})
}

func wantHeaders(t *testing.T, rec *httptest.ResponseRecorder, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q (status %d)", k, got, v, rec.Code)
		}
	}
}

// TestMiddlewareKeys checks which requests share a bucket: each scenario
// sends its requests in order against Origin 2/1m and Client 3/1m, and lists
// the expected statuses.
func TestMiddlewareKeys(t *testing.T) {
	fly := map[string]string{"Fly-Client-IP": "198.51.100.7"}
	tests := []struct {
		name    string
		trusted string
		exempt  []string
		reqs    []req
		want    []int
	}{
		{name: "one origin, case and scheme and default port ignored",
			reqs: []req{{remote: "192.0.2.1:1", origin: "https://App.example"}, {remote: "192.0.2.2:1", origin: "http://app.example"},
				{remote: "192.0.2.3:1", origin: "https://app.example:443"}},
			want: []int{200, 200, 429}},
		{name: "non-default port is another origin",
			reqs: []req{{remote: "192.0.2.1:1", origin: "https://app.example"}, {remote: "192.0.2.2:1", origin: "https://app.example"},
				{remote: "192.0.2.3:1", origin: "https://app.example:8443"}},
			want: []int{200, 200, 200}},
		{name: "no origin counts per client only",
			reqs: []req{{remote: "192.0.2.1:1"}, {remote: "192.0.2.1:2"}, {remote: "192.0.2.1:3"}, {remote: "192.0.2.1:4"}, {remote: "192.0.2.2:1"}},
			want: []int{200, 200, 200, 429, 200}},
		{name: "exempt origin counts per client only", exempt: []string{"*.example"},
			reqs: []req{{remote: "192.0.2.1:1", origin: "https://a.example"}, {remote: "192.0.2.1:1", origin: "https://a.example"},
				{remote: "192.0.2.1:1", origin: "https://b.example"}, {remote: "192.0.2.1:1", origin: "https://a.example"},
				{remote: "192.0.2.2:1", origin: "https://a.example"}},
			want: []int{200, 200, 200, 429, 200}},
		{name: "invalid origins share one bucket",
			reqs: []req{{remote: "192.0.2.1:1", origin: "garbage 1"}, {remote: "192.0.2.2:1", origin: "https://x/y"},
				{remote: "192.0.2.3:1", origin: "\x00"}},
			want: []int{200, 200, 429}},
		{name: "invalid origins are never exempt", exempt: []string{"/.*/"},
			reqs: []req{{remote: "192.0.2.1:1", origin: "not an origin"}, {remote: "192.0.2.2:1", origin: "https://a/b"},
				{remote: "192.0.2.3:1", origin: "https://a:0"}, {remote: "192.0.2.4:1", origin: "https://any.example"},
				{remote: "192.0.2.4:1", origin: "https://any.example"}, {remote: "192.0.2.4:1", origin: "https://any.example"}},
			want: []int{200, 200, 429, 200, 200, 200}},
		{name: "ipv6 grouped by /64",
			reqs: []req{{remote: "[2001:db8:1:2::1]:1"}, {remote: "[2001:db8:1:2::2]:1"}, {remote: "[2001:db8:1:2:ffff::9]:1"},
				{remote: "[2001:db8:1:2::abcd]:1"}, {remote: "[2001:db8:1:3::1]:1"}},
			want: []int{200, 200, 200, 429, 200}},
		{name: "ipv4-mapped is the ipv4 client",
			reqs: []req{{remote: "192.0.2.9:1"}, {remote: "[::ffff:192.0.2.9]:1"}, {remote: "192.0.2.9:2"}, {remote: "[::ffff:192.0.2.9]:2"}},
			want: []int{200, 200, 200, 429}},
		{name: "x-forwarded-for is ignored",
			reqs: []req{{remote: "192.0.2.1:1", headers: map[string]string{"X-Forwarded-For": "203.0.113.1"}},
				{remote: "192.0.2.1:1", headers: map[string]string{"X-Forwarded-For": "203.0.113.2"}},
				{remote: "192.0.2.1:1", headers: map[string]string{"X-Forwarded-For": "203.0.113.3"}},
				{remote: "192.0.2.1:1", headers: map[string]string{"X-Forwarded-For": "203.0.113.4"}}},
			want: []int{200, 200, 200, 429}},
		{name: "trusted header is the client", trusted: "Fly-Client-IP",
			reqs: []req{{remote: "10.0.0.1:1", headers: fly}, {remote: "10.0.0.2:1", headers: fly}, {remote: "10.0.0.3:1", headers: fly},
				{remote: "10.0.0.4:1", headers: fly}, {remote: "10.0.0.4:1"}},
			want: []int{200, 200, 200, 429, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLimiter(t, Config{Origin: Limit{Requests: 2, Window: time.Minute}, Client: Limit{Requests: 3, Window: time.Minute},
				Exempt: exemptOf(t, tt.exempt...), TrustedProxyHeader: tt.trusted})
			h := l.Middleware(okHandler)
			var got []int
			for _, q := range tt.reqs {
				got = append(got, q.do(h).Code)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("statuses %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMiddlewareOff(t *testing.T) {
	l := newTestLimiter(t, Config{RedisURL: "redis://127.0.0.1:1"})
	h := l.Middleware(okHandler)
	for range 5 {
		rec := req{origin: "https://a.example"}.do(h)
		if rec.Code != 200 || rec.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatalf("limits off: %d %v", rec.Code, rec.Header())
		}
	}
	if l.Status() != StatusNotConfigured || l.Backend() != BackendOff {
		t.Fatalf("Status %q Backend %q, want not_configured, off", l.Status(), l.Backend())
	}
	l2 := newTestLimiter(t, Config{Origin: Limit{Requests: 1, Window: time.Second}})
	if l2.Status() != StatusNotConfigured || l2.Backend() != BackendLocal {
		t.Fatalf("Status %q Backend %q, want not_configured, local", l2.Status(), l2.Backend())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "zero", cfg: Config{}},
		{name: "full", cfg: Config{Origin: Limit{Requests: 60, Window: time.Minute}, Client: Limit{Requests: 1, Window: time.Second}, Exempt: exemptOf(t, "a.example", "*.b.example", "/c/"), OriginKey: allowlist.OriginKey,
			TrustedProxyHeader: "Fly-Client-IP", FailMode: FailClosed, RedisURL: "redis://localhost"}},
		{name: "bad origin limit", cfg: Config{Origin: Limit{Requests: 1, Window: time.Millisecond}}, wantErr: "origin limit"},
		{name: "bad client limit", cfg: Config{Client: Limit{Requests: -1, Window: time.Minute}}, wantErr: "client limit"},
		{name: "fractional window", cfg: Config{Client: Limit{Requests: 1, Window: 1500 * time.Millisecond}}, wantErr: "whole number of seconds"},
		{name: "fail mode", cfg: Config{FailMode: "maybe"}, wantErr: "fail mode"},
		{name: "xff", cfg: Config{TrustedProxyHeader: "x-forwarded-for"}, wantErr: "not x-forwarded-for"},
		{name: "forwarded", cfg: Config{TrustedProxyHeader: "Forwarded"}, wantErr: "clients write"},
		{name: "header syntax", cfg: Config{TrustedProxyHeader: "Fly Client IP"}, wantErr: "not a header name"},
		{name: "redis url", cfg: Config{RedisURL: "http://x"}, wantErr: "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				if _, err := New(context.Background(), tt.cfg); err == nil {
					t.Fatal("New accepted an invalid Config")
				}
			}
		})
	}
	for _, s := range []string{"open", "closed", " Closed "} {
		if _, err := ParseFailMode(s); err != nil {
			t.Errorf("ParseFailMode(%q): %v", s, err)
		}
	}
}

func TestOnRefusedNamesTheLimit(t *testing.T) {
	var got []string
	l := newTestLimiter(t, Config{
		Origin:    Limit{Requests: 1, Window: time.Minute},
		Client:    Limit{Requests: 3, Window: time.Minute},
		OnLimited: onLimitedJSON,
		OnRefused: func(r *http.Request, limit string) { got = append(got, limit) },
	})
	h := l.Middleware(okHandler)
	want := []int{200, 429, 200, 429}
	reqs := []req{{origin: "https://a.example"}, {origin: "https://a.example"}, {origin: "https://b.example"}, {origin: "https://c.example"}}
	for i, q := range reqs {
		if rec := q.do(h); rec.Code != want[i] {
			t.Fatalf("request %d: %d, want %d", i+1, rec.Code, want[i])
		}
	}
	if !slices.Equal(got, []string{LimitOrigin, LimitClient}) {
		t.Errorf("OnRefused saw %q, want [origin client]", got)
	}
}

// exemptOf compiles exemption entries as the server does.
func exemptOf(t *testing.T, entries ...string) func(string) bool {
	t.Helper()
	set, err := allowlist.NewOriginKeySet(entries)
	if err != nil {
		t.Fatal(err)
	}
	return set.MatchKey
}

// TestNewNeedsOriginKey: an origin limit cannot count without the
// canonicaliser the server passes.
func TestNewNeedsOriginKey(t *testing.T) {
	_, err := New(context.Background(), Config{Origin: Limit{Requests: 1, Window: time.Minute}})
	if err == nil || !strings.Contains(err.Error(), "OriginKey") {
		t.Fatalf("New without OriginKey = %v, want an error naming it", err)
	}
}

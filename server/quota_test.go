package server

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/internal/redistest"
	"github.com/corsbridge/corsbridge/rate"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// quotaKey is a key with rate 100/1h and quota q, and its secret.
func quotaKey(t *testing.T, name string, q rate.Quota) (access.Key, string) {
	t.Helper()
	k, secret := newKey(t, name, "100/1h", time.Time{}, nil, nil)
	k.Daily, k.Monthly, k.MonthlyBytes = q.Daily, q.Monthly, q.MonthlyBytes
	return k, secret
}

// exposed reports whether every name is in Access-Control-Expose-Headers.
func exposed(h http.Header, names ...string) bool {
	list := strings.Split(h.Get("Access-Control-Expose-Headers"), ", ")
	for _, n := range names {
		found := false
		for _, e := range list {
			found = found || strings.EqualFold(e, n)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestQuotaExceeded: a key with a daily quota of 2 gets two answers, then
// 429 quota_exceeded in the error contract, naming the quota and its reset,
// with Retry-After the seconds to midnight UTC, the key's X-RateLimit-* and
// the IETF headers, all exposed to scripts. A cache hit counts like a
// forwarded request.
func TestQuotaExceeded(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("ok"))
	})
	k, secret := quotaKey(t, "metered", rate.Quota{Daily: 2, Monthly: 1000})
	p := newProxy(t, withMetrics, withCache(nil), withAccess(t, access.Config{RequireKey: true}, access.Data{Keys: []access.Key{k}}))
	headers := map[string]string{"Origin": "https://app.example", "X-Corsbridge-Key": secret}
	policy := `"key";q=100;w=3600, "daily";q=2;w=86400, "monthly";q=1000;w=` + strconv.Itoa(monthDays(time.Now())*86400)
	for i, want := range []struct {
		remaining string
		state     string
	}{
		{"99", `^"key";r=99;t=\d+, "daily";r=1;t=\d+, "monthly";r=999;t=\d+$`},
		{"98", `^"key";r=98;t=\d+, "daily";r=0;t=\d+, "monthly";r=998;t=\d+$`},
	} {
		res, body := p.do(t, "GET", "/"+upstream.URL+"/data", nil, headers)
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d: %d %s", i+1, res.StatusCode, body)
		}
		if res.Header.Get("X-Ratelimit-Remaining") != want.remaining || res.Header.Get("RateLimit-Policy") != policy ||
			!regexp.MustCompile(want.state).MatchString(res.Header.Get("RateLimit")) {
			t.Errorf("request %d headers: X-RateLimit-Remaining %q RateLimit-Policy %q RateLimit %q", i+1,
				res.Header.Get("X-Ratelimit-Remaining"), res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"))
		}
		if !exposed(res.Header, "RateLimit-Policy", "RateLimit", "X-RateLimit-Remaining") {
			t.Errorf("request %d: not exposed: %q", i+1, res.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("upstream saw %d requests, want 1 (the second was a cache hit, counted all the same)", n)
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/data", nil, headers)
	checkErrorContract(t, res, body, 429, "quota_exceeded")
	midnight := rate.NextDay(time.Now())
	if want := "daily quota of 2 requests used up; resets at " + midnight.Format(time.RFC3339); !strings.Contains(string(body), want) {
		t.Errorf("message %s, want %q", body, want)
	}
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if until := int(time.Until(midnight).Seconds()); err != nil || ra < until || ra > until+2 {
		t.Errorf("Retry-After %q, want the %d seconds to midnight UTC", res.Header.Get("Retry-After"), until)
	}
	if res.Header.Get("X-Ratelimit-Limit") != "100" || res.Header.Get("X-Ratelimit-Remaining") != "98" ||
		res.Header.Get("RateLimit-Policy") != policy ||
		!regexp.MustCompile(`^"key";r=98;t=\d+, "daily";r=0;t=\d+, "monthly";r=998;t=\d+$`).MatchString(res.Header.Get("RateLimit")) {
		t.Errorf("refusal headers: %v", res.Header)
	}
	if !exposed(res.Header, "RateLimit-Policy", "RateLimit", "Retry-After") {
		t.Errorf("refusal: not exposed: %q", res.Header.Get("Access-Control-Expose-Headers"))
	}
	wantSamples(t, scrape(t, p), map[string]float64{
		`corsbridge_quota_exceeded_total{quota="daily"}`:               1,
		`corsbridge_quota_exceeded_total{quota="monthly"}`:             0,
		`corsbridge_requests_total{class="4xx",code="quota_exceeded"}`: 1,
	})
	if !strings.Contains(p.Logs.String(), `"limited_by":"quota"`) {
		t.Errorf("the request log does not say a quota refused:\n%s", p.Logs.String())
	}
}

// monthDays is the length of t's UTC month in days.
func monthDays(t time.Time) int {
	return int(rate.NextMonth(t).Sub(rate.MonthStart(t)) / (24 * time.Hour))
}

// TestQuotaTokenMonthlyBytes: a token's monthly bytes quota counts response
// bodies once they end; the response that crosses it is served whole, the
// next request is refused.
func TestQuotaTokenMonthlyBytes(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 600)))
	})
	token, err := access.SignToken(tokenSecret, access.Claims{
		Origins: []string{"https://demo.example"}, Targets: []string{"127.0.0.1/v1/*"},
		Expires: time.Now().Add(time.Hour).Unix(), Rate: "100/1h", MonthlyBytes: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, withAccess(t, access.Config{RequireKey: true, TokenSecrets: []string{tokenSecret}}, access.Data{}))
	headers := map[string]string{"Origin": "https://demo.example", "X-Corsbridge-Key": token}
	q := rate.Quota{MonthlyBytes: 1000}
	for i, wantUsed := range []int64{600, 1200} {
		res, body := p.do(t, "GET", "/"+upstream.URL+"/v1/x", nil, headers)
		if res.StatusCode != 200 || len(body) != 600 {
			t.Fatalf("request %d: %d, %d bytes", i+1, res.StatusCode, len(body))
		}
		// The bytes are counted as the handler returns, which may be
		// just after the client has read the body.
		waitQuotaUsed(t, p.Server.limiter, access.TokenID(token), q, wantUsed)
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/v1/x", nil, headers)
	checkErrorContract(t, res, body, 429, "quota_exceeded")
	if !strings.Contains(string(body), "monthly quota of 1000 response bytes used up; resets at "+rate.NextMonth(time.Now()).Format(time.RFC3339)) {
		t.Errorf("message: %s", body)
	}
	if got := res.Header.Get("RateLimit-Policy"); !strings.HasSuffix(got, `"monthly-bytes";q=1000;qu="content-bytes";w=`+strconv.Itoa(monthDays(time.Now())*86400)) {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if got := res.Header.Get("RateLimit"); !regexp.MustCompile(`, "monthly-bytes";r=0;t=\d+$`).MatchString(got) {
		t.Errorf("RateLimit %q", got)
	}
}

// waitQuotaUsed polls until key's last quota in q has used want, for at
// most 5 s.
func waitQuotaUsed(t *testing.T, l *ratelimit.Limiter, key string, q rate.Quota, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		uses, err := l.QuotaStatus(context.Background(), key, q, time.Now())
		if err == nil && uses[len(uses)-1].Used == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("quota use %+v %v, want %d used", uses, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQuotaSharedByTwoServers: two proxies on one Redis share a key's daily
// quota exactly: 10, seven requests through each, ten answered.
func TestQuotaSharedByTwoServers(t *testing.T) {
	srv := redistest.Dedicated(t)
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	k, secret := quotaKey(t, "shared", rate.Quota{Daily: 10})
	var proxies []*proxyFixture
	for range 2 {
		proxies = append(proxies, newProxy(t, withAccess(t, access.Config{RequireKey: true}, access.Data{Keys: []access.Key{k}}),
			func(d *Deps) { d.RateLimit = &ratelimit.Config{RedisURL: srv.URL()} }))
	}
	headers := map[string]string{"Origin": "https://app.example", "X-Corsbridge-Key": secret}
	codes := map[string]int{}
	for range 7 {
		for _, p := range proxies {
			res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, headers)
			codes[strconv.Itoa(res.StatusCode)+" "+res.Header.Get(HeaderError)]++
		}
	}
	if codes["200 "] != 10 || codes["429 quota_exceeded"] != 4 || len(rec.all()) != 10 {
		t.Errorf("two servers, daily 10, 14 requests: %v, upstream saw %d; want exactly 10 answered", codes, len(rec.all()))
	}
}

// TestUpstreamRateLimitHeadersKeptAside: an upstream's own RateLimit and
// RateLimit-Policy cannot pass for the proxy's: they arrive as
// X-Upstream-RateLimit and X-Upstream-RateLimit-Policy, and the client sees
// the proxy's, once, for the origin and client limits it was counted
// against.
func TestUpstreamRateLimitHeadersKeptAside(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("RateLimit", `"upstream";r=1;t=1`)
		w.Header().Set("RateLimit-Policy", `"upstream";q=2;w=1`)
	})
	p := newProxy(t, withLimits(t, "10/1m", "20/1h"))
	res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, nil)
	h := res.Header
	if got := h.Values("RateLimit-Policy"); len(got) != 1 || got[0] != `"client";q=20;w=3600, "origin";q=10;w=60` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if got := h.Values("RateLimit"); len(got) != 1 || !regexp.MustCompile(`^"client";r=19;t=\d+, "origin";r=9;t=\d+$`).MatchString(got[0]) {
		t.Errorf("RateLimit %q", got)
	}
	if h.Get("X-Upstream-Ratelimit") != `"upstream";r=1;t=1` || h.Get("X-Upstream-Ratelimit-Policy") != `"upstream";q=2;w=1` {
		t.Errorf("upstream's headers not kept aside: %v", h)
	}
	if !exposed(h, "RateLimit", "RateLimit-Policy", "X-Upstream-RateLimit") {
		t.Errorf("not exposed: %q", h.Get("Access-Control-Expose-Headers"))
	}
}

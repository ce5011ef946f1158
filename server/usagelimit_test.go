package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/internal/redistest"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/usage"
)

// TestUsageReadsCountAgainstTheClientLimit: with a client limit of N, the
// N+1st usage read from one address is refused 429 rate_limited in the
// error contract, with Retry-After and the limit's headers; another
// address still reads, the origin limit does not apply, and the reads use
// none of the credential's rate, quotas or usage. Without a client limit
// reads are not limited at all. In memory, and with the limits in Redis.
func TestUsageReadsCountAgainstTheClientLimit(t *testing.T) {
	const n = 3
	for _, backend := range []string{"memory", "redis"} {
		for _, client := range []string{strconv.Itoa(n) + "/1m", "off"} {
			t.Run(backend+"/client "+client, func(t *testing.T) {
				limits := &ratelimit.Config{Client: mustLimit(t, client), Origin: mustLimit(t, "1/1m")}
				if backend == "redis" {
					limits.RedisURL = redistest.Dedicated(t).URL()
				}
				testUsageReadLimit(t, limits, !limits.Client.Off())
			})
		}
	}
}

func mustLimit(t *testing.T, s string) ratelimit.Limit {
	t.Helper()
	l, err := ratelimit.ParseLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testUsageReadLimit(t *testing.T, limits *ratelimit.Config, limited bool) {
	const n = 3
	ledger := newLedger(t, usage.Config{})
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("0123456789")) })
	// The token's rate allows 3 requests an hour and its quota 5 a day.
	token, err := access.SignToken(tokenSecret, access.Claims{Origins: []string{"https://demo.example"}, Targets: []string{"127.0.0.1"},
		Expires: time.Now().Add(time.Hour).Unix(), Rate: "3/1h", Daily: 5})
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, withUsage(ledger), func(d *Deps) {
		d.Config.TrustedProxyHeader = "Fly-Client-IP"
		d.RateLimit = limits
	}, withAccess(t, access.Config{TokenSecrets: []string{tokenSecret}}, access.Data{}))
	from := func(addr string, key bool) map[string]string {
		h := map[string]string{"Origin": "https://demo.example", "Fly-Client-IP": addr}
		if key {
			h[HeaderKey] = token
		}
		return h
	}
	const a, b = "127.0.0.2", "127.0.0.3"
	proxied := func(addr string, key bool) int {
		t.Helper()
		res, _ := p.do(t, "GET", "/"+upstream.URL+"/", nil, from(addr, key))
		return res.StatusCode
	}
	// Two of the token's three requests an hour, from address a.
	for i := range 2 {
		if got := proxied(a, true); got != 200 {
			t.Fatalf("proxy request %d: %d", i+1, got)
		}
	}
	waitUsage(t, ledger, access.TokenID(token), usage.Counts{Requests: 2, Bytes: 20})

	// read checks one read from addr that is admitted: the figures are
	// those of the two requests, however many reads came before.
	read := func(addr string, wantRemaining string) {
		t.Helper()
		res, body := p.do(t, "GET", UsagePath, nil, from(addr, true))
		if res.StatusCode != 200 {
			t.Fatalf("read from %s: %d %s", addr, res.StatusCode, body)
		}
		if got := res.Header.Get("X-Ratelimit-Remaining"); got != wantRemaining {
			t.Errorf("read from %s: X-RateLimit-Remaining = %q, want %q", addr, got, wantRemaining)
		}
		var got usageJSON
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if len(got.Quotas) != 1 || got.Quotas[0].Used != 2 || got.Quotas[0].Remaining != 3 || got.Usage.Today.Requests != 2 {
			t.Errorf("read from %s: %s", addr, body)
		}
	}
	// Reads from b: the first n admitted (the origin limit of 1 does not
	// apply), then, with the client limit, refused.
	for i := range n + 2 {
		want := ""
		if limited {
			want = strconv.Itoa(max(n-1-i, 0))
		}
		if !limited || i < n {
			read(b, want)
			continue
		}
		res, body := p.do(t, "GET", UsagePath, nil, from(b, true))
		checkErrorContract(t, res, body, 429, "rate_limited")
		for _, h := range []string{"Retry-After", "X-Ratelimit-Limit", "X-Ratelimit-Reset"} {
			if res.Header.Get(h) == "" {
				t.Errorf("read %d: 429 without %s: %v", i+1, h, res.Header)
			}
		}
		if got := res.Header.Get("X-Ratelimit-Remaining"); got != "0" {
			t.Errorf("read %d: X-RateLimit-Remaining = %q, want 0", i+1, got)
		}
	}
	// Another address reads on; b's keyless requests share its limit, its
	// keyed requests do not.
	if limited {
		read(a, strconv.Itoa(n-1))
		if got := proxied(b, false); got != 429 {
			t.Errorf("keyless request from b after its reads: %d, want 429", got)
		}
	}
	// The reads used none of the token's rate: its third request of the
	// hour goes through, the fourth is over it. Nor its usage.
	if got := proxied(b, true); got != 200 {
		t.Errorf("the token's third request: %d, want 200", got)
	}
	res, body := p.do(t, "GET", "/"+upstream.URL+"/", nil, from(a, true))
	checkErrorContract(t, res, body, 429, "rate_limited")
	waitUsage(t, ledger, access.TokenID(token), usage.Counts{Requests: 4, Bytes: 30 + int64(len(body)), Refused: map[string]int64{"rate_limited": 1}})
}

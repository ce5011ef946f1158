package ratelimit

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// keyedReq is req with a key's limit in its context, as the access
// middleware sets it.
func keyedReq(h http.Handler, origin, name string, limit Limit) int {
	return req{origin: origin}.do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(WithKey(r.Context(), name, limit)))
	})).Code
}

func TestKeyedRequestsCountAgainstTheKeyOnly(t *testing.T) {
	var refused []string
	l := newTestLimiter(t, Config{
		Origin:    Limit{Requests: 1, Window: time.Minute},
		Client:    Limit{Requests: 2, Window: time.Minute},
		OnLimited: onLimitedJSON,
		OnRefused: func(r *http.Request, limit string) { refused = append(refused, limit) },
	})
	h := l.Middleware(okHandler)
	team := Limit{Requests: 3, Window: time.Minute}
	var got []int
	for range 4 {
		got = append(got, keyedReq(h, "https://a.example", "team", team))
	}
	if want := []int{200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Fatalf("keyed requests: %v, want %v (the key's 3/1m, not the origin's 1/1m)", got, want)
	}
	if !slices.Equal(refused, []string{LimitKey}) {
		t.Errorf("OnRefused saw %q, want [key]", refused)
	}
	// Another key has its own count; the keyless origin and client quotas
	// were never touched.
	if code := keyedReq(h, "https://a.example", "other", team); code != 200 {
		t.Errorf("another key: %d", code)
	}
	if rec := (req{origin: "https://a.example"}).do(h); rec.Code != 200 || rec.Header().Get("X-Ratelimit-Remaining") != "0" {
		t.Errorf("keyless request after keyed ones: %d %v, want the origin's full quota", rec.Code, rec.Header())
	}
	// Headers name the key's limit.
	rec := req{origin: "https://b.example"}.do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(WithKey(r.Context(), "fresh", Limit{Requests: 5, Window: time.Hour})))
	}))
	if rec.Header().Get("X-Ratelimit-Limit") != "5" || rec.Header().Get("X-Ratelimit-Remaining") != "4" {
		t.Errorf("keyed headers: %v", rec.Header())
	}
}

func TestKeyedOffAndLimitsOff(t *testing.T) {
	l := newTestLimiter(t, Config{Origin: Limit{Requests: 1, Window: time.Minute}, OnLimited: onLimitedJSON})
	h := l.Middleware(okHandler)
	for i := range 5 {
		if code := keyedReq(h, "https://a.example", "unlimited", Limit{}); code != 200 {
			t.Fatalf("request %d with an off key limit: %d", i, code)
		}
	}
	// Origin and client limits off: a key's limit still applies.
	off := newTestLimiter(t, Config{Keys: true, OnLimited: onLimitedJSON})
	h = off.Middleware(okHandler)
	var got []int
	for range 3 {
		got = append(got, keyedReq(h, "", "k", Limit{Requests: 2, Window: time.Minute}))
	}
	if want := []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("limits off, key 2/1m: %v, want %v", got, want)
	}
	if rec := (req{origin: "https://a.example"}).do(h); rec.Code != 200 || rec.Header().Get("X-Ratelimit-Limit") != "" {
		t.Errorf("keyless request with limits off: %d %v", rec.Code, rec.Header())
	}
}

// TestKeyedSharedInRedis: two instances with origin and client limits off
// share a key's count through Redis when Config.Keys is set.
func TestKeyedSharedInRedis(t *testing.T) {
	var hs []http.Handler
	for range 2 {
		l := newTestLimiter(t, Config{Keys: true, RedisURL: sharedRedisURL, OnLimited: onLimitedJSON})
		if l.Status() != StatusHealthy {
			t.Fatalf("status %q, want healthy", l.Status())
		}
		hs = append(hs, l.Middleware(okHandler))
	}
	name := uniqueKey("team")
	counts := map[int]int{}
	for i := range 10 {
		counts[keyedReq(hs[i%2], "", name, Limit{Requests: 4, Window: time.Minute})]++
	}
	if counts[200] != 4 || counts[429] != 6 {
		t.Errorf("two instances, key 4/1m: %v, want exactly 4 passed", counts)
	}
	c := testClient(t, sharedRedisURL)
	keys, err := c.Keys(context.Background(), keyPrefix+"{key:"+name+"}*").Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("redis keys for the key's counter: %q %v", keys, err)
	}
}

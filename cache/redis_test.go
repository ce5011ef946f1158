package cache

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// redisConfig gives each test its own key prefix in the shared Redis.
func redisConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.RedisPrefix = "test:" + t.Name() + ":"
	return cfg
}

// TestTwoInstances: an entry one instance stores is a hit on another that
// shares the Redis, and a purge on one reaches both.
func TestTwoInstances(t *testing.T) {
	cfg := redisConfig(t)
	rdb := redisClient(t, sharedRedisURL)
	a := newCache(t, cfg, Options{Redis: rdb})
	b := newCache(t, cfg, Options{Redis: rdb})
	up := echoUpstream(t, "max-age=60", "Vary", "Accept-Language")
	proxyA, proxyB := newProxy(t, a, up.URL), newProxy(t, b, up.URL)

	runSteps(t, proxyA.URL, up, "/shared", []step{{header: []string{"Accept-Language", "fr"}, outcome: "miss", upstream: 1}})
	runSteps(t, proxyB.URL, up, "/shared", []step{
		{header: []string{"Accept-Language", "fr"}, body: "q= key= lang=fr", outcome: "hit", upstream: 1},
		{header: []string{"Accept-Language", "de"}, outcome: "miss", upstream: 2},
		{header: []string{"X-Api-Key", "k"}, outcome: "miss", upstream: 3},
	})
	if s := b.Stats(); s.HitsRedis != 1 || s.HitsMemory != 0 {
		t.Fatalf("instance b: %+v", s)
	}
	// The Redis hit is kept in b's memory for a moment.
	runSteps(t, proxyB.URL, up, "/shared", []step{{header: []string{"Accept-Language", "fr"}, outcome: "hit", upstream: 3}})
	if s := b.Stats(); s.HitsMemory != 1 {
		t.Fatalf("instance b after a second hit: %+v", s)
	}
	if a.State() != "redis" {
		t.Fatalf("State() = %q", a.State())
	}

	n, err := a.Purge(t.Context(), up.URL+"/shared")
	if err != nil || n == 0 {
		t.Fatalf("Purge: %d, %v", n, err)
	}
	// b's memory copy lives at most LocalTTL.
	time.Sleep(cfg.LocalTTL + 50*time.Millisecond)
	runSteps(t, proxyB.URL, up, "/shared", []step{{header: []string{"Accept-Language", "fr"}, outcome: "miss", upstream: 4}})
}

// TestNoLocalCopies: with LocalTTL 0 an instance keeps nothing in memory,
// neither what it stored nor what it read, so every hit is a Redis hit and
// a purge anywhere takes effect at once.
func TestNoLocalCopies(t *testing.T) {
	cfg := redisConfig(t)
	cfg.LocalTTL = 0
	c := newCache(t, cfg, Options{Redis: redisClient(t, sharedRedisURL)})
	up := echoUpstream(t, "max-age=60")
	proxy := newProxy(t, c, up.URL)
	runSteps(t, proxy.URL, up, "/remote", []step{
		{outcome: "miss", upstream: 1},
		{outcome: "hit", upstream: 1},
		{outcome: "hit", upstream: 1},
	})
	if s := c.Stats(); s.HitsRedis != 2 || s.HitsMemory != 0 || s.BytesStoredMemory != 0 {
		t.Fatalf("stats: %+v", s)
	}
	if n, err := c.Purge(t.Context(), up.URL+"/remote"); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	runSteps(t, proxy.URL, up, "/remote", []step{{outcome: "miss", upstream: 2}})
}

func TestPurge(t *testing.T) {
	cfg := redisConfig(t)
	rdb := redisClient(t, sharedRedisURL)
	c := newCache(t, cfg, Options{Redis: rdb})
	up := echoUpstream(t, "max-age=60")
	proxy := newProxy(t, c, up.URL)
	for _, p := range []string{"/one", "/one?x=1", "/two"} {
		fetch(t, http.MethodGet, proxy.URL+p)
		fetch(t, http.MethodGet, proxy.URL+p, "X-Api-Key", "k")
	}
	keys := func() int {
		ks, err := rdb.Keys(t.Context(), cfg.RedisPrefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(ks)
	}
	if n := keys(); n != 6 {
		t.Fatalf("%d keys in Redis, want 6", n)
	}
	if n, err := c.Purge(t.Context(), up.URL+"/one"); err != nil || n != 2 {
		t.Fatalf("Purge(/one) = %d, %v; want both variants", n, err)
	}
	runSteps(t, proxy.URL, up, "/one?x=1", []step{{outcome: "hit", upstream: 6}})
	runSteps(t, proxy.URL, up, "/one", []step{{outcome: "miss", upstream: 7}})
	if n, err := PurgeRedis(t.Context(), rdb, cfg.RedisPrefix, ""); err != nil || n != 5 {
		t.Fatalf("PurgeRedis(all) = %d, %v", n, err)
	}
	if n := keys(); n != 0 {
		t.Fatalf("%d keys left after purging all", n)
	}
	if n, err := c.PurgeAll(t.Context()); err != nil || n == 0 {
		t.Fatalf("PurgeAll = %d, %v (the memory tier still held entries)", n, err)
	}
	runSteps(t, proxy.URL, up, "/two", []step{{outcome: "miss", upstream: 8}})
}

// TestRedisDown: with Redis gone the cache misses quickly and serves from
// memory; nothing fails; it uses Redis again once Redis is back.
func TestRedisDown(t *testing.T) {
	srv := redistest.Dedicated(t)
	cfg := redisConfig(t)
	cfg.RedisTimeout = 50 * time.Millisecond
	rdb := redisClient(t, srv.URL())
	c := newCache(t, cfg, Options{Redis: rdb})
	up := echoUpstream(t, "max-age=60")
	proxy := newProxy(t, c, up.URL)

	srv.Stop()
	start := time.Now()
	runSteps(t, proxy.URL, up, "/down", []step{
		{outcome: "miss", upstream: 1},
		{outcome: "hit", upstream: 1}, // from memory
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("two requests took %v with Redis down", took)
	}
	if s := c.Stats(); s.RedisErrors == 0 || c.State() != "degraded" {
		t.Fatalf("State %q, stats %+v", c.State(), s)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(redisPause + 50*time.Millisecond)
	runSteps(t, proxy.URL, up, "/up-again", []step{{outcome: "miss", upstream: 2}})
	waitFor(t, func() bool {
		n, _ := rdb.Exists(context.Background(), cfg.RedisPrefix+variantKey(up.URL+"/up-again", "", "")).Result()
		return n == 1
	})
	if c.State() != "redis" {
		t.Fatalf("State %q after Redis came back", c.State())
	}
}

// TestRedisGarbage: an entry that does not decode is a miss.
func TestRedisGarbage(t *testing.T) {
	cfg := redisConfig(t)
	rdb := redisClient(t, sharedRedisURL)
	c := newCache(t, cfg, Options{Redis: rdb})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "fine")
	})
	if err := rdb.Set(t.Context(), cfg.RedisPrefix+variantKey(up.URL+"/g", "", ""), "garbage", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, c, up.URL)
	runSteps(t, proxy.URL, up, "/g", []step{{body: "fine", outcome: "miss", upstream: 1}, {outcome: "hit", upstream: 1}})
}

package ratelimit

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// TestCombinedScriptCountsLikeSeparateCalls: with Redis, a request's client
// and origin limits are counted in one script call, one round trip, and
// decide exactly as counting them one after the other does: the in-memory
// counters, and Redis one limit per call (as with a Redis Cluster). A request
// the client limit refuses leaves the origin's quota alone; one the origin
// limit refuses still counts for the client.
func TestCombinedScriptCountsLikeSeparateCalls(t *testing.T) {
	srv := redistest.Dedicated(t) // fixed client and origin keys: a Redis of its own
	type setup struct {
		name   string
		db     string
		single bool // one script call per limit
	}
	setups := []*setup{{name: "local"}, {name: "redis", db: "/1"}, {name: "redis per limit", db: "/2", single: true}}
	// Origin 2/1h, client 3/1h; an hour, so no window ends during the test.
	seq := []struct {
		remote, origin string
		want           int
		refusedBy      string
		tripsCombined  int64 // round trips of the combined script
		tripsPerLimit  int64
	}{
		{"192.0.2.1:1", "https://x.example", 200, "", 1, 2},
		{"192.0.2.1:1", "https://x.example", 200, "", 1, 2},
		{"192.0.2.1:1", "https://x.example", 429, LimitOrigin, 1, 2}, // counts for the client: 3 of 3
		{"192.0.2.1:1", "https://y.example", 429, LimitClient, 1, 1}, // y's quota untouched
		{"192.0.2.2:1", "https://y.example", 200, "", 1, 2},          // y: 1 of 2
		{"192.0.2.2:1", "", 200, "", 1, 1},                           // client limit only
		{"192.0.2.2:1", "https://y.example", 200, "", 1, 2},          // y: 2 of 2, client: 3 of 3
		{"192.0.2.2:1", "https://y.example", 429, LimitClient, 1, 1},
		{"192.0.2.3:1", "https://y.example", 429, LimitOrigin, 1, 2},
	}
	type outcome struct {
		code                   int
		refusedBy              string
		limit, remaining, rset string
	}
	results := make([][]outcome, len(setups))
	for si, s := range setups {
		var refusedBy string
		cfg := Config{
			Origin:    Limit{Requests: 2, Window: time.Hour},
			Client:    Limit{Requests: 3, Window: time.Hour},
			OnLimited: onLimitedJSON,
			OnRefused: func(_ *http.Request, limit string) { refusedBy = limit },
		}
		if s.db != "" {
			cfg.RedisURL = srv.URL() + s.db
		}
		l := newTestLimiter(t, cfg)
		hook := &roundTrips{}
		if s.db != "" {
			if l.Status() != StatusHealthy || !l.counter.oneNode {
				t.Fatalf("%s: status %s, one node %v", s.name, l.Status(), l.counter.oneNode)
			}
			l.counter.oneNode = !s.single
			l.rdb.AddHook(hook)
			if _, err := l.counter.Take(context.Background(), uniqueKey("load"), time.Now(), Limit{Requests: 1, Window: time.Hour}); err != nil {
				t.Fatal(err) // loads the script: EVALSHA alone from now on
			}
		}
		h := l.Middleware(okHandler)
		for i, q := range seq {
			refusedBy = ""
			before := hook.n.Load()
			rec := req{remote: q.remote, origin: q.origin}.do(h)
			hd := rec.Header()
			results[si] = append(results[si], outcome{rec.Code, refusedBy,
				hd.Get("X-Ratelimit-Limit"), hd.Get("X-Ratelimit-Remaining"), hd.Get("X-Ratelimit-Reset")})
			if rec.Code != q.want || refusedBy != q.refusedBy {
				t.Errorf("%s, request %d: %d refused by %q, want %d by %q", s.name, i+1, rec.Code, refusedBy, q.want, q.refusedBy)
			}
			trips := hook.n.Load() - before
			switch {
			case s.db == "":
			case !s.single && trips != q.tripsCombined:
				t.Errorf("%s, request %d: %d round trips, want %d", s.name, i+1, trips, q.tripsCombined)
			case s.single && trips != q.tripsPerLimit:
				t.Errorf("%s, request %d: %d round trips, want %d", s.name, i+1, trips, q.tripsPerLimit)
			}
		}
		if s.db == "" {
			continue
		}
		// What Redis holds: y was never counted for the refused client.
		rdb := testClient(t, cfg.RedisURL)
		idx, _ := window(time.Now(), time.Hour)
		for key, want := range map[string]int{
			"origin:x.example": 2, "origin:y.example": 2,
			"client:192.0.2.1": 3, "client:192.0.2.2": 3, "client:192.0.2.3": 1,
		} {
			if n, err := rdb.Get(context.Background(), counterKey(key, time.Hour, idx)).Int(); err != nil || n != want {
				t.Errorf("%s: %s counted %d (%v), want %d", s.name, key, n, err, want)
			}
		}
	}
	for si := 1; si < len(setups); si++ {
		for i := range seq {
			if results[si][i] != results[0][i] {
				t.Errorf("request %d: %s %+v, local %+v", i+1, setups[si].name, results[si][i], results[0][i])
			}
		}
	}
}

// TestCombinedScriptKeyedAndProbe: a key's limit and the health probe use
// the same script with one limit: one round trip each.
func TestCombinedScriptKeyedAndProbe(t *testing.T) {
	l := newTestLimiter(t, Config{Keys: true, Origin: Limit{Requests: 100, Window: time.Minute}, RedisURL: sharedRedisURL, OnLimited: onLimitedJSON})
	hook := &roundTrips{}
	l.rdb.AddHook(hook)
	if err := l.probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	hook.n.Store(0)
	name := uniqueKey("team")
	codes := []int{}
	for range 3 {
		codes = append(codes, keyedReq(l.Middleware(okHandler), "https://a.example", name, Limit{Requests: 2, Window: time.Minute}))
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("key 2/1m: %v", codes)
	}
	if n := hook.n.Load(); n != 3 {
		t.Errorf("%d round trips for 3 keyed requests, want 3", n)
	}
}

// TestCombinedScriptBadReply: a reply that is not what the script returns
// is an error, which sends the limiter to its fallback, not a panic.
func TestCombinedScriptBadReply(t *testing.T) {
	rdb := testClient(t, sharedRedisURL)
	rc := NewRedisCounter(rdb)
	// A stand-in that answers {1, 1, 0} whatever it is asked: one
	// decision, allowed, for two limits.
	rc.script = redis.NewScript(`return {1, 1, 0}`)
	ru := rule{limit: Limit{Requests: 5, Window: time.Minute}}
	_, err := rc.takeEach(context.Background(), []count{{&ru, uniqueKey("a")}, {&ru, uniqueKey("b")}}, time.Now(), nil)
	if err == nil {
		t.Errorf("short reply: %v, want an error", err)
	}
}

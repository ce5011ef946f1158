package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/logbuf"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

// logBuffer collects a Limiter's log lines.
type logBuffer struct{ logbuf.Buffer }

func (b *logBuffer) count(level string) int {
	return strings.Count(b.String(), "level="+level+" ")
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}

// waitStatus polls until l reports status, for at most 5s.
func waitStatus(t *testing.T, l *Limiter, status string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Status() != status {
		if time.Now().After(deadline) {
			t.Fatalf("Status %q after 5s, want %q", l.Status(), status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redisKeyCount counts the Redis keys of a counter key (all windows).
func redisKeyCount(t *testing.T, url, key string) int {
	t.Helper()
	rdb := testClient(t, url)
	keys, err := rdb.Keys(context.Background(), keyPrefix+"{"+key+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestFallbackAndRecovery(t *testing.T) {
	srv := redistest.Dedicated(t)
	logs := &logBuffer{}
	l := newTestLimiter(t, Config{
		Origin:        Limit{Requests: 5, Window: time.Minute},
		RedisURL:      srv.URL(),
		Logger:        logs.logger(),
		probeInterval: 50 * time.Millisecond,
	})
	h := l.Middleware(okHandler)
	if l.Status() != StatusHealthy || l.Backend() != BackendRedis {
		t.Fatalf("Status %q Backend %q, want healthy, redis", l.Status(), l.Backend())
	}
	statuses := func(origin string, n int) (ok, limited int) {
		for range n {
			switch code := (req{origin: origin}).do(h).Code; code {
			case 200:
				ok++
			case 429:
				limited++
			default:
				t.Fatalf("status %d", code)
			}
		}
		return ok, limited
	}
	if ok, _ := statuses("https://before.example", 3); ok != 3 || redisKeyCount(t, srv.URL(), "origin:before.example") != 1 {
		t.Fatalf("with Redis up: %d allowed, want 3 counted in Redis", ok)
	}

	for round := 1; round <= 2; round++ {
		srv.Stop()
		// The first request after the crash finds out, and is served from
		// the fallback like the others: limits still hold, per instance.
		down := "https://down" + string(rune('0'+round)) + ".example"
		if ok, limited := statuses(down, 8); ok != 5 || limited != 3 {
			t.Fatalf("round %d, Redis down: %d allowed, %d limited; want 5, 3 from the fallback", round, ok, limited)
		}
		if l.Status() != StatusDegraded || l.Backend() != BackendFallback {
			t.Fatalf("Status %q Backend %q, want degraded, fallback", l.Status(), l.Backend())
		}
		time.Sleep(200 * time.Millisecond) // some failed probes
		if n := logs.count("WARN"); n != round {
			t.Fatalf("round %d: %d warnings logged, want one per outage:\n%s", round, n, logs.String())
		}

		restartRedis(t, srv)
		waitStatus(t, l, StatusHealthy)
		if n := logs.count("INFO"); n != round {
			t.Fatalf("round %d: %d recoveries logged, want one per recovery:\n%s", round, n, logs.String())
		}
		origin := "after" + string(rune('0'+round)) + ".example"
		if ok, limited := statuses("https://"+origin, 7); ok != 5 || limited != 2 || redisKeyCount(t, srv.URL(), "origin:"+origin) != 1 {
			t.Fatalf("round %d, Redis back: %d allowed, %d limited; want 5, 2 counted in Redis", round, ok, limited)
		}
	}
	if n := logs.count("WARN"); n != 2 {
		t.Fatalf("%d warnings logged, want 2:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "down.example") {
		t.Fatal("request details in the availability log")
	}
}

func TestRedisDownAtStart(t *testing.T) {
	srv := redistest.Dedicated(t)
	srv.Stop()
	logs := &logBuffer{}
	start := time.Now()
	l := newTestLimiter(t, Config{
		Client:        Limit{Requests: 2, Window: time.Minute},
		RedisURL:      srv.URL(),
		Logger:        logs.logger(),
		probeInterval: 50 * time.Millisecond,
	})
	if d := time.Since(start); d > time.Second {
		t.Fatalf("New took %v with Redis down", d)
	}
	if l.Status() != StatusDegraded || logs.count("WARN") != 1 {
		t.Fatalf("Status %q, %d warnings; want degraded, 1", l.Status(), logs.count("WARN"))
	}
	h := l.Middleware(okHandler)
	start = time.Now()
	var codes []int
	for range 3 {
		codes = append(codes, req{}.do(h).Code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v, want 200 200 429 from the fallback", codes)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("3 requests took %v while degraded: they should not wait on Redis", d)
	}
	restartRedis(t, srv)
	waitStatus(t, l, StatusHealthy)
	if logs.count("WARN") != 1 || logs.count("INFO") != 1 {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

func TestFailClosed(t *testing.T) {
	srv := redistest.Dedicated(t)
	logs := &logBuffer{}
	l := newTestLimiter(t, Config{
		Origin:        Limit{Requests: 5, Window: time.Minute},
		Exempt:        exemptOf(t, "trusted.example"),
		FailMode:      FailClosed,
		RedisURL:      srv.URL(),
		Logger:        logs.logger(),
		OnLimited:     onLimitedJSON,
		OnUnavailable: onUnavailableJSON,
		probeInterval: 50 * time.Millisecond,
	})
	h := l.Middleware(okHandler)
	if code := (req{origin: "https://a.example"}).do(h).Code; code != 200 {
		t.Fatalf("Redis up: %d, want 200", code)
	}
	srv.Stop()
	for range 3 {
		rec := req{origin: "https://a.example"}.do(h)
		if rec.Code != 503 || rec.Header().Get("X-Corsbridge-Error") != "unavailable" || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("Redis down, fail closed: %d %v, want OnUnavailable's 503 with Retry-After: 1", rec.Code, rec.Header())
		}
		if rec.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatal("X-RateLimit-* on a 503")
		}
	}
	// No limit applies: nothing to refuse.
	for _, q := range []req{{origin: "https://trusted.example"}} {
		if code := q.do(h).Code; code != 200 {
			t.Fatalf("exempt origin while closed: %d, want 200", code)
		}
	}
	if logs.count("WARN") != 1 || !strings.Contains(logs.String(), "fail_mode=closed") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	restartRedis(t, srv)
	waitStatus(t, l, StatusHealthy)
	if code := (req{origin: "https://a.example"}).do(h).Code; code != 200 {
		t.Fatalf("Redis back: %d, want 200", code)
	}
}

package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// instance is one corsbridge process: a Limiter in front of a handler,
// served over loopback HTTP.
type instance struct {
	l   *Limiter
	srv *httptest.Server
}

func startInstance(t *testing.T, redisURL string, mode FailMode) *instance {
	t.Helper()
	l := newTestLimiter(t, Config{
		Origin:        Limit{Requests: 10, Window: time.Minute},
		Client:        Limit{Requests: 1000, Window: time.Minute},
		FailMode:      mode,
		RedisURL:      redisURL,
		OnLimited:     onLimitedJSON,
		OnUnavailable: onUnavailableJSON,
		probeInterval: 50 * time.Millisecond,
	})
	srv := httptest.NewServer(l.Middleware(okHandler))
	t.Cleanup(srv.Close)
	return &instance{l: l, srv: srv}
}

// burst sends n concurrent requests with origin, alternating between the
// instances, and counts the responses by status.
func burst(t *testing.T, insts []*instance, origin string, n int) map[int]int {
	t.Helper()
	// Counting is exact within a window, but a burst across the start of
	// a one-minute window is not: a request that read the clock just
	// before may be counted after one that read it just after.
	if left := time.Minute - time.Duration(time.Now().UnixMilli()%60000)*time.Millisecond; left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inst := insts[i%len(insts)]
			r, _ := http.NewRequest("GET", inst.srv.URL+"/https://api.example/v1/items", nil)
			r.Header.Set("Origin", origin)
			resp, err := inst.srv.Client().Do(r)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// TestTwoInstancesShareRedis runs two instances on one Redis through an
// outage: shared counting, then each on its own (fail open) or refusing
// (fail closed), then shared counting again once Redis is back on its port.
func TestTwoInstancesShareRedis(t *testing.T) {
	for _, mode := range []FailMode{FailOpen, FailClosed} {
		t.Run(string(mode), func(t *testing.T) {
			redisSrv := redistest.Dedicated(t)
			insts := []*instance{startInstance(t, redisSrv.URL(), mode), startInstance(t, redisSrv.URL(), mode)}
			origin := func(phase string) string { return fmt.Sprintf("https://%s-%s.example", mode, phase) }

			if got := burst(t, insts, origin("up"), 30); got[200] != 10 || got[429] != 20 {
				t.Fatalf("Redis up: %v, want exactly 10 allowed in total", got)
			}

			redisSrv.Stop()
			got := burst(t, insts, origin("down"), 30)
			switch mode {
			case FailOpen: // each instance enforces 10 of its 15 on its own
				if got[200] != 20 || got[429] != 10 {
					t.Fatalf("Redis down, fail open: %v, want 10 allowed per instance", got)
				}
			case FailClosed:
				if got[503] != 30 {
					t.Fatalf("Redis down, fail closed: %v, want 503 for all", got)
				}
			}
			for _, inst := range insts {
				if inst.l.Status() != StatusDegraded {
					t.Fatalf("Status %q while Redis is down", inst.l.Status())
				}
			}

			restartRedis(t, redisSrv)
			for _, inst := range insts {
				waitStatus(t, inst.l, StatusHealthy)
			}
			if got := burst(t, insts, origin("back"), 30); got[200] != 10 || got[429] != 20 {
				t.Fatalf("Redis back: %v, want exactly 10 allowed in total", got)
			}
		})
	}
}

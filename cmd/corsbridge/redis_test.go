package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

func get(t *testing.T, url, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// burst sends n requests from origin, alternating between the instances,
// and counts the statuses.
func burst(t *testing.T, insts []*instance, target, origin string, n int) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for i := range n {
		status, _ := get(t, insts[i%len(insts)].base+"/"+target, origin)
		counts[status]++
	}
	return counts
}

func waitReady(t *testing.T, insts []*instance, state string) {
	t.Helper()
	waitEach(t, insts, 10*time.Second, func(inst *instance) (bool, string) {
		_, body := get(t, inst.base+"/readyz", "")
		return strings.Contains(body, `"rate_limit":"`+state+`"`), "readyz never reported " + state + ": " + body
	})
}

// waitEach polls check on every instance until it holds, all within one
// deadline, and fails with check's description of the last answer.
func waitEach(t *testing.T, insts []*instance, timeout time.Duration, check func(*instance) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, inst := range insts {
		for {
			ok, last := check(inst)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(last)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestTwoInstancesShareRedis runs two real corsbridge processes' worth of
// run() on one Redis: the limit is shared, survives a Redis outage by
// counting locally, and returns to shared counting by itself.
func TestTwoInstancesShareRedis(t *testing.T) {
	rdb := redistest.Dedicated(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	env := map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE":     "127.0.0.0/8",
		"REDIS_URL":                    rdb.URL(),
		"CORSBRIDGE_RATE_LIMIT":        "10/1m",
		"CORSBRIDGE_CLIENT_RATE_LIMIT": "off",
	}
	insts := []*instance{start(t, env), start(t, env)}
	waitReady(t, insts, "healthy")
	wantShared(t, insts, upstream.URL+"/", "https://shared.example")

	rdb.Stop()
	// Fail open: no request fails because of Redis; each instance counts
	// for itself, so the outage allows up to 10 per instance.
	got := burst(t, insts, upstream.URL+"/", "https://outage.example", 30)
	if got[200] < 10 || got[200] > 20 || got[200]+got[429] != 30 {
		t.Fatalf("during the outage: %v, want 10 to 20 passed and nothing else failing", got)
	}
	waitReady(t, insts, "degraded")
	for _, inst := range insts {
		if !strings.Contains(inst.logs.String(), "Redis") && !strings.Contains(inst.logs.String(), "redis") {
			t.Errorf("no log line about the Redis outage:\n%s", inst.logs.String())
		}
	}

	if err := rdb.Restart(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, insts, "healthy")
	wantShared(t, insts, upstream.URL+"/", "https://after.example")
}

// wantShared sends 30 requests of origin, alternating between instances
// limited to 10/1m per origin, and wants exactly 10 through in total: one
// count shared by both.
func wantShared(t *testing.T, insts []*instance, target, origin string) {
	t.Helper()
	// A burst across the start of a window is not exact: a request that
	// read the clock just before it may be counted after one that read it
	// just after, weighing the windows differently. Start well inside one.
	if left := time.Minute - time.Duration(time.Now().UnixMilli()%60000)*time.Millisecond; left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	if got := burst(t, insts, target, origin, 30); got[200] != 10 || got[429] != 20 {
		t.Fatalf("two instances at 10/1m, origin %s: %v, want exactly 10 passed in total", origin, got)
	}
}

func TestFailClosedAnswers503(t *testing.T) {
	rdb := redistest.Dedicated(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	inst := start(t, map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE":   "127.0.0.0/8",
		"REDIS_URL":                  rdb.URL(),
		"CORSBRIDGE_RATE_LIMIT_FAIL": "closed",
	})
	waitReady(t, []*instance{inst}, "healthy")
	rdb.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body := get(t, inst.base+"/"+upstream.URL+"/", "https://a.example")
		if status == 503 {
			if !strings.Contains(body, `"code":"unavailable"`) || strings.Contains(body, "127.0.0.1") {
				t.Errorf("503 body: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after Redis stopped with fail closed", status)
		}
	}
}

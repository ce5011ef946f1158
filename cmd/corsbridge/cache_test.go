package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// TestCacheThroughRedisOnTwoInstances: what one instance stores, the other
// serves; `corsbridge admin cache purge` drops it for both.
func TestCacheThroughRedisOnTwoInstances(t *testing.T) {
	rdb := redistest.Dedicated(t)
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write([]byte(strings.Repeat("v", int(n))))
	}))
	defer upstream.Close()
	env := map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8", "REDIS_URL": rdb.URL()}
	a, b := start(t, env), start(t, env)
	target := upstream.URL + "/items?x=1"
	for i, inst := range []*instance{a, b, a} {
		if status, body := get(t, inst.base+"/"+target, "https://app.example"); status != 200 || body != "v" {
			t.Fatalf("request %d: %d %q", i, status, body)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the upstream saw %d requests, want 1", n)
	}
	admin(t, env, "cache", "purge", target)
	time.Sleep(1100 * time.Millisecond) // memory copies live at most a second
	if _, body := get(t, b.base+"/"+target, "https://app.example"); body != "vv" {
		t.Fatalf("after the purge: %q, want a fresh answer", body)
	}
	admin(t, env, "cache", "purge", "--all")
	time.Sleep(1100 * time.Millisecond)
	if _, body := get(t, a.base+"/"+target, "https://app.example"); body != "vvv" {
		t.Fatalf("after purging all: %q, want a fresh answer", body)
	}
	waitForLog(t, a, `"cache":"miss"`)
	if logs := a.logs.String(); !strings.Contains(logs, `"cache":"hit"`) || strings.Contains(logs, "x=1") {
		t.Errorf("instance a's request log (cache status, never the query):\n%s", logs)
	}
}

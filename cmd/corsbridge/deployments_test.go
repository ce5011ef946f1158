package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// redisDeployment is a Redis setup README promises, started for real on
// loopback ports for one test.
type redisDeployment struct {
	name  string
	start func(*testing.T) string // returns the REDIS_URL
}

func redisDeployments() []redisDeployment {
	return []redisDeployment{
		{"single", func(t *testing.T) string { return redistest.Dedicated(t).URL() }},
		{"cluster", func(t *testing.T) string { return redistest.StartCluster(t).URL() }},
		{"sentinel", func(t *testing.T) string { return redistest.StartSentinel(t, 3).URL() }},
	}
}

// TestTwoInstancesOnEveryDeployment: on a single Redis, a three-master Redis
// Cluster and a Sentinel-managed master with a replica, two instances share
// a limit exactly (with the client limit on too, so in a cluster each
// request's two counters live on different shards), and keys and blocks
// made with `corsbridge admin` reach both.
func TestTwoInstancesOnEveryDeployment(t *testing.T) {
	for _, d := range redisDeployments() {
		t.Run(d.name, func(t *testing.T) {
			url := d.start(t)
			t.Run("shared limit exact", func(t *testing.T) {
				upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				defer upstream.Close()
				env := map[string]string{
					"CORSBRIDGE_ALLOW_PRIVATE":     "127.0.0.0/8",
					"REDIS_URL":                    url,
					"CORSBRIDGE_RATE_LIMIT":        "10/1m",
					"CORSBRIDGE_CLIENT_RATE_LIMIT": "1000/1m",
				}
				insts := []*instance{start(t, env), start(t, env)}
				waitReady(t, insts, "healthy")
				wantShared(t, insts, upstream.URL+"/", "https://"+d.name+".example")
				waitReady(t, insts, "healthy") // counted in Redis throughout, not in a fallback
			})
			t.Run("keys and blocks propagate", func(t *testing.T) { accessThroughRedis(t, url) })
		})
	}
}

// TestSentinelFailoverCostsNoRequest: while two fail-open instances serve a
// steady stream of requests, Sentinel moves the master (on command, or
// because the master died). Not one request fails; afterwards both count
// in the new master again, shared and exact.
func TestSentinelFailoverCostsNoRequest(t *testing.T) {
	tests := []struct {
		name     string
		switchTo func(*redistest.Sentinel, testing.TB) string
	}{
		{"SENTINEL FAILOVER", (*redistest.Sentinel).Failover},
		{"master killed", (*redistest.Sentinel).KillMaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.StartSentinel(t, 3)
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer upstream.Close()
			env := map[string]string{
				"CORSBRIDGE_ALLOW_PRIVATE":     "127.0.0.0/8",
				"REDIS_URL":                    s.URL(),
				"CORSBRIDGE_RATE_LIMIT":        "10/1m",
				"CORSBRIDGE_CLIENT_RATE_LIMIT": "off",
				"CORSBRIDGE_RATE_LIMIT_FAIL":   "open",
			}
			insts := []*instance{start(t, env), start(t, env)}
			waitReady(t, insts, "healthy")
			target := upstream.URL + "/"
			wantShared(t, insts, target, "https://before.example")

			tr := startTraffic(insts, target)
			tr.waitSent(t, 50)
			before := tr.sent.Load()
			master := tt.switchTo(s, t)
			during := tr.sent.Load() - before
			tr.waitSent(t, tr.sent.Load()+50)
			if failures := tr.stop(); len(failures) > 0 {
				t.Fatalf("%d of %d requests failed across the failover, e.g. %v", len(failures), tr.sent.Load(), failures[0])
			}
			if during == 0 {
				t.Fatal("no request was sent while the master moved: the loop proved nothing")
			}
			t.Logf("%d requests, %d of them while the master moved, none failed", tr.sent.Load(), during)

			waitCountingOn(t, insts, target, master)
			waitReady(t, insts, "healthy")
			wantShared(t, insts, target, "https://after.example")
		})
	}
}

// traffic is a bounded loop of requests alternating between instances, each
// origin used at most 5 times so that no limit refuses one even when
// counted per instance: every answer must be 200.
type traffic struct {
	sent     atomic.Int64
	cancel   context.CancelFunc
	failures chan []string
}

// maxTraffic bounds the loop however long the test waits; trafficPace
// spaces its requests, so a failover of several seconds stays well inside.
const (
	maxTraffic  = 10000
	trafficPace = 2 * time.Millisecond
)

func startTraffic(insts []*instance, target string) *traffic {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tr := &traffic{cancel: cancel, failures: make(chan []string, 1)}
	go func() {
		var failed []string
		for i := 0; i < maxTraffic && ctx.Err() == nil; i++ {
			req, _ := http.NewRequestWithContext(ctx, "GET", insts[i%len(insts)].base+"/"+target, nil)
			req.Header.Set("Origin", fmt.Sprintf("https://t%d.example", i/5))
			res, err := http.DefaultClient.Do(req)
			switch {
			case err != nil && ctx.Err() == nil:
				failed = append(failed, err.Error())
			case err == nil:
				if res.StatusCode != 200 {
					failed = append(failed, fmt.Sprintf("%d %s", res.StatusCode, res.Header.Get("X-Corsbridge-Error")))
				}
				res.Body.Close()
			}
			if err == nil || ctx.Err() == nil {
				tr.sent.Add(1)
			}
			time.Sleep(trafficPace)
		}
		tr.failures <- failed
	}()
	return tr
}

// waitSent waits until n requests have been answered.
func (tr *traffic) waitSent(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for tr.sent.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests answered in 20s", tr.sent.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the loop and returns what failed.
func (tr *traffic) stop() []string {
	tr.cancel()
	return <-tr.failures
}

// waitCountingOn waits until each instance counts its requests in the Redis
// at master: after a failover an instance may count locally, or in the old
// master, until its client has followed the switch.
func waitCountingOn(t *testing.T, insts []*instance, target, master string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: master, Protocol: 2})
	defer rdb.Close()
	probe := 0
	waitEach(t, insts, 20*time.Second, func(inst *instance) (bool, string) {
		probe++
		origin := fmt.Sprintf("probe-%d.example", probe)
		call(t, inst.base, target, "https://"+origin, "")
		keys, err := rdb.Keys(context.Background(), "*"+origin+"*").Result()
		return err == nil && len(keys) > 0, fmt.Sprintf("instance %s does not count in the new master %s (%v)", inst.base, master, err)
	})
}

package cache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// getAll sends n identical GETs at once and returns their bodies (or
// "error: ..." for a request that failed).
func getAll(t *testing.T, url string, n int) []string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := client.Get(url)
			if err != nil {
				bodies[i] = "error: " + err.Error()
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				bodies[i] = "error: " + err.Error()
				return
			}
			bodies[i] = string(b)
		})
	}
	wg.Wait()
	return bodies
}

func TestCoalescing(t *testing.T) {
	tests := []struct {
		name     string
		cc       string
		n        int
		upstream int64
	}{
		// The figure: 200 concurrent GETs of a 500 ms upstream.
		{"storable answer: one upstream request", "max-age=60", 200, 1},
		{"not storable: every waiter fetches on its own", "private, max-age=60", 20, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, DefaultConfig(), Options{})
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(500 * time.Millisecond)
				w.Header().Set("Cache-Control", tt.cc)
				io.WriteString(w, "slow body")
			})
			proxy := newProxy(t, c, up.URL)
			for i, b := range getAll(t, proxy.URL+"/slow", tt.n) {
				if b != "slow body" {
					t.Fatalf("request %d: %q", i, b)
				}
			}
			if got := up.count.Load(); got != tt.upstream {
				t.Fatalf("%d upstream requests, want %d", got, tt.upstream)
			}
			if s := c.Stats(); s.Coalesced == 0 {
				t.Fatalf("no coalesced waiters counted: %+v", s)
			}
		})
	}
}

// TestWaiterLeaves: a waiter whose client goes away changes nothing for the
// leader and the other waiters.
func TestWaiterLeaves(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "body")
	})
	proxy := newProxy(t, c, up.URL)
	leader := make(chan string)
	go func() { _, b := fetch(t, http.MethodGet, proxy.URL+"/w"); leader <- b }()
	waitFor(t, func() bool { return up.count.Load() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxy.URL+"/w", nil)
	leaving := make(chan error)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		leaving <- err
	}()
	other := make(chan string)
	go func() { _, b := fetch(t, http.MethodGet, proxy.URL+"/w"); other <- b }()
	waitFor(t, func() bool { return c.Stats().Coalesced == 2 })
	cancel()
	if err := <-leaving; !errors.Is(err, context.Canceled) {
		t.Fatalf("the leaving waiter: %v", err)
	}
	close(release)
	if b := <-leader; b != "body" {
		t.Fatalf("leader got %q", b)
	}
	if b := <-other; b != "body" {
		t.Fatalf("the other waiter got %q", b)
	}
	if got := up.count.Load(); got != 1 {
		t.Fatalf("%d upstream requests, want 1", got)
	}
}

// TestLeaderLeaves: when the leader's client goes away, its fetch ends
// unstored and a waiter takes the lead.
func TestLeaderLeaves(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	first := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-first:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "body")
	})
	proxy := newProxy(t, c, up.URL)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxy.URL+"/l", nil)
	leaving := make(chan error)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		leaving <- err
	}()
	waitFor(t, func() bool { return up.count.Load() == 1 })
	waiter := make(chan string)
	go func() { _, b := fetch(t, http.MethodGet, proxy.URL+"/l"); waiter <- b }()
	waitFor(t, func() bool { return c.Stats().Coalesced == 1 })
	cancel()
	<-leaving
	// The waiter leads now, and its upstream request is answered.
	waitFor(t, func() bool { return up.count.Load() == 2 })
	close(first)
	if b := <-waiter; b != "body" {
		t.Fatalf("waiter got %q", b)
	}
	if got := up.count.Load(); got != 2 {
		t.Fatalf("%d upstream requests, want 2 (the leader's, then the waiter's)", got)
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNotStorableSkipsCoalescing: once an answer was not storable, identical
// requests fetch side by side for a while instead of queueing behind each
// other only to fetch anyway; a storable answer ends that at once.
func TestNotStorableSkipsCoalescing(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	var cc atomic.Value
	cc.Store("no-store")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.Header().Set("Cache-Control", cc.Load().(string))
		io.WriteString(w, "body")
	})
	proxy := newProxy(t, c, up.URL)
	runSteps(t, proxy.URL, up, "/p", []step{{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; detail=no-store", upstream: 1}})
	for i, b := range getAll(t, proxy.URL+"/p", 10) {
		if b != "body" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
	if s := c.Stats(); s.Coalesced != 0 || up.count.Load() != 11 {
		t.Fatalf("%d coalesced, %d upstream requests; want 0 and 11", s.Coalesced, up.count.Load())
	}
	cc.Store("max-age=60")
	runSteps(t, proxy.URL, up, "/p", []step{{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; stored", upstream: 12}, {outcome: "hit", upstream: 12}})
}

// TestPassMarkRenewedAtHalfLife: a URL whose answers are never storable
// sets its pass mark once, not on every request (each set is an allocation
// and a write to the memory tier), and sets it again once it is older than
// passRenewAfter, so under steady traffic it never lapses.
func TestPassMarkRenewedAtHalfLife(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Unix(1_800_000_000, 0).UnixNano())
	c := newCache(t, DefaultConfig(), Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "body")
	})
	proxy := newProxy(t, c, up.URL)
	mark := func() *entry {
		t.Helper()
		var found *entry
		for _, v := range c.mem.c.All() {
			if v.e.pass {
				found = v.e
			}
		}
		if found == nil {
			t.Fatal("no pass mark in memory")
		}
		return found
	}
	get := func() {
		t.Helper()
		if b := getAll(t, proxy.URL+"/p", 1); b[0] != "body" {
			t.Fatalf("body %q", b[0])
		}
	}
	get()
	first := mark()
	clock.Add(int64(passRenewAfter - time.Second))
	get()
	if mark() != first {
		t.Fatal("a young pass mark was set again")
	}
	clock.Add(int64(2 * time.Second))
	get()
	if renewed := mark(); renewed == first || !renewed.fresh.responseTime.Equal(time.Unix(0, clock.Load())) {
		t.Fatal("a pass mark past passRenewAfter was not set again")
	}
}

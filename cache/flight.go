package cache

import (
	"context"
	"sync"
)

// flights coalesces identical fetches within one instance. It is not
// golang.org/x/sync/singleflight: there the leader runs a function and
// every caller gets its result, but here the leader is a client's own
// request, streaming its response as it arrives, and waiters must not be
// handed it blindly: they look the cache up again once the leader is done
// (or fetch on their own when the answer was not storable).
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done   chan struct{}
	result flightResult
}

type flightResult int

const (
	// flightStored: the entry is in the cache; look it up again.
	flightStored flightResult = iota
	// flightUncached: the answer was not storable (or the upstream
	// failed); waiters fetch on their own.
	flightUncached
	// flightAborted: the leader's response ended early (its client went
	// away, or the body was cut); waiters look again and one leads.
	flightAborted
)

// join makes the caller the leader of key's flight, or returns the
// flight in progress.
func (g *flights) join(key string) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		return f, false
	}
	f = &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish ends a flight the caller leads. Callers finish each flight once.
func (g *flights) finish(key string, f *flight, result flightResult) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
	f.result = result
	close(f.done)
}

// wait blocks until the flight ends or ctx does; a waiter that gives up
// changes nothing for the leader or the other waiters.
func (f *flight) wait(ctx context.Context) (flightResult, error) {
	select {
	case <-f.done:
		return f.result, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

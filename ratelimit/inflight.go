package ratelimit

import (
	"errors"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Defaults of CORSBRIDGE_CLIENT_CONCURRENCY and CORSBRIDGE_ORIGIN_CONCURRENCY:
// requests in flight at once, per instance.
//
// Requests per minute do not bound requests in flight: an event stream is
// one request that stays open for as long as its upstream sends, so one
// address could hold hundreds of them (each about 80 KiB, four goroutines and
// two descriptors) within any rate limit. The caps bound that.
//
// 64 per client: the client rate limit (20 requests a second) at a typical
// upstream latency under a second keeps about 20 requests in flight, a
// browser tab opens at most 6 HTTP/1.1 connections per host, and one address
// may be a carrier NAT shared by many users, each with an event stream or
// two. 64 leaves room for all of that, while one address holds at most about
// 5 MiB and 128 descriptors.
//
// 128 per origin (and per access key): about half of what one instance is
// sized to serve at once (fly.toml's hard limit is 250 requests), so the pages
// of one site, however many visitors they have, cannot take a whole instance
// from everyone else. A site that needs more is exempt from the origin cap
// (CORSBRIDGE_RATE_LIMIT_EXEMPT) or gets a key.
const (
	DefaultClientConcurrency = 64
	DefaultOriginConcurrency = 128
	// MaxConcurrency bounds a cap: beyond it, a cap bounds nothing.
	MaxConcurrency = 1 << 20
)

// ParseConcurrency reads CORSBRIDGE_CLIENT_CONCURRENCY and
// CORSBRIDGE_ORIGIN_CONCURRENCY: a whole number of requests in flight from 1
// to MaxConcurrency, or "off" (returned as 0).
func ParseConcurrency(s string) (int, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	n, ok := parseDigits(s, MaxConcurrency)
	if !ok || n == 0 {
		return 0, errors.New("want a number of requests in flight from 1 to " + strconv.Itoa(MaxConcurrency) + ", or off")
	}
	return n, nil
}

// inFlightShards spreads keys over independently locked maps, as
// localCounter does, so requests of different clients rarely contend.
const inFlightShards = 64

// inFlight counts the requests in flight per key ("client:...", "origin:...",
// "key:..."), in this process only: a count that must drop when a response
// ends cannot live in a shared store without leaking slots whenever an
// instance dies mid-request. Entries are deleted when their count is back at
// zero, so the maps hold only keys with requests in flight.
//
// It is written here rather than taken from a library: chi's Throttle caps a
// whole handler, not each client, and x/sync's semaphore is one semaphore,
// where this needs one per key, created and dropped as clients come and go.
type inFlight struct {
	seed   maphash.Seed
	shards [inFlightShards]inFlightShard
	// held counts the places held by kind (client, origin, key), for the
	// metrics; read when scraped.
	held [3]atomic.Int64
}

type inFlightShard struct {
	mu sync.Mutex
	m  map[string]int
	_  [40]byte // keeps neighbouring shards' locks off one cache line
}

// Kinds of a place in flight, indexes of inFlight.held.
const (
	heldClient = iota
	heldOrigin
	heldKey
)

var heldLabels = [3]string{LimitClient, LimitOrigin, LimitKey}

func newInFlight() *inFlight {
	f := &inFlight{seed: maphash.MakeSeed()}
	for i := range f.shards {
		f.shards[i].m = make(map[string]int)
	}
	return f
}

// acquire takes a place for key when fewer than max are held.
func (f *inFlight) acquire(kind int, key string, max int) bool {
	s := &f.shards[maphash.String(f.seed, key)%inFlightShards]
	s.mu.Lock()
	n := s.m[key]
	ok := n < max
	if ok {
		s.m[key] = n + 1
	}
	s.mu.Unlock()
	if ok {
		f.held[kind].Add(1)
	}
	return ok
}

// release gives back a place acquire took.
func (f *inFlight) release(kind int, key string) {
	s := &f.shards[maphash.String(f.seed, key)%inFlightShards]
	s.mu.Lock()
	if n := s.m[key]; n > 1 {
		s.m[key] = n - 1
	} else {
		delete(s.m, key)
	}
	s.mu.Unlock()
	f.held[kind].Add(-1)
}

// Held are the places in flight one request holds, given back by Release.
type Held struct {
	f     *inFlight
	n     int
	kinds [2]int
	keys  [2]string
}

// Release gives the places back. Call it exactly once, when the response has
// ended, however it ended (streamed, aborted, refused later); the zero Held
// releases nothing.
func (h Held) Release() {
	for i := range h.n {
		h.f.release(h.kinds[i], h.keys[i])
	}
}

func (h *Held) take(kind int, key string, max int) bool {
	if !h.f.acquire(kind, key, max) {
		return false
	}
	h.kinds[h.n], h.keys[h.n] = kind, key
	h.n++
	return true
}

// hold takes the request's places in flight: under its client address
// against the client cap, and under its key, or else its origin (unless
// exempt), against the origin cap. A key replaces the origin as it does for
// the rate limits, but not the client: the client cap is what bounds one
// machine, and a signed token sits in plain sight on its page. All or
// nothing: on a refusal nothing stays held, and the refusing cap is named.
func (l *Limiter) hold(req Request, b buckets) (Held, string) {
	h := Held{f: l.inFlight}
	if l.clientConc > 0 && !h.take(heldClient, b.client, l.clientConc) {
		return Held{}, LimitClient
	}
	if l.originConc > 0 {
		kind, label, key := heldKey, LimitKey, ""
		if req.Key != "" {
			key = "key:" + req.Key
		} else if key = b.origin; key != "" {
			kind, label = heldOrigin, LimitOrigin
		}
		if key != "" && !h.take(kind, key, l.originConc) {
			h.Release()
			return Held{}, label
		}
	}
	return h, ""
}

// InFlight reports how many places in flight are held now under one kind of
// cap (LimitClient, LimitOrigin or LimitKey), on this instance: the metrics'
// view, read when scraped.
func (l *Limiter) InFlight(limit string) int64 {
	for i, label := range heldLabels {
		if label == limit {
			return l.inFlight.held[i].Load()
		}
	}
	return 0
}

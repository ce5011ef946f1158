package cache

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Request is what the pipeline is about to send upstream.
type Request struct {
	// Method is the client's method; only GET and HEAD use the cache.
	Method string
	// URL is the canonical target, as forwarded.
	URL string
	// Header is the client's request header. Headers the proxy drops
	// (Options.Dropped) are ignored; see keyedHeaders for the rest.
	Header http.Header
	// Partition separates entries by anything else that changes what the
	// upstream receives, such as secrets the proxy injects for an access
	// key: requests with different partitions never share an entry.
	Partition string
	// HasBody is true when the request carries a body (never cached).
	HasBody bool
}

// maxRounds bounds how often a request waits for another's fetch before
// fetching on its own, so a chain of failing leaders cannot hold it.
const maxRounds = 3

// Lookup is the pipeline's cache step. The Txn it returns either has a
// Response to serve (Txn.Response), or says to forward; then the pipeline
// calls Txn.Outbound on the outgoing headers, Txn.Decide and Txn.Store on
// the upstream's response (or Txn.Failed when there is none), and Txn.Done
// when the request ends. Lookup may wait for an identical request's
// upstream fetch; it returns early when ctx ends.
func (c *Cache) Lookup(ctx context.Context, r Request) *Txn {
	t := &Txn{c: c, req: r, head: r.Method == http.MethodHead}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		t.mode = modeNone
		return t
	}
	if reason := bypassReason(r); reason != "" {
		t.mode, t.fwd, t.detail = modeForward, "bypass", reason
		return t
	}
	t.authorized = get(r.Header, "Authorization") != ""
	t.variant = variantKey(r.URL, keyedHeaders(r.Header, c.dropped), r.Partition)
	revalidate := clientRevalidates(r.Header)
	for range maxRounds {
		e, key, tier, fwd := c.find(ctx, t.variant, r.Header)
		if fwd == fwdPass {
			// Not storable a moment ago: fetch alone, not coalesced.
			t.mode, t.fwd = modeStore, "uri-miss"
			t.passMarked = c.now().Sub(e.fresh.responseTime) < passRenewAfter
			if t.head {
				t.mode = modeForward
			}
			c.stats.misses.Add(1)
			return t
		}
		now := c.now()
		switch {
		case e != nil && !revalidate && e.fresh.ttl(now) > 0:
			return t.hit(e, tier, now)
		case e != nil && t.head:
			t.mode, t.fwd = modeForward, "stale" // HEAD never refreshes a GET entry
			return t
		case e != nil && revalidate:
			// The client asked for it: revalidate alone, not coalesced,
			// since its own rule would make it revalidate again.
			t.mode, t.fwd, t.stale, t.staleKey = modeStore, "request", e, key
			c.stats.revalidations.Add(1)
			return t
		case e == nil && t.head:
			t.mode, t.fwd = modeForward, fwd
			c.stats.misses.Add(1)
			return t
		}
		f, leader := c.flights.join(t.variant)
		if leader {
			return t.lead(f, e, key, fwd)
		}
		if e != nil && e.fresh.ttl(now)+e.fresh.swr > 0 {
			// stale-while-revalidate: the leader revalidates, the others
			// get the stale entry at once.
			c.stats.staleServed.Add(1)
			return t.hit(e, tier, now)
		}
		c.stats.coalesced.Add(1)
		result, err := f.wait(ctx)
		if err != nil {
			t.mode, t.fwd = modeForward, fwd
			return t
		}
		if result == flightUncached {
			break
		}
	}
	// Fetch alone; the response may still be stored.
	t.mode, t.fwd = modeStore, "miss"
	c.stats.misses.Add(1)
	return t
}

// lead makes t the request that fetches for everyone waiting: a
// revalidation of e when there is one, else a miss.
func (t *Txn) lead(f *flight, e *entry, key, fwd string) *Txn {
	t.mode, t.flight, t.fwd = modeStore, f, fwd
	if e == nil {
		t.c.stats.misses.Add(1)
		return t
	}
	t.fwd, t.stale, t.staleKey = "stale", e, key
	t.c.stats.revalidations.Add(1)
	return t
}

// find returns the entry for a request, following a Vary index to the
// variant the request selects; fwd is the RFC 9211 reason when none. For a
// pass mark it returns the mark itself with fwd fwdPass.
func (c *Cache) find(ctx context.Context, variant string, h http.Header) (e *entry, key, tier, fwd string) {
	e, tier = c.get(ctx, variant)
	if e == nil {
		return nil, "", "", "uri-miss"
	}
	if e.pass {
		return e, "", "", fwdPass
	}
	if !e.index {
		return e, variant, tier, ""
	}
	selector := varySelector(h, e.vary)
	key = varyKey(variant, selector)
	e, tier = c.get(ctx, key)
	if e == nil || e.index || e.selector != selector {
		return nil, "", "", "vary-miss"
	}
	return e, key, tier, ""
}

// bypassReason says why a GET or HEAD skips the cache entirely.
func bypassReason(r Request) string {
	switch {
	case r.HasBody:
		return "body"
	case get(r.Header, "Range") != "":
		// Ranges go to the upstream as they are: serving them from an
		// entry means a second implementation of byte ranges for little
		// gain, and a partial response is never stored.
		return "range"
	case parseDirectives(r.Header).noStore:
		return "no-store"
	}
	return ""
}

// clientRevalidates: the client's Cache-Control: no-cache or max-age=0
// (or Pragma: no-cache without Cache-Control) asks the cache to check with
// the upstream before answering.
func clientRevalidates(h http.Header) bool {
	if len(h["Cache-Control"]) == 0 {
		return get(h, "Pragma") == "no-cache"
	}
	d := parseDirectives(h)
	return d.noCache || d.maxAge == 0
}

type mode int

const (
	modeNone    mode = iota // not GET or HEAD: the cache stays out of it
	modeHit                 // Response is the answer
	modeForward             // forward; nothing is stored
	modeStore               // forward; store what comes back when it may
)

// Txn is one request's passage through the cache.
type Txn struct {
	c          *Cache
	req        Request
	head       bool
	authorized bool
	variant    string
	mode       mode
	resp       *Response // nil, or out
	out        Response
	flight     *flight
	finishOnce sync.Once
	stale      *entry // the entry being revalidated
	staleKey   string
	sent       time.Time
	decided    bool
	fresh      freshness
	reason     string
	passMarked bool // found a recent pass mark: a not-storable answer need not set it again

	// Cache-Status parameters.
	fwd, detail string
	fwdStatus   int
	stored      bool
	servedStale bool // stale-if-error
	ttl         time.Duration
	hitTier     string
}

func (t *Txn) hit(e *entry, tier string, now time.Time) *Txn {
	t.mode, t.hitTier = modeHit, tier
	t.c.stats.hits[tierIndex(tier)].Add(1)
	t.ttl = e.fresh.ttl(now)
	t.resp = t.response(e, now)
	return t
}

// Response is the answer from the cache, or nil when the request must be
// forwarded.
func (t *Txn) Response() *Response { return t.resp }

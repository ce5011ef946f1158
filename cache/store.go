package cache

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Outbound prepares the headers of the request sent upstream. A
// revalidation carries the entry's validators; a fetch meant for storing
// drops the client's own conditionals, so the upstream sends a whole
// response the cache can keep (the client then gets a 200, always a valid
// answer to a conditional request).
func (t *Txn) Outbound(h http.Header) {
	t.sent = t.c.now()
	if t.mode != modeStore {
		return
	}
	h.Del("If-None-Match")
	h.Del("If-Modified-Since")
	if t.stale == nil {
		return
	}
	if etag := t.stale.header.Get("ETag"); etag != "" {
		h.Set("If-None-Match", etag)
	}
	if lm := t.stale.header.Get("Last-Modified"); lm != "" {
		h.Set("If-Modified-Since", lm)
	}
}

// Decide looks at the upstream's response as it arrived, before the proxy
// scrubs it (a Set-Cookie the scrub removes still forbids storing), and
// decides whether Store will keep it. Without Decide, Store keeps nothing.
// redirected says the response is the end of redirects the proxy followed:
// it is not stored, since the redirect's own freshness is unknown here.
func (t *Txn) Decide(res *http.Response, redirected bool) {
	if t.mode != modeStore {
		return
	}
	now := t.c.now()
	if t.sent.IsZero() {
		t.sent = now
	}
	t.decided = true
	switch {
	case redirected:
		t.reason = reasonRedirected
	case t.stale != nil && res.StatusCode == http.StatusNotModified:
		// Store refreshes the entry.
	default:
		t.fresh, t.reason = t.c.decide(t.authorized, res, t.sent, now)
	}
}

// Store is the pipeline's store step, called with the upstream's response
// once the proxy has scrubbed it and set the headers that belong to the
// response (not yet CORS, request id or rate-limit headers, which differ
// per request). It sets Cache-Status and Age and, when the response may be
// stored, wraps its body so it is stored when it has arrived whole. A 304
// to a revalidation becomes the refreshed entry, and an upstream 5xx
// becomes the stale entry when stale-if-error allows: Store then replaces
// the status, headers and body of res.
func (t *Txn) Store(res *http.Response) {
	if t.mode == modeNone || t.mode == modeHit {
		return
	}
	t.fwdStatus = 0
	if t.stale != nil {
		t.fwdStatus = res.StatusCode
	}
	switch {
	case t.mode != modeStore || !t.decided:
		t.finish(flightUncached)
	case t.stale != nil && res.StatusCode == http.StatusNotModified:
		t.refresh(res)
		return
	case t.stale != nil && res.StatusCode >= 500 && t.staleIfError():
		t.serveStale(res)
		return
	case t.reason != "":
		t.detail = t.reason
		if !t.passMarked {
			t.c.markPass(t.variant, t.reason)
		}
		t.finish(flightUncached)
	default:
		t.stored = true
		t.ttl = t.fresh.ttl(t.c.now())
		res.Body = t.tee(res)
	}
	if t.stored {
		res.Header.Set("Age", formatAge(t.fresh.age(t.c.now())))
	}
	t.setStatus(res.Header)
}

// Failed is for a forward that produced no response (unreachable, timed
// out): it returns the stale entry when stale-if-error allows, else nil,
// and lets coalesced requests fetch on their own.
func (t *Txn) Failed() *Response {
	if t.mode != modeStore || t.stale == nil || !t.staleIfError() {
		t.finish(flightUncached)
		return nil
	}
	t.finish(flightUncached)
	t.c.stats.staleServed.Add(1)
	t.servedStale = true
	now := t.c.now()
	t.ttl = t.stale.fresh.ttl(now)
	t.detail = "stale-if-error"
	return t.response(t.stale, now)
}

// StaleOnError is Failed for a forwarder that relays an *http.Response.
func (t *Txn) StaleOnError() *http.Response {
	r := t.Failed()
	if r == nil {
		return nil
	}
	return &http.Response{StatusCode: r.StatusCode, Header: r.Header(), ContentLength: int64(len(r.body)),
		Body: io.NopCloser(bytes.NewReader(r.body))}
}

// Done ends the transaction: call it when the request ends, whatever
// happened, so requests waiting for this one go on.
func (t *Txn) Done() { t.finish(flightAborted) }

func (t *Txn) finish(result flightResult) {
	if t.flight == nil {
		return
	}
	t.finishOnce.Do(func() { t.c.flights.finish(t.variant, t.flight, result) })
}

func (t *Txn) staleIfError() bool {
	f := t.stale.fresh
	return f.ttl(t.c.now())+f.sie > 0
}

// refresh applies a 304 to the entry being revalidated (RFC 9111 section
// 4.3.4): the 304's headers replace the stored ones, except those that
// describe the stored body, and the entry's age starts again.
func (t *Txn) refresh(res *http.Response) {
	old := t.stale
	e := &entry{status: old.status, header: old.header.Clone(), body: old.body, vary: old.vary, selector: old.selector}
	for name, values := range res.Header {
		switch name {
		case "Content-Length", "Content-Encoding", "Content-Type", "Content-Range", "Transfer-Encoding", "Trailer", "Age", "Cache-Status":
			continue
		}
		e.header[name] = values
	}
	now := t.c.now()
	refreshed := &http.Response{StatusCode: e.status, Header: e.header, Request: res.Request, ContentLength: int64(len(e.body))}
	fresh, reason := t.c.decide(t.authorized, refreshed, t.sent, now)
	if reason == "" {
		e.fresh = fresh
		t.c.put(res.Request.Context(), t.staleKey, e)
		t.stored, t.ttl = true, fresh.ttl(now)
		t.finish(flightStored)
	} else {
		e.fresh = old.fresh
		t.detail = reason
		t.finish(flightUncached)
	}
	t.replace(res, e, now)
}

// serveStale answers with the stale entry in place of an upstream error.
func (t *Txn) serveStale(res *http.Response) {
	t.finish(flightUncached)
	t.c.stats.staleServed.Add(1)
	t.servedStale = true
	t.detail = "stale-if-error"
	now := t.c.now()
	t.ttl = t.stale.fresh.ttl(now)
	t.replace(res, t.stale, now)
}

// replace turns res into the stored response e.
func (t *Txn) replace(res *http.Response, e *entry, now time.Time) {
	if res.Body != nil {
		res.Body.Close()
	}
	r := t.response(e, now)
	res.StatusCode = r.StatusCode
	res.Status = ""
	res.Header = r.Header()
	res.Body = io.NopCloser(bytes.NewReader(r.body))
	res.ContentLength = int64(len(r.body))
}

// formatAge writes an age in whole seconds (RFC 9111 section 5.1).
func formatAge(d time.Duration) string {
	return strconv.FormatInt(max(int64(d/time.Second), 0), 10)
}

package proxy

import (
	"io"
	"net/http"
)

// CacheStep is the shared cache's part in one forward (package cache's
// Txn): it sets the validators of a revalidation on the outgoing request,
// keeps a copy of a storable response as it streams, and may answer in the
// upstream's place (a refreshed or a stale entry).
type CacheStep interface {
	// Outbound adjusts the outgoing request's headers, after scrubbing.
	Outbound(h http.Header)
	// Decide sees the upstream's response before scrubbing (a Set-Cookie
	// forbids storing); redirected: redirects were followed to reach it.
	Decide(res *http.Response, redirected bool)
	// Store sees the response once its own headers are final and before
	// the per-request ones; it may wrap the body or replace the response.
	Store(res *http.Response)
	// StaleOnError is a stored response to relay when the upstream could
	// not be reached, or nil.
	StaleOnError() *http.Response
}

// relayStored writes a response the cache answered with in the upstream's
// place, decorated as a relayed one.
func (f *Forwarder) relayStored(w http.ResponseWriter, res *http.Response) {
	if f.decorate != nil {
		f.decorate(res.Header)
	}
	h := w.Header()
	for name, values := range res.Header {
		h[name] = append(h[name], values...)
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
}

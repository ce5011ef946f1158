// Package cache is corsbridge's shared HTTP cache: RFC 9111 semantics for a
// shared cache, request coalescing, a bounded memory tier and an optional
// Redis tier shared by every instance. It knows nothing of the server.
//
// The server's pipeline uses it in two steps, after admission (policy,
// access, limits), so a cached answer reaches only a request that would
// have been let through anyway, and counts against the same limits:
//
//	tx := c.Lookup(ctx, cache.Request{Method: r.Method, URL: target, Header: r.Header})
//	defer tx.Done()
//	if resp := tx.Response(); resp != nil {
//		addPerRequestHeaders(w.Header()) // CORS for this origin, request id, limits
//		resp.Write(w)
//		return
//	}
//	// forward; on the outgoing request:     tx.Outbound(out.Header)
//	// on the upstream's response, unscrubbed: tx.Decide(res, redirected)
//	// after scrubbing, before per-request headers: tx.Store(res)
//	// when no response came:                 if resp := tx.Failed(); resp != nil { ... }
//
// What is stored is the upstream's response as the proxy scrubbed it, never
// a per-request header, so a hit gets the asking origin's CORS headers.
// Which requests may share an entry is the rule of keyedHeaders.
//
// Choices where RFC 9111 leaves room, all on the side of storing less:
// no heuristic freshness (Config.DefaultTTL is the operator's explicit
// choice); responses with no-cache, private (qualified or not), Set-Cookie
// or Vary: * are not stored; Range requests and requests with a body
// bypass the cache; a HEAD is answered from a fresh GET entry but a HEAD
// response is never stored; stale-while-revalidate is honoured by letting
// one request revalidate in the foreground while the others are served the
// stale entry, so no fetch runs without a client.
package cache

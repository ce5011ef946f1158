package cache

import (
	"context"
	"errors"
	"io"
	"net/http"
)

// teeBody relays the upstream's body to whoever reads it (the client, as it
// arrives) and keeps a copy, up to the largest entry; past that the copy is
// dropped and the response streams on unstored. Only a body read to its end
// with the declared length is stored: one cut short never is.
type teeBody struct {
	rc       io.ReadCloser
	t        *Txn
	res      *http.Response
	header   http.Header
	buf      []byte
	max      int64
	declared int64
	ended    bool
}

// tee snapshots the response's headers now, before the pipeline adds its
// per-request ones, and wraps the body.
func (t *Txn) tee(res *http.Response) io.ReadCloser {
	h := res.Header.Clone()
	h.Del("Age")
	b := &teeBody{rc: res.Body, t: t, res: res, header: h, max: t.c.cfg.MaxEntry, declared: res.ContentLength}
	if b.rc == nil {
		b.rc = http.NoBody
	}
	if res.ContentLength > 0 {
		b.buf = make([]byte, 0, res.ContentLength)
	}
	return b
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && !b.ended {
		if int64(len(b.buf)+n) > b.max {
			b.end(flightUncached)
		} else {
			b.buf = appendBounded(b.buf, p[:n], b.max)
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		b.complete()
	case err != nil:
		b.end(flightAborted)
	}
	return n, err
}

// Close before the end means the client went away or the relay failed:
// nothing is stored, and requests waiting for this one look again.
func (b *teeBody) Close() error {
	b.end(flightAborted)
	return b.rc.Close()
}

func (b *teeBody) end(result flightResult) {
	if b.ended {
		return
	}
	b.ended = true
	b.buf = nil
	b.t.finish(result)
}

func (b *teeBody) complete() {
	if b.ended {
		return
	}
	if b.declared >= 0 && int64(len(b.buf)) != b.declared {
		b.end(flightAborted)
		return
	}
	t := b.t
	e := &entry{status: b.res.StatusCode, header: b.header, body: b.buf, fresh: t.fresh}
	ctx := context.Background()
	if b.res.Request != nil {
		ctx = b.res.Request.Context()
	}
	t.c.store(ctx, t.variant, t.req.Header, e)
	b.ended = true
	t.finish(flightStored)
}

// appendBounded appends p to buf, growing it at most to limit bytes of
// capacity, so an undeclared body never holds more than the largest entry.
func appendBounded(buf, p []byte, limit int64) []byte {
	if need := len(buf) + len(p); need > cap(buf) {
		grown := min(max(2*cap(buf), need, 4096), int(limit))
		next := make([]byte, len(buf), grown)
		copy(next, buf)
		buf = next
	}
	return append(buf, p...)
}

// store puts a complete response in the cache under the request's key, or,
// when it varies, under its variant's key with an index at the request's.
func (c *Cache) store(ctx context.Context, variant string, reqHeader http.Header, e *entry) {
	names := varyNames(e.header)
	if len(names) == 0 {
		c.put(ctx, variant, e)
		return
	}
	e.vary = names
	e.selector = varySelector(reqHeader, names)
	c.put(ctx, varyKey(variant, e.selector), e)
	index := &entry{status: e.status, index: true, vary: names, fresh: e.fresh, header: http.Header{}}
	// The index lives as long as any variant might: the longest a stored
	// response may be kept.
	index.fresh.lifetime = max(e.fresh.lifetime, c.cfg.MaxTTL)
	index.fresh.responseTime = c.now()
	index.fresh.initialAge = 0
	c.put(ctx, variant, index)
}

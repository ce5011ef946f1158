package cache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Response is an answer from the cache: the stored response, with Age and
// Cache-Status, and without any per-request header, which the pipeline adds
// as it would to an upstream response.
//
// A hit builds no header map of its own: the stored headers are shared
// between every hit of the entry and read in place, and Age and
// Cache-Status live in the Response. A per-hit copy of the stored map
// (Header.Clone) and its copy again into the writer's map were 13 % of a
// hit's allocations and 4 % of its CPU in the cache-hit profile
// (docs/performance.md, "Cache hits (issue 14)").
type Response struct {
	StatusCode int
	e          *entry
	// perHit holds Age and this cache's Cache-Status member, each handed
	// out as a one-element slice of it.
	perHit      [2]string
	notModified bool // a 304 to the client's own conditional request
	setLength   bool // Content-Length is the stored body's
	expose      []string
	body        []byte
	head        bool
}

// Body is the stored body; callers must not modify it. It is nil for HEAD
// requests and 304 answers.
func (r *Response) Body() []byte { return r.body }

// Header is a copy of the response's headers the caller may keep and
// change. Write does not need it.
func (r *Response) Header() http.Header {
	h := http.Header{}
	r.each(func(name string, values []string) { h[name] = slices.Clone(values) })
	return h
}

// AppendNames appends the names of the response's headers to dst, each
// once, in no particular order.
func (r *Response) AppendNames(dst []string) []string {
	r.each(func(name string, _ []string) { dst = append(dst, name) })
	return dst
}

// Write sends the response: its headers added to those already set on w
// (the pipeline's own, such as Vary: Origin), as a relayed response's are,
// and Access-Control-Expose-Headers when Options.Expose is set, then its
// status and body. The stored values are put in w's header map
// as they are, without a copy, capped so an append to them copies instead
// of writing into the entry; nothing may write into them in place
// (net/http copies the map when the header is written).
func (r *Response) Write(w http.ResponseWriter) error {
	h := w.Header()
	r.each(func(name string, values []string) {
		if old, ok := h[name]; ok {
			h[name] = append(old, values...)
		} else {
			h[name] = values[:len(values):len(values)]
		}
	})
	if r.expose != nil {
		h["Access-Control-Expose-Headers"] = r.expose[:1:1]
	}
	w.WriteHeader(r.StatusCode)
	if r.head || len(r.body) == 0 {
		return nil
	}
	_, err := w.Write(r.body)
	return err
}

// each yields every header of the response once: the stored ones, Age and
// Cache-Status after any the upstream's caches sent (RFC 9211 lists caches
// from the origin towards the user), Content-Length of the stored body; or
// for a 304 only what RFC 9110 section 15.4.5 asks it to carry.
func (r *Response) each(yield func(name string, values []string)) {
	stored := r.e.header
	age, status := r.perHit[0:1:1], r.perHit[1:2:2]
	if r.perHit[1] == "" {
		status = nil
	}
	if prior := stored["Cache-Status"]; len(prior) > 0 {
		status = append(prior[:len(prior):len(prior)], status...)
	}
	if r.notModified {
		for _, name := range notModifiedHeaders {
			switch name {
			case "Age":
				yield(name, age)
			case "Cache-Status":
				if len(status) > 0 {
					yield(name, status)
				}
			default:
				if v, ok := stored[name]; ok {
					yield(name, v)
				}
			}
		}
		return
	}
	for name, values := range stored {
		switch name {
		case "Age", "Cache-Status":
			continue // below
		case "Content-Length":
			if r.setLength {
				continue
			}
		}
		yield(name, values)
	}
	yield("Age", age)
	if len(status) > 0 {
		yield("Cache-Status", status)
	}
	if r.setLength {
		yield("Content-Length", r.e.contentLength())
	}
}

// response builds the answer to t's request from e: a 304 when the
// client's own conditional request matches the entry, else the entry. Age
// and Cache-Status are formatted into one string, one allocation.
func (t *Txn) response(e *entry, now time.Time) *Response {
	r := &t.out
	*r = Response{StatusCode: e.status, e: e, head: t.head}
	var buf [128]byte
	b := strconv.AppendInt(buf[:0], max(int64(e.fresh.age(now)/time.Second), 0), 10)
	n := len(b)
	b = t.appendStatus(b)
	perHit := string(b)
	r.perHit = [2]string{perHit[:n], perHit[n:]}
	switch {
	case notModified(t.req.Header, e.header):
		r.StatusCode, r.notModified, r.head = http.StatusNotModified, true, false
	case !t.head:
		r.body = e.body
	}
	r.setLength = !r.notModified && hasLength(e.status)
	r.expose = e.expose
	if t.c.expose != nil && (r.notModified || e.expose == nil) {
		r.expose = t.c.exposeList(r)
	}
	return r
}

// hasLength: a response of this status carries Content-Length.
func hasLength(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// notModified evaluates a client's If-None-Match, or If-Modified-Since
// without it, against an entry (RFC 9110 section 13.2.2).
func notModified(req, stored http.Header) bool {
	if inm := get(req, "If-None-Match"); inm != "" {
		etag := get(stored, "Etag")
		return etag != "" && etagMatches(inm, etag)
	}
	ims, ok := parseHTTPDate(req, "If-Modified-Since")
	if !ok {
		return false
	}
	lm, ok := parseHTTPDate(stored, "Last-Modified")
	return ok && !lm.After(ims)
}

// etagMatches is the weak comparison of If-None-Match.
func etagMatches(list, etag string) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, candidate := range strings.Split(list, ",") {
		if strings.TrimPrefix(strings.TrimSpace(candidate), "W/") == want {
			return true
		}
	}
	return false
}

// notModifiedHeaders are what RFC 9110 section 15.4.5 asks a 304 to
// carry, and the cache's own headers.
var notModifiedHeaders = []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary", "Last-Modified", "Age", "Cache-Status"}

// CacheName is the cache's name in Cache-Status (RFC 9211).
const CacheName = "corsbridge"

// setStatus adds the cache's Cache-Status member after any the upstream's
// own caches sent: RFC 9211 lists caches from the origin towards the user.
func (t *Txn) setStatus(h http.Header) {
	if v := t.CacheStatus(); v != "" {
		h.Add("Cache-Status", v)
	}
}

// CacheStatus is the Cache-Status member for this request ("" when the
// cache took no part, for methods other than GET and HEAD).
func (t *Txn) CacheStatus() string {
	var buf [128]byte
	return string(t.appendStatus(buf[:0]))
}

func (t *Txn) appendStatus(b []byte) []byte {
	if t.mode == modeNone {
		return b
	}
	b = append(b, CacheName...)
	if t.mode == modeHit {
		b = append(b, "; hit"...)
	} else {
		b = append(b, "; fwd="...)
		b = append(b, t.fwd...)
		if t.fwdStatus != 0 {
			b = append(b, "; fwd-status="...)
			b = strconv.AppendInt(b, int64(t.fwdStatus), 10)
		}
		if t.stored {
			b = append(b, "; stored"...)
		}
	}
	if t.mode == modeHit || t.stored || t.servedStale {
		b = append(b, "; ttl="...)
		b = strconv.AppendInt(b, int64(t.ttl/time.Second), 10)
	}
	if t.detail != "" {
		b = append(b, "; detail="...)
		b = append(b, t.detail...)
	}
	return b
}

// Outcome is the cache's part in the request for the request log: hit,
// stale (served stale), miss, revalidated, bypass or "" (not GET or HEAD).
func (t *Txn) Outcome() string {
	switch {
	case t.mode == modeNone:
		return ""
	case t.mode == modeHit && t.ttl <= 0, t.servedStale:
		return "stale"
	case t.mode == modeHit:
		return "hit"
	case t.fwd == "bypass":
		return "bypass"
	case t.fwdStatus == http.StatusNotModified:
		return "revalidated"
	}
	return "miss"
}

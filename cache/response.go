package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Response is an answer from the cache: the stored response, with Age and
// Cache-Status, and without any per-request header, which the pipeline adds
// as it would to an upstream response.
type Response struct {
	StatusCode int
	// Header is the response's own copy; the pipeline may add to it.
	Header http.Header
	body   []byte
	head   bool
}

// Body is the stored body; callers must not modify it. It is nil for HEAD
// requests and 304 answers.
func (r *Response) Body() []byte { return r.body }

// Write sends the response: its headers added to those already set on w
// (the pipeline's own, such as Vary: Origin), as a relayed response's are,
// then its status and body.
func (r *Response) Write(w http.ResponseWriter) error {
	h := w.Header()
	for name, values := range r.Header {
		h[name] = append(h[name], values...)
	}
	w.WriteHeader(r.StatusCode)
	if r.head || len(r.body) == 0 {
		return nil
	}
	_, err := w.Write(r.body)
	return err
}

// response builds the answer to t's request from e: a 304 when the
// client's own conditional request matches the entry, else the entry.
func (t *Txn) response(e *entry, now time.Time) *Response {
	h := e.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	age := e.fresh.age(now)
	h.Set("Age", formatAge(age))
	t.setStatus(h)
	if notModified(t.req.Header, e.header) {
		return &Response{StatusCode: http.StatusNotModified, Header: notModifiedHeader(h)}
	}
	r := &Response{StatusCode: e.status, Header: h, head: t.head}
	if !t.head {
		r.body = e.body
	}
	if e.status != http.StatusNoContent && e.status != http.StatusNotModified {
		h.Set("Content-Length", strconv.Itoa(len(e.body)))
	}
	return r
}

// notModified evaluates a client's If-None-Match, or If-Modified-Since
// without it, against an entry (RFC 9110 section 13.2.2).
func notModified(req, stored http.Header) bool {
	if inm := req.Get("If-None-Match"); inm != "" {
		etag := stored.Get("ETag")
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

// notModifiedHeader keeps what RFC 9110 section 15.4.5 asks a 304 to carry,
// and the cache's own headers.
func notModifiedHeader(h http.Header) http.Header {
	out := http.Header{}
	for _, name := range []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary", "Last-Modified", "Age", "Cache-Status"} {
		if v, ok := h[name]; ok {
			out[name] = v
		}
	}
	return out
}

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
	if t.mode == modeNone {
		return ""
	}
	var b strings.Builder
	b.WriteString(CacheName)
	if t.mode == modeHit {
		b.WriteString("; hit")
	} else {
		b.WriteString("; fwd=")
		b.WriteString(t.fwd)
		if t.fwdStatus != 0 {
			b.WriteString("; fwd-status=")
			b.WriteString(strconv.Itoa(t.fwdStatus))
		}
		if t.stored {
			b.WriteString("; stored")
		}
	}
	if t.mode == modeHit || t.stored || t.servedStale {
		b.WriteString("; ttl=")
		b.WriteString(strconv.FormatInt(int64(t.ttl/time.Second), 10))
	}
	if t.detail != "" {
		b.WriteString("; detail=")
		b.WriteString(t.detail)
	}
	return b.String()
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

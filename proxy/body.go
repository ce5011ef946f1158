package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// copyBufferSize is the size of ReverseProxy's copy buffers.
const copyBufferSize = 32 << 10

// bufferPool lends ReverseProxy its copy buffers. It pools pointers to
// arrays: a pointer fits in an interface without an allocation, where
// putting back a slice would allocate its header on every request.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

func (p *bufferPool) Get() []byte { return p.pool.Get().(*[copyBufferSize]byte)[:] }

func (p *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return // not one of ours
	}
	p.pool.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
}

// limitedBody cuts a body of undeclared length at the response limit with an
// error, so ReverseProxy aborts the connection and the client sees a broken
// transfer rather than a complete-looking truncated body.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		// Probe for one more byte: exactly the limit is fine, more is not.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ReplayLimit is the largest request body kept in memory so a 307/308
// redirect can send it again. Larger bodies stream once, and such a redirect
// is handed back to the client instead of being followed.
const ReplayLimit = 64 << 10

// viaToken marks requests the proxy sends. Seeing it on an incoming request
// means the request came through a corsbridge already: a loop.
const viaToken = "corsbridge"

// IsLoop reports whether a request already passed through a corsbridge: every
// request the proxy sends carries "Via: 1.1 corsbridge".
func IsLoop(h http.Header) bool {
	for _, via := range h.Values("Via") {
		for entry := range strings.SplitSeq(via, ",") {
			fields := strings.Fields(entry)
			if len(fields) >= 2 && strings.EqualFold(fields[1], viaToken) {
				return true
			}
		}
	}
	return false
}

// prepareBody enforces the request body limit and the client's pace, and
// keeps small bodies in memory so a 307/308 redirect can replay them.
func (f *Forwarder) prepareBody(w http.ResponseWriter, r *http.Request, ex *exchange) *Failure {
	if r.ContentLength > f.cfg.MaxRequestBody {
		return &Failure{Kind: KindBodyTooLarge, Err: errBodyTooLarge}
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	body := &clientBody{
		rc:   http.MaxBytesReader(w, r.Body, f.cfg.MaxRequestBody),
		ctl:  http.NewResponseController(w),
		idle: f.cfg.BodyIdleTimeout,
	}
	if f.cfg.BodyTimeout > 0 {
		body.deadline = time.Now().Add(f.cfg.BodyTimeout)
	}
	ex.body = body
	r.Body = body
	if r.ContentLength > ReplayLimit {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, ReplayLimit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Failure{Kind: KindBodyTooLarge, Err: err}
	case errors.Is(err, errClientStalled):
		return &Failure{Kind: KindRequestTimeout, Err: err}
	case err != nil:
		// The client went away, or sent a body that does not decode.
		return &Failure{Kind: bodyReadFailure(err), Err: err}
	case len(head) <= ReplayLimit:
		ex.replay = head
		r.ContentLength = int64(len(head))
		r.Body = io.NopCloser(bytes.NewReader(head))
	default:
		r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	}
	return nil
}

func replayBody(body []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

type readCloser struct {
	io.Reader
	io.Closer
}

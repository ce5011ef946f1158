package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// errClientStalled: the client stopped sending its request body for longer
// than the idle timeout. Told apart from upstream timeouts so it is blamed on
// the right side.
var errClientStalled = errors.New("client stopped sending the request body")

// clientBody bounds how long a client may pause while sending a request
// body. Without it a client that announces a body and never sends it holds a
// connection and a goroutine for ever. Each read pushes the connection's read
// deadline forward; the deadline is cleared at the end of the body so it
// cannot cut the connection later, while the response streams.
type clientBody struct {
	rc       io.ReadCloser
	ctl      *http.ResponseController
	idle     time.Duration
	deadline time.Time   // the whole body must have arrived by then: a trickle is not a pause
	stalled  atomic.Bool // read by the error handler, set by the transport's writer
	// malformed: the body did not decode (bodyReadFailure), as stalled.
	malformed atomic.Bool
	done      bool
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.done {
		return b.rc.Read(p)
	}
	next := time.Now().Add(b.idle)
	if !b.deadline.IsZero() && b.deadline.Before(next) {
		next = b.deadline
	}
	_ = b.ctl.SetReadDeadline(next)
	n, err := b.rc.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.finish()
	case isTimeout(err):
		b.stalled.Store(true)
		return n, errClientStalled
	default:
		b.malformed.Store(bodyReadFailure(err) == KindBadRequestBody)
		b.finish()
	}
	return n, err
}

func (b *clientBody) finish() {
	b.done = true
	_ = b.ctl.SetReadDeadline(time.Time{})
}

func (b *clientBody) Close() error {
	if !b.done {
		b.finish()
	}
	return b.rc.Close()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// upstreamWatchdog aborts a relay that stops moving: an upstream that sends
// headers and then stalls, or a client that stops reading, would otherwise
// hold a connection each side and a goroutine for ever. Every read from the
// upstream restarts the timer, and a write to a client that does not read
// blocks the next read, so the timer covers both. When it fires, the
// upstream request's context is cancelled and the client's write deadline
// passes: whichever side is stuck fails, and ReverseProxy aborts the
// client's response.
type upstreamWatchdog struct {
	res     *http.Response
	rc      io.ReadCloser
	timer   *time.Timer
	idle    time.Duration
	expired atomic.Bool
	err     error   // the body's failure, read on the relaying goroutine
	secrets Secrets // nil: none sent
}

func watchUpstream(res *http.Response, idle time.Duration, cancel context.CancelFunc, client http.ResponseWriter) *upstreamWatchdog {
	w := &upstreamWatchdog{res: res, rc: res.Body, idle: idle}
	w.timer = time.AfterFunc(idle, func() {
		w.expired.Store(true)
		cancel()
		if client != nil {
			_ = http.NewResponseController(client).SetWriteDeadline(time.Now())
		}
	})
	return w
}

func (w *upstreamWatchdog) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	w.timer.Reset(w.idle)
	if err != nil && w.expired.Load() {
		w.err = errUpstreamStalled
		return n, errUpstreamStalled
	}
	if err != nil && err != io.EOF {
		w.err = err
	}
	if err == io.EOF && len(w.res.Trailer) > 0 {
		// Trailers arrive with the end of the body and are relayed after
		// it: they get the same scrubbing as headers.
		scrubResponseHeaders(w.res.Trailer)
		if w.secrets != nil {
			w.secrets.RedactHeader(w.res.Trailer)
		}
	}
	return n, err
}

func (w *upstreamWatchdog) Close() error {
	w.timer.Stop()
	return w.rc.Close()
}

var errUpstreamStalled = errors.New("upstream stopped sending the response body")

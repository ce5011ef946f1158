package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// relayWriter is the ResponseWriter ReverseProxy writes to. It holds back
// the status line of a relayed response until its first body byte or
// flush, so that an upstream body failing before either can still be
// answered in the error contract: net/http would otherwise close the
// connection with no status line at all. Holding it back costs nothing
// visible: net/http sends nothing before the first write or flush either,
// and event streams flush at once as before (ReverseProxy flushes them
// immediately, which commits).
type relayWriter struct {
	http.ResponseWriter
	status    int  // held back, not yet sent
	committed bool // the status line went to the client's writer
}

func (w *relayWriter) WriteHeader(code int) {
	switch {
	case code < 200 || w.committed:
		w.ResponseWriter.WriteHeader(code)
	case w.status == 0:
		w.status = code
	}
}

// commit sends the held-back status line.
func (w *relayWriter) commit() {
	if w.committed {
		return
	}
	w.committed = true
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
}

func (w *relayWriter) Write(p []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(p)
}

func (w *relayWriter) Flush() {
	w.commit()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach deadlines on the real writer.
func (w *relayWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// relay runs ReverseProxy for ex. ReverseProxy aborts a response whose body
// fails with http.ErrAbortHandler; when nothing was committed yet, the
// client gets the error contract instead, since nothing is lost by
// answering. Once bytes are out, the abort goes on to net/http as before.
func (f *Forwarder) relay(ex *exchange, r *http.Request) {
	ex.relay.ResponseWriter = ex.w
	defer func() {
		p := recover()
		if p == nil {
			ex.relay.commit() // a response without a body: its status line
			return
		}
		if p != http.ErrAbortHandler || ex.relay.committed || r.Context().Err() != nil {
			panic(p) // a bug, bytes already out, or nobody to answer
		}
		f.failBeforeFirstByte(ex, r)
	}()
	f.rp.ServeHTTP(&ex.relay, r)
}

var errBodyFailedEarly = errors.New("upstream response body failed before its first byte")

// failBeforeFirstByte answers a response whose upstream body failed before
// anything was sent: the upstream's headers, already copied onto the
// client's, come off again (ReverseProxy appended them after any of the
// proxy's own), and the failure goes through Deps.Fail.
func (f *Forwarder) failBeforeFirstByte(ex *exchange, r *http.Request) {
	h := ex.w.Header()
	if ex.res != nil {
		for k, vv := range ex.res.Header {
			if keep := len(h[k]) - len(vv); keep > 0 {
				h[k] = h[k][:keep]
			} else {
				delete(h, k)
			}
		}
	}
	h.Del("Trailer")
	// The watchdog passes the client's write deadline when the upstream
	// stalls; the answer must still go out.
	_ = http.NewResponseController(ex.w).SetWriteDeadline(time.Time{})
	kind, err := KindUpstreamUnreachable, errBodyFailedEarly
	if ex.watch != nil && ex.watch.err != nil {
		err = fmt.Errorf("%w: %w", errBodyFailedEarly, ex.watch.err)
		if errors.Is(ex.watch.err, errUpstreamStalled) {
			kind = KindUpstreamTimeout
		}
	}
	fail := &Failure{Kind: kind, Err: err}
	ex.note(fail)
	f.fail(ex.w, r, fail)
}

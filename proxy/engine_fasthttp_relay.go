//go:build corsbridge_fasthttp

package proxy

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"
)

// relay hands fasthttp's response to the same modifyResponse as
// ReverseProxy's (limits, scrubbing, the proxy's headers, the watchdog), then
// copies it to the client as ReverseProxy does: status held back until the
// first byte, event streams and bodies of unknown length flushed per write,
// trailers after the body.
func (e *fastEngine) relay(ex *exchange, r *http.Request, final *url.URL, fres *fasthttp.Response) {
	hop := *r // modifyResponse reads the final URL and the exchange from it
	hop.URL = final
	res := &http.Response{
		StatusCode:    fres.StatusCode(),
		Header:        make(http.Header, 16),
		ContentLength: int64(fres.Header.ContentLength()),
		Request:       &hop,
	}
	if res.ContentLength < 0 {
		res.ContentLength = -1
	}
	trailers := copyResponseHead(res, fres)
	if stream := fres.BodyStream(); stream != nil && r.Method != http.MethodHead {
		res.Body = &fastBody{r: stream, fres: fres, res: res}
	} else {
		res.Body = http.NoBody
	}
	if err := e.f.modifyResponse(res); err != nil {
		e.f.errorHandler(ex.w, r, err)
		return
	}
	ex.relay.ResponseWriter = ex.w
	w := &ex.relay
	for k, vv := range res.Header {
		w.Header()[k] = append(w.Header()[k], vv...)
	}
	if trailers != "" {
		w.Header().Add("Trailer", trailers)
	}
	w.WriteHeader(res.StatusCode)
	if err := e.copyBody(w, res); err != nil {
		_ = res.Body.Close()
		if !ex.relay.committed && r.Context().Err() == nil {
			e.f.failBeforeFirstByte(ex, r)
			return
		}
		panic(http.ErrAbortHandler)
	}
	_ = res.Body.Close()
	if len(res.Trailer) > 0 {
		// Force chunking, so net/http sends the trailers.
		_ = http.NewResponseController(w).Flush()
		for k, vv := range res.Trailer {
			w.Header()[k] = vv
		}
	}
	ex.relay.commit() // a response without a body: its status line
}

// copyResponseHead copies fasthttp's response head into res, without the
// hop-by-hop headers; it returns the announced trailer names and records
// them in res.Trailer, for fastBody to fill at the end of the body.
func copyResponseHead(res *http.Response, fres *fasthttp.Response) string {
	var trailers string
	for k, v := range fres.Header.All() {
		name := string(k)
		if name == "Trailer" {
			trailers = string(v)
			continue
		}
		res.Header[name] = append(res.Header[name], string(v))
	}
	removeHopByHop(res.Header) // and the names Connection lists
	if trailers != "" {
		res.Trailer = make(http.Header)
		for name := range strings.SplitSeq(trailers, ",") {
			if name = http.CanonicalHeaderKey(strings.TrimSpace(name)); name != "" {
				res.Trailer[name] = nil
				res.Header.Del(name)
			}
		}
	}
	return trailers
}

// fastBody reads fasthttp's body stream and, at its end, fills the trailers
// it announced from fasthttp's header (where it puts them).
type fastBody struct {
	r    io.Reader
	fres *fasthttp.Response
	res  *http.Response
}

func (b *fastBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		for name := range b.res.Trailer {
			if v := b.fres.Header.Peek(name); v != nil {
				b.res.Trailer[name] = []string{string(v)}
			}
		}
	}
	if err != nil && err != io.EOF && isTimeout(err) {
		// The connection's idle deadline, the same stall the watchdog names.
		return n, errUpstreamStalled
	}
	return n, err
}

func (b *fastBody) Close() error { return b.fres.CloseBodyStream() }

// copyBody is ReverseProxy's copyResponse: flushed after every write when
// the body is an event stream or of unknown length.
func (e *fastEngine) copyBody(w *relayWriter, res *http.Response) error {
	if res.Body == http.NoBody {
		return nil
	}
	flush := res.ContentLength == -1
	if ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); ct == "text/event-stream" {
		flush = true
	}
	if flush {
		w.Flush() // the headers of a stream go before its first event, as ReverseProxy sends them
	}
	buf := e.buffers.Get()
	defer e.buffers.Put(buf)
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flush {
				w.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

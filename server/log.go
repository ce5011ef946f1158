package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/corsbridge/corsbridge/access"
)

// requestInfo collects, for one request, what the handlers learn and the
// request log reports. One allocation per request, carried in the context.
type requestInfo struct {
	start         time.Time
	id            string    // ours, also in X-Request-Id
	idHeader      [1]string // the header's value slice, without another allocation
	clientID      string    // the client's X-Request-Id, when safe to log
	origin        string
	bodyIn        countingBody // counts the request body as it is read
	limitedBy     string       // the limit that refused the request: origin, client or key
	denyReason    string       // the policy's reason for a refusal, safe to log
	target        *url.URL
	replay        []byte
	code          errorCode
	upstreamStart time.Time
	upstreamDone  time.Time
	upstreamErr   error
	body          *clientBody         // the request body, when there is one
	w             http.ResponseWriter // the client's response, for deadlines set off the request path
	// cancelUpstream aborts the upstream exchange (the idle watchdog).
	cancelUpstream context.CancelFunc
	clientGone     bool
	grant          *access.Grant // the request's valid access key or token, if any
}

type infoKey struct{}

// infoFrom returns the request's info; a request that bypassed the logging
// middleware (only in tests of single handlers) gets a throwaway one.
func infoFrom(r *http.Request) *requestInfo {
	if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{origin: r.Header.Get("Origin")}
}

func setRequestError(r *http.Request, code errorCode) {
	infoFrom(r).code = code
}

// logRequests gives every request its id (returned in X-Request-Id), counts
// it in the metrics, and writes one line per request: request id, method,
// origin, target host, status, bytes, durations, the proxy's error code, the
// access key's name and the rate-limit backend. Never cookies, Authorization,
// keys, paths or query strings: they may carry secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{start: time.Now(), origin: r.Header.Get("Origin"), id: s.ids.next(), clientID: clientRequestID(r.Header)}
		info.idHeader[0] = info.id
		w.Header()[HeaderRequestID] = info.idHeader[:]
		if r.Body != nil && r.Body != http.NoBody {
			info.bodyIn.rc = r.Body
			r.Body = &info.bodyIn
		}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		rec := &statusRecorder{ResponseWriter: w}
		info.w = rec
		defer func() {
			aborted := recover()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if s.metrics != nil {
				s.metrics.observe(info, status, rec.bytes, aborted != nil)
			}
			s.logLine(r, info, status, rec.bytes, aborted != nil)
			if aborted != nil {
				panic(aborted) // http.ErrAbortHandler: let net/http abort the connection
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) logLine(r *http.Request, info *requestInfo, status int, bytesOut int64, aborted bool) {
	if !s.logger.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 18)
	attrs = append(attrs,
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("origin", info.origin),
		slog.Int("status", status),
		slog.Int64("bytes_in", info.bodyIn.n),
		slog.Int64("bytes_out", bytesOut),
		slog.Duration("duration", time.Since(info.start)),
	)
	if info.clientID != "" {
		attrs = append(attrs, slog.String("client_request_id", info.clientID))
	}
	if info.target != nil {
		attrs = append(attrs, slog.String("target_host", info.target.Host))
	}
	if !info.upstreamStart.IsZero() && !info.upstreamDone.IsZero() {
		attrs = append(attrs, slog.Duration("upstream_duration", info.upstreamDone.Sub(info.upstreamStart)))
	}
	if s.limiter != nil {
		attrs = append(attrs, slog.String("rate_limit", s.limiter.Backend()))
	}
	if info.code != "" {
		attrs = append(attrs, slog.String("error", string(info.code)))
	}
	if info.denyReason != "" {
		attrs = append(attrs, slog.String("deny_reason", info.denyReason))
	}
	if info.grant != nil {
		attrs = append(attrs, slog.String("key", info.grant.Name)) // the key's name, never its secret
	}
	if info.limitedBy != "" {
		attrs = append(attrs, slog.String("limited_by", info.limitedBy))
	}
	if info.upstreamErr != nil {
		// Internal detail for operators only; clients got a generic message.
		attrs = append(attrs, slog.String("upstream_error", info.upstreamErr.Error()))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	if info.clientGone {
		attrs = append(attrs, slog.Bool("client_gone", true))
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// countingBody counts the request body bytes the proxy reads. It lives
// inside requestInfo, so counting costs no allocation.
type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// statusRecorder remembers the status and counts the body bytes. Unwrap lets
// http.ResponseController reach Flush and deadlines on the real writer.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

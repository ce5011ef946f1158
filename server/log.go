package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/corsbridge/corsbridge/proxy"
	"github.com/corsbridge/corsbridge/rate"
)

// record is the request log's record of one request: what the log line and
// the metrics report, and nothing else. The logging middleware makes one per
// request and every later step fills in what it learnt, through recordFrom.
type record struct {
	start      time.Time
	id         string    // ours, also in X-Request-Id
	idHeader   [1]string // the header's value slice, without another allocation
	clientID   string    // the client's X-Request-Id, when safe to log
	origin     string
	bodyIn     countingBody // counts the request body as it is read
	targetHost string
	keyName    string     // the access key's name (or token id), never its secret; set only by a proxy request, which its usage counts
	secrets    []string   // names of the upstream secrets sent, never their values
	limitedBy  string     // the limit that refused the request: origin, client, key or quota
	bytesQuota rate.Quota // the key's quotas, when its response's bytes count against one
	denyReason string     // the policy's reason for a refusal, safe to log
	code       errorCode  // the proxy's error code, when it answered with one
	forwarding bool       // the forward step began: refusals now come from the dialer or a redirect hop
	cache      string     // the cache's part: hit, stale, miss, revalidated, bypass; "" when it took none
	upstream   proxy.Outcome
}

type recordKey struct{}

// recordFrom returns the request's record. Every route runs behind
// logRequests, which makes it; a nil record would be a routing bug, and the
// callers would panic on it rather than write into a record nobody logs.
func recordFrom(r *http.Request) *record {
	rec, _ := r.Context().Value(recordKey{}).(*record)
	return rec
}

// logRequests gives every request its id (returned in X-Request-Id), counts
// it in the metrics, and writes one line per request: request id, method,
// origin, target host, status, bytes, durations, the proxy's error code, the
// access key's name and the rate-limit backend. Never cookies, Authorization,
// keys, paths or query strings: they may carry secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &record{start: time.Now(), origin: r.Header.Get("Origin"), id: newRequestID(), clientID: clientRequestID(r.Header)}
		info.idHeader[0] = info.id
		w.Header()[HeaderRequestID] = info.idHeader[:]
		if r.Body != nil && r.Body != http.NoBody {
			info.bodyIn.rc = r.Body
			r.Body = &info.bodyIn
		}
		r = r.WithContext(context.WithValue(r.Context(), recordKey{}, info))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			aborted := recover()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if s.metrics != nil {
				s.metrics.observe(info, status, rec.bytes, aborted != nil)
			}
			s.countBytes(info, rec.bytes)
			s.logLine(r, info, status, rec.bytes, aborted != nil)
			if s.usage != nil && info.keyName != "" {
				s.usage.Record(info.keyName, info.start, rec.bytes, string(info.code))
			}
			if aborted != nil {
				panic(aborted) // http.ErrAbortHandler: let net/http abort the connection
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// countBytes counts a response's body bytes against its key's monthly
// bytes quota, here because this is where they are counted anyway, once
// the handler has returned. It only adds to the limiter's batch, so the
// response does not wait on it.
func (s *Server) countBytes(info *record, n int64) {
	if info.bytesQuota.MonthlyBytes > 0 && s.limiter != nil {
		s.limiter.CountBytes(info.keyName, info.bytesQuota, n, time.Now())
	}
}

func (s *Server) logLine(r *http.Request, info *record, status int, bytesOut int64, aborted bool) {
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
	if info.targetHost != "" {
		attrs = append(attrs, slog.String("target_host", info.targetHost))
	}
	if up := info.upstream; !up.UpstreamStart.IsZero() && !up.UpstreamDone.IsZero() {
		attrs = append(attrs, slog.Duration("upstream_duration", up.UpstreamDone.Sub(up.UpstreamStart)))
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
	if info.cache != "" {
		attrs = append(attrs, slog.String("cache", info.cache))
	}
	if info.keyName != "" {
		attrs = append(attrs, slog.String("key", info.keyName))
	}
	if len(info.secrets) > 0 {
		attrs = append(attrs, slog.Any("secrets", info.secrets))
	}
	if info.limitedBy != "" {
		attrs = append(attrs, slog.String("limited_by", info.limitedBy))
	}
	if info.upstream.Err != nil {
		// Internal detail for operators only; clients got a generic message.
		attrs = append(attrs, slog.String("upstream_error", info.upstream.Err.Error()))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	if info.upstream.ClientGone {
		attrs = append(attrs, slog.Bool("client_gone", true))
	}
	// A record without a caller's PC, handed to the handler as LogAttrs
	// would: LogAttrs looks the caller up with runtime.Callers on every
	// line, 1.6 % of a cache hit's CPU, for a source no handler here
	// prints (none sets AddSource, and it would always name this line).
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(attrs...)
	_ = s.logger.Handler().Handle(r.Context(), rec)
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

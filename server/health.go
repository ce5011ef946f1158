package server

import (
	"net/http"
	"time"
)

// handleHealthz: the process is alive and serving HTTP.
func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
}

// handleReadyz: ready for traffic. 503 while draining, so a load balancer
// moves new requests elsewhere before the process exits.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Degraded rate limits still serve (with local counters, or 503 per
		// request when failing closed), so they do not make the instance
		// unready: every instance shares the same Redis, and taking them all
		// out of rotation would turn a Redis outage into a full outage.
		limits := s.rateLimitStatus()
		// A degraded access store is not unready either, for the same
		// reason: the store is shared, so every instance degrades at once,
		// and each keeps serving with the last keys and blocks it read
		// (a key before the first read gets 503 unavailable on its own).
		// A nil Guard reports not_configured.
		keys := s.access.Status()
		// The cache never makes an instance unready: without Redis it
		// steps aside (misses), nothing fails.
		body := `","rate_limit":"` + limits + `","access":"` + keys + `","cache":"` + s.cacheState() +
			`","usage":"` + s.usageBackend() + `"` + s.tlsFields() + `}`
		if s.draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, `{"status":"draining`+body)
			return
		}
		writeJSON(w, http.StatusOK, `{"status":"ready`+body)
	})
}

// usageBackend is where the usage ledger keeps its figures: "redis",
// "file" or "memory"; "off" when none is recorded (a Server built without a
// ledger; the binary always has one). An operator who expects figures
// shared by every instance sees at a glance that an instance keeps its own.
func (s *Server) usageBackend() string {
	if s.usage == nil {
		return "off"
	}
	return s.usage.Backend()
}

// tlsFields is `,"tls":mode,"tls_expires":RFC 3339` when the instance
// serves TLS itself, the expiry left out before the first certificate.
func (s *Server) tlsFields() string {
	if s.tlsStatus == nil {
		return ""
	}
	mode, expires := s.tlsStatus()
	out := `,"tls":"` + mode + `"`
	if !expires.IsZero() {
		out += `,"tls_expires":"` + expires.UTC().Format(time.RFC3339) + `"`
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

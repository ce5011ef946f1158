package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// FailMode chooses what a Limiter with Redis does while Redis is unavailable.
type FailMode string

const (
	// FailOpen (the default): while Redis is unavailable, every instance
	// enforces the same limits with its own in-memory counters. Nothing is
	// refused for lack of Redis, but with N instances a key may get up to N
	// times its limit in total.
	FailOpen FailMode = "open"
	// FailClosed: while Redis is unavailable, every request that a limit
	// applies to is refused with OnUnavailable (503 unavailable, Retry-After:
	// 1) instead of being counted locally. Requests no limit applies to (an
	// exempt origin with the client limit off) still pass.
	FailClosed FailMode = "closed"
)

// DefaultFailMode is used when Config.FailMode is empty.
const DefaultFailMode = FailOpen

// ParseFailMode reads CORSBRIDGE_RATE_LIMIT_FAIL_MODE: "open" or "closed".
func ParseFailMode(s string) (FailMode, error) {
	switch m := FailMode(strings.ToLower(strings.TrimSpace(s))); m {
	case FailOpen, FailClosed:
		return m, nil
	}
	return "", fmt.Errorf("ratelimit: invalid fail mode %q: want \"open\" or \"closed\"", s)
}

// DefaultProbeInterval is how often a degraded Limiter checks whether Redis
// is back.
const DefaultProbeInterval = time.Second

// Config configures a Limiter. The zero Config limits nothing; the server
// fills it from CORSBRIDGE_* settings (see DefaultOriginLimit).
type Config struct {
	// Origin is the per-origin limit (CORSBRIDGE_RATE_LIMIT), keyed by
	// OriginKey. Requests without Origin are not counted by it.
	Origin Limit
	// Client is the per-client-IP limit (CORSBRIDGE_CLIENT_RATE_LIMIT),
	// stacked with Origin since any non-browser client can forge Origin.
	Client Limit
	// ClientConcurrency caps the requests in flight per client address
	// (CORSBRIDGE_CLIENT_CONCURRENCY), OriginConcurrency those per origin,
	// or per access key for requests that carry one
	// (CORSBRIDGE_ORIGIN_CONCURRENCY), on this instance; 0 is off. See
	// DefaultClientConcurrency.
	ClientConcurrency int
	OriginConcurrency int
	// OriginKey is the per-origin counter key of an Origin header value,
	// "" when it is not a valid origin (allowlist.OriginKey: the server
	// passes the one canonicaliser every rule uses). Required with Origin.
	OriginKey func(origin string) string
	// Exempt reports the origin keys the Origin limit and the origin cap do
	// not apply to (the Client limit and cap still do): CORSBRIDGE_RATE_LIMIT_EXEMPT, compiled by
	// allowlist.NewOriginKeySet. Nil exempts none.
	Exempt func(originKey string) bool
	// TrustedProxyHeader names the header a trusted front proxy sets to the
	// client address, e.g. "Fly-Client-IP"; empty means the TCP peer. See
	// ClientIP. X-Forwarded-For and Forwarded are refused.
	TrustedProxyHeader string
	// Keys: requests may carry a key's own limit (WithKey). With Redis, the
	// Limiter then connects even when Origin and Client are both off, so key
	// counts are shared between instances.
	Keys bool
	// FailMode applies while Redis is unavailable; empty means FailOpen.
	FailMode FailMode
	// RedisURL shares the counters between instances (REDIS_URL, see
	// ParseRedisURL); empty means in-memory counters.
	RedisURL string
	// Redis, if set, is used instead of dialling RedisURL. The caller keeps
	// ownership: Close does not close it.
	Redis redis.UniversalClient
	// Logger gets one line per Redis availability change; nil discards.
	Logger *slog.Logger
	// OnLimited writes the 429 response; Retry-After and X-RateLimit-* are
	// already set. Nil writes a plain-text 429.
	OnLimited http.HandlerFunc
	// OnUnavailable writes the 503 response of FailClosed; Retry-After is
	// already set. Nil writes a plain-text 503.
	OnUnavailable http.HandlerFunc
	// OnRefused, if set, is told which limit refused a request (LimitOrigin,
	// LimitClient, LimitKey or LimitQuota) just before OnLimited runs: for metrics and the request
	// log. It must be cheap and must not write the response.
	OnRefused func(r *http.Request, limit string)

	probeInterval time.Duration // tests; zero means DefaultProbeInterval
}

// Validate reports the first configuration error: an invalid limit or fail
// mode, an exempt entry that does not compile, an unusable header name, or a
// Redis URL that does not parse. It never contacts Redis.
func (c Config) Validate() error {
	if err := c.Origin.Validate(); err != nil {
		return fmt.Errorf("origin limit: %w", err)
	}
	if err := c.Client.Validate(); err != nil {
		return fmt.Errorf("client limit: %w", err)
	}
	if c.ClientConcurrency < 0 || c.ClientConcurrency > MaxConcurrency || c.OriginConcurrency < 0 || c.OriginConcurrency > MaxConcurrency {
		return fmt.Errorf("ratelimit: concurrency caps must be from 0 (off) to %d", MaxConcurrency)
	}
	if c.FailMode != "" {
		if _, err := ParseFailMode(string(c.FailMode)); err != nil {
			return err
		}
	}
	if err := validateTrustedHeader(c.TrustedProxyHeader); err != nil {
		return err
	}
	if c.RedisURL != "" && c.Redis == nil {
		if _, err := ParseRedisURL(c.RedisURL); err != nil {
			return err
		}
	}
	return nil
}

func validateTrustedHeader(h string) error {
	if h == "" {
		return nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return fmt.Errorf("ratelimit: trusted proxy header %q is not a header name", h)
		}
	}
	switch http.CanonicalHeaderKey(h) {
	case "X-Forwarded-For", "Forwarded":
		return errors.New("ratelimit: trusted proxy header must be one your proxy overwrites (e.g. Fly-Client-IP), not " + h + ", which clients write")
	}
	return nil
}

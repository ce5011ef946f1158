// Package server is corsbridge's HTTP surface: the router, the proxy handler
// and the middleware around it. It wires the allowlist (who may use the
// proxy and where it may go), the rate limiter and the landing page.
package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/proxy"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/usage"
	"github.com/corsbridge/corsbridge/web"
)

// Defaults of the proxy's own settings.
const (
	DefaultMaxRequestBody  = proxy.DefaultMaxRequestBody
	DefaultMaxResponseBody = proxy.DefaultMaxResponseBody
	DefaultMaxRedirects    = proxy.DefaultMaxRedirects
	DefaultUpstreamTimeout = proxy.DefaultUpstreamTimeout
	DefaultCORSMaxAge      = 600 * time.Second
	DefaultBodyIdleTimeout = proxy.DefaultBodyIdleTimeout
	DefaultUpstreamIdle    = proxy.DefaultUpstreamIdle
	DefaultBodyTimeout     = proxy.DefaultBodyTimeout
)

// DefaultRequireHeader returns the headers of which a request must carry at
// least one, as cors-anywhere does: browsers always send Origin cross-origin,
// so only direct navigation and scripts that pose as browsers are refused.
func DefaultRequireHeader() []string { return []string{"Origin", "X-Requested-With"} }

// Config is the proxy's behaviour, independent of where it listens.
type Config struct {
	// Forwarding: body and response limits, redirects, timeouts, the
	// client-IP headers. TrustedProxyHeader also names the client address
	// the limits count.
	proxy.Config
	CORSMaxAge           time.Duration
	RequireHeader        []string // empty: no header required
	PrivateNetworkAccess bool     // answer Chrome's Private Network Access preflights
	Version              string
	// ServeMetrics serves /metrics on the proxy's own handler (needs
	// Deps.Metrics). Off by default: a public instance should not show
	// its traffic to the internet.
	ServeMetrics bool
}

// DefaultConfig returns the settings corsbridge runs with when none are given.
func DefaultConfig() Config {
	return Config{
		Config:        proxy.DefaultConfig(),
		CORSMaxAge:    DefaultCORSMaxAge,
		RequireHeader: DefaultRequireHeader(),
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.CORSMaxAge < 0 || c.CORSMaxAge > 24*time.Hour {
		return errors.New("CORS max age must be between 0s and 24h")
	}
	for _, h := range c.RequireHeader {
		if h == "" || textproto.CanonicalMIMEHeaderKey(h) == "" {
			return fmt.Errorf("invalid required header name %q", h)
		}
	}
	return nil
}

// Deps is everything New needs. Policy is required; the rest have defaults.
type Deps struct {
	Config Config
	Policy *allowlist.Policy
	Logger *slog.Logger
	Site   *web.Site // the landing page; nil serves a one-line text instead
	// RateLimit configures the per-origin and per-client limits; nil limits
	// nothing. New fills in the handlers that write 429 and 503 in the
	// error contract, the logger and the trusted client-IP header.
	RateLimit *ratelimit.Config
	// Metrics, if set, gets the proxy's Prometheus collectors; nil records
	// no metrics.
	Metrics *prometheus.Registry
	// Access applies keys, signed tokens and run-time blocks; nil knows no
	// keys and blocks nothing (a presented key is refused). The caller
	// closes it.
	Access *access.Guard
	// Usage, when set, records every request a key or token made (see
	// recordUsage) and serves GET /_corsbridge/usage its figures. The
	// caller closes it, after the server, so its last flush has them all.
	Usage *usage.Ledger

	// Cache, when set, is the shared response cache's configuration; nil
	// turns it off. CacheRedis, when set, shares its entries between
	// instances.
	Cache      *cache.Config
	CacheRedis redis.UniversalClient

	// DialControl runs after the policy's own Control hook on every upstream
	// dial. Tests use it as an outer guard that refuses any non-loopback
	// address, so a broken policy fails a test without a packet leaving.
	DialControl func(network, address string, c syscall.RawConn) error
	// LookupHost replaces DNS for upstream names (tests map names to
	// loopback or to private addresses without a real resolver).
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// UpstreamRoots are the roots trusted for HTTPS upstreams
	// (proxy.LoadRoots); nil trusts the system's.
	UpstreamRoots *x509.CertPool

	// TLSStatus, when set, reports how the instance serves TLS ("acme",
	// "files") and its certificates' earliest expiry (zero before the
	// first), for /readyz and a metric. nil: TLS is terminated elsewhere.
	TLSStatus func() (mode string, earliestExpiry time.Time)
}

// Server is the whole proxy as an http.Handler.
type Server struct {
	cfg            Config
	policy         *allowlist.Policy
	logger         *slog.Logger
	site           *web.Site
	limiter        *ratelimit.Limiter
	access         *access.Guard
	usage          *usage.Ledger // nil: none recorded
	tlsStatus      func() (string, time.Time)
	cors           *cors
	forwarder      *proxy.Forwarder
	cache          *cache.Cache // nil: off
	requireHeaders []string
	headerRequired *errHeaderRequired
	handler        http.Handler
	// The limit messages, worded once: the limits never change.
	bodyTooLarge     string
	responseTooLarge string
	draining         atomic.Bool
	registry         *prometheus.Registry
	metrics          *metrics // nil without a registry
}

// New builds the proxy. All normalisation happens here, once: the request
// path only looks things up.
func New(d Deps) (*Server, error) {
	if d.Policy == nil {
		return nil, errors.New("server: a policy is required")
	}
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    d.Config,
		policy: d.Policy,
		logger: d.Logger,
		site:   d.Site,
		access: d.Access,
		usage:  d.Usage,
		cors:   newCORS(d.Policy.OriginsRestricted(), int(d.Config.CORSMaxAge/time.Second), d.Config.PrivateNetworkAccess),
	}
	s.tlsStatus = d.TLSStatus
	for _, h := range d.Config.RequireHeader {
		s.requireHeaders = append(s.requireHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	s.headerRequired = &errHeaderRequired{"requests must carry one of these headers: " + strings.Join(s.requireHeaders, ", ")}
	if d.Config.TrustedProxyHeader != "" {
		s.cfg.TrustedProxyHeader = textproto.CanonicalMIMEHeaderKey(d.Config.TrustedProxyHeader)
	}
	c, err := s.newCache(d.Cache, d.CacheRedis)
	if err != nil {
		return nil, err
	}
	s.cache = c
	if d.Config.ServeMetrics && d.Metrics == nil {
		return nil, errors.New("server: serving metrics needs a registry")
	}
	if d.Metrics != nil {
		m, err := newMetrics(d.Metrics, s)
		if err != nil {
			return nil, err
		}
		s.registry, s.metrics = d.Metrics, m
	}
	if d.RateLimit == nil && d.Access != nil {
		// Keys carry their own limits even when nothing else is limited.
		d.RateLimit = &ratelimit.Config{}
	}
	if d.RateLimit != nil {
		limiter, err := s.newLimiter(*d.RateLimit)
		if err != nil {
			return nil, err
		}
		s.limiter = limiter
	}
	forwarder, err := proxy.New(proxy.Deps{
		Config:           s.cfg.Config,
		Control:          d.Policy.Control,
		OuterControl:     d.DialControl,
		LookupHost:       d.LookupHost,
		CheckHop:         s.checkHop,
		RootCAs:          d.UpstreamRoots,
		DecorateResponse: s.cors.exposeUpstream,
		Fail:             func(w http.ResponseWriter, r *http.Request, f *proxy.Failure) { s.refuse(w, r, f) },
		Logger:           d.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.forwarder = forwarder
	s.bodyTooLarge = "the request body exceeds the limit of " + web.FormatBytes(d.Config.MaxRequestBody)
	s.responseTooLarge = "the upstream response exceeds the limit of " + web.FormatBytes(d.Config.MaxResponseBody)
	s.handler = s.routes()
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Drain marks the server as shutting down: /readyz answers 503 so a load
// balancer stops sending new requests while in-flight ones finish.
func (s *Server) Drain() { s.draining.Store(true) }

// Close releases idle upstream connections and stops the limiter's
// background work.
func (s *Server) Close() error {
	s.forwarder.Close()
	if s.cache != nil {
		s.cache.Close()
	}
	if s.limiter != nil {
		return s.limiter.Close()
	}
	return nil
}

func (s *Server) newLimiter(cfg ratelimit.Config) (*ratelimit.Limiter, error) {
	cfg.Logger = s.logger
	cfg.Keys = s.access != nil
	// Counted under the same canonical origin every policy rule sees.
	cfg.OriginKey = allowlist.OriginKey
	if cfg.TrustedProxyHeader == "" {
		cfg.TrustedProxyHeader = s.cfg.TrustedProxyHeader
	}
	// The limiter lives as long as the server: Close stops it.
	return ratelimit.New(context.Background(), cfg)
}

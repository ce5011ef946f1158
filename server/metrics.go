package server

import (
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/corsbridge/corsbridge/ratelimit"
)

// metrics holds the proxy's Prometheus collectors, registered once on the
// registry the caller passes to New (never the global default one).
//
// Every label has a small, fixed set of values: status class, error code,
// limit name, refusal reason class, and key names, which the operator makes
// and keyMetrics bounds. Origins, hosts and client addresses are
// never labels, since anyone on the internet could mint new series with them;
// they are in the request log instead.
//
// Every series the hot path touches is resolved here, at start-up, so a
// request costs a few atomic adds and no allocation or label lookup.
type metrics struct {
	requests    *prometheus.CounterVec
	byClass     [6]prometheus.Counter            // no error code, by status/100
	byCode      map[errorCode]prometheus.Counter // error code, in the class of its status
	aborted     prometheus.Counter
	upstream    prometheus.Histogram
	bytesIn     prometheus.Counter
	bytesOut    prometheus.Counter
	inFlight    prometheus.Gauge
	rateLimited map[string]prometheus.Counter
	// concurrencyLimited counts 429 concurrency_limited by cap.
	concurrencyLimited map[string]prometheus.Counter
	// quotaExceeded counts 429 quota_exceeded by quota.
	quotaExceeded map[string]prometheus.Counter
	refusals      *prometheus.CounterVec
	refusalByKind map[refusalKey]prometheus.Counter
	keys          *keyMetrics
}

// allErrorCodes lists every code, so each series exists (at zero) from the
// first scrape and rate() works on it.
var allErrorCodes = []errorCode{
	codeInvalidTarget, codeHeaderRequired, codeNotFound, codeOriginForbidden, codeTargetForbidden,
	codeMethodNotAllowed, codeBodyTooLarge, codeRequestTimeout, codeRateLimited, codeConcurrencyLimited, codeQuotaExceeded, codeUpstreamUnreachable,
	codeResponseTooLarge, codeUpstreamTimeout, codeLoopDetected, codeUnavailable, codeInternal,
	codeKeyRequired, codeKeyForbidden, codeOriginBlocked, codeTargetBlocked, codeInvalidRequest,
}

// limitNames are the limits and concurrency caps a request can meet.
var limitNames = []string{ratelimit.LimitOrigin, ratelimit.LimitClient, ratelimit.LimitKey}

// seriesOf resolves the series of a one-label vec for each value, once.
func seriesOf(vec *prometheus.CounterVec, values ...string) map[string]prometheus.Counter {
	series := make(map[string]prometheus.Counter, len(values))
	for _, v := range values {
		series[v] = vec.WithLabelValues(v)
	}
	return series
}

// upstreamBuckets span a fast API (5 ms) to the default upstream timeout.
var upstreamBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsbridge_requests_total",
			Help: "Requests answered, by status class (2xx...) and the proxy's error code (none when the proxy added none).",
		}, []string{"class", "code"}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsbridge_responses_aborted_total",
			Help: "Responses cut off after they started: upstream reset, body over the limit, stalled upstream.",
		}),
		upstream: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "corsbridge_upstream_duration_seconds",
			Help:    "Time from sending a request upstream to its response headers, redirects followed included.",
			Buckets: upstreamBuckets,
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsbridge_request_body_bytes_total",
			Help: "Request body bytes read from clients.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsbridge_response_body_bytes_total",
			Help: "Response body bytes written to clients.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "corsbridge_in_flight_requests",
			Help: "Proxy requests being served now (health checks, metrics and the landing page excluded).",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsbridge_refusals_total",
			Help: "Requests refused by the origin or target policy or the SSRF guard, by error code, reason class, and stage (check: the URL before any DNS; upstream: the dialled address or a redirect hop).",
		}, []string{"code", "reason", "stage"}),
		byCode:        map[errorCode]prometheus.Counter{},
		refusalByKind: map[refusalKey]prometheus.Counter{},
		keys:          newKeyMetrics(maxKeySeries),
	}
	for class := 1; class <= 5; class++ {
		m.byClass[class] = m.requests.WithLabelValues(statusClass(class*100), "none")
	}
	for _, code := range allErrorCodes {
		m.byCode[code] = m.requests.WithLabelValues(statusClass(code.status()), string(code))
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corsbridge_rate_limited_total",
		Help: "Requests refused with 429, by the limit that refused them (origin, client, or an access key's own).",
	}, []string{"limit"})
	m.rateLimited = seriesOf(limited, limitNames...)
	concurrencyLimited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corsbridge_concurrency_limited_total",
		Help: "Requests refused with 429 concurrency_limited, by the cap on requests in flight that refused them (client, origin, or an access key's).",
	}, []string{"limit"})
	m.concurrencyLimited = seriesOf(concurrencyLimited, limitNames...)
	quotaExceeded := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corsbridge_quota_exceeded_total",
		Help: "Requests refused with 429 quota_exceeded, by the access key's or token's quota that was used up (daily, monthly, monthly-bytes).",
	}, []string{"quota"})
	m.quotaExceeded = seriesOf(quotaExceeded, ratelimit.QuotaDaily, ratelimit.QuotaMonthly, ratelimit.QuotaMonthlyBytes)
	for _, k := range allRefusals() {
		m.refusalByKind[k] = m.refusals.WithLabelValues(string(k.code), k.reason, k.stage)
	}
	collectors := []prometheus.Collector{
		m.requests, m.aborted, m.upstream, m.bytesIn, m.bytesOut, m.inFlight, limited, concurrencyLimited, quotaExceeded, m.refusals,
		m.keys.requests, m.keys.bytes,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "corsbridge_build_info",
			Help:        "Always 1; the labels name the running build.",
			ConstLabels: prometheus.Labels{"version": s.cfg.Version, "go_version": runtime.Version()},
		}, func() float64 { return 1 }),
	}
	collectors = append(collectors, scrapedGauges(s)...)
	collectors = append(collectors, s.cacheCollectors()...)
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// scrapedGauges are the gauges read when scraped, never on the hot path: the
// rate-limit state, the places held under the concurrency caps and the TLS
// certificates' expiry.
func scrapedGauges(s *Server) []prometheus.Collector {
	var gauges []prometheus.Collector
	for _, state := range []string{ratelimit.StatusNotConfigured, ratelimit.StatusHealthy, ratelimit.StatusDegraded} {
		gauges = append(gauges, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "corsbridge_rate_limit_state",
			Help:        "1 for the rate-limit counters' current state: not_configured (in memory), healthy (Redis) or degraded (Redis unavailable, falling back).",
			ConstLabels: prometheus.Labels{"state": state},
		}, func() float64 {
			if s.rateLimitStatus() == state {
				return 1
			}
			return 0
		}))
	}
	// Places in flight, read when scraped: how close this instance is to
	// its concurrency caps, summed over clients, origins and keys.
	for _, limit := range limitNames {
		gauges = append(gauges, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "corsbridge_concurrency_in_flight",
			Help:        "Requests in flight on this instance counted under a concurrency cap, by cap: client, origin, or an access key's.",
			ConstLabels: prometheus.Labels{"limit": limit},
		}, func() float64 {
			if s.limiter == nil {
				return 0
			}
			return float64(s.limiter.InFlight(limit))
		}))
	}
	if s.tlsStatus != nil {
		gauges = append(gauges, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "corsbridge_tls_certificate_expiry_timestamp_seconds",
			Help: "Unix time at which the earliest of the instance's TLS certificates expires; 0 before the first is obtained.",
		}, func() float64 {
			if _, t := s.tlsStatus(); !t.IsZero() {
				return float64(t.Unix())
			}
			return 0
		}))
	}
	return gauges
}

func statusClass(status int) string {
	return string(rune('0'+status/100)) + "xx"
}

// observe records a finished request.
func (m *metrics) observe(info *record, status int, bytesOut int64, aborted bool) {
	var c prometheus.Counter
	if info.code == "" {
		if class := status / 100; class >= 1 && class <= 5 {
			c = m.byClass[class]
		} else {
			c = m.requests.WithLabelValues("other", "none")
		}
	} else if c = m.byCode[info.code]; c == nil || info.code.status()/100 != status/100 {
		// A code with another status than its own: not expected, but
		// counted rather than lost.
		c = m.requests.WithLabelValues(statusClass(status), string(info.code))
	}
	c.Inc()
	if aborted {
		m.aborted.Inc()
	}
	if up := info.upstream; !up.UpstreamStart.IsZero() && !up.UpstreamDone.IsZero() {
		m.upstream.Observe(up.UpstreamDone.Sub(up.UpstreamStart).Seconds())
	}
	if info.bodyIn.n > 0 {
		m.bytesIn.Add(float64(info.bodyIn.n))
	}
	if bytesOut > 0 {
		m.bytesOut.Add(float64(bytesOut))
	}
	if info.keyName != "" {
		m.keys.observe(info.keyName, bytesOut)
	}
}

func (s *Server) rateLimitStatus() string {
	if s.limiter == nil {
		return ratelimit.StatusNotConfigured
	}
	return s.limiter.Status()
}

// handleMetrics serves the registry in the Prometheus text format.
func handleMetrics(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:            reg, // counts its own errors
		Timeout:             10 * time.Second,
		MaxRequestsInFlight: 4,
	})
}

// MetricsHandler serves the metrics New registered (and anything else on the
// same registry), for a separate metrics listener. Nil without a registry.
func (s *Server) MetricsHandler() http.Handler {
	if s.registry == nil {
		return nil
	}
	return handleMetrics(s.registry)
}

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/web"
)

// The settings table, by area; settings() in config.go joins them in this order,
// which is the order of --help and of README's table.

// proxySettings: how requests are forwarded and answered: listening, body and response limits,
// timeouts, CORS, client-IP headers.
func proxySettings() []setting {
	return []setting{
		{Flag: "addr", Env: "CORSBRIDGE_ADDR", Aliases: []string{"PORT"}, Default: DefaultAddr,
			Usage: "listen address; PORT (the platform's) is used when this is unset",
			apply: func(c *Config, v string) error { c.Addr = v; return nil }},
		{Flag: "max-request-body", Env: "CORSBRIDGE_MAX_REQUEST_BODY", Default: "10MiB",
			Usage: "largest request body forwarded, in bytes (KiB/MiB/GiB suffixes accepted); larger is 413",
			apply: func(c *Config, v string) (err error) { c.Server.MaxRequestBody, err = web.ParseBytes(v); return }},
		{Flag: "max-response-body", Env: "CORSBRIDGE_MAX_RESPONSE_BODY", Default: "100MiB",
			Usage: "largest upstream response relayed, in bytes; declared larger is 502, undeclared is cut by aborting",
			apply: func(c *Config, v string) (err error) { c.Server.MaxResponseBody, err = web.ParseBytes(v); return }},
		{Flag: "max-redirects", Env: "CORSBRIDGE_MAX_REDIRECTS", Default: "5",
			Usage: "redirect hops followed server-side (0 hands every redirect back through the proxy)",
			apply: func(c *Config, v string) (err error) { c.Server.MaxRedirects, err = strconv.Atoi(v); return }},
		{Flag: "upstream-timeout", Env: "CORSBRIDGE_UPSTREAM_TIMEOUT", Default: "30s",
			Usage: "how long to wait for the upstream's response headers; longer is 504",
			apply: func(c *Config, v string) (err error) { c.Server.UpstreamTimeout, err = time.ParseDuration(v); return }},
		{Flag: "upstream-ca-file", Env: "CORSBRIDGE_UPSTREAM_CA_FILE", Default: "",
			Usage: "PEM file of extra root certificates trusted for HTTPS upstreams, added to the system's (an internal CA); read at start",
			apply: func(c *Config, v string) error { c.UpstreamCAFile = strings.TrimSpace(v); return nil }},
		{Flag: "upstream-idle-timeout", Env: "CORSBRIDGE_UPSTREAM_IDLE_TIMEOUT", Default: "120s",
			Usage: "longest pause inside an upstream response body (event streams included) before the response is aborted",
			apply: func(c *Config, v string) (err error) {
				c.Server.UpstreamIdleTimeout, err = time.ParseDuration(v)
				return
			}},
		{Flag: "request-body-idle-timeout", Env: "CORSBRIDGE_REQUEST_BODY_IDLE_TIMEOUT", Default: "30s",
			Usage: "longest pause while a client sends a request body; longer is 408",
			apply: func(c *Config, v string) (err error) { c.Server.BodyIdleTimeout, err = time.ParseDuration(v); return }},
		{Flag: "request-body-timeout", Env: "CORSBRIDGE_REQUEST_BODY_TIMEOUT", Default: "5m",
			Usage: "longest time a client may take to send a whole request body, however steadily; longer is 408",
			apply: func(c *Config, v string) (err error) { c.Server.BodyTimeout, err = time.ParseDuration(v); return }},
		{Flag: "cors-max-age", Env: "CORSBRIDGE_CORS_MAX_AGE", Default: "600",
			Usage: "Access-Control-Max-Age of preflight answers, in seconds (or a duration such as 10m)",
			apply: func(c *Config, v string) (err error) { c.Server.CORSMaxAge, err = parseSeconds(v); return }},
		{Flag: "require-header", Env: "CORSBRIDGE_REQUIRE_HEADER", Default: "Origin,X-Requested-With",
			Usage: "a request must carry one of these headers; \"none\" disables the check",
			apply: func(c *Config, v string) error {
				c.Server.RequireHeader = nil
				if strings.EqualFold(strings.TrimSpace(v), "none") {
					return nil
				}
				c.Server.RequireHeader = allowlist.ParsePatterns(v)
				if len(c.Server.RequireHeader) == 0 {
					return errors.New(`list at least one header, or "none"`)
				}
				return nil
			}},
		{Flag: "private-network-access", Env: "CORSBRIDGE_PRIVATE_NETWORK_ACCESS", Default: "false",
			Usage: "answer Chrome's Private Network Access preflights, so public sites may call a proxy on a private network",
			apply: func(c *Config, v string) (err error) {
				c.Server.PrivateNetworkAccess, err = strconv.ParseBool(v)
				return
			}},
		{Flag: "forward-client-ip", Env: "CORSBRIDGE_FORWARD_CLIENT_IP", Default: "false",
			Usage: "send the client's IP upstream in X-Forwarded-For",
			apply: func(c *Config, v string) (err error) { c.Server.ForwardClientIP, err = strconv.ParseBool(v); return }},
		{Flag: "trusted-proxy-header", Env: "CORSBRIDGE_TRUSTED_PROXY_HEADER", Default: "",
			Usage: "the one header a trusted front proxy sets to the client's IP (Fly-Client-IP); empty uses the TCP peer",
			apply: func(c *Config, v string) error { c.Server.TrustedProxyHeader = strings.TrimSpace(v); return nil }},
	}
}

// policySettings: who may use the proxy and where it may go (package allowlist).
func policySettings() []setting {
	return []setting{
		{Flag: "allow-private", Env: "CORSBRIDGE_ALLOW_PRIVATE", Default: "",
			Usage: "CIDRs of non-public addresses the proxy may reach on purpose (an internal API); empty refuses them all",
			apply: func(c *Config, v string) (err error) { c.Allow.AllowPrivate, err = allowlist.ParsePrefixes(v); return }},
		{Flag: "allow-ports", Env: "CORSBRIDGE_ALLOW_PORTS", Default: "",
			Usage: "upstream ports allowed, e.g. 80,443; empty allows any port",
			apply: func(c *Config, v string) (err error) { c.Allow.AllowPorts, err = allowlist.ParsePorts(v); return }},
		{Flag: "allow-origins", Env: "CORSBRIDGE_ALLOW_ORIGINS", Aliases: []string{"CORSANYWHERE_WHITELIST"}, Default: "",
			Usage: "origins that may use the proxy (https://app.example.com, https://*.example.com, http://localhost:*); empty allows any",
			apply: func(c *Config, v string) error { c.Allow.AllowOrigins = allowlist.ParsePatterns(v); return nil }},
		{Flag: "deny-origins", Env: "CORSBRIDGE_DENY_ORIGINS", Aliases: []string{"CORSANYWHERE_BLACKLIST"}, Default: "",
			Usage: "origins refused even if allowed",
			apply: func(c *Config, v string) error { c.Allow.DenyOrigins = allowlist.ParsePatterns(v); return nil }},
		{Flag: "allow-targets", Env: "CORSBRIDGE_ALLOW_TARGETS", Default: "",
			Usage: "target hosts the proxy may reach (api.example.com, *.example.com, api.example.com/v1/); empty allows any public host",
			apply: func(c *Config, v string) error { c.Allow.AllowTargets = allowlist.ParsePatterns(v); return nil }},
		{Flag: "deny-targets", Env: "CORSBRIDGE_DENY_TARGETS", Default: "",
			Usage: "target hosts refused even if allowed",
			apply: func(c *Config, v string) error { c.Allow.DenyTargets = allowlist.ParsePatterns(v); return nil }},
	}
}

// limitSettings: rate limits, caps on requests in flight, and the Redis they share (package
// ratelimit).
func limitSettings() []setting {
	return []setting{
		{Flag: "rate-limit", Env: "CORSBRIDGE_RATE_LIMIT", Aliases: []string{"CORSANYWHERE_RATELIMIT"}, Default: ratelimit.DefaultOriginLimit,
			Usage: "requests per origin: N/duration (60/1m, 1000/1h) or off; cors-anywhere's \"<max> <minutes> [exempt...]\" is read from CORSANYWHERE_RATELIMIT",
			apply: func(c *Config, v string) (err error) { c.RateLimit.Origin, err = ratelimit.ParseLimit(v); return },
			applyAlias: func(c *Config, _, v string) error {
				ca, err := ratelimit.ParseCorsAnywhere(v)
				if err != nil {
					return err
				}
				listed, err := allowlist.NewOriginKeySet(ca.Exempt)
				if err != nil {
					return fmt.Errorf("invalid CORSANYWHERE_RATELIMIT: %w", err)
				}
				c.RateLimit.Origin, c.RateLimit.Exempt = ca.Origin, listed.MatchKey
				c.RateLimitExempt = ca.Exempt
				if ca.Only {
					// A max of 0 is cors-anywhere's "only these origins":
					// an origin allowlist in the exempt list's patterns.
					c.Allow.AllowOriginFunc = listed.Match
					c.OnlyOrigins = ca.Exempt
				}
				return nil
			}},
		{Flag: "client-rate-limit", Env: "CORSBRIDGE_CLIENT_RATE_LIMIT", Default: ratelimit.DefaultClientLimit,
			Usage: "requests per client IP (IPv6 by /64), stacked with the origin limit: N/duration or off",
			apply: func(c *Config, v string) (err error) { c.RateLimit.Client, err = ratelimit.ParseLimit(v); return }},
		{Flag: "client-concurrency", Env: "CORSBRIDGE_CLIENT_CONCURRENCY", Default: strconv.Itoa(ratelimit.DefaultClientConcurrency),
			Usage: "requests in flight at once per client IP (IPv6 by /64), event streams included, counted per instance; more is 429 concurrency_limited: a number or off",
			apply: func(c *Config, v string) (err error) {
				c.RateLimit.ClientConcurrency, err = ratelimit.ParseConcurrency(v)
				return
			}},
		{Flag: "origin-concurrency", Env: "CORSBRIDGE_ORIGIN_CONCURRENCY", Default: strconv.Itoa(ratelimit.DefaultOriginConcurrency),
			Usage: "requests in flight at once per origin, or per access key for requests with one, counted per instance; more is 429 concurrency_limited: a number or off",
			apply: func(c *Config, v string) (err error) {
				c.RateLimit.OriginConcurrency, err = ratelimit.ParseConcurrency(v)
				return
			}},
		{Flag: "rate-limit-exempt", Env: "CORSBRIDGE_RATE_LIMIT_EXEMPT", Default: "",
			Usage: "origins the origin limit and the origin concurrency cap do not apply to: app.example.com, *.example.com or /regex/",
			apply: func(c *Config, v string) error {
				list := allowlist.ParsePatterns(v)
				if len(list) == 0 {
					return nil
				}
				exempt, err := allowlist.NewOriginKeySet(list)
				if err != nil {
					return err
				}
				c.RateLimit.Exempt, c.RateLimitExempt = exempt.MatchKey, list
				return nil
			}},
		{Flag: "rate-limit-fail", Env: "CORSBRIDGE_RATE_LIMIT_FAIL", Default: string(ratelimit.DefaultFailMode),
			Usage: "while Redis is down: open (count locally per instance) or closed (answer 503 unavailable)",
			apply: func(c *Config, v string) (err error) { c.RateLimit.FailMode, err = ratelimit.ParseFailMode(v); return }},
		{Flag: "redis-url", Env: "REDIS_URL", Default: "", Secret: true,
			Usage: "share rate limits between instances: redis://, rediss://, redis+sentinel://, redis+cluster://; empty counts in memory",
			apply: func(c *Config, v string) error {
				c.RateLimit.RedisURL = strings.TrimSpace(v)
				if c.RateLimit.RedisURL == "" {
					return nil
				}
				_, err := ratelimit.ParseRedisURL(c.RateLimit.RedisURL)
				return err
			}},
	}
}

// accessSettings: access keys, signed tokens and upstream secrets (package access).
func accessSettings() []setting {
	return []setting{
		{Flag: "require-key", Env: "CORSBRIDGE_REQUIRE_KEY", Default: "false",
			Usage: "refuse requests without an access key or signed token (401 key_required); preflights never need one",
			apply: func(c *Config, v string) (err error) { c.Access.RequireKey, err = strconv.ParseBool(v); return }},
		{Flag: "keys-file", Env: "CORSBRIDGE_KEYS_FILE", Default: "",
			Usage: "JSON file of access keys and blocks, reloaded when it changes (written by corsbridge admin); when set it is used instead of Redis for them",
			apply: func(c *Config, v string) error { c.Access.KeysFile = strings.TrimSpace(v); return nil }},
		{Flag: "token-secret", Env: "CORSBRIDGE_TOKEN_SECRET", Default: "", Secret: true, redact: redactAll,
			Usage: "secrets for signed demo tokens, comma separated, 32+ characters each: the first signs (corsbridge token), every one verifies; prefer the environment to the flag",
			apply: func(c *Config, v string) error {
				c.Access.TokenSecrets = splitSecrets(v)
				return access.Config{TokenSecrets: c.Access.TokenSecrets}.Validate()
			}},
		{Flag: "secrets-key", Env: "CORSBRIDGE_SECRETS_KEY", Default: "", Secret: true, redact: redactAll,
			Usage: "keys that seal and open the upstream secrets in the key store: 32 bytes in base64 each (openssl rand -base64 32), comma separated; the first seals, every one opens; prefer the environment to the flag",
			apply: func(c *Config, v string) (err error) { c.Access.SecretsKey, err = access.ParseKeyring(v); return }},
	}
}

// serviceSettings: the process itself: shutdown, client connections, logs, metrics.
func serviceSettings() []setting {
	return []setting{
		{Flag: "shutdown-grace", Env: "CORSBRIDGE_SHUTDOWN_GRACE", Default: "20s",
			Usage: "on SIGTERM/SIGINT, how long in-flight requests may take to finish",
			apply: func(c *Config, v string) (err error) { c.ShutdownGrace, err = time.ParseDuration(v); return }},
		{Flag: "read-header-timeout", Env: "CORSBRIDGE_READ_HEADER_TIMEOUT", Default: "10s",
			Usage: "how long a client may take to send its request headers",
			apply: func(c *Config, v string) (err error) { c.ReadHeaderTimeout, err = time.ParseDuration(v); return }},
		{Flag: "idle-timeout", Env: "CORSBRIDGE_IDLE_TIMEOUT", Default: "120s",
			Usage: "how long an idle keep-alive client connection stays open",
			apply: func(c *Config, v string) (err error) { c.IdleTimeout, err = time.ParseDuration(v); return }},
		{Flag: "max-header-bytes", Env: "CORSBRIDGE_MAX_HEADER_BYTES", Default: "64KiB",
			Usage: "largest request header block accepted; larger is 431",
			apply: func(c *Config, v string) error {
				n, err := web.ParseBytes(v)
				c.MaxHeaderBytes = int(n)
				return err
			}},
		{Flag: "log-format", Env: "CORSBRIDGE_LOG_FORMAT", Default: "json",
			Usage: "log format: json or text",
			apply: func(c *Config, v string) error {
				if v != "json" && v != "text" {
					return errors.New("must be json or text")
				}
				c.LogFormat = v
				return nil
			}},
		{Flag: "log-level", Env: "CORSBRIDGE_LOG_LEVEL", Default: "info",
			Usage: "log level: debug, info, warn or error",
			apply: func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{Flag: "metrics", Env: "CORSBRIDGE_METRICS", Default: "false",
			Usage: "serve Prometheus /metrics on the main port too; only for instances that are not public (public ones use --metrics-addr)",
			apply: func(c *Config, v string) (err error) { c.Server.ServeMetrics, err = strconv.ParseBool(v); return }},
		{Flag: "metrics-addr", Env: "CORSBRIDGE_METRICS_ADDR", Default: "",
			Usage: "serve Prometheus /metrics on this separate listen address (127.0.0.1:9090, or :9090 on a private network); empty: no metrics listener",
			apply: func(c *Config, v string) error { c.MetricsAddr = strings.TrimSpace(v); return nil }},
		{Flag: "pprof", Env: "CORSBRIDGE_PPROF", Default: "false",
			Usage: "serve Go's runtime profiles (/debug/pprof/: CPU, allocations, locks, goroutines) on the --metrics-addr listener, never on the main port",
			apply: func(c *Config, v string) (err error) { c.Pprof, err = strconv.ParseBool(v); return }},
	}
}

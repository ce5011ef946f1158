package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/ratelimit"
	"github.com/corsbridge/corsbridge/server"
	"github.com/corsbridge/corsbridge/web"
)

// Config is everything the binary needs, parsed from flags and environment.
// parseConfig is pure: it reads only what it is given.
type Config struct {
	Addr              string
	Server            server.Config
	Allow             allowlist.Config
	RateLimit         ratelimit.Config
	Access            AccessConfig
	ShutdownGrace     time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	LogFormat         string
	LogLevel          slog.Level
	MetricsAddr       string // a separate listener for /metrics; empty: none
	UpstreamCAFile    string // PEM roots trusted for HTTPS upstreams besides the system's
	Pprof             bool   // serve /debug/pprof/ on the MetricsAddr listener
	// RateLimitExempt are the exemption entries as configured, which
	// RateLimit.Exempt matches (allowlist.OriginKeySet).
	RateLimitExempt []string
	// OnlyOrigins are CORSANYWHERE_RATELIMIT's hosts when its max is 0, the
	// only origins served (Allow.AllowOriginFunc): for the landing page.
	OnlyOrigins []string
	TLS         TLSSettings
	Cache       CacheConfig
	// Effective is every setting's value as applied, by flag name, secrets
	// redacted: the start-up log line.
	Effective []slog.Attr
}

// AccessConfig is where access keys and blocks come from and whether a key
// is required. Keys and blocks live in the keys file when one is set, else
// in Redis when REDIS_URL is set.
type AccessConfig struct {
	RequireKey   bool
	KeysFile     string
	TokenSecrets []string // the first signs, all verify
	// SecretsKey opens the secrets in the store (CORSBRIDGE_SECRETS_KEY);
	// nil: none, and a store holding secrets stops start-up.
	SecretsKey *access.Keyring
}

// MetricsEnabled: metrics are recorded only when something can scrape them.
func (c Config) MetricsEnabled() bool { return c.Server.ServeMetrics || c.MetricsAddr != "" }

// Defaults of the binary's own settings.
const (
	DefaultAddr              = ":8080"
	DefaultShutdownGrace     = 20 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// usageError is a configuration mistake: the process exits with status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errHelp: --help or --version was asked for and printed; exit 0.
var errHelp = errors.New("help requested")

// setting is one configuration knob: a flag, its environment variable, any
// older names it also answers to, and how it lands in Config. --help and the
// README table are both checked against this one list.
type setting struct {
	Flag    string
	Env     string
	Aliases []string // environment variables read when Env is unset (cors-anywhere's, the platform's)
	Default string
	Usage   string
	Secret  bool // never echoed: may carry a password
	apply   func(c *Config, value string) error
	// applyAlias, when set, reads an alias whose format differs from Env's.
	applyAlias func(c *Config, alias, value string) error
	// redact shows a Secret setting in the start-up line; nil: redactURL.
	redact func(string) string
}

func settings() []setting {
	return append([]setting{
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
	}, append(tlsSettings(), cacheSettings()...)...)
}

// parseConfig reads flags over environment over defaults. Every mistake is a
// usageError naming the setting, so the operator knows what to fix.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (Config, error) {
	all := settings()
	fs := flag.NewFlagSet("corsbridge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	showVersion := fs.Bool("version", false, "print the version and exit")
	values := make(map[string]*flagValue, len(all))
	for _, s := range all {
		v := &flagValue{value: s.Default, isBool: s.Default == "true" || s.Default == "false"}
		values[s.Flag] = v
		fs.Var(v, s.Flag, s.Usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeHelp(stdout, all)
			return Config{}, errHelp
		}
		return Config{}, &usageError{err}
	}
	if *showVersion {
		fmt.Fprintln(stdout, versionString())
		return Config{}, errHelp
	}
	if fs.NArg() > 0 {
		return Config{}, &usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	cfg := Config{Server: server.DefaultConfig(), Cache: CacheConfig{Config: cache.DefaultConfig()}}
	for _, s := range all {
		value, source := s.Default, "default"
		switch {
		case explicit[s.Flag]:
			value, source = values[s.Flag].value, "--"+s.Flag
		case getenv(s.Env) != "":
			value, source = getenv(s.Env), s.Env
		default:
			for _, alias := range s.Aliases {
				if v := getenv(alias); v != "" {
					value, source = v, alias
					if alias == "PORT" {
						value = ":" + v
					}
					break
				}
			}
		}
		apply := s.apply
		if s.applyAlias != nil && source != "default" && source != s.Env && source != "--"+s.Flag {
			apply = func(c *Config, v string) error { return s.applyAlias(c, source, v) }
		}
		if err := apply(&cfg, value); err != nil {
			if s.Secret {
				return Config{}, &usageError{fmt.Errorf("%s: %w", source, err)}
			}
			return Config{}, &usageError{fmt.Errorf("%s=%q: %w", source, value, err)}
		}
		shown := value
		if s.Secret {
			redact := s.redact
			if redact == nil {
				redact = redactURL
			}
			shown = redact(value)
		}
		cfg.Effective = append(cfg.Effective, slog.String(s.Flag, shown))
	}
	cfg.RateLimit.TrustedProxyHeader = cfg.Server.TrustedProxyHeader
	if err := cfg.RateLimit.Validate(); err != nil {
		return Config{}, &usageError{err}
	}
	if err := cfg.Server.Validate(); err != nil {
		return Config{}, &usageError{err}
	}
	if err := cfg.validate(); err != nil {
		return Config{}, &usageError{err}
	}
	if err := cfg.validateCache(); err != nil {
		return Config{}, &usageError{err}
	}
	return cfg, nil
}

// flagValue keeps every flag's raw text, so flags and environment variables
// go through the same parser. Boolean settings may be given as a bare --flag.
type flagValue struct {
	value  string
	isBool bool
}

func (f *flagValue) String() string     { return f.value }
func (f *flagValue) Set(v string) error { f.value = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

func (c Config) validate() error {
	switch {
	case c.ShutdownGrace < 0:
		return errors.New("shutdown grace must not be negative")
	case c.ReadHeaderTimeout <= 0:
		return errors.New("read header timeout must be positive")
	case c.IdleTimeout <= 0:
		return errors.New("idle timeout must be positive")
	case c.Pprof && c.MetricsAddr == "":
		return errors.New("CORSBRIDGE_PPROF needs CORSBRIDGE_METRICS_ADDR: profiles are served only on that separate listener")
	case c.MaxHeaderBytes < 4<<10:
		return errors.New("max header bytes must be at least 4KiB")
	case c.Access.RequireKey && c.Access.KeysFile == "" && c.RateLimit.RedisURL == "" && len(c.Access.TokenSecrets) == 0:
		return errors.New("CORSBRIDGE_REQUIRE_KEY needs keys (CORSBRIDGE_KEYS_FILE or REDIS_URL) or CORSBRIDGE_TOKEN_SECRET, or nothing could pass")
	}
	return c.TLS.validate()
}

// splitSecrets reads CORSBRIDGE_TOKEN_SECRET: comma separated, spaces
// around each trimmed.
func splitSecrets(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func writeHelp(w io.Writer, all []setting) {
	fmt.Fprint(w, "Usage: corsbridge [flags]\n\n"+
		"A CORS proxy: GET /https://api.example.com/x fetches the URL server-to-server\n"+
		"and answers with CORS headers. Every flag is also an environment variable;\n"+
		"flags win over the environment.\n\n"+
		"  corsbridge --version      print the version\n"+
		"  corsbridge healthcheck    probe /healthz of the configured address; exit 0 if healthy, 1 if not\n"+
		"  corsbridge token ...      sign a demo token with CORSBRIDGE_TOKEN_SECRET (corsbridge token -h)\n"+
		"  corsbridge admin ...      add and revoke keys, block origins and targets, store upstream secrets (corsbridge admin -h)\n\n")
	for _, s := range all {
		def := s.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s  (env %s", s.Flag, s.Env)
		for _, a := range s.Aliases {
			fmt.Fprintf(w, ", or %s", a)
		}
		fmt.Fprintf(w, "; default %s)\n      %s\n", def, s.Usage)
	}
}

// settingsTable renders the settings as the README's Markdown table.
func settingsTable(all []setting) string {
	var b strings.Builder
	b.WriteString("| Flag | Environment | Default | What it does |\n|---|---|---|---|\n")
	for _, s := range all {
		env := "`" + s.Env + "`"
		for _, a := range s.Aliases {
			env += " or `" + a + "`"
		}
		def := "(empty)"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(&b, "| `--%s` | %s | %s | %s |\n", s.Flag, env, def, strings.ReplaceAll(s.Usage, "|", "\\|"))
	}
	return b.String()
}

// parseSeconds reads whole seconds (600) or a Go duration (10m).
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("must be seconds (600) or a duration (10m)")
	}
	return d, nil
}

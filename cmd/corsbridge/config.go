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

// helped is err, but nil for errHelp: what was asked for is printed, and
// the command succeeded.
func helped(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

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
	var all []setting
	for _, group := range [][]setting{
		proxySettings(), policySettings(), limitSettings(), accessSettings(), serviceSettings(),
		tlsSettings(), cacheSettings(),
	} {
		all = append(all, group...)
	}
	return all
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

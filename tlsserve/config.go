// Package tlsserve serves corsbridge over HTTPS on its own: certificates
// from an ACME CA (Let's Encrypt by default), obtained on demand for the
// configured names only and renewed before they expire, or certificate and
// key files managed elsewhere, reloaded when they change. It also answers
// ACME http-01 challenges on the plain port and redirects everything else
// there to https.
//
// ACME is golang.org/x/crypto/acme/autocert rather than certmagic: autocert
// is one small package from the Go project (certmagic brings zap, acmez,
// libdns and more), and its only gap for corsbridge, a lock so that one of
// several instances talks to the CA for a name at a time, is filled by
// RedisCache.
package tlsserve

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/acme/autocert"
	"golang.org/x/net/idna"
)

// Defaults.
const (
	DefaultDirectory = autocert.DefaultACMEDirectory // Let's Encrypt production
	// DefaultRenewBefore is how long before expiry a certificate is renewed:
	// a third of Let's Encrypt's 90 days, autocert's own choice.
	DefaultRenewBefore = 30 * 24 * time.Hour
	// DefaultReloadInterval is how often certificate and key files are
	// checked for changes.
	DefaultReloadInterval = 5 * time.Second
	DefaultHTTPSPort      = 443
)

// Modes, as Status reports them.
const (
	ModeOff   = "off"
	ModeACME  = "acme"
	ModeFiles = "files"
)

// Config says where certificates come from. Either Domains (ACME) or
// CertFile and KeyFile; neither is ModeOff.
type Config struct {
	Domains   []string // names to obtain certificates for, and no others
	Directory string   // ACME directory URL
	Email     string   // ACME account contact; optional
	// DataDir caches certificates and the ACME account key on disk when
	// Redis is nil.
	DataDir string
	// Redis, when set, caches certificates instead of DataDir, shared by
	// every instance, with a lock per name so one talks to the CA at a time.
	Redis       redis.UniversalClient
	RenewBefore time.Duration

	CertFile, KeyFile string
	ReloadInterval    time.Duration

	// HTTPSPort is the port redirects from the plain port point to; 443 is
	// left out of the URL.
	HTTPSPort int
	// ACMEClient talks to the CA; nil uses a client with Go's default
	// transport. Tests pass one that reaches their own CA.
	ACMEClient *http.Client
	Logger     *slog.Logger
	// Lock timing of RedisCache; zero values use its defaults.
	Lock LockConfig
}

// Mode is ModeACME, ModeFiles or ModeOff.
func (c Config) Mode() string {
	switch {
	case len(c.Domains) > 0:
		return ModeACME
	case c.CertFile != "" || c.KeyFile != "":
		return ModeFiles
	}
	return ModeOff
}

// WithDefaults fills in what was left zero.
func (c Config) WithDefaults() Config {
	if c.Directory == "" {
		c.Directory = DefaultDirectory
	}
	if c.RenewBefore == 0 {
		c.RenewBefore = DefaultRenewBefore
	}
	if c.ReloadInterval == 0 {
		c.ReloadInterval = DefaultReloadInterval
	}
	if c.HTTPSPort == 0 {
		c.HTTPSPort = DefaultHTTPSPort
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Lock = c.Lock.withDefaults()
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case len(c.Domains) > 0 && (c.CertFile != "" || c.KeyFile != ""):
		return errors.New("set either TLS domains (ACME) or a certificate and key file, not both")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("a TLS certificate file needs its key file, and a key file its certificate")
	case c.Mode() == ModeACME && c.Redis == nil && c.DataDir == "":
		return errors.New("ACME needs a data directory for its certificates (or REDIS_URL)")
	case c.RenewBefore < 0 || c.RenewBefore > 30*24*time.Hour:
		// autocert caps its renewal threshold at 30 days; RedisCache must
		// use the same one to know when a certificate is due.
		return errors.New("renew before must be between 0 and 30 days")
	case c.ReloadInterval < 0:
		return errors.New("reload interval must not be negative")
	case c.HTTPSPort < 0 || c.HTTPSPort > 65535:
		return fmt.Errorf("https port %d out of range", c.HTTPSPort)
	}
	if c.Mode() == ModeACME && !strings.HasPrefix(c.Directory, "https://") && !strings.HasPrefix(c.Directory, "http://") {
		return fmt.Errorf("ACME directory %q must be an http(s) URL", c.Directory)
	}
	for _, d := range c.Domains {
		if _, err := CanonicalName(d); err != nil {
			return err
		}
	}
	return nil
}

// CanonicalName is a configured name as autocert compares it: lower case,
// punycode, no trailing dot. Wildcards and IP addresses are refused: ACME
// issues neither through the challenges autocert answers.
func CanonicalName(name string) (string, error) {
	n := strings.TrimSuffix(strings.TrimSpace(name), ".")
	if strings.Contains(n, "*") {
		return "", fmt.Errorf("TLS domain %q: wildcards need a DNS challenge, which corsbridge does not answer", name)
	}
	ascii, err := idna.Lookup.ToASCII(n)
	if err == nil && !utf8.ValidString(n) {
		err = errors.New("not UTF-8")
	}
	if err == nil {
		// What autocert compares against must map to itself.
		var again string
		if again, err = idna.Lookup.ToASCII(ascii); err == nil && again != ascii {
			err = errors.New("not canonical")
		}
	}
	emptyLabel := strings.HasPrefix(ascii, ".") || strings.HasSuffix(ascii, ".") || strings.Contains(ascii, "..")
	if err != nil || emptyLabel || !strings.Contains(ascii, ".") || strings.Trim(ascii, "0123456789.:[]") == "" {
		return "", fmt.Errorf("TLS domain %q is not a DNS name with a dot", name)
	}
	return ascii, nil
}

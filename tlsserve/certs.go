package tlsserve

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

var errNoCertificates = errors.New("tlsserve: TLS is off")

// Certs hands out certificates to TLS handshakes, in ACME or file mode.
type Certs struct {
	cfg    Config
	acme   *autocert.Manager // ModeACME
	redis  *RedisCache       // ModeACME with Redis
	seen   *expiries         // ModeACME
	names  []string          // ModeACME, canonical
	store  autocert.Cache    // ModeACME: the cache without observation or locks
	files  *fileCert         // ModeFiles
	cancel context.CancelFunc
	done   chan struct{}
}

// New prepares certificates as cfg says. In file mode the pair is read now,
// so a wrong path is a start-up error; in ACME mode nothing is ordered
// until the first handshake for a name. Close stops the background work.
func New(cfg Config) (*Certs, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Certs{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	switch cfg.Mode() {
	case ModeACME:
		c.newACME()
		close(c.done)
	case ModeFiles:
		f, err := newFileCert(cfg.CertFile, cfg.KeyFile, cfg.Logger)
		if err != nil {
			cancel()
			return nil, err
		}
		c.files = f
		go func() {
			defer close(c.done)
			f.watch(ctx, cfg.ReloadInterval)
		}()
	default:
		close(c.done)
	}
	return c, nil
}

func (c *Certs) newACME() {
	cfg := c.cfg
	var cache autocert.Cache = autocert.DirCache(cfg.DataDir)
	c.store = cache
	if cfg.Redis != nil {
		c.redis = NewRedisCache(cfg.Redis, cfg.RenewBefore, cfg.Lock, cfg.Logger)
		cache = c.redis
		c.store = peeker{c.redis}
	}
	names := make([]string, len(cfg.Domains))
	for i, d := range cfg.Domains {
		names[i], _ = CanonicalName(d) // Validate checked them
	}
	c.names = names
	c.seen = &expiries{}
	c.acme = &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Cache:       observedCache{Cache: cache, seen: c.seen},
		HostPolicy:  autocert.HostWhitelist(names...),
		RenewBefore: cfg.RenewBefore,
		Email:       cfg.Email,
		Client:      &acme.Client{DirectoryURL: cfg.Directory, HTTPClient: cfg.ACMEClient, UserAgent: "corsbridge"},
	}
}

// Mode is ModeACME, ModeFiles or ModeOff.
func (c *Certs) Mode() string { return c.cfg.Mode() }

// TLSConfig serves HTTP/2 and HTTP/1.1 (and, with ACME, tls-alpn-01
// challenges) with TLS 1.2 at least and Go's default cipher suites, which
// are all AEAD with forward secrecy.
func (c *Certs) TLSConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if c.acme != nil {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     protos,
		GetCertificate: c.getCertificate,
	}
}

func (c *Certs) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c.files != nil {
		return c.files.get(hello)
	}
	if c.acme == nil {
		return nil, errNoCertificates
	}
	cert, err := c.acme.GetCertificate(hello)
	if err != nil && c.redis != nil && !isChallenge(hello) {
		// A failed order stores nothing, so no Put releases its lock.
		if name, nerr := CanonicalName(hello.ServerName); nerr == nil {
			c.redis.ReleaseName(name)
		}
	}
	return cert, err
}

// isChallenge: the CA validating tls-alpn-01 offers that protocol alone.
func isChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto
}

// HTTPHandler is the plain port: ACME http-01 challenges for the
// configured names, and a redirect to https for everything else; a request
// without a Host, which cannot be redirected, goes to fallback.
func (c *Certs) HTTPHandler(fallback http.Handler) http.Handler {
	redirect := redirectHandler(c.cfg.HTTPSPort, fallback)
	if c.acme == nil {
		return redirect
	}
	return c.acme.HTTPHandler(redirect)
}

// Status reports the mode and the certificates' expiry.
func (c *Certs) Status() Status {
	s := Status{Mode: c.Mode()}
	switch {
	case c.files != nil:
		s.Certificates = c.files.status()
	case c.seen != nil:
		s.Certificates = c.seen.list()
	}
	return s
}

// Peek notes the expiry of the certificates already cached, without
// ordering or locking anything, so that the start-up line reports them
// before the first handshake.
func (c *Certs) Peek(ctx context.Context) {
	if c.acme == nil {
		return
	}
	for _, name := range c.names {
		if data, err := c.store.Get(ctx, name); err == nil {
			if t, ok := certExpiry(data, time.Now()); ok {
				c.seen.record(name, t)
			}
		}
	}
}

// peeker reads RedisCache without its lock protocol.
type peeker struct{ *RedisCache }

func (p peeker) Get(ctx context.Context, key string) ([]byte, error) { return p.get(ctx, key) }

// Close stops reloading files and releases any certificate lock held.
func (c *Certs) Close() {
	c.cancel()
	<-c.done
	if c.redis != nil {
		c.redis.Close()
	}
}

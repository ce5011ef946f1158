package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/tlsserve"
)

// Defaults of the TLS settings. With TLS on, the proxy listens on the
// standard ports, which is what a VPS with nothing in front needs; PORT and
// CORSBRIDGE_ADDR keep their meaning for plain HTTP, behind a platform's
// proxy.
const (
	DefaultTLSAddr  = ":443"
	DefaultHTTPAddr = ":80"
	DefaultDataDir  = "corsbridge-data"
)

// TLSSettings is how the proxy serves HTTPS, if it does.
type TLSSettings struct {
	Domains   []string
	Directory string
	Email     string
	CARoot    string // PEM file trusted for the ACME directory's own HTTPS
	DataDir   string
	CertFile  string
	KeyFile   string
	Addr      string // HTTPS listener
	HTTPAddr  string // plain listener: challenges, health, redirect; "off": none
	H2C       bool
}

// On: the proxy serves HTTPS on Addr instead of HTTP on Config.Addr.
func (t TLSSettings) On() bool { return len(t.Domains) > 0 || t.CertFile != "" || t.KeyFile != "" }

func tlsSettings() []setting {
	return []setting{
		{Flag: "tls-domains", Env: "CORSBRIDGE_TLS_DOMAINS", Default: "",
			Usage: "serve HTTPS (and HTTP/2) on --tls-addr with certificates from an ACME CA for these names only (proxy.example.com,...), obtained on first use and renewed before expiry",
			apply: func(c *Config, v string) error { c.TLS.Domains = allowlist.ParsePatterns(v); return nil }},
		{Flag: "acme-directory", Env: "CORSBRIDGE_ACME_DIRECTORY", Default: tlsserve.DefaultDirectory,
			Usage: "ACME directory URL of the CA (Let's Encrypt production by default; its staging directory for trials)",
			apply: func(c *Config, v string) error { c.TLS.Directory = strings.TrimSpace(v); return nil }},
		{Flag: "acme-email", Env: "CORSBRIDGE_ACME_EMAIL", Default: "",
			Usage: "contact address given to the ACME CA for expiry and policy notices; optional",
			apply: func(c *Config, v string) error { c.TLS.Email = strings.TrimSpace(v); return nil }},
		{Flag: "acme-ca-root", Env: "CORSBRIDGE_ACME_CA_ROOT", Default: "",
			Usage: "PEM file of the root that signs a private ACME CA's own HTTPS certificate (step-ca, Pebble); empty trusts the system's roots",
			apply: func(c *Config, v string) error { c.TLS.CARoot = strings.TrimSpace(v); return nil }},
		{Flag: "data-dir", Env: "CORSBRIDGE_DATA_DIR", Aliases: []string{"STATE_DIRECTORY"}, Default: DefaultDataDir,
			Usage: "directory for ACME certificates and the account key, when REDIS_URL is unset (with REDIS_URL they are shared in Redis); systemd's STATE_DIRECTORY is used when this is unset",
			apply: func(c *Config, v string) error { c.TLS.DataDir = strings.TrimSpace(v); return nil }},
		{Flag: "tls-cert", Env: "CORSBRIDGE_TLS_CERT", Default: "",
			Usage: "certificate chain (PEM) managed elsewhere, instead of ACME; reloaded when it changes, without a restart",
			apply: func(c *Config, v string) error { c.TLS.CertFile = strings.TrimSpace(v); return nil }},
		{Flag: "tls-key", Env: "CORSBRIDGE_TLS_KEY", Default: "",
			Usage: "private key (PEM) of --tls-cert; reloaded with it",
			apply: func(c *Config, v string) error { c.TLS.KeyFile = strings.TrimSpace(v); return nil }},
		{Flag: "tls-addr", Env: "CORSBRIDGE_TLS_ADDR", Default: DefaultTLSAddr,
			Usage: "HTTPS listen address when TLS is on (--tls-domains or --tls-cert); --addr and PORT are then unused",
			apply: func(c *Config, v string) error { c.TLS.Addr = strings.TrimSpace(v); return nil }},
		{Flag: "http-addr", Env: "CORSBRIDGE_HTTP_ADDR", Default: DefaultHTTPAddr,
			Usage: "plain HTTP listen address when TLS is on: ACME http-01 challenges, /healthz and /readyz, and a redirect to https for the rest; off: none",
			apply: func(c *Config, v string) error { c.TLS.HTTPAddr = strings.TrimSpace(v); return nil }},
		{Flag: "h2c", Env: "CORSBRIDGE_H2C", Default: "false",
			Usage: "also accept cleartext HTTP/2 on --addr, for a platform proxy that speaks it to the app (TLS is on: HTTP/2 is always served)",
			apply: func(c *Config, v string) (err error) { c.TLS.H2C, err = strconv.ParseBool(v); return }},
	}
}

func (t TLSSettings) validate() error {
	if t.H2C && t.On() {
		return errors.New("CORSBRIDGE_H2C is for plain HTTP behind a proxy; with TLS on, HTTP/2 is negotiated over TLS")
	}
	if !t.On() {
		return nil
	}
	if t.Addr == "" {
		return errors.New("CORSBRIDGE_TLS_ADDR must not be empty when TLS is on")
	}
	if _, err := t.httpsPort(); err != nil {
		return err
	}
	if t.CARoot != "" {
		if _, err := t.caPool(); err != nil {
			return err
		}
	}
	return t.certsConfig().Validate()
}

// httpsPort is the TLS listener's port, where the plain port redirects to.
func (t TLSSettings) httpsPort() (int, error) {
	i := strings.LastIndexByte(t.Addr, ':')
	if i < 0 {
		return 0, fmt.Errorf("CORSBRIDGE_TLS_ADDR %q: needs a port, such as :443", t.Addr)
	}
	p, err := strconv.Atoi(t.Addr[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("CORSBRIDGE_TLS_ADDR %q: port out of range", t.Addr)
	}
	return p, nil
}

// caPool reads CARoot: the system's roots and the file's.
func (t TLSSettings) caPool() (*x509.CertPool, error) {
	pem, err := os.ReadFile(t.CARoot)
	if err != nil {
		return nil, fmt.Errorf("CORSBRIDGE_ACME_CA_ROOT: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CORSBRIDGE_ACME_CA_ROOT: no PEM certificate in %s", t.CARoot)
	}
	return pool, nil
}

// certsConfig is tlsserve's configuration, with an ACME client trusting
// CARoot when one is set.
func (t TLSSettings) certsConfig() tlsserve.Config {
	port, _ := t.httpsPort()
	cfg := tlsserve.Config{
		Domains: t.Domains, Directory: t.Directory, Email: t.Email, DataDir: t.DataDir,
		CertFile: t.CertFile, KeyFile: t.KeyFile, HTTPSPort: port,
	}
	if t.CARoot != "" {
		if pool, err := t.caPool(); err == nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
			cfg.ACMEClient = &http.Client{Transport: tr, Timeout: time.Minute}
		}
	}
	return cfg.WithDefaults()
}

package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// LoadRoots is the system's root certificates plus those in the PEM file
// at path, for upstreams whose certificates come from a private CA (an
// internal API, a staging environment). An empty path is nil: the
// transport then uses the system's roots as Go finds them. Adding to the
// system pool, rather than replacing it, keeps public upstreams working.
func LoadRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system roots here (a scratch image without CA certificates):
		// the file's are then the only ones.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %w", path, errNoCertificates)
	}
	return pool, nil
}

var errNoCertificates = errors.New("no PEM certificates in the file")

// clientTLS is the transport's TLS configuration: nil (Go's defaults, the
// system's roots) unless roots are given.
func clientTLS(roots *x509.CertPool) *tls.Config {
	if roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: roots}
}

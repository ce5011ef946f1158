package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// upstreamTLSName is the DNS name in the upstream's certificate, for
// clients that verify names, not IP addresses (nginx's proxy_ssl_name).
// Go clients dial https://127.0.0.1:PORT and check the IP address, which
// the certificate carries too.
const upstreamTLSName = "upstream.bench.test"

// benchCA is the local certificate authority of one run: made at start,
// written to the run's directory, trusted by every proxy under test and by
// nobody else.
type benchCA struct {
	CAFile   string // PEM root every proxy trusts
	CertFile string // the upstream's certificate, signed by the root
	KeyFile  string
	Pool     *x509.CertPool // the root alone
}

// newBenchCA makes a root and a leaf for 127.0.0.1 and upstreamTLSName,
// ECDSA P-256 (what a CDN-fronted API typically serves), valid for a day.
func newBenchCA(dir string) (*benchCA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "corsbridge-bench local CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: upstreamTLSName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{upstreamTLSName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	leafKeyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, err
	}
	ca := &benchCA{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "upstream.pem"),
		KeyFile:  filepath.Join(dir, "upstream-key.pem"),
		Pool:     x509.NewCertPool(),
	}
	ca.Pool.AddCert(root)
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{{ca.CAFile, "CERTIFICATE", rootDER}, {ca.CertFile, "CERTIFICATE", leafDER}, {ca.KeyFile, "PRIVATE KEY", leafKeyDER}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der}), 0o600); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

// upstreamTLSConfig is the upstream's side: TLS 1.3 only; http.Server adds
// h2 to the offered protocols, so clients that can use HTTP/2 do.
func upstreamTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}, nil
}

// loadRoots reads a PEM file of roots into a pool of its own: the bench's
// Go clients trust the run's CA and nothing else.
func loadRoots(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, os.ErrInvalid
	}
	return pool, nil
}

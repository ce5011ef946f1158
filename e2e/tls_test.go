package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"
)

// TestBrowserSpeaksHTTP2OverTLS: with a certificate, corsbridge serves
// HTTPS itself, Chromium negotiates HTTP/2 with it, and a page on another
// origin fetches through it with CORS as over HTTP/1.1.
func TestBrowserSpeaksHTTP2OverTLS(t *testing.T) {
	ctx := openPage(t, startPage(t))
	// The shared test browser trusts no test CA: certificate errors are
	// ignored for this test only, and checked again when it ends.
	ignore := func(on bool) error {
		_, err := chromedp.Call(ctx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: on})
		return err
	}
	if err := ignore(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ignore(false); err != nil {
			t.Errorf("certificate checks not restored: %v", err)
		}
	})

	certFile, keyFile := loopbackCert(t)
	up := startUpstream(t)
	p := startProxy(t, allowUpstream, "CORSBRIDGE_TLS_CERT="+certFile, "CORSBRIDGE_TLS_KEY="+keyFile,
		"CORSBRIDGE_TLS_ADDR=127.0.0.1:0", "CORSBRIDGE_HTTP_ADDR=127.0.0.1:0")

	target := up.URL + "/plain"
	res := probe(t, ctx, p.URL+"/"+target, "{}")
	if res.Error != "" {
		t.Fatalf("fetch through the HTTPS proxy failed: %s", res.Error)
	}
	if res.Status != http.StatusOK || res.Body != "hello from upstream" || res.Headers["x-custom"] != "custom-value" {
		t.Errorf("status %d body %q headers %v", res.Status, res.Body, res.Headers)
	}

	do(t, ctx, chromedp.Navigate(p.URL+"/healthz"))
	proto := eval[string](t, ctx, `performance.getEntriesByType("navigation")[0].nextHopProtocol`)
	if proto != "h2" {
		t.Errorf("Chromium spoke %q to the proxy, want h2", proto)
	}
}

// loopbackCert writes a self-signed certificate for 127.0.0.1 and its key.
func loopbackCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "corsbridge e2e"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

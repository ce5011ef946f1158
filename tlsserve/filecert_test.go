package tlsserve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// selfSigned makes a certificate for name with the given serial, as PEM.
func selfSigned(t *testing.T, name string, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
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
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	// Write beside and rename, as certbot and Kubernetes do, so the
	// server never reads a file half written.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestCertificateFilesReloadWithoutDroppingConnections(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	firstExpiry := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	c1, k1 := selfSigned(t, "proxy.corsbridge.test", 1, firstExpiry)
	writeFile(t, certFile, c1)
	writeFile(t, keyFile, k1)

	in := listen(t)
	in.serve(t, Config{CertFile: certFile, KeyFile: keyFile, ReloadInterval: 10 * time.Millisecond})
	if st := in.certs.Status(); st.Mode != ModeFiles || !st.Earliest().Equal(firstExpiry) {
		t.Fatalf("status %+v, want files expiring %v", st, firstExpiry)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c1)
	addr := in.tlsLn.Addr().String()

	// A connection opened on the first certificate, kept alive across the
	// reload.
	old := client(addr, pool)
	res, err := old.Get("https://proxy.corsbridge.test/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	t.Run("a pair that does not match is not loaded", func(t *testing.T) {
		c2, _ := selfSigned(t, "proxy.corsbridge.test", 2, time.Now().Add(72*time.Hour))
		writeFile(t, certFile, c2) // the key is still the first one's
		time.Sleep(100 * time.Millisecond)
		if got, err := handshake(addr, "proxy.corsbridge.test", pool); err != nil || got.SerialNumber.Int64() != 1 {
			t.Fatalf("served serial %v (%v), want the first certificate kept", got, err)
		}
	})

	t.Run("a new pair is served to new connections", func(t *testing.T) {
		c3, k3 := selfSigned(t, "proxy.corsbridge.test", 3, time.Now().Add(96*time.Hour))
		writeFile(t, keyFile, k3)
		writeFile(t, certFile, c3)
		pool.AppendCertsFromPEM(c3)
		waitFor(t, "the new certificate", 5*time.Second, func() bool {
			got, err := handshake(addr, "proxy.corsbridge.test", pool)
			return err == nil && got.SerialNumber.Int64() == 3
		})
		if st := in.certs.Status(); !st.Earliest().After(firstExpiry) {
			t.Errorf("status expiry %v, want the new certificate's", st.Earliest())
		}
	})

	t.Run("the connection opened before still serves", func(t *testing.T) {
		res, err := old.Get("https://proxy.corsbridge.test/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		// A new connection would have been given serial 3.
		if serial := res.TLS.PeerCertificates[0].SerialNumber.Int64(); serial != 1 || res.ProtoMajor != 2 {
			t.Errorf("request over serial %d, HTTP/%d; want the HTTP/2 connection from before (serial 1)", serial, res.ProtoMajor)
		}
	})
}

func TestFileModeNeedsReadableFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Config{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: filepath.Join(dir, "missing.key")})
	if err == nil {
		t.Fatal("New accepted missing files")
	}
}

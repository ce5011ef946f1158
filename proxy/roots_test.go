package proxy

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tlsUpstream is an HTTPS upstream on loopback with HTTP/2 enabled, and a
// PEM file of its self-signed certificate: a private CA of one.
func tlsUpstream(t *testing.T) (srv *httptest.Server, caFile string) {
	t.Helper()
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		_, _ = io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func TestLoadRoots(t *testing.T) {
	srv, caFile := tlsUpstream(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("-----BEGIN NOTHING-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("empty path: the system's roots", func(t *testing.T) {
		if pool, err := LoadRoots(""); pool != nil || err != nil {
			t.Errorf("LoadRoots(\"\") = %v, %v; want nil, nil", pool, err)
		}
	})
	t.Run("the file's roots are trusted", func(t *testing.T) {
		pool, err := LoadRoots(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Certificate().Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("upstream certificate does not verify against the loaded roots: %v", err)
		}
	})
	for _, tt := range []struct{ name, path string }{
		{"missing file", filepath.Join(t.TempDir(), "missing.pem")},
		{"no certificates", notPEM},
	} {
		t.Run(tt.name+" is an error", func(t *testing.T) {
			if pool, err := LoadRoots(tt.path); err == nil {
				t.Errorf("LoadRoots(%s) = %v, nil; want an error", tt.path, pool)
			}
		})
	}
}

// loopbackOnly is the tests' SSRF hook: the upstream is on loopback, and
// nothing else may be dialled.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return errors.New("test guard: not loopback: " + address)
	}
	return nil
}

// The forwarder trusts an HTTPS upstream under a private CA only when
// given its roots, and still speaks HTTP/2 to it then.
func TestForwarderRootCAs(t *testing.T) {
	srv, caFile := tlsUpstream(t)
	roots, err := LoadRoots(caFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		roots    *x509.CertPool
		wantKind Kind // 0: relayed
	}{
		{"with the CA", roots, 0},
		{"system roots only", nil, KindUpstreamUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var failed *Failure
			f, err := New(Deps{
				Config:  DefaultConfig(),
				Control: loopbackOnly,
				RootCAs: tt.roots,
				Fail: func(w http.ResponseWriter, _ *http.Request, fail *Failure) {
					failed = fail
					w.WriteHeader(http.StatusBadGateway)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			target, _ := url.Parse(srv.URL + "/x")
			rec := httptest.NewRecorder()
			f.Forward(rec, httptest.NewRequest(http.MethodGet, "/"+target.String(), nil), Request{Target: target})
			switch {
			case tt.wantKind == 0 && (failed != nil || rec.Code != 200 || rec.Body.String() != "ok"):
				t.Errorf("status %d %q, failure %v; want 200 ok", rec.Code, rec.Body.String(), failed)
			case tt.wantKind == 0 && rec.Header().Get("X-Proto") != "HTTP/2.0":
				t.Errorf("upstream saw %q: custom roots must not cost HTTP/2", rec.Header().Get("X-Proto"))
			case tt.wantKind != 0 && (failed == nil || failed.Kind != tt.wantKind):
				t.Errorf("failure %+v, status %d; want kind %v", failed, rec.Code, tt.wantKind)
			}
		})
	}
}

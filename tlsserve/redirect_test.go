package tlsserve

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest sends request as bytes, so the request line reaches the
// server exactly as written, and returns the response.
func rawRequest(t *testing.T, addr, request string) *http.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRedirectKeepsTargetByteForByte(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		name      string
		httpsPort int
		request   string
		status    int
		location  string
	}{
		{"proxied target with encoded slash", 443,
			"GET /https://api.example/x?y=%2F HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n",
			308, "https://proxy.example.com/https://api.example/x?y=%2F"},
		{"encodings and double slashes untouched", 443,
			"GET /https://api.example//a/../b%20c/%2e%2e?q=a+b&r=%26%3D&s HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n",
			308, "https://proxy.example.com/https://api.example//a/../b%20c/%2e%2e?q=a+b&r=%26%3D&s"},
		{"query form", 443,
			"GET /?url=https%3A%2F%2Fapi.example.com%2Fx HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n",
			308, "https://proxy.example.com/?url=https%3A%2F%2Fapi.example.com%2Fx"},
		{"plain port dropped from host", 443,
			"GET /x HTTP/1.1\r\nHost: proxy.example.com:80\r\n\r\n",
			308, "https://proxy.example.com/x"},
		{"https port other than 443", 8443,
			"GET /x HTTP/1.1\r\nHost: proxy.example.com:8080\r\n\r\n",
			308, "https://proxy.example.com:8443/x"},
		{"IPv6 literal", 443,
			"GET /x HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n",
			308, "https://[2001:db8::1]/x"},
		{"POST keeps its method by 308", 443,
			"POST /https://api.example/items HTTP/1.1\r\nHost: proxy.example.com\r\nContent-Length: 2\r\n\r\n{}",
			308, "https://proxy.example.com/https://api.example/items"},
		{"absolute-form request target", 443,
			"GET http://proxy.example.com/https://api.example/x?y=%2F HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n",
			308, "https://proxy.example.com/https://api.example/x?y=%2F"},
		{"HTTP/1.0 without Host goes to the fallback", 443,
			"GET /x HTTP/1.0\r\n\r\n",
			http.StatusTeapot, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(redirectHandler(tc.httpsPort, fallback))
			defer srv.Close()
			res := rawRequest(t, srv.Listener.Addr().String(), tc.request)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			if got := res.Header.Get("Location"); got != tc.location {
				t.Errorf("Location\n got %s\nwant %s", got, tc.location)
			}
		})
	}
}

func TestPlainPortWithACME(t *testing.T) {
	certs, err := New(Config{Domains: []string{"proxy.example.com"}, Directory: "https://127.0.0.1:1/dir", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer certs.Close()
	srv := httptest.NewServer(certs.HTTPHandler(http.NotFoundHandler()))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	t.Run("challenge for a name not listed is refused", func(t *testing.T) {
		res := rawRequest(t, addr, "GET /.well-known/acme-challenge/abc HTTP/1.1\r\nHost: other.example.com\r\n\r\n")
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
	t.Run("unknown challenge token is not found", func(t *testing.T) {
		res := rawRequest(t, addr, "GET /.well-known/acme-challenge/abc HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n")
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", res.StatusCode)
		}
	})
	t.Run("everything else redirects", func(t *testing.T) {
		res := rawRequest(t, addr, "GET /https://api.example/x?y=%2F HTTP/1.1\r\nHost: proxy.example.com\r\n\r\n")
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != 308 || !strings.HasSuffix(loc, "/https://api.example/x?y=%2F") {
			t.Errorf("status %d Location %q", res.StatusCode, loc)
		}
	})
}

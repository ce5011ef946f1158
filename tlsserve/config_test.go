package tlsserve

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // part of the error; empty: valid
	}{
		{"off", Config{}, ""},
		{"acme", Config{Domains: []string{"proxy.example.com"}, DataDir: "/tmp/x"}, ""},
		{"acme with unicode name", Config{Domains: []string{"bücher.example"}, DataDir: "/tmp/x"}, ""},
		{"files", Config{CertFile: "c.pem", KeyFile: "k.pem"}, ""},
		{"both", Config{Domains: []string{"proxy.example.com"}, CertFile: "c", KeyFile: "k", DataDir: "d"}, "not both"},
		{"cert without key", Config{CertFile: "c.pem"}, "needs its key"},
		{"key without cert", Config{KeyFile: "k.pem"}, "needs its key"},
		{"acme without storage", Config{Domains: []string{"proxy.example.com"}}, "data directory"},
		{"wildcard", Config{Domains: []string{"*.example.com"}, DataDir: "d"}, "wildcards"},
		{"single label", Config{Domains: []string{"localhost"}, DataDir: "d"}, "with a dot"},
		{"IP address", Config{Domains: []string{"192.0.2.1"}, DataDir: "d"}, "with a dot"},
		{"renew before over 30 days", Config{Domains: []string{"a.example"}, DataDir: "d", RenewBefore: 31 * 24 * time.Hour}, "30 days"},
		{"directory not a URL", Config{Domains: []string{"a.example"}, DataDir: "d", Directory: "letsencrypt"}, "http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.WithDefaults().Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{
		"Proxy.Example.COM.": "proxy.example.com",
		" proxy.example.com": "proxy.example.com",
		"bücher.example":     "xn--bcher-kva.example",
	} {
		if got, err := CanonicalName(in); err != nil || got != want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzCanonicalName(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		got, err := CanonicalName(name)
		if err != nil {
			return
		}
		if again, err := CanonicalName(got); err != nil || again != got {
			t.Errorf("CanonicalName(%q) = %q, not stable: %q, %v", name, got, again, err)
		}
		if strings.ContainsAny(got, "* ") || !strings.Contains(got, ".") {
			t.Errorf("CanonicalName(%q) = %q", name, got)
		}
	})
}

func FuzzCertExpiry(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		at, valid := certExpiry(data, time.Now())
		if valid && at.IsZero() {
			t.Errorf("valid certificate without an expiry")
		}
	})
}

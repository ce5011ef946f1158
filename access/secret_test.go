package access

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustSecret(t testing.TB, kr *Keyring, name, target, header, query, value string) Secret {
	t.Helper()
	s, err := NewSecret(kr, name, target, header, query, []byte(value), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSecretRefuses(t *testing.T) {
	kr := mustKeyring(t, sealKeyA)
	for _, tc := range []struct {
		name, secret, target, header, query, value, want string
	}{
		{"bad name", "a b", "api.example.com", "X-Api-Key", "", "value-1234", "key name"},
		{"no target", "s", "", "X-Api-Key", "", "value-1234", "a target is required"},
		{"wildcard host", "s", "*.example.com", "X-Api-Key", "", "value-1234", "no wildcards"},
		{"any host", "s", "*", "X-Api-Key", "", "value-1234", "no wildcards"},
		{"other scheme", "s", "ftp://api.example.com", "X-Api-Key", "", "value-1234", "only https"},
		{"credentials", "s", "https://u:p@api.example.com", "X-Api-Key", "", "value-1234", "want"},
		{"query in target", "s", "api.example.com/v1?x=1", "X-Api-Key", "", "value-1234", "want"},
		{"ambiguous path", "s", "api.example.com/v1/../admin/", "X-Api-Key", "", "value-1234", "ambiguous"},
		{"header and query", "s", "api.example.com", "X-Api-Key", "key", "value-1234", "not both"},
		{"neither", "s", "api.example.com", "", "", "value-1234", "not both"},
		{"not a header name", "s", "api.example.com", "X Api", "", "value-1234", "not a header name"},
		{"a header the proxy manages", "s", "api.example.com", "host", "", "value-1234", "manages"},
		{"forwarding header", "s", "api.example.com", "X-Forwarded-For", "", "value-1234", "manages"},
		{"query with separators", "s", "api.example.com", "", "a&b", "value-1234", "cannot be a query parameter"},
		{"the proxy's own parameter", "s", "api.example.com", "", "corsbridge_key", "value-1234", "cannot be a query parameter"},
		{"value too short", "s", "api.example.com", "X-Api-Key", "", "short", "8 to 4096"},
		{"value with a newline", "s", "api.example.com", "X-Api-Key", "", "value\r\nX-Evil: 1", "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSecret(kr, tc.secret, tc.target, tc.header, tc.query, []byte(tc.value), time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "value-1234") {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
	if _, err := NewSecret(nil, "s", "api.example.com", "X-Api-Key", "", []byte("value-1234"), time.Now()); err != ErrNoSecretsKey {
		t.Errorf("without a key: %v", err)
	}
}

func TestSecretTargetMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"api.example.com",
			[]string{"https://api.example.com/", "https://API.example.com./x?y=1", "https://api.example.com:443/x"},
			[]string{"http://api.example.com/", "https://api.example.com:8443/", "https://evil.api.example.com/", "https://api.example.com.evil/"}},
		{"https://api.example.com/v1/",
			[]string{"https://api.example.com/v1", "https://api.example.com/v1/items"},
			[]string{"https://api.example.com/v10", "https://api.example.com/", "https://api.example.com/v1/../admin", "https://api.example.com/v1%2f..%2fadmin"}},
		{"api.example.com/v1/*",
			[]string{"https://api.example.com/v1/items"},
			[]string{"https://api.example.com/v2/items"}},
		{"http://api.example.com",
			[]string{"http://api.example.com/x", "http://api.example.com:80/x"},
			[]string{"https://api.example.com/x", "http://api.example.com:8080/x"}},
		{"https://127.0.0.1:8443/",
			[]string{"https://127.0.0.1:8443/x"},
			[]string{"https://127.0.0.1/x", "https://127.0.0.2:8443/x", "http://127.0.0.1:8443/x"}},
		{"https://[::1]:8443",
			[]string{"https://[::1]:8443/x"},
			[]string{"https://[::2]:8443/x"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			st, err := parseSecretTarget(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range tc.match {
				if !st.match(mustURL(t, u)) {
					t.Errorf("%s does not match", u)
				}
			}
			for _, u := range tc.nomatch {
				if st.match(mustURL(t, u)) {
					t.Errorf("%s matches", u)
				}
			}
		})
	}
}

// FuzzParseSecretTarget: no pattern panics the parser, and a pattern it
// accepts never matches a URL of another scheme, nor two different hosts.
func FuzzParseSecretTarget(f *testing.F) {
	for _, s := range []string{"api.example.com", "https://api.example.com/v1/", "http://127.0.0.1:8080/x/*", "https://[::1]:1/", "*.x.com", "https://a.example/%2f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		st, err := parseSecretTarget(p)
		if err != nil {
			return
		}
		if st.scheme != "https" && st.scheme != "http" || st.port == "" {
			t.Fatalf("parseSecretTarget(%q) = %+v", p, st)
		}
		other := "http"
		if st.scheme == "http" {
			other = "https"
		}
		if st.match(mustURL(t, other+"://api.example.com:"+st.port+"/")) {
			t.Fatalf("%q matches %s", p, other)
		}
		base := st.scheme + "://%s:" + st.port + "/"
		if st.match(mustURL(t, fmt.Sprintf(base, "api.example.com"))) && st.match(mustURL(t, fmt.Sprintf(base, "other.example.com"))) {
			t.Fatalf("%q matches two hosts", p)
		}
	})
}

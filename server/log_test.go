package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// logLines decodes the fixture's JSON request log, keyed by request id.
func logLines(t *testing.T, p *proxyFixture) map[string]map[string]any {
	t.Helper()
	lines := map[string]map[string]any{}
	for line := range strings.SplitSeq(strings.TrimSpace(p.Logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if entry["msg"] == "request" {
			id, _ := entry["request_id"].(string)
			lines[id] = entry
		}
	}
	return lines
}

func TestRequestLogLine(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("0123456789"))
	})
	p := newProxy(t, withLimits(t, "1/1m", "off"))
	secretPath := "/" + upstream.URL + "/private/path?token=s3cr3t"

	type check struct {
		name     string
		method   string
		path     string
		body     string
		headers  map[string]string
		want     map[string]any // fields with exact values
		present  []string       // fields that must be there
		absent   []string       // fields that must not be there
		statusOK int
	}
	checks := []check{
		{name: "proxied, with a safe client id", method: "POST", path: secretPath, body: "hello",
			headers: map[string]string{"Origin": "https://app.example", "X-Request-Id": "client-42.a:b_c"},
			want: map[string]any{"method": "POST", "origin": "https://app.example", "status": 200.0,
				"bytes_in": 5.0, "bytes_out": 10.0, "target_host": strings.TrimPrefix(upstream.URL, "http://"),
				"rate_limit": "local", "client_request_id": "client-42.a:b_c"},
			present: []string{"duration", "upstream_duration"},
			absent:  []string{"error", "deny_reason", "limited_by"}, statusOK: 200},
		{name: "rate limited, unsafe client id ignored", method: "GET", path: secretPath,
			headers: map[string]string{"Origin": "https://app.example", "X-Request-Id": "x\" injected=1"},
			want:    map[string]any{"status": 429.0, "error": "rate_limited", "limited_by": "origin"},
			absent:  []string{"client_request_id", "upstream_duration"}, statusOK: 429},
		{name: "long client id ignored", method: "GET", path: "/http://10.0.0.1/x?key=s3cr3t",
			headers: map[string]string{"Origin": "https://other.example", "X-Request-Id": strings.Repeat("a", 65)},
			want: map[string]any{"status": 403.0, "error": "target_forbidden", "target_host": "10.0.0.1",
				"deny_reason": "target is a private address (private)"},
			absent: []string{"client_request_id", "limited_by"}, statusOK: 403},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			res, _ := p.do(t, c.method, c.path, body, c.headers)
			if res.StatusCode != c.statusOK {
				t.Fatalf("status %d, want %d", res.StatusCode, c.statusOK)
			}
			id := res.Header.Get(HeaderRequestID)
			if id == "" || id == c.headers["X-Request-Id"] {
				t.Fatalf("X-Request-Id = %q: want the proxy's own id", id)
			}
			if exposed := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, HeaderRequestID) {
				t.Errorf("X-Request-Id not exposed: %q", exposed)
			}
			line := logLines(t, p)[id]
			if line == nil {
				t.Fatalf("no log line with request_id %q:\n%s", id, p.Logs.String())
			}
			for k, v := range c.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %v", k, line[k], v)
				}
			}
			for _, k := range c.present {
				if _, ok := line[k]; !ok {
					t.Errorf("%s missing from %v", k, line)
				}
			}
			for _, k := range c.absent {
				if v, ok := line[k]; ok {
					t.Errorf("%s = %v, want it absent", k, v)
				}
			}
		})
	}
	if logs := p.Logs.String(); strings.Contains(logs, "s3cr3t") || strings.Contains(logs, "/private/path") || strings.Contains(logs, "injected") {
		t.Errorf("the log holds a path, query or unsafe client id:\n%s", logs)
	}
}

func TestRequestIDs(t *testing.T) {
	p := newProxy(t)
	seen := map[string]bool{}
	for _, path := range []string{"/healthz", "/readyz", "/favicon.ico", "/"} {
		res, _ := p.do(t, "GET", path, nil, nil)
		id := res.Header.Get(HeaderRequestID)
		if !isRequestID(id) {
			t.Fatalf("%s: X-Request-Id = %q, want 16 characters of a-z and 2-7", path, id)
		}
		if seen[id] {
			t.Errorf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func isRequestID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// TestRequestIDsShareNoStructure: ids must not reveal how many requests an
// instance served, as a prefix and a counter did. Consecutive ids share no
// prefix or suffix longer than chance allows (six characters by chance:
// about 1 in 10^9 per pair), are never numerically close, and every one of
// their 80 bits varies.
func TestRequestIDsShareNoStructure(t *testing.T) {
	const n = 2000
	ids := make([]string, n)
	values := make([][2]uint64, n) // two 40-bit halves
	var ones [80]int
	seen := map[string]bool{}
	for i := range ids {
		id := newRequestID()
		if !isRequestID(id) || seen[id] {
			t.Fatalf("id %d = %q: malformed or repeated", i, id)
		}
		seen[id] = true
		ids[i], values[i] = id, decodeRequestID(id)
		for bit := range 80 {
			if values[i][bit/40]>>(bit%40)&1 == 1 {
				ones[bit]++
			}
		}
	}
	for i := 1; i < n; i++ {
		a, b := ids[i-1], ids[i]
		if k := commonPrefix(a, b); k >= 6 {
			t.Errorf("%q and %q share a %d-character prefix", a, b, k)
		}
		if k := commonSuffix(a, b); k >= 6 {
			t.Errorf("%q and %q share a %d-character suffix", a, b, k)
		}
		if values[i-1][0] == values[i][0] && absDiff(values[i-1][1], values[i][1]) < 1<<20 {
			t.Errorf("%q and %q are numerically close", a, b)
		}
	}
	for bit, count := range ones {
		if count < n*35/100 || count > n*65/100 {
			t.Errorf("bit %d is set in %d of %d ids: not random", bit, count, n)
		}
	}
}

func decodeRequestID(id string) [2]uint64 {
	var v [2]uint64
	for i, c := range id {
		d := uint64(c - 'a')
		if c >= '2' && c <= '7' {
			d = uint64(c-'2') + 26
		}
		v[i/8] = v[i/8]<<5 | d
	}
	return v
}

func commonPrefix(a, b string) int {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	return k
}

func commonSuffix(a, b string) int {
	k := 0
	for k < len(a) && k < len(b) && a[len(a)-1-k] == b[len(b)-1-k] {
		k++
	}
	return k
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestClientRequestID(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{"abc-123"}, "abc-123"},
		{[]string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{[]string{strings.Repeat("a", 64)}, strings.Repeat("a", 64)},
		{[]string{strings.Repeat("a", 65)}, ""},
		{[]string{"has space"}, ""},
		{[]string{"quote\"d"}, ""},
		{[]string{"line\nbreak"}, ""},
		{[]string{"ünï"}, ""},
		{[]string{"a", "b"}, ""},
		{[]string{""}, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.values != nil {
			h[HeaderRequestID] = tt.values
		}
		if got := clientRequestID(h); got != tt.want {
			t.Errorf("clientRequestID(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

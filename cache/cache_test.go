package cache

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// fetch sends a request through the proxy and returns the response with
// its body read.
func fetch(t testing.TB, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// step is one request of a scenario and what must come back.
type step struct {
	header   []string
	method   string
	status   int
	body     string
	outcome  string // X-Test-Outcome: hit, miss, stale, revalidated, bypass
	cacheSt  string // a prefix of Cache-Status
	upstream int64  // upstream requests so far
}

func runSteps(t *testing.T, proxy string, up *upstream, path string, steps []step) {
	t.Helper()
	for i, s := range steps {
		method := s.method
		if method == "" {
			method = http.MethodGet
		}
		res, body := fetch(t, method, proxy+path, s.header...)
		if s.status == 0 {
			s.status = http.StatusOK
		}
		if res.StatusCode != s.status {
			t.Fatalf("step %d: status %d, want %d", i, res.StatusCode, s.status)
		}
		if s.body != "" && body != s.body {
			t.Fatalf("step %d: body %q, want %q", i, body, s.body)
		}
		if got := res.Header.Get("X-Test-Outcome"); got != s.outcome {
			t.Fatalf("step %d: outcome %q, want %q (Cache-Status %q)", i, got, s.outcome, res.Header.Get("Cache-Status"))
		}
		if st := res.Header.Get("Cache-Status"); !strings.HasPrefix(st, s.cacheSt) {
			t.Fatalf("step %d: Cache-Status %q, want it to start %q", i, st, s.cacheSt)
		}
		if got := up.count.Load(); got != s.upstream {
			t.Fatalf("step %d: %d upstream requests, want %d", i, got, s.upstream)
		}
	}
}

// echoUpstream answers with Cache-Control cc and a body naming what
// selects a response: the query, X-Api-Key and Accept-Language.
func echoUpstream(t *testing.T, cc string, extra ...string) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", cc)
		for i := 0; i+1 < len(extra); i += 2 {
			w.Header().Add(extra[i], extra[i+1])
		}
		io.WriteString(w, "q="+r.URL.RawQuery+" key="+r.Header.Get("X-Api-Key")+" lang="+r.Header.Get("Accept-Language"))
	})
}

func TestSemantics(t *testing.T) {
	tests := []struct {
		name  string
		cc    string
		extra []string
		path  string
		steps []step
	}{
		{name: "miss then hit", cc: "max-age=60", path: "/a", steps: []step{
			{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; stored; ttl=", upstream: 1},
			{outcome: "hit", cacheSt: "corsbridge; hit; ttl=", upstream: 1},
			{method: http.MethodHead, outcome: "hit", upstream: 1},
		}},
		{name: "header key never shared", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"X-Api-Key", "secret"}, body: "q= key=secret lang=", outcome: "miss", upstream: 1},
			{body: "q= key= lang=", outcome: "miss", upstream: 2},
			{header: []string{"X-Api-Key", "other"}, body: "q= key=other lang=", outcome: "miss", upstream: 3},
			{header: []string{"X-Api-Key", "secret"}, body: "q= key=secret lang=", outcome: "hit", upstream: 3},
			{body: "q= key= lang=", outcome: "hit", upstream: 3},
		}},
		{name: "neutral and dropped headers share", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"User-Agent", "one", "Cookie", "a=1", "Origin", "https://a.example"}, outcome: "miss", upstream: 1},
			{header: []string{"User-Agent", "two", "Cookie", "a=2", "Origin", "https://b.example"}, outcome: "hit", upstream: 1},
		}},
		{name: "partition never shared", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"X-Test-Partition", "secrets-of-key-a"}, outcome: "miss", upstream: 1},
			{outcome: "miss", upstream: 2},
		}},
		{name: "vary selects a variant", cc: "max-age=60", extra: []string{"Vary", "Accept-Language"}, path: "/a", steps: []step{
			{header: []string{"Accept-Language", "fr"}, body: "q= key= lang=fr", outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss", upstream: 1},
			{header: []string{"Accept-Language", "de"}, body: "q= key= lang=de", outcome: "miss", cacheSt: "corsbridge; fwd=vary-miss", upstream: 2},
			{header: []string{"Accept-Language", "fr"}, body: "q= key= lang=fr", outcome: "hit", upstream: 2},
			{header: []string{"Accept-Language", "de"}, body: "q= key= lang=de", outcome: "hit", upstream: 2},
		}},
		{name: "vary star not stored", cc: "max-age=60", extra: []string{"Vary", "*"}, path: "/a", steps: []step{
			{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; detail=vary-star", upstream: 1},
			{outcome: "miss", upstream: 2},
		}},
		{name: "set-cookie not stored", cc: "max-age=60", extra: []string{"Set-Cookie", "s=1"}, path: "/a", steps: []step{
			{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; detail=set-cookie", upstream: 1},
			{outcome: "miss", upstream: 2},
		}},
		{name: "private not stored", cc: "private, max-age=60", path: "/a", steps: []step{
			{outcome: "miss", upstream: 1}, {outcome: "miss", upstream: 2},
		}},
		{name: "no-store not stored", cc: "no-store", path: "/a", steps: []step{
			{outcome: "miss", upstream: 1}, {outcome: "miss", upstream: 2},
		}},
		{name: "no freshness not stored", cc: "", path: "/a", steps: []step{
			{outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; detail=no-freshness", upstream: 1}, {outcome: "miss", upstream: 2},
		}},
		{name: "authorization needs public", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"Authorization", "Bearer a"}, outcome: "miss", cacheSt: "corsbridge; fwd=uri-miss; detail=authorization", upstream: 1},
			{header: []string{"Authorization", "Bearer a"}, outcome: "miss", upstream: 2},
		}},
		{name: "public authorization shared only with the same credentials", cc: "public, max-age=60", path: "/a", steps: []step{
			{header: []string{"Authorization", "Bearer a"}, outcome: "miss", upstream: 1},
			{header: []string{"Authorization", "Bearer a"}, outcome: "hit", upstream: 1},
			{header: []string{"Authorization", "Bearer b"}, outcome: "miss", upstream: 2},
			{outcome: "miss", upstream: 3},
		}},
		{name: "query is part of the URL", cc: "max-age=60", path: "/a?key=secret", steps: []step{
			{body: "q=key=secret key= lang=", outcome: "miss", upstream: 1},
			{body: "q=key=secret key= lang=", outcome: "hit", upstream: 1},
		}},
		{name: "range bypasses", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"Range", "bytes=0-1"}, outcome: "bypass", cacheSt: "corsbridge; fwd=bypass; detail=range", upstream: 1},
			{outcome: "miss", upstream: 2},
			{header: []string{"Range", "bytes=0-1"}, outcome: "bypass", upstream: 3},
		}},
		{name: "client no-store bypasses", cc: "max-age=60", path: "/a", steps: []step{
			{header: []string{"Cache-Control", "no-store"}, outcome: "bypass", upstream: 1},
			{outcome: "miss", upstream: 2},
			{header: []string{"Cache-Control", "no-store"}, outcome: "bypass", upstream: 3},
		}},
		{name: "client no-cache revalidates", cc: "max-age=60", path: "/a", steps: []step{
			{outcome: "miss", upstream: 1},
			{header: []string{"Cache-Control", "no-cache"}, outcome: "miss", cacheSt: "corsbridge; fwd=request; fwd-status=200; stored", upstream: 2},
			{header: []string{"Pragma", "no-cache"}, outcome: "miss", upstream: 3},
			{outcome: "hit", upstream: 3},
		}},
		{name: "HEAD miss is not stored", cc: "max-age=60", path: "/a", steps: []step{
			{method: http.MethodHead, outcome: "miss", upstream: 1},
			{outcome: "miss", upstream: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t, DefaultConfig(), Options{Dropped: cookieDropped})
			up := echoUpstream(t, tt.cc, tt.extra...)
			proxy := newProxy(t, c, up.URL)
			runSteps(t, proxy.URL, up, tt.path, tt.steps)
		})
	}
}

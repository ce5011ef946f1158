package cache

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHitHeaders: a hit writes the stored headers, Age, Cache-Status after
// the upstream caches' own, and Content-Length of the stored body, added to
// what the pipeline set already; a conditional request that matches gets a
// 304 with only what RFC 9110 asks of one.
func TestHitHeaders(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := newCache(t, DefaultConfig(), Options{Now: func() time.Time { return now }})
	up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Date", now.UTC().Format(http.TimeFormat))
		h.Set("Cache-Control", "max-age=60")
		h.Set("Etag", `"v1"`)
		h.Set("Vary", "Accept-Encoding")
		h.Set("Cache-Status", "origin-cdn; hit")
		h.Set("X-Upstream", "yes")
		_, _ = w.Write([]byte("hello"))
	})
	proxy := newProxy(t, c, up.URL)
	fetch(t, http.MethodGet, proxy.URL+"/h", "Accept-Encoding", "gzip")

	tests := []struct {
		name   string
		header http.Header
		status int
		want   map[string][]string
		absent []string
	}{
		{"hit", http.Header{"Accept-Encoding": {"gzip"}}, http.StatusOK, map[string][]string{
			"Age":            {"0"},
			"Cache-Status":   {"origin-cdn; hit", "corsbridge; hit; ttl=60"},
			"Content-Length": {"5"},
			"Etag":           {`"v1"`},
			"Vary":           {"Origin", "Accept-Encoding"},
			"X-Upstream":     {"yes"},
			"X-Pipeline":     {"own"},
		}, nil},
		{"not modified", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {`"v1"`}}, http.StatusNotModified, map[string][]string{
			"Age":          {"0"},
			"Cache-Status": {"origin-cdn; hit", "corsbridge; hit; ttl=60"},
			"Etag":         {`"v1"`},
			"Vary":         {"Origin", "Accept-Encoding"},
		}, []string{"Content-Length", "X-Upstream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := c.Lookup(t.Context(), Request{Method: http.MethodGet, URL: up.URL + "/h", Header: tt.header})
			defer tx.Done()
			resp := tx.Response()
			if resp == nil {
				t.Fatal("miss")
			}
			w := httptest.NewRecorder()
			w.Header().Set("Vary", "Origin")
			w.Header().Set("X-Pipeline", "own")
			if err := resp.Write(w); err != nil {
				t.Fatal(err)
			}
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			got := w.Header()
			for name, want := range tt.want {
				if !slices.Equal(got[name], want) {
					t.Errorf("%s: %q, want %q", name, got[name], want)
				}
			}
			for _, name := range tt.absent {
				if _, ok := got[name]; ok {
					t.Errorf("%s: %q, want none", name, got[name])
				}
			}
			// Header and AppendNames tell the same as Write.
			copied := resp.Header()
			names := resp.AppendNames(nil)
			slices.Sort(names)
			var keys []string
			for name := range copied {
				keys = append(keys, name)
			}
			slices.Sort(keys)
			if !slices.Equal(names, keys) {
				t.Errorf("AppendNames %q, Header %q", names, keys)
			}
			for name, values := range copied {
				if written := got[name]; !slices.Equal(written[len(written)-len(values):], values) {
					t.Errorf("Header()[%s] = %q, written %q", name, values, written)
				}
			}
		})
	}
}

// TestHitSharesNothingWritable: a hit puts the entry's header values in the
// writer's map without a copy. Whatever the pipeline then appends or sets
// there, and whatever a caller does to Header's copy, the next hit gets the
// stored response unchanged.
func TestHitSharesNothingWritable(t *testing.T) {
	c := newCache(t, DefaultConfig(), Options{})
	up := echoUpstream(t, "max-age=60", "X-Two", "a", "X-Two", "b")
	proxy := newProxy(t, c, up.URL)
	fetch(t, http.MethodGet, proxy.URL+"/s")
	hit := func() (*Response, *httptest.ResponseRecorder) {
		tx := c.Lookup(t.Context(), Request{Method: http.MethodGet, URL: up.URL + "/s", Header: http.Header{}})
		t.Cleanup(tx.Done)
		resp := tx.Response()
		if resp == nil {
			t.Fatal("miss")
		}
		w := httptest.NewRecorder()
		if err := resp.Write(w); err != nil {
			t.Fatal(err)
		}
		return resp, w
	}
	resp, w := hit()
	h := w.Header()
	h["X-Two"] = append(h["X-Two"], "c")
	h["Cache-Control"] = append(h["Cache-Control"], "private")
	h.Set("Content-Type", "text/evil")
	copied := resp.Header()
	copied["X-Two"][0] = "changed"
	copied.Add("Cache-Control", "no-store")

	_, w = hit()
	for name, want := range map[string][]string{"X-Two": {"a", "b"}, "Cache-Control": {"max-age=60"}} {
		if got := w.Header()[name]; !slices.Equal(got, want) {
			t.Errorf("next hit's %s: %q, want %q", name, got, want)
		}
	}
	if ct := w.Header().Get("Content-Type"); strings.Contains(ct, "evil") {
		t.Errorf("next hit's Content-Type %q", ct)
	}
}

// TestExposeOncePerEntry: Options.Expose is asked once per stored entry
// for a full hit, with the names the hit carries, and again for each 304,
// which carries fewer; every answer carries its result.
func TestExposeOncePerEntry(t *testing.T) {
	var calls []string
	expose := func(names []string) string {
		slices.Sort(names)
		calls = append(calls, strings.Join(names, ","))
		return "exposed:" + strings.Join(names, ",")
	}
	c := newCache(t, DefaultConfig(), Options{Expose: expose})
	up := echoUpstream(t, "max-age=60", "Etag", `"e"`, "X-Upstream", "1")
	proxy := newProxy(t, c, up.URL)
	fetch(t, http.MethodGet, proxy.URL+"/x")
	const full = "Age,Cache-Control,Cache-Status,Content-Length,Content-Type,Date,Etag,X-Upstream"
	const notModified = "Age,Cache-Control,Cache-Status,Date,Etag"
	for i, tt := range []struct {
		header http.Header
		want   string
	}{
		{http.Header{}, full}, {http.Header{}, full}, {http.Header{"If-None-Match": {`"e"`}}, notModified},
	} {
		tx := c.Lookup(t.Context(), Request{Method: http.MethodGet, URL: up.URL + "/x", Header: tt.header})
		resp := tx.Response()
		if resp == nil {
			t.Fatalf("request %d: miss", i)
		}
		w := httptest.NewRecorder()
		_ = resp.Write(w)
		tx.Done()
		if got := w.Header()["Access-Control-Expose-Headers"]; !slices.Equal(got, []string{"exposed:" + tt.want}) {
			t.Errorf("request %d: Access-Control-Expose-Headers %q, want %q", i, got, tt.want)
		}
	}
	if want := []string{full, notModified}; !slices.Equal(calls, want) {
		t.Errorf("Expose called with %q, want %q", calls, want)
	}
}

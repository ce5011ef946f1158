package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  directives
	}{
		{"none", nil, directives{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"max-age and public", []string{"public, max-age=60"}, directives{public: true, maxAge: time.Minute, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"case and spaces", []string{" Max-Age = 5 ,NO-STORE"}, directives{noStore: true, maxAge: 5 * time.Second, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"quoted value", []string{`max-age="30"`}, directives{maxAge: 30 * time.Second, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"qualified private counts as private", []string{`private="Set-Cookie, X-Other", max-age=10`}, directives{private: true, maxAge: 10 * time.Second, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"two lines", []string{"s-maxage=100", "stale-while-revalidate=30, stale-if-error=600"}, directives{maxAge: -1, sMaxAge: 100 * time.Second, staleWhileRevalidate: 30 * time.Second, staleIfError: 10 * time.Minute}},
		{"conflicting repeats are stale", []string{"max-age=60", "max-age=120"}, directives{maxAge: 0, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"equal repeats stand", []string{"max-age=60, max-age=60"}, directives{maxAge: time.Minute, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"invalid delta is stale", []string{"max-age=-1"}, directives{maxAge: 0, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"huge delta is capped", []string{"max-age=99999999999999999999999"}, directives{maxAge: maxDelta, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
		{"revalidation flags", []string{"must-revalidate, proxy-revalidate, no-cache"}, directives{noCache: true, mustRevalidate: true, proxyRevalidate: true, maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cache-Control": tt.lines}
			if got := parseDirectives(h); got != tt.want {
				t.Errorf("parseDirectives(%q)\n got %+v\nwant %+v", tt.lines, got, tt.want)
			}
		})
	}
}

// FuzzParseDirectives: the parser never panics, durations are -1 or within
// [0, maxDelta], and a line parses the same alone or after an empty one.
func FuzzParseDirectives(f *testing.F) {
	for _, s := range []string{"max-age=60", `private="a,b", s-maxage=5`, `no-cache="x\"y", max-age`, "stale-if-error=99999999999999999999", ",,=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := parseDirectives(http.Header{"Cache-Control": {s}})
		for _, v := range []time.Duration{d.maxAge, d.sMaxAge, d.staleWhileRevalidate, d.staleIfError} {
			if v < -1 || v > maxDelta {
				t.Fatalf("parseDirectives(%q) = %+v: duration %v out of range", s, d, v)
			}
		}
		if again := parseDirectives(http.Header{"Cache-Control": {"", s}}); again != d {
			t.Fatalf("parseDirectives(%q) differs after an empty line: %+v vs %+v", s, d, again)
		}
	})
}

// FuzzDecodeEntry: decoding never panics, never allocates beyond its input
// (count checks), and what decodes encodes back to a value that decodes the
// same.
func FuzzDecodeEntry(f *testing.F) {
	e := &entry{status: 200, header: http.Header{"Etag": {`"x"`}, "Vary": {"Accept"}}, body: []byte("hello"),
		fresh: freshness{responseTime: time.Unix(1700000000, 0), lifetime: time.Minute, swr: time.Second},
		vary:  []string{"Accept"}, selector: "Accept:text/html\n"}
	f.Add(e.encode())
	f.Add((&entry{status: 301, index: true, header: http.Header{}}).encode())
	f.Add([]byte{entryVersion, 0, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(string(b))
		if err != nil {
			return
		}
		again, err := decodeEntry(string(e.encode()))
		if err != nil {
			t.Fatalf("re-encoding a decoded entry fails: %v", err)
		}
		if again.status != e.status || string(again.body) != string(e.body) || again.fresh != e.fresh || len(again.header) != len(e.header) || again.selector != e.selector {
			t.Fatalf("round trip differs: %+v vs %+v", e, again)
		}
	})
}

func TestEntryRoundTrip(t *testing.T) {
	e := &entry{status: 203, header: http.Header{"Content-Type": {"text/plain"}, "X-Two": {"a", "b"}}, body: []byte("body"),
		fresh: freshness{responseTime: time.Unix(0, 1700000000123456789), initialAge: 3 * time.Second, lifetime: time.Hour, swr: time.Minute, sie: 2 * time.Minute},
		vary:  []string{"Accept", "Accept-Language"}, selector: "sel"}
	got, err := decodeEntry(string(e.encode()))
	if err != nil {
		t.Fatal(err)
	}
	if got.status != 203 || string(got.body) != "body" || got.fresh != e.fresh || got.header.Get("Content-Type") != "text/plain" ||
		len(got.header["X-Two"]) != 2 || len(got.vary) != 2 || got.vary[1] != "Accept-Language" || got.selector != "sel" || got.index {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range [][]byte{nil, {}, {2}, e.encode()[:10], append(e.encode(), 0)} {
		if _, err := decodeEntry(string(bad)); err == nil {
			t.Errorf("decodeEntry(%x) accepted", bad)
		}
	}
}

package allowlist

import (
	"strings"
	"testing"
)

// A deny rule and a block on api.example.com/admin/ refuse every spelling that some server
// routes to /admin/; the allow rule and the exact Match do not stretch.
func TestRefusalRulesMatchEverySpelling(t *testing.T) {
	deny := mustPolicy(t, Config{DenyTargets: []string{"api.example.com/admin/"}})
	allow := mustPolicy(t, Config{AllowTargets: []string{"api.example.com/admin/"}})
	blocks, err := NewTargetSet([]string{"api.example.com/admin/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path   string
		sameResource bool // some server serves it as /admin/...
		exact        bool // it is /admin/... as written
	}{
		{"as written", "/admin/x", true, true},
		{"the prefix itself", "/admin", true, true},
		{"upper case", "/ADMIN/x", true, false},
		{"mixed case", "/Admin/x", true, false},
		{"trailing dot", "/admin./x", true, false},
		{"trailing dots", "/admin../x", true, false},
		{"trailing encoded space", "/admin%20/x", true, false},
		{"trailing encoded tab", "/admin%09/x", true, false},
		{"trailing encoded dot", "/admin%2e/x", true, false},
		{"encoded letter", "/%61dmin/x", true, true},
		{"encoded upper letter", "/%41DMIN/x", true, false},
		{"double-encoded letter", "/%2561dmin/x", true, false},
		{"IIS %u escape (encoded, as it must be to pass)", "/%25u0061dmin/x", true, false},
		{"full-width letter", "/%EF%BC%A1dmin/x", true, false},
		{"doubled slash", "//admin/x", true, true},
		{"encoded slash", "/x%2F..%2Fadmin/y", true, false},
		{"double-encoded slash", "/x%252F..%252Fadmin/y", true, false},
		{"backslash", "/x\\..\\admin\\y", true, false},
		{"encoded backslash", "/%5Cadmin%5Cy", true, false},
		{"dot segments", "/x/../admin/y", true, false},
		{"encoded dot segments", "/x/%2e%2e/admin/y", true, false},
		{"path parameter", "/admin;jsessionid=1/x", true, false},
		{"upper case and parameter", "/ADMIN;x/y", true, false},
		{"longer segment", "/administrator", false, false},
		{"other segment", "/admins/x", false, false},
		{"below another segment", "/x/admin", false, false},
		{"split word", "/adm/in", false, false},
		{"root", "/", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requestURI := "/https://api.example.com" + tt.path
			u, err := ParseTarget(requestURI)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", requestURI, err)
			}
			denied := checkParsedTarget(deny, u) != nil
			if denied != tt.sameResource {
				t.Errorf("deny rule: refused=%v, want %v", denied, tt.sameResource)
			}
			if got := blocks.MatchDeny(u); got != tt.sameResource {
				t.Errorf("MatchDeny (blocks) = %v, want %v", got, tt.sameResource)
			}
			if got := blocks.Match(u); got != tt.exact {
				t.Errorf("Match (scopes) = %v, want %v", got, tt.exact)
			}
			allowed := checkParsedTarget(allow, u) == nil
			if allowed != tt.exact {
				t.Errorf("allow rule: allowed=%v, want %v", allowed, tt.exact)
			}
		})
	}
}

func TestLooseKey(t *testing.T) {
	for in, want := range map[string]string{
		"/Admin./X%20/":   "/admin/x",
		"/a/./b/../c":     "/a/c",
		"/../../a":        "/a",
		"/a;b=c/d;e":      "/a/d",
		"/%u0041%u0042":   "/ab",
		"/%uZZZZ":         "/%uzzzz",
		"/ﬁle":            "/file",
		"":                "/",
		"/%zz%2561":       "/%zz%2561",
		"/%252561dmin":    "/admin",
		"\\a\\b":          "/a/b",
		"/a/ /b":          "/a/b",
		"/K":              "/k",
		"/%2525252561xyz": "/%2561xyz",
	} {
		if got := looseKey(in); got != want {
			t.Errorf("looseKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRefusalSpellings: whatever segment a block names, the block refuses that segment in
// upper case (ASCII: what IIS folds), with a trailing dot or encoded space, and under a path parameter, and the exact
// spelling still matches the exact mode.
func FuzzRefusalSpellings(f *testing.F) {
	for _, s := range []string{"admin", "Admin", "v1", "ﬁle", "a%20b", "%61", "x.y", "über"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		if strings.ContainsAny(seg, "/?#;\\") || strings.Contains(seg, "*") {
			return
		}
		set, err := NewTargetSet([]string{"api.example.com/" + seg + "/"})
		if err != nil {
			return
		}
		exact, err := ParseTarget("/https://api.example.com/" + seg + "/x")
		if err != nil {
			return
		}
		if !set.Match(exact) || !set.MatchDeny(exact) {
			t.Fatalf("pattern %q does not match its own path %q", seg, exact.Path)
		}
		for _, spelling := range []string{upperASCII(seg), seg + ".", seg + "%20", seg + ";p=1"} {
			u, err := ParseTarget("/https://api.example.com/" + spelling + "/x")
			if err != nil {
				continue
			}
			if !set.MatchDeny(u) {
				t.Errorf("block on %q lets %q through", seg, u.EscapedPath())
			}
		}
	})
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

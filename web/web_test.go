package web

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// defaultInfo is a typical instance: the defaults the server ships with.
func defaultInfo() Info {
	return Info{
		Version:         "v1.2.3",
		OriginLimit:     "600/1m",
		ClientLimit:     "60/1m",
		MaxRequestBody:  10 << 20,
		MaxResponseBody: 50 << 20,
		MaxRedirects:    5,
		RequireHeader:   []string{"Origin", "X-Requested-With"},
	}
}

func newTestSite(t testing.TB, info Info) *Site {
	t.Helper()
	s, err := New(info)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// serve runs one request through h and returns the response and its body.
func serve(t testing.TB, h http.Handler, r *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, string(body)
}

// checkProxyError asserts the JSON error contract.
func checkProxyError(t *testing.T, res *http.Response, body string, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d", res.StatusCode, status)
	}
	if got := res.Header.Get("X-Corsbridge-Error"); got != code {
		t.Errorf("X-Corsbridge-Error = %q, want %q", got, code)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("body %q: want {code: %q, message}, err %v", body, code, err)
	}
}

// withFiles is the embedded file system with some files replaced (or, for an
// empty content, removed).
func withFiles(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(content, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(content, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if data == "" {
			delete(m, name)
			continue
		}
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestNewEmbedded(t *testing.T) {
	if _, err := newSite(defaultInfo(), withFiles(t, nil)); err != nil {
		t.Fatalf("the embedded files, copied: %v", err)
	}
}

// TestNewRejectsBrokenTemplates proves templates are parsed and checked in New:
// a page that cannot parse or cannot render is a start-up error.
func TestNewRejectsBrokenTemplates(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"unclosed action", map[string]string{"templates/landing.html": `{{define "main"}}{{.Base{{end}}`}, "parse templates/landing.html"},
		{"unknown function", map[string]string{"templates/header_required.html": `{{define "main"}}{{nope}}{{end}}`}, "parse templates/header_required.html"},
		{"unknown field", map[string]string{"templates/landing.html": `{{define "title"}}t{{end}}{{define "main"}}{{.Nope}}{{end}}`}, "render landing page"},
		{"unknown asset", map[string]string{"templates/layout.html": `{{define "layout"}}{{template "main" .}}{{asset "nope.js"}}{{end}}`}, "unknown asset"},
		{"no layout", map[string]string{"templates/layout.html": `{{define "other"}}{{end}}`}, `no "layout" template`},
		{"missing page", map[string]string{"templates/header_required.html": ""}, "parse templates/header_required.html"},
		{"unknown asset type", map[string]string{"static/notes.txt": "hello"}, `unknown type ".txt"`},
		{"no assets", map[string]string{"static/app.js": "", "static/style.css": "", "static/icon.svg": ""}, "read assets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSite(defaultInfo(), withFiles(t, tt.files))
			if err == nil {
				t.Fatalf("newSite = %v, want an error containing %q", s, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// testErrors stands in for the server's error writer, whose contract the
// server's own tests check: here only which code a handler chose matters.
func testErrors(w http.ResponseWriter, _ *http.Request, code, message string) {
	status := map[string]int{"not_found": http.StatusNotFound, "method_not_allowed": http.StatusMethodNotAllowed}[code]
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Corsbridge-Error", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}

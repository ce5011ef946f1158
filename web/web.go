// Package web serves corsbridge's own pages: the landing page at "/", the
// friendly page a browser gets when someone opens /<url> in the address bar
// without the header the proxy requires, and the static assets both use.
//
// Everything is prepared once, in New: the templates are parsed and rendered
// once as a check, the assets are hashed, and the instance's policy is
// formatted for people. A request only executes a template with its base URL.
//
// The pages are self-contained and carry a strict Content-Security-Policy of
// their own: no inline script or style, nothing from another origin. Their
// JavaScript and CSS are served under AssetPrefix, which nothing else of the
// proxy uses, so a target URL can never be mistaken for an asset.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
)

// AssetPrefix is where the server mounts Assets(). Nothing else of the proxy
// lives under it.
const AssetPrefix = "/_corsbridge/"

// Info is this instance's policy as configured, shown on the landing page.
type Info struct {
	Version         string
	OriginLimit     string   // "600/1m" or "off"
	ClientLimit     string   // "60/1m" or "off"
	SharedLimits    bool     // true when limits are shared through Redis
	AllowedOrigins  []string // empty = any origin
	MaxRequestBody  int64    // bytes; 0 or less = no limit
	MaxResponseBody int64    // bytes; 0 or less = no limit
	MaxRedirects    int      // 0 = redirects are not followed
	AllowPrivate    []string // CIDRs the operator allows; empty = private targets refused (the safe default)
	AllowPorts      []string // empty = any
	RequireHeader   []string // e.g. ["Origin","X-Requested-With"]; empty = none required
	RequireKey      bool     // requests without an access key or token are refused (key_required)
	KeysEnabled     bool     // access keys or tokens can be presented at all; implied by RequireKey
	CacheSize       int64    // bytes of the response cache in memory; 0 = no cache
	SharedCache     bool     // cached responses are shared between instances through Redis
}

//go:embed templates/*.html static/*
var content embed.FS

// Site holds the parsed templates, the built assets and the formatted policy.
// It is safe for concurrent use.
type Site struct {
	landing        *template.Template
	headerRequired *template.Template
	assets         *assets
	info           infoView

	// landingParts is the landing page rendered once and cut wherever the
	// base URL goes; a request joins the parts with its own base URL.
	landingParts [][]byte
}

// New parses the templates and builds the assets once. It fails if a template
// does not parse or cannot render, so a broken page is a start-up error rather
// than a failure per request.
func New(info Info) (*Site, error) {
	return newSite(info, content)
}

// newSite builds a Site from fsys, which holds templates/*.html and static/*.
// Tests pass their own file systems to prove that broken templates fail here.
func newSite(info Info, fsys fs.FS) (*Site, error) {
	as, err := loadAssets(fsys, "static")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"asset": as.url}
	s := &Site{assets: as, info: newInfoView(info)}
	if s.landing, err = parsePage(fsys, funcs, "templates/landing.html"); err != nil {
		return nil, err
	}
	if s.headerRequired, err = parsePage(fsys, funcs, "templates/header_required.html"); err != nil {
		return nil, err
	}
	// Render both pages now: a template that parses but cannot execute (an
	// unknown asset, a misspelt field) fails at start-up, not per request.
	if s.landingParts, err = s.prerenderLanding(); err != nil {
		return nil, err
	}
	if err := s.headerRequired.ExecuteTemplate(io.Discard, "layout", s.data("http://localhost", "https://example.com/")); err != nil {
		return nil, fmt.Errorf("web: render header-required page: %w", err)
	}
	return s, nil
}

// basePlaceholder stands in for the base URL while the landing page is
// pre-rendered. It is plain text to html/template, so it comes out as is.
const basePlaceholder = "http://base.corsbridge.invalid"

// prerenderLanding renders the landing page with the placeholder and cuts it
// there. Splicing a base URL back in gives the bytes the template would have
// written, because baseURL only ever returns characters HTML leaves alone.
func (s *Site) prerenderLanding() ([][]byte, error) {
	var buf bytes.Buffer
	if err := s.landing.ExecuteTemplate(&buf, "layout", s.data(basePlaceholder, "")); err != nil {
		return nil, fmt.Errorf("web: render landing page: %w", err)
	}
	return bytes.Split(buf.Bytes(), []byte(basePlaceholder)), nil
}

// parsePage parses the shared layout together with one page's template.
func parsePage(fsys fs.FS, funcs template.FuncMap, page string) (*template.Template, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(fsys, "templates/layout.html", page)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", page, err)
	}
	if t.Lookup("layout") == nil {
		return nil, fmt.Errorf("web: parse %s: no \"layout\" template", page)
	}
	return t, nil
}

package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Asset caching. Pages link to the hashed name (app.3f2a9c1b7d04.js), which
// never changes content, so browsers may keep it for a year without asking.
// The plain name (app.js) stays available for anyone who links to it by hand;
// it must be revalidated, which its ETag makes a cheap 304.
const (
	cacheHashed = "public, max-age=31536000, immutable"
	cachePlain  = "public, no-cache"
)

// contentType names the asset types the package serves. A file of any other
// type under static/ is a start-up error rather than a guess.
func contentType(ext string) (string, bool) {
	switch ext {
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	}
	return "", false
}

type asset struct {
	body        []byte
	contentType string
	etag        string
	cache       string
}

// assets is every static file by the names it is served under, plain and hashed.
type assets struct {
	byName map[string]*asset
	hashed map[string]string // plain name -> hashed name
}

func loadAssets(fsys fs.FS, dir string) (*assets, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("web: read assets: %w", err)
	}
	as := &assets{byName: map[string]*asset{}, hashed: map[string]string{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		ext := path.Ext(name)
		ctype, ok := contentType(ext)
		if !ok {
			return nil, fmt.Errorf("web: asset %s: unknown type %q", name, ext)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("web: read asset: %w", err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:6])
		etag := `"` + hex.EncodeToString(sum[:12]) + `"`
		hashedName := strings.TrimSuffix(name, ext) + "." + hash + ext
		as.byName[name] = &asset{body: body, contentType: ctype, etag: etag, cache: cachePlain}
		as.byName[hashedName] = &asset{body: body, contentType: ctype, etag: etag, cache: cacheHashed}
		as.hashed[name] = hashedName
	}
	return as, nil
}

// url is the template function "asset": the URL of an asset's hashed name.
// An unknown name fails the template, which New renders once as a check.
func (as *assets) url(name string) (string, error) {
	h, ok := as.hashed[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return AssetPrefix + h, nil
}

// Assets serves the page's CSS, JavaScript and icon for GET and HEAD, by
// plain or hashed name, with an ETag (so If-None-Match gets a 304). It accepts
// the full path (mounted at AssetPrefix) or one with the prefix stripped.
// Anything else is a JSON not_found.
func (s *Site) Assets(fail ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			fail(w, r, "method_not_allowed", "assets answer GET and HEAD only")
			return
		}
		name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, AssetPrefix), "/")
		a, ok := s.assets.byName[name]
		if !ok {
			fail(w, r, "not_found", "no such asset")
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", a.cache)
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

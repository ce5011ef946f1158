package allowlist

import (
	"fmt"
	"net/url"
	"strings"
)

// Target patterns (AllowTargets, DenyTargets):
//
//	api.example.com           exactly that host
//	*.example.com             any subdomain, at any depth; not the apex example.com
//	api.example.com/v1/       that host, paths /v1 and /v1/... (segment boundary: not /v10)
//	api.example.com/v1/*      the same
//	203.0.113.7, [2001:db8::1]  an IP literal, in any spelling
//	*                         any host
//
// Hosts are canonicalised like targets (case, trailing dot, IDN, IPv4 spellings), so
// *.bücher.example matches xn--bcher-kva.example. Patterns carry no scheme and no port
// (ports are AllowPorts). The apex is not matched by "*." so that allowing a tenant's
// subdomains never silently allows the parent; list both when both are meant.
//
// Path prefixes are compared with the decoded path (u.Path), because upstreams decode
// before routing and a raw comparison is bypassed by "/%61dmin". Paths that upstreams may
// normalise into something else (dot segments, encoded '/' or '\', backslashes) are
// ambiguous: a path-scoped deny rule for the host refuses them and a path-scoped allow rule
// does not match them. Runs of '/' are treated as one. Allow rules match case-sensitively;
// deny rules also match every other spelling of their path (spellings.go).
type targetPattern struct {
	any  bool
	host string // exact host, or ".suffix" when subs
	subs bool
	path string // "" for any path, else "/seg[/seg...]" without trailing slash
	// loose is path folded by looseKey, for refusal rules (spellings.go).
	loose string
}

func (t targetPattern) String() string {
	s := t.host
	switch {
	case t.any:
		s = "*"
	case t.subs:
		s = "*" + t.host
	}
	if t.path != "" {
		s += t.path + "/"
	}
	return s
}

func compileTargets(patterns []string) ([]targetPattern, error) {
	var out []targetPattern
	for _, raw := range patterns {
		t, err := compileTarget(raw)
		if err != nil {
			return nil, fmt.Errorf("allowlist: bad target pattern %q: %s", raw, err.Reason)
		}
		out = append(out, t)
	}
	return out, nil
}

func compileTarget(raw string) (targetPattern, *Error) {
	if strings.Contains(raw, "://") {
		return targetPattern{}, invalid("patterns are host[/path], without a scheme")
	}
	hostPart, pathPart := raw, ""
	if i := strings.IndexByte(raw, '/'); i >= 0 {
		hostPart, pathPart = raw[:i], raw[i:]
	}
	var t targetPattern
	switch {
	case hostPart == "*":
		t.any = true
	default:
		if strings.HasPrefix(hostPart, "*.") {
			t.subs, hostPart = true, hostPart[2:]
		}
		hp, _, hasPort, err := splitHostPort(hostPart)
		if err != nil {
			return targetPattern{}, err
		}
		if hasPort {
			return targetPattern{}, invalid("patterns carry no port; use AllowPorts")
		}
		h, err := canonicalHost(hp)
		if err != nil {
			return targetPattern{}, err
		}
		if t.subs && h.addr.IsValid() {
			return targetPattern{}, invalid("a wildcard cannot apply to an IP address")
		}
		t.host = h.name
		if t.subs {
			t.host = "." + h.name
		}
	}
	// "api.example.com/v1/*" is how people write a prefix; it means "api.example.com/v1/".
	if strings.HasSuffix(pathPart, "/*") {
		pathPart = strings.TrimSuffix(pathPart, "*")
	}
	if pathPart != "" {
		p, err := url.PathUnescape(pathPart)
		if err != nil || ambiguousPath(p, pathPart) {
			return targetPattern{}, invalid("path prefix is malformed or ambiguous")
		}
		t.path = strings.TrimRight(collapseSlashes(p), "/")
		t.loose = looseKey(t.path)
	}
	return t, nil
}

func (t targetPattern) matchHost(name string) bool {
	switch {
	case t.any:
		return true
	case t.subs:
		return strings.HasSuffix(name, t.host)
	}
	return name == t.host
}

type pathResult int

const (
	pathNoMatch pathResult = iota
	pathMatch
	pathAmbiguous // a path-scoped rule cannot tell; deny rules treat it as a match
)

// reqPath is a request path prepared once for matching.
type reqPath struct {
	clean     string
	ambiguous bool

	decoded   string // u.Path, for looseKey
	loose     string
	looseDone bool
}

func targetPath(u *url.URL) reqPath {
	p := u.Path
	if p == "" {
		p = "/"
	}
	return reqPath{clean: collapseSlashes(p), ambiguous: ambiguousPath(p, u.EscapedPath()), decoded: p}
}

func (t targetPattern) matchPath(r reqPath) pathResult {
	switch {
	case t.path == "":
		return pathMatch
	case r.ambiguous:
		return pathAmbiguous
	case r.clean == t.path || strings.HasPrefix(r.clean, t.path+"/"):
		return pathMatch
	}
	return pathNoMatch
}

// ambiguousPath reports paths an upstream might route differently from how they read:
// "." or ".." segments (decoded), backslashes, and encoded separators in the raw form.
func ambiguousPath(decoded, raw string) bool {
	if strings.ContainsRune(decoded, '\\') {
		return true
	}
	lower := strings.ToLower(raw)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return true
	}
	for seg := range strings.SplitSeq(decoded, "/") {
		// Path parameters: Tomcat, Jetty and Spring drop ";..." before routing, so
		// /v1/..;/admin reaches /admin there.
		if seg == "." || seg == ".." || strings.ContainsRune(seg, ';') {
			return true
		}
	}
	return false
}

func collapseSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

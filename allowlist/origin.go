package allowlist

import (
	"fmt"
	"slices"
	"strings"
)

// Origin rules decide which web pages may use the proxy. Browsers send Origin as
// scheme://host[:port]; a page cannot forge it, a script outside a browser can send anything,
// so origin rules limit whose pages spend the operator's bandwidth, not who can reach a target.
//
// Patterns (also the format of cors-anywhere's CORSANYWHERE_WHITELIST/_BLACKLIST):
//
//	https://app.example.com      exact origin
//	https://*.example.com        any subdomain, at any depth; not the apex example.com
//	http://localhost:*           any port, including none
//	https://*.example.com:*      both
//	*                            any origin (in AllowOrigins: the same as no list)
//	null                         the opaque origin; only meaningful in DenyOrigins
//
// Scheme and host compare case-insensitively, hosts are canonicalised like targets (IDN to
// punycode, legacy IPv4 to dotted quad) and default ports are elided, so https://A.com:443
// equals https://a.com. The apex is not matched by "*." for the same reason TLS wildcards
// do not match it: listing it is one more explicit line, matching it by surprise is a hole.

// OriginSet is a compiled list of origin patterns. It is immutable and safe for concurrent use.
type OriginSet struct {
	any      bool
	null     bool
	exact    map[string]struct{}
	wild     []originPattern
	patterns []string
}

type originPattern struct {
	scheme  string
	host    string // exact canonical host, or the suffix including its leading dot
	subs    bool   // host is a suffix: "*.example.com"
	anyPort bool
	port    string // canonical port, "" for the scheme's default
}

// origin is a parsed request Origin.
type origin struct {
	scheme, host, port string
}

func (o origin) String() string {
	s := o.scheme + "://" + o.host
	if o.port != "" {
		s += ":" + o.port
	}
	return s
}

// NewOriginSet compiles patterns; a malformed pattern is an error naming it.
func NewOriginSet(patterns []string) (*OriginSet, error) {
	s := &OriginSet{exact: map[string]struct{}{}}
	for _, raw := range patterns {
		canon, err := s.add(raw)
		if err != nil {
			return nil, fmt.Errorf("allowlist: bad origin pattern %q: %s", raw, err.Reason)
		}
		if !slices.Contains(s.patterns, canon) {
			s.patterns = append(s.patterns, canon)
		}
	}
	return s, nil
}

func (s *OriginSet) add(raw string) (string, *Error) {
	switch strings.ToLower(raw) {
	case "*":
		s.any = true
		return "*", nil
	case "null":
		s.null = true
		return "null", nil
	}
	raw = strings.TrimSuffix(raw, "/") // tolerate a pasted "https://a.com/"
	scheme, rest, err := splitOrigin(raw)
	if err != nil {
		return "", err
	}
	host, port, hasPort, err := splitHostPort(rest)
	if err != nil {
		return "", err
	}
	pat := originPattern{scheme: scheme}
	if strings.HasPrefix(host, "*.") {
		pat.subs = true
		host = host[2:]
	}
	h, err := canonicalHost(host)
	if err != nil {
		return "", err
	}
	if pat.subs && h.addr.IsValid() {
		return "", invalid("a wildcard cannot apply to an IP address")
	}
	pat.host = h.name
	if hasPort && port == "*" {
		pat.anyPort = true
	} else if pat.port, _, err = canonicalPort(scheme, port, hasPort); err != nil {
		return "", err
	}
	if !pat.subs && !pat.anyPort {
		o := origin{scheme, pat.host, pat.port}.String()
		s.exact[o] = struct{}{}
		return o, nil
	}
	canon := scheme + "://" + pat.host
	if pat.subs {
		canon = scheme + "://*." + pat.host
		pat.host = "." + pat.host
	}
	if pat.anyPort {
		canon += ":*"
	} else if pat.port != "" {
		canon += ":" + pat.port
	}
	s.wild = append(s.wild, pat)
	return canon, nil
}

// splitOrigin splits "scheme://authority" and refuses paths, queries, fragments and userinfo,
// none of which an Origin header carries.
func splitOrigin(s string) (scheme, rest string, err *Error) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", "", invalid("origin must look like scheme://host[:port]")
	}
	scheme = strings.ToLower(s[:i])
	for j := 0; j < len(scheme); j++ {
		c := scheme[j]
		if !(c >= 'a' && c <= 'z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", "", invalid("origin has a malformed scheme")
		}
	}
	rest = s[i+3:]
	if rest == "" || strings.ContainsAny(rest, "/?#@") {
		return "", "", invalid("origin must look like scheme://host[:port]")
	}
	return scheme, rest, nil
}

// parseOrigin canonicalises a request Origin header value (not "null").
func parseOrigin(s string) (origin, bool) {
	scheme, rest, err := splitOrigin(s)
	if err != nil {
		return origin{}, false
	}
	host, port, hasPort, err := splitHostPort(rest)
	if err != nil {
		return origin{}, false
	}
	h, err := canonicalHost(host)
	if err != nil {
		return origin{}, false
	}
	p, _, err := canonicalPort(scheme, port, hasPort)
	if err != nil {
		return origin{}, false
	}
	return origin{scheme, h.name, p}, true
}

// Match reports whether origin (a raw Origin header value) matches any pattern. A malformed
// origin matches nothing, "null" matches only the "null" pattern.
func (s *OriginSet) Match(origin string) bool {
	if origin == "null" {
		return s.null
	}
	o, ok := parseOrigin(origin)
	return ok && s.match(o)
}

func (s *OriginSet) match(o origin) bool {
	if s.any {
		return true
	}
	if _, ok := s.exact[o.String()]; ok {
		return true
	}
	for _, w := range s.wild {
		if w.scheme != o.scheme || !(w.anyPort || w.port == o.port) {
			continue
		}
		if w.subs && strings.HasSuffix(o.host, w.host) || !w.subs && o.host == w.host {
			return true
		}
	}
	return false
}

// Patterns returns the canonical patterns, in configuration order without duplicates.
func (s *OriginSet) Patterns() []string { return slices.Clone(s.patterns) }

// compileAllowOrigins returns nil (any origin) for an empty list or one containing "*".
// "null" cannot be allowed: every sandboxed iframe and file: page shares it, so allowing it
// would allow any page that asks to be sandboxed.
func compileAllowOrigins(patterns []string) (*OriginSet, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	s, err := NewOriginSet(patterns)
	if err != nil {
		return nil, err
	}
	if s.null {
		return nil, fmt.Errorf("allowlist: the null origin cannot be allowed")
	}
	if s.any {
		return nil, nil
	}
	return s, nil
}

// OriginsRestricted reports whether an origin allowlist is configured. The server then echoes
// the exact origin with Vary: Origin instead of "*".
func (p *Policy) OriginsRestricted() bool { return p.allowOrigins != nil || p.allowFunc != nil }

// CheckOrigin applies the origin rules to a raw Origin header value ("" when absent). With
// no rules everything passes. Deny wins over allow. With an allowlist (AllowOrigins or
// AllowOriginFunc), a missing, "null" or malformed Origin is refused; with only a denylist, a
// missing Origin passes (requests without one are not from a page the denylist could name)
// but a malformed one does not.
func (p *Policy) CheckOrigin(origin string) error {
	restricted := p.OriginsRestricted()
	if !restricted && p.denyOrigins == nil {
		return nil
	}
	if origin == "" {
		if restricted {
			return refused(CauseOriginMissing, "an Origin header is required")
		}
		return nil
	}
	if origin == "null" {
		if restricted || (p.denyOrigins != nil && p.denyOrigins.null) {
			return refused(CauseOriginNull, "the null origin is not allowed")
		}
		return nil
	}
	o, ok := parseOrigin(origin)
	if !ok {
		return refused(CauseOriginMalformed, "the Origin header is malformed")
	}
	if p.denyOrigins != nil && p.denyOrigins.match(o) {
		return refused(CauseOriginDenied, "origin is denied")
	}
	if p.allowOrigins != nil && !p.allowOrigins.match(o) || p.allowFunc != nil && !p.allowFunc(origin) {
		return refused(CauseOriginNotAllowed, "origin is not allowed")
	}
	return nil
}

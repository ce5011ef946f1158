package allowlist

import (
	"fmt"
	"regexp"
	"strings"
)

// OriginKey is the per-origin counter key of an Origin value, following
// cors-anywhere: the origin without its scheme, with the host canonical as
// for every other rule (lower case, IDN to punycode, legacy IPv4 spellings to
// dotted quads, no trailing dot), and the port only when it is not the
// scheme's default:
//
//	"https://App.Example.com"     -> "app.example.com"
//	"https://app.example.com:443" -> "app.example.com"
//	"http://localhost:8080"       -> "localhost:8080"
//	"https://[2001:DB8::1]:8443"  -> "[2001:db8::1]:8443"
//	"app.example.com"             -> "app.example.com" (a bare host, as in configuration)
//	"null"                        -> "null" (sandboxed frames and file: pages share one key)
//
// A value that is not a serialised origin or a bare host[:port] gives "". A
// trailing "/" is tolerated for configuration written as a URL. OriginKey is
// idempotent.
func OriginKey(origin string) string {
	s := strings.TrimSpace(origin)
	if strings.EqualFold(s, "null") {
		return "null"
	}
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		var err *Error
		if scheme, s, err = splitOrigin(strings.TrimSuffix(s, "/")); err != nil {
			return ""
		}
	} else {
		s = strings.TrimSuffix(s, "/")
		if s == "" || strings.ContainsAny(s, "/?#@") {
			return ""
		}
	}
	host, port, hasPort, err := splitHostPort(s)
	if err != nil || hasPort && port == "" {
		return ""
	}
	h, err := canonicalHost(host)
	if err != nil || strings.HasPrefix(h.name, "*") {
		return ""
	}
	if scheme == "" {
		// Without a scheme there is no default port to elide.
		if !hasPort {
			return h.name
		}
		if p, _, err := canonicalPort("", port, true); err != nil || p == "" {
			return ""
		} else {
			return h.name + ":" + p
		}
	}
	switch scheme { // WebSocket origins share their HTTP twin's default port
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	p, _, err := canonicalPort(scheme, port, hasPort)
	switch {
	case err != nil:
		return ""
	case p == "":
		return h.name
	}
	return h.name + ":" + p
}

// OriginKeySet is a list of origins in cors-anywhere's forms, matched by
// their OriginKey: the rate-limit exemptions (CORSBRIDGE_RATE_LIMIT_EXEMPT,
// and the hosts of CORSANYWHERE_RATELIMIT). It is immutable.
//
//	"app.example.com", "https://app.example.com", "localhost:8080"
//	    exact: the entry's key; a scheme only decides whether its port is the
//	    default one, so http and https origins of a host match alike
//	"*.example.com"
//	    any subdomain of example.com (not example.com itself), on any port
//	"/(.*\.)?friendly\.example$/"
//	    cors-anywhere's form: an RE2 regex matching the whole key (host, plus
//	    ":port" when not default), case-insensitively
type OriginKeySet struct {
	exact    map[string]struct{}
	suffixes []string // ".example.com" from "*.example.com"
	regexps  []*regexp.Regexp
}

// NewOriginKeySet compiles entries; a malformed one is an error naming it.
func NewOriginKeySet(entries []string) (*OriginKeySet, error) {
	s := &OriginKeySet{exact: map[string]struct{}{}}
	for _, raw := range entries {
		if err := s.add(strings.TrimSpace(raw)); err != nil {
			return nil, fmt.Errorf("allowlist: %w", err)
		}
	}
	return s, nil
}

func (s *OriginKeySet) add(e string) error {
	switch {
	case strings.HasPrefix(e, "/") || strings.HasSuffix(e, "/") && !strings.Contains(e, "://"):
		re, err := compileKeyRegex(e)
		if err != nil {
			return err
		}
		s.regexps = append(s.regexps, re)
	case strings.HasPrefix(e, "*."):
		k := OriginKey(e[2:])
		if k == "" || k == "null" || strings.ContainsAny(k, ":[") {
			return fmt.Errorf("origin wildcard %q: want \"*.\" followed by a domain name", e)
		}
		s.suffixes = append(s.suffixes, "."+k)
	case strings.Contains(e, "*"):
		return fmt.Errorf("origin %q: '*' is only allowed as a leading \"*.\"", e)
	default:
		k := OriginKey(e)
		if k == "" {
			return fmt.Errorf("origin %q is not an origin or host[:port]", e)
		}
		s.exact[k] = struct{}{}
	}
	return nil
}

// compileKeyRegex compiles a "/regex/" entry into a matcher of the whole
// key, case-insensitively (cors-anywhere's semantics).
func compileKeyRegex(e string) (*regexp.Regexp, error) {
	if len(e) < 3 || e[0] != '/' || e[len(e)-1] != '/' {
		return nil, fmt.Errorf("origin regex %q must start and end with '/' and not be empty", e)
	}
	inner := e[1 : len(e)-1]
	// Compiled alone first, so that an inner "a)|(b" cannot unbalance the
	// anchoring group below.
	if _, err := regexp.Compile(inner); err != nil {
		return nil, fmt.Errorf("origin regex %q is not valid RE2: %v", e, err)
	}
	return regexp.Compile(`(?i)^(?:` + inner + `)$`)
}

// MatchKey reports whether an OriginKey is in the set. "" and "null" never
// are: a malformed origin is never exempt, and null is no one's.
func (s *OriginKeySet) MatchKey(key string) bool {
	if key == "" || key == "null" {
		return false
	}
	if _, ok := s.exact[key]; ok {
		return true
	}
	if len(s.suffixes) > 0 {
		host := key
		if i := strings.LastIndexByte(key, ':'); i >= 0 && !strings.HasSuffix(key, "]") {
			host = key[:i]
		}
		for _, suffix := range s.suffixes {
			if strings.HasSuffix(host, suffix) {
				return true
			}
		}
	}
	for _, re := range s.regexps {
		if re.MatchString(key) {
			return true
		}
	}
	return false
}

// Match reports whether an Origin header value is in the set.
func (s *OriginKeySet) Match(origin string) bool { return s.MatchKey(OriginKey(origin)) }

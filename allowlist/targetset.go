package allowlist

import (
	"fmt"
	"net/url"
	"slices"
)

// TargetSet is a compiled list of target patterns (the syntax of AllowTargets), for rules
// that live outside a Policy: an access key or a demo token restricted to some targets, or
// a runtime block. A trailing "/*" is read as "/": api.example.com/v1/* is the path prefix
// /v1. It is immutable and safe for concurrent use.
type TargetSet struct {
	patterns []targetPattern
	canon    []string
}

// NewTargetSet compiles patterns; a malformed pattern is an error naming it.
func NewTargetSet(patterns []string) (*TargetSet, error) {
	ts, err := compileTargets(patterns)
	if err != nil {
		return nil, err
	}
	s := &TargetSet{patterns: ts}
	for _, t := range ts {
		if c := t.String(); !slices.Contains(s.canon, c) {
			s.canon = append(s.canon, c)
		}
	}
	return s, nil
}

// Match reports whether u (an http or https URL, usually one CheckTarget has canonicalised)
// matches a pattern, as an allow rule would: a path-scoped pattern does not match an
// ambiguous path. MatchDeny is the deny rule's reading.
func (s *TargetSet) Match(u *url.URL) bool { return s.match(u, false) }

// MatchDeny is the refusal mode, for blocks: it reports whether u matches a pattern as a deny
// rule would. A path-scoped pattern also matches every ambiguous path of its host, which an
// upstream might route anywhere, and every other spelling of its path that some server serves
// as the same resource: /ADMIN/, /admin./, /admin%20/, /%61dmin/, /admin;x/, \admin\
// (spellings.go). Match stays exact for allow rules and key or token scopes.
func (s *TargetSet) MatchDeny(u *url.URL) bool { return s.match(u, true) }

func (s *TargetSet) match(u *url.URL, deny bool) bool {
	if s == nil || u == nil || len(s.patterns) == 0 {
		return false
	}
	if u.Opaque != "" {
		// The server keeps some raw paths in Opaque; Path holds the decoded form.
		plain := *u
		plain.Opaque = ""
		u = &plain
	}
	host, _, _, err := splitHostPort(u.Host)
	if err != nil {
		return false
	}
	h, err := canonicalHost(host)
	if err != nil {
		return false
	}
	path := targetPath(u)
	for _, t := range s.patterns {
		switch {
		case !t.matchHost(h.name):
		case deny && t.matchRefusal(&path):
			return true
		case !deny && t.matchPath(path) == pathMatch:
			return true
		}
	}
	return false
}

// Any reports whether the set contains "*" without a path: every target matches.
func (s *TargetSet) Any() bool {
	for _, t := range s.patterns {
		if t.any && t.path == "" {
			return true
		}
	}
	return false
}

// Patterns returns the canonical patterns, in order without duplicates.
func (s *TargetSet) Patterns() []string { return slices.Clone(s.canon) }

func (s *TargetSet) String() string { return fmt.Sprint(s.canon) }

package access

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/corsbridge/corsbridge/allowlist"
)

// Kind is what a block applies to.
type Kind string

const (
	KindOrigin Kind = "origin"
	KindTarget Kind = "target"
)

// ParseKind reads "origin" or "target".
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(s)); k {
	case KindOrigin, KindTarget:
		return k, nil
	}
	return "", fmt.Errorf("%q: want origin or target", s)
}

// Blocks are the run-time blocks, as stored. Origin patterns are those of
// CORSBRIDGE_DENY_ORIGINS, plus a bare host (evil.example, *.evil.example)
// for that host on http and https at any port. Target patterns are those of
// CORSBRIDGE_DENY_TARGETS (host, *.host, host/path/).
type Blocks struct {
	Origins []string `json:"origins"`
	Targets []string `json:"targets"`
}

func (b *Blocks) list(k Kind) *[]string {
	if k == KindOrigin {
		return &b.Origins
	}
	return &b.Targets
}

// Has reports whether pattern is blocked (as written).
func (b Blocks) Has(k Kind, pattern string) bool { return slices.Contains(*b.list(k), pattern) }

// CheckBlock reports whether pattern is a valid block of kind k.
func CheckBlock(k Kind, pattern string) error {
	switch k {
	case KindOrigin:
		_, err := allowlist.NewOriginSet(expandOrigin(pattern))
		return err
	case KindTarget:
		_, err := allowlist.NewTargetSet([]string{pattern})
		return err
	}
	return fmt.Errorf("unknown block kind %q", k)
}

// expandOrigin turns a bare host into origin patterns for http and https at
// any port; a pattern with a scheme (or "null") stays as it is.
func expandOrigin(p string) []string {
	if strings.Contains(p, "://") || strings.EqualFold(p, "null") || p == "*" {
		return []string{p}
	}
	return []string{"http://" + p + ":*", "https://" + p + ":*"}
}

// compiledBlocks are the blocks in force; nil sets block nothing.
type compiledBlocks struct {
	origins *allowlist.OriginSet
	targets *allowlist.TargetSet
}

// compileBlocks compiles b, skipping (and reporting) invalid entries, so one
// bad line written into the store by hand cannot lift every other block.
func compileBlocks(b Blocks) (compiledBlocks, []error) {
	var cb compiledBlocks
	var errs []error
	var origins, targets []string
	for _, p := range b.Origins {
		if err := CheckBlock(KindOrigin, p); err != nil {
			errs = append(errs, fmt.Errorf("origin block %q: %w", p, err))
			continue
		}
		origins = append(origins, expandOrigin(p)...)
	}
	for _, p := range b.Targets {
		if err := CheckBlock(KindTarget, p); err != nil {
			errs = append(errs, fmt.Errorf("target block %q: %w", p, err))
			continue
		}
		targets = append(targets, p)
	}
	if len(origins) > 0 {
		cb.origins, _ = allowlist.NewOriginSet(origins)
	}
	if len(targets) > 0 {
		cb.targets, _ = allowlist.NewTargetSet(targets)
	}
	return cb, errs
}

// originBlocked reads origin blocks as deny rules: a blocked page's
// sandboxed frame (Origin: null) is judged by its Referer's origin too.
func (cb compiledBlocks) originBlocked(origin, referer string) bool {
	return cb.origins != nil && origin != "" && cb.origins.MatchDeny(origin, referer)
}

// targetBlocked reads target patterns as deny rules: a path-scoped block also
// catches the paths an upstream might normalise into the blocked one.
func (cb compiledBlocks) targetBlocked(target *url.URL) bool {
	return cb.targets != nil && target != nil && cb.targets.MatchDeny(target)
}

// Package allowlist decides what corsbridge may fetch and for whom: which origins may use the
// proxy, which targets they may name, and, at the SSRF boundary, which addresses the proxy's
// dialer may connect to. Everything is compiled once by New; the request path only looks
// things up. Beyond the standard library it uses golang.org/x/net/idna and x/text for Unicode
// host names and paths, and it holds no mutable global state.
//
// The threat model is a public instance: anyone on the internet chooses the target URL and
// will try to make the proxy reach loopback, the cloud metadata service, the operator's
// private network or the proxy itself, through DNS, redirects, odd URL spellings and IPv6
// embeddings of IPv4. The dial hook (Control) is the boundary; CheckTarget gives early,
// clear errors for what can be decided from the URL alone.
package allowlist

import (
	"fmt"
	"net/netip"
	"slices"
)

// Config is the operator's policy, usually built from CORSBRIDGE_* variables with
// ParsePrefixes, ParsePorts and ParsePatterns.
type Config struct {
	// AllowPrivate are the operator's explicit exceptions to the address guard
	// (CORSBRIDGE_ALLOW_PRIVATE): a team proxy in front of an internal API, or tests reaching
	// an httptest upstream on 127.0.0.1. Empty by default; nothing else turns the guard off.
	AllowPrivate []netip.Prefix
	// AllowPorts restricts target ports (CORSBRIDGE_ALLOW_PORTS); empty means any port.
	AllowPorts []uint16
	// AllowOrigins are origin patterns (CORSBRIDGE_ALLOW_ORIGINS); empty or "*" means any.
	AllowOrigins []string
	// DenyOrigins are origin patterns that are always refused (CORSBRIDGE_DENY_ORIGINS).
	DenyOrigins []string
	// AllowOriginFunc, when set, is an origin allowlist given as a predicate over the raw
	// Origin header value, applied as AllowOrigins is (and together with it, when both are
	// set): cors-anywhere's CORSANYWHERE_RATELIMIT with a max of 0, whose host and /regex/
	// entries are the rate limiter's pattern language, not this package's.
	AllowOriginFunc func(origin string) bool
	// AllowTargets are host patterns with an optional path prefix
	// (CORSBRIDGE_ALLOW_TARGETS); empty means any public host.
	AllowTargets []string
	// DenyTargets are host patterns that are always refused (CORSBRIDGE_DENY_TARGETS).
	DenyTargets []string
	// SelfAddrs are the proxy's own listening addresses, never dialled even when
	// AllowPrivate covers them. The server expands an unspecified listen address
	// (0.0.0.0:8080, [::]:8080) into the interface addresses it can find and passes the
	// unspecified address too, which by itself refuses that port on loopback.
	SelfAddrs []netip.AddrPort
}

// Policy is the compiled Config. The zero Policy is the default policy: every origin, every
// public target, no private exceptions. A Policy is immutable and safe for concurrent use.
type Policy struct {
	allowPrivate []netip.Prefix
	ports        map[uint16]struct{}
	portList     []uint16

	selfExact   map[netip.AddrPort]struct{}
	selfAnyPort map[uint16]struct{}
	selfHosts   map[netip.Addr]struct{}

	allowOrigins *OriginSet // nil: any origin
	allowFunc    func(origin string) bool
	denyOrigins  *OriginSet // nil: none denied

	allowTargets []targetPattern // nil: any target
	denyTargets  []targetPattern
}

// New compiles and validates cfg. Malformed patterns, prefixes or ports are errors, so a
// typo in configuration fails at start-up rather than silently allowing or denying.
func New(cfg Config) (*Policy, error) {
	p := &Policy{}
	for _, pr := range cfg.AllowPrivate {
		n, err := normalPrefix(pr)
		if err != nil {
			return nil, err
		}
		p.allowPrivate = append(p.allowPrivate, n)
	}
	for _, port := range cfg.AllowPorts {
		if port == 0 {
			return nil, fmt.Errorf("allowlist: port 0 cannot be allowed")
		}
		if p.ports == nil {
			p.ports = map[uint16]struct{}{}
		}
		if _, dup := p.ports[port]; !dup {
			p.ports[port] = struct{}{}
			p.portList = append(p.portList, port)
		}
	}
	slices.Sort(p.portList)
	if err := p.compileSelf(cfg.SelfAddrs); err != nil {
		return nil, err
	}
	var err error
	if p.allowOrigins, err = compileAllowOrigins(cfg.AllowOrigins); err != nil {
		return nil, err
	}
	p.allowFunc = cfg.AllowOriginFunc
	if len(cfg.DenyOrigins) > 0 {
		if p.denyOrigins, err = NewOriginSet(cfg.DenyOrigins); err != nil {
			return nil, err
		}
	}
	if p.allowTargets, err = compileTargets(cfg.AllowTargets); err != nil {
		return nil, err
	}
	if p.denyTargets, err = compileTargets(cfg.DenyTargets); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Policy) compileSelf(addrs []netip.AddrPort) error {
	p.selfExact = map[netip.AddrPort]struct{}{}
	p.selfAnyPort = map[uint16]struct{}{}
	p.selfHosts = map[netip.Addr]struct{}{}
	for _, ap := range addrs {
		if !ap.IsValid() || ap.Addr().Zone() != "" {
			return fmt.Errorf("allowlist: bad self address %v", ap)
		}
		a := ap.Addr().Unmap()
		if a.IsUnspecified() {
			p.selfAnyPort[ap.Port()] = struct{}{}
			continue
		}
		p.selfExact[netip.AddrPortFrom(a, ap.Port())] = struct{}{}
		p.selfHosts[a] = struct{}{}
	}
	return nil
}

// Description summarises a Policy for the landing page. Empty lists mean "any" except for
// the deny lists and AllowPrivate, where empty means "none".
type Description struct {
	AllowOrigins []string
	DenyOrigins  []string
	AllowTargets []string
	DenyTargets  []string
	AllowPrivate []netip.Prefix
	AllowPorts   []uint16
}

// Describe returns the canonical form of the policy. The returned slices are copies.
func (p *Policy) Describe() Description {
	d := Description{
		AllowPrivate: slices.Clone(p.allowPrivate),
		AllowPorts:   slices.Clone(p.portList),
	}
	if p.allowOrigins != nil {
		d.AllowOrigins = p.allowOrigins.Patterns()
	}
	if p.denyOrigins != nil {
		d.DenyOrigins = p.denyOrigins.Patterns()
	}
	for _, t := range p.allowTargets {
		d.AllowTargets = append(d.AllowTargets, t.String())
	}
	for _, t := range p.denyTargets {
		d.DenyTargets = append(d.DenyTargets, t.String())
	}
	return d
}

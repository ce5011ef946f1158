package allowlist

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckTarget runs the checks that need no DNS, in order: scheme (http or https), URL shape
// (no userinfo, no opaque form), host syntax and canonical form, port, the address policy for
// IP literals, never-public names, then DenyTargets and AllowTargets (deny wins). The server
// calls it for the requested URL and again for every redirect hop.
//
// On success it canonicalises u IN PLACE: u.Scheme is lower-cased and u.Host becomes the
// canonical host (lower-case, trailing dot removed, Unicode labels in punycode, legacy IPv4
// spellings as a dotted quad, IPv6 in canonical bracketed form) with the port kept only when
// it is not the scheme's default. The caller must dial that u.Host, so the name that was
// checked is the name that is resolved. On error u is left untouched.
//
// Passing CheckTarget is not permission to connect: the name may resolve anywhere. Control
// checks every address actually dialled.
func (p *Policy) CheckTarget(u *url.URL) error {
	if u == nil {
		return invalid("target is missing")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return &Error{Kind: KindInvalid, Cause: CauseScheme, Reason: "target must be an http or https URL"}
	}
	if u.Opaque != "" || u.Host == "" {
		return invalid("target has no host")
	}
	if u.User != nil {
		return invalid("credentials in the target URL are not allowed")
	}
	hostPart, portPart, hasPort, err := splitHostPort(u.Host)
	if err != nil {
		return err
	}
	h, err := canonicalHost(hostPart)
	if err != nil {
		return err
	}
	portText, port, err := canonicalPort(scheme, portPart, hasPort)
	if err != nil {
		return err
	}
	if h.addr.IsValid() {
		if err := p.checkAddr(netip.AddrPortFrom(h.addr, port), "target is"); err != nil {
			return err
		}
	} else if !p.portAllowed(port) {
		return forbidden(CausePort, "target port "+strconv.Itoa(int(port))+" is not allowed")
	}
	if err := p.checkHostRules(h, u); err != nil {
		return err
	}
	u.Scheme = scheme
	if h.name != hostPart || portText != portPart || hasPort != (portText != "") {
		// Not canonical as written: write back the canonical form.
		u.Host = h.name
		if portText != "" {
			u.Host += ":" + portText
		}
	}
	return nil
}

// checkHostRules applies never-public names and the target patterns to a canonical host.
func (p *Policy) checkHostRules(h canonHost, u *url.URL) error {
	if !h.addr.IsValid() {
		if why := localName(h.name); why != "" && !p.explicitlyAllowed(h.name) {
			return forbidden(CauseLocalName, "target is a local-only host name ("+why+")")
		}
	}
	path := targetPath(u)
	for _, t := range p.denyTargets {
		if t.matchHost(h.name) && t.matchRefusal(&path) {
			return forbidden(CauseTargetDenied, "target is denied")
		}
	}
	if len(p.allowTargets) == 0 {
		return nil
	}
	for _, t := range p.allowTargets {
		if t.matchHost(h.name) && t.matchPath(path) == pathMatch {
			return nil
		}
	}
	return forbidden(CauseTargetNotAllowed, "target is not allowed")
}

// explicitlyAllowed is the only way past the never-public name rule: the operator has opened
// the address guard for some private range and named this host in AllowTargets.
func (p *Policy) explicitlyAllowed(name string) bool {
	if len(p.allowPrivate) == 0 {
		return false
	}
	for _, t := range p.allowTargets {
		if !t.any && t.matchHost(name) {
			return true
		}
	}
	return false
}

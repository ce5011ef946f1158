package access

import (
	"net/http"
	"net/url"
	"strings"
)

// Redacted replaces a secret's value wherever the proxy would otherwise
// relay it.
const Redacted = "REDACTED"

// Injection is the set of secrets one request sends, and what the proxy
// needs to keep them where they belong: which redirect hops may carry them,
// and how to take them out of what it relays. A nil *Injection sends nothing,
// allows every hop and redacts nothing.
type Injection struct {
	secrets []*secret
}

// Secrets decides which secrets go with a request to target (the canonical
// target URL); the forwarder then sets them with Apply. A secret goes only
// when every condition holds: grant names it, it exists and opened, and
// target is inside its pattern (scheme, host, port and path prefix; https
// unless the pattern says http://). Its header or query parameter replaces
// the client's own, never merges with it. The pipeline asks only after every
// other check has passed. Nil when none applies, which is most requests.
func (g *Guard) Secrets(grant *Grant, target *url.URL) *Injection {
	if grant == nil || len(grant.secrets) == 0 {
		return nil
	}
	st := g.current()
	var in *Injection
	for _, name := range grant.secrets {
		s := st.secrets[name]
		if s == nil || !s.target.match(target) {
			continue
		}
		if in == nil {
			in = &Injection{}
		}
		in.secrets = append(in.secrets, s)
	}
	return in
}

// Names lists the secrets sent, for the request log (never their values).
func (in *Injection) Names() []string {
	if in == nil {
		return nil
	}
	names := make([]string, len(in.secrets))
	for i, s := range in.secrets {
		names[i] = s.name
	}
	return names
}

// Apply sets the secrets on req, the request sent upstream, or a redirect
// hop Carries allowed, whose URL the upstream chose and may lack the
// parameter. req.URL is written when a secret is a query parameter.
func (in *Injection) Apply(req *http.Request) {
	if in == nil || req == nil {
		return
	}
	for _, s := range in.secrets {
		if s.header != "" {
			req.Header.Del(s.header)
			req.Header[s.header] = []string{s.value}
			continue
		}
		req.URL.RawQuery = setParam(req.URL.RawQuery, s.query, s.value)
	}
}

// Carries reports whether a request to u may carry the secrets: u is inside
// every injected secret's pattern. A redirect hop outside is not followed;
// its 3xx goes back to the client (with Location redacted).
func (in *Injection) Carries(u *url.URL) bool {
	if in == nil {
		return true
	}
	for _, s := range in.secrets {
		if !s.target.match(u) {
			return false
		}
	}
	return true
}

// RedactHeader takes the secrets out of headers the proxy relays: any value
// holding a secret's value (as sent or percent-encoded) has it replaced
// with Redacted, and the URL-valued Location and Content-Location also lose
// the injected parameters. Trailers go through it too.
func (in *Injection) RedactHeader(h http.Header) {
	if in == nil {
		return
	}
	for name, values := range h {
		urlValued := name == "Location" || name == "Content-Location"
		for i, v := range values {
			if urlValued {
				values[i] = in.RedactURL(v)
			} else {
				values[i] = in.Redact(v)
			}
		}
	}
}

// RedactURL shows a URL the way the client sent it: without the injected
// query parameters, and with any echo of a secret's value replaced. It works
// on text, so relative and malformed URLs (an upstream's Location) are
// handled too. For X-Request-Url, X-Final-Url and rewritten Locations.
func (in *Injection) RedactURL(s string) string {
	if in == nil {
		return s
	}
	for _, sec := range in.secrets {
		if sec.query != "" {
			s = dropParam(s, sec.query)
		}
	}
	return in.Redact(s)
}

// Redact replaces every secret's value, as sent or percent-encoded, in s:
// for error messages and any other text the proxy writes.
func (in *Injection) Redact(s string) string {
	if in == nil {
		return s
	}
	for _, sec := range in.secrets {
		for _, form := range sec.escaped {
			if strings.Contains(s, form) {
				s = strings.ReplaceAll(s, form, Redacted)
			}
		}
	}
	return s
}

// setParam replaces every name parameter of a raw query with name=value,
// leaving every other byte as the client sent it (the proxy promises a query
// byte for byte).
func setParam(rawQuery, name, value string) string {
	q := withoutParam(rawQuery, name)
	pair := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if q == "" {
		return pair
	}
	return q + "&" + pair
}

// withoutParam drops the pairs of a raw query whose decoded name is name.
// Names compare case-insensitively: some upstreams read ApiKey as apikey,
// and a client's own copy must never ride along with the secret.
func withoutParam(rawQuery, name string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	dropped := false
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if strings.EqualFold(k, name) {
			dropped = true
			continue
		}
		kept = append(kept, pair)
	}
	if !dropped {
		return rawQuery
	}
	return strings.Join(kept, "&")
}

// dropParam removes name from the query of a URL given as text.
func dropParam(s, name string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	rest, frag := s[q+1:], ""
	if f := strings.IndexByte(rest, '#'); f >= 0 {
		rest, frag = rest[:f], rest[f:]
	}
	kept := withoutParam(rest, name)
	if kept == rest {
		return s
	}
	if kept == "" {
		return s[:q] + frag
	}
	return s[:q+1] + kept + frag
}

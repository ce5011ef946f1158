package access

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
)

// Secret is an upstream API's credential the proxy adds to requests on the
// page's behalf, so the page's source never holds it. It goes only to its
// Target, only for a key or token that names it, in one header or one query
// parameter, replacing whatever the client sent there.
type Secret struct {
	Name string `json:"name"`
	// Target is where it may go: [https://|http://]host[:port][/path/],
	// one exact host (no wildcards), https unless it says http://, the
	// scheme's default port unless it names one, and any path under the
	// prefix (whole segments, as target patterns).
	Target  string    `json:"target"`
	Header  string    `json:"header,omitempty"` // sent as this header, or
	Query   string    `json:"query,omitempty"`  // as this query parameter
	Sealed  string    `json:"sealed"`           // the value, sealed (seal.go)
	Created time.Time `json:"created"`
}

// Bounds of a secret's value. The lower one keeps redaction meaningful: a
// two-byte value would be "redacted" out of every header.
const (
	minSecretValue = 8
	maxSecretValue = 4096
)

// NewSecret validates the secret's name, target and value and seals the
// value under kr's first key.
func NewSecret(kr *Keyring, name, target, header, query string, value []byte, now time.Time) (Secret, error) {
	s := Secret{Name: name, Target: target, Header: header, Query: query, Created: now.UTC().Truncate(time.Second)}
	if s.Header != "" {
		s.Header = http.CanonicalHeaderKey(s.Header)
	}
	if _, err := s.compileShape(); err != nil {
		return Secret{}, err
	}
	if err := checkValue(value); err != nil {
		return Secret{}, fmt.Errorf("secret %q: %w", name, err)
	}
	sealed, err := kr.seal(value, s.binding())
	if err != nil {
		return Secret{}, err
	}
	s.Sealed = sealed
	return s, nil
}

func checkValue(v []byte) error {
	if len(v) < minSecretValue || len(v) > maxSecretValue {
		return fmt.Errorf("the value must be %d to %d bytes", minSecretValue, maxSecretValue)
	}
	for _, c := range v {
		// Printable ASCII and UTF-8: a header value cannot hold the rest.
		if c < 0x20 || c == 0x7f {
			return errors.New("the value must not contain control characters (a trailing newline is trimmed)")
		}
	}
	return nil
}

// binding is the additional data the value is sealed with.
func (s Secret) binding() []byte {
	return []byte("corsbridge secret\x00" + s.Name + "\x00" + s.Target + "\x00" + s.Header + "\x00" + s.Query)
}

// secret is a Secret ready to be sent: opened and its target compiled.
type secret struct {
	name    string
	target  secretTarget
	header  string // canonical; or
	query   string
	value   string
	escaped []string // the forms of value redaction looks for
}

// compile opens s with kr.
func (s Secret) compile(kr *Keyring) (*secret, error) {
	c, err := s.compileShape()
	if err != nil {
		return nil, err
	}
	plain, err := kr.open(s.Sealed, s.binding())
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", s.Name, err)
	}
	if err := checkValue(plain); err != nil {
		return nil, fmt.Errorf("secret %q: %w", s.Name, err)
	}
	c.value = string(plain)
	c.escaped = valueForms(c.value)
	return c, nil
}

// compileShape checks everything but the value.
func (s Secret) compileShape() (*secret, error) {
	if err := ValidName(s.Name); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	t, err := parseSecretTarget(s.Target)
	if err != nil {
		return nil, fmt.Errorf("secret %q: --target %q: %w", s.Name, s.Target, err)
	}
	c := &secret{name: s.Name, target: t}
	switch {
	case (s.Header == "") == (s.Query == ""):
		return nil, fmt.Errorf("secret %q: give a header or a query parameter, not both", s.Name)
	case s.Header != "":
		if !validToken(s.Header) {
			return nil, fmt.Errorf("secret %q: %q is not a header name", s.Name, s.Header)
		}
		if reservedHeader(s.Header) {
			return nil, fmt.Errorf("secret %q: the proxy manages the %s header itself", s.Name, s.Header)
		}
		c.header = http.CanonicalHeaderKey(s.Header)
	default:
		if strings.ContainsAny(s.Query, "&=#?% +") || s.Query == "corsbridge_key" {
			return nil, fmt.Errorf("secret %q: %q cannot be a query parameter name here", s.Name, s.Query)
		}
		c.query = s.Query
	}
	return c, nil
}

// reservedHeader: headers the proxy sets or strips itself, whose value a
// secret would fight with or leak through.
func reservedHeader(h string) bool {
	switch strings.ToLower(h) {
	case "host", "content-length", "transfer-encoding", "connection", "via", "cookie", "te", "upgrade",
		"x-corsbridge-key", "origin", "referer", "proxy-authorization", "forwarded":
		return true
	}
	return strings.HasPrefix(strings.ToLower(h), "x-forwarded-")
}

// validToken reports an RFC 9110 token (a header field name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// valueForms are the spellings of a value an upstream may echo: as it is,
// and percent-encoded as a query or path component.
func valueForms(v string) []string {
	forms := []string{v}
	for _, f := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		if f != forms[0] && (len(forms) < 2 || f != forms[1]) {
			forms = append(forms, f)
		}
	}
	return forms
}

// secretTarget is a compiled secret target: an exact scheme, host, port and
// path prefix.
type secretTarget struct {
	scheme string
	port   string // always explicit: the scheme's default when the pattern has none
	hosts  *allowlist.TargetSet
}

// parseSecretTarget reads [https://|http://]host[:port][/path/]. The host
// and path rules are those of target patterns (canonical hosts, whole path
// segments, ambiguous paths never match), minus wildcards.
func parseSecretTarget(p string) (secretTarget, error) {
	if p == "" {
		return secretTarget{}, errors.New("a target is required")
	}
	raw := p
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return secretTarget{}, errors.New("want [https://|http://]host[:port][/path/]")
	}
	t := secretTarget{scheme: strings.ToLower(u.Scheme), port: u.Port()}
	switch t.scheme {
	case "https":
		if t.port == "" {
			t.port = "443"
		}
	case "http":
		if t.port == "" {
			t.port = "80"
		}
	default:
		return secretTarget{}, errors.New("only https:// or http:// targets")
	}
	host := u.Hostname()
	if strings.Contains(host, "*") {
		return secretTarget{}, errors.New("a secret's target names one exact host, no wildcards")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	pattern := host + strings.TrimSuffix(u.EscapedPath(), "*")
	if t.hosts, err = allowlist.NewTargetSet([]string{pattern}); err != nil {
		return secretTarget{}, err
	}
	return t, nil
}

// match reports whether u is inside the target: same scheme and port, same
// host, a path under the prefix.
func (t secretTarget) match(u *url.URL) bool {
	if u == nil || !strings.EqualFold(u.Scheme, t.scheme) {
		return false
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if t.scheme == "http" {
			port = "80"
		}
	}
	return port == t.port && t.hosts.Match(u)
}

// Check reports whether kr opens s and s is one the proxy would send, for
// `admin secrets list`; the value itself is dropped.
func (s Secret) Check(kr *Keyring) error {
	_, err := s.compile(kr)
	return err
}

// KeyID names the key s was sealed with; "" when Sealed is malformed.
func (s Secret) KeyID() string {
	parts := strings.Split(s.Sealed, ".")
	if len(parts) != 3 || parts[0] != sealVersion {
		return ""
	}
	return parts[1]
}

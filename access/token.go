package access

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/rate"
)

// A signed demo token carries its own scope and needs no storage:
//
//	cbt_<kid>.<claims>.<signature>
//
// kid (8 base64url characters) names the secret that signed it, so
// verification picks the secret in one lookup; claims is the JSON of Claims
// in unpadded base64url; signature is HMAC-SHA256, keyed with the secret,
// over everything before the last '.', in unpadded base64url. Every part is
// URL-safe, so a token works unchanged in a query parameter.
//
// A token is meant to be seen: a demo page embeds it in its source. It works
// only from its origins (which a browser cannot forge, though any other
// client can), only for its targets, only until it expires and only at its
// rate, which is the real bound.
const TokenPrefix = "cbt_"

const (
	kidLen         = 8
	maxTokenLen    = 2048
	minSecretLen   = 32
	tokenVersion   = 1
	tokenCacheSize = 4096
)

// DefaultTokenRate and DefaultTokenTTL are `corsbridge token`'s defaults.
const (
	DefaultTokenRate = "100/1h"
	DefaultTokenTTL  = 24 * time.Hour
)

// Claims is what a token allows. Field names are short: the token travels in
// page sources and URLs.
type Claims struct {
	Version int      `json:"v"`
	Origins []string `json:"o"` // origin patterns; at least one, never "*" or "null"
	Targets []string `json:"t"` // target patterns; at least one, never every target
	Expires int64    `json:"e"` // Unix seconds
	Rate    string   `json:"r"` // its own limit, never "off"
	Issued  int64    `json:"i,omitempty"`
	Secrets []string `json:"s,omitempty"` // names of the secrets its requests may send
	// Quotas per UTC day and calendar month (requests, requests, response
	// body bytes); omitted when 0, so tokens signed before quotas existed
	// verify unchanged.
	Daily        int64 `json:"qd,omitempty"`
	Monthly      int64 `json:"qm,omitempty"`
	MonthlyBytes int64 `json:"qb,omitempty"`
}

// compile validates c and builds the grant it describes.
func (c Claims) compile() (*Grant, error) {
	if c.Version != tokenVersion {
		return nil, fmt.Errorf("unsupported token version %d", c.Version)
	}
	if len(c.Origins) == 0 || len(c.Targets) == 0 {
		return nil, errors.New("a token needs at least one origin and one target")
	}
	if c.Expires <= 0 {
		return nil, errors.New("a token needs an expiry")
	}
	for _, o := range c.Origins {
		if o == "*" || strings.EqualFold(o, "null") {
			return nil, fmt.Errorf("origin %q: a token must name the origins it works from", o)
		}
	}
	origins, err := allowlist.NewOriginSet(c.Origins)
	if err != nil {
		return nil, err
	}
	targets, err := allowlist.NewTargetSet(c.Targets)
	if err != nil {
		return nil, err
	}
	if targets.Any() {
		return nil, errors.New(`target "*": a token must name the targets it works for`)
	}
	limit, err := rate.Parse(c.Rate)
	if err != nil {
		return nil, fmt.Errorf("rate: %w", err)
	}
	if limit.Off() {
		return nil, errors.New(`rate: a token needs a limit, not "off": the limit is what bounds a token anyone can read`)
	}
	secrets, err := secretNames(c.Secrets)
	if err != nil {
		return nil, err
	}
	q := rate.Quota{Daily: c.Daily, Monthly: c.Monthly, MonthlyBytes: c.MonthlyBytes}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return &Grant{Limit: limit, Quota: q, expires: time.Unix(c.Expires, 0), origins: origins, targets: targets, token: true, secrets: secrets}, nil
}

// SecretID is the key id of a token secret: the first 6 bytes of a SHA-256
// over it, in base64url. It names the secret without revealing it.
func SecretID(secret string) string {
	sum := sha256.Sum256([]byte("corsbridge token key id\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// CheckSecret reports whether secret is long enough to sign tokens.
func CheckSecret(secret string) error {
	if len(secret) < minSecretLen {
		return fmt.Errorf("a token secret must be at least %d characters (try: openssl rand -base64 32)", minSecretLen)
	}
	return nil
}

// SignToken signs c with secret, after checking c is a token the verifier
// will accept.
func SignToken(secret string, c Claims) (string, error) {
	if err := CheckSecret(secret); err != nil {
		return "", err
	}
	if c.Version == 0 {
		c.Version = tokenVersion
	}
	if _, err := c.compile(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := TokenPrefix + SecretID(secret) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	tok := signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("the token would be %d bytes, over %d: name fewer origins or targets", len(tok), maxTokenLen)
	}
	return tok, nil
}

// ParsedToken is a token split into its parts; nothing about it is trusted
// until Verify has checked the signature.
type ParsedToken struct {
	KID       string
	Signed    string // the text the signature covers
	Payload   []byte // the claims' JSON
	Signature []byte
}

var errTokenShape = errors.New("malformed token")

// ParseToken splits a token without verifying it. It refuses anything that
// is not exactly cbt_<8 base64url>.<base64url>.<43 base64url>, within 2 KiB.
func ParseToken(s string) (ParsedToken, error) {
	if len(s) > maxTokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return ParsedToken{}, errTokenShape
	}
	last := strings.LastIndexByte(s, '.')
	if last < 0 {
		return ParsedToken{}, errTokenShape
	}
	signed, sigText := s[:last], s[last+1:]
	kid, payloadText, ok := strings.Cut(signed[len(TokenPrefix):], ".")
	if !ok || len(kid) != kidLen || !allBase64URL(kid) || !allBase64URL(payloadText) || !allBase64URL(sigText) {
		return ParsedToken{}, errTokenShape
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(payloadText)
	if err != nil || len(payload) == 0 {
		return ParsedToken{}, errTokenShape
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return ParsedToken{}, errTokenShape
	}
	return ParsedToken{KID: kid, Signed: signed, Payload: payload, Signature: sig}, nil
}

func allBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return false
		}
	}
	return true
}

// tokenID is the counter and log name of a verified token: its signature's
// first 9 bytes, so two tokens never share a count by accident.
func tokenID(sig []byte) string { return base64.RawURLEncoding.EncodeToString(sig[:9]) }

// verifier checks tokens against the configured secrets: the first signs,
// all verify, so a secret can be rotated by listing the new one first and
// dropping the old one once its tokens have expired.
type verifier struct {
	secrets map[string][]byte // by SecretID

	mu    sync.Mutex
	cache map[string]*Grant // verified tokens, so repeats skip the HMAC and JSON
}

func newVerifier(secrets []string) (*verifier, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	v := &verifier{secrets: map[string][]byte{}, cache: map[string]*Grant{}}
	for i, s := range secrets {
		if err := CheckSecret(s); err != nil {
			return nil, fmt.Errorf("token secret %d: %w", i+1, err)
		}
		id := SecretID(s)
		if _, dup := v.secrets[id]; dup {
			return nil, fmt.Errorf("token secret %d is listed twice", i+1)
		}
		v.secrets[id] = []byte(s)
	}
	return v, nil
}

// verify returns the grant of a token whose signature is valid under one of
// the secrets. Expiry and scope are the grant's to check, on every request.
func (v *verifier) verify(tok string) (*Grant, *Error) {
	if v == nil {
		return nil, errTokenInvalid
	}
	v.mu.Lock()
	g, ok := v.cache[tok]
	v.mu.Unlock()
	if ok {
		return g, nil
	}
	p, err := ParseToken(tok)
	if err != nil {
		return nil, errTokenInvalid
	}
	secret, ok := v.secrets[p.KID]
	if !ok {
		return nil, errTokenInvalid
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(p.Signed))
	if !hmac.Equal(mac.Sum(nil), p.Signature) {
		return nil, errTokenInvalid
	}
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(p.Payload))
	// A claim this version does not know might narrow the token; refusing
	// it is safer than ignoring it.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, errTokenInvalid
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTokenInvalid // trailing data
	}
	g, cerr := c.compile()
	if cerr != nil {
		return nil, errTokenInvalid
	}
	g.Name = "token:" + tokenID(p.Signature)
	v.mu.Lock()
	if len(v.cache) >= tokenCacheSize {
		clear(v.cache)
	}
	v.cache[tok] = g
	v.mu.Unlock()
	return g, nil
}

// TokenID returns the name a token is logged and counted under
// ("token:<id>"), for `corsbridge token` to print; "" for a malformed token.
func TokenID(tok string) string {
	p, err := ParseToken(tok)
	if err != nil {
		return ""
	}
	return "token:" + tokenID(p.Signature)
}

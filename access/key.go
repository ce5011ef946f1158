package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/rate"
)

// KeyPrefix starts every access key's secret: "cbk_" and 32 random bytes in
// unpadded base64url, 47 characters in all.
const KeyPrefix = "cbk_"

const (
	secretBytes  = 32
	keySecretLen = len(KeyPrefix) + (secretBytes*8+5)/6
	maxKeyName   = 64
)

// DefaultKeyRate is a key's limit when none is given: what one origin gets
// by default (ratelimit.DefaultOriginLimit, which a server test holds equal),
// counted for the key alone.
const DefaultKeyRate = "600/1m"

// Key is an access key as stored. The secret itself is never stored: only
// its SHA-256, which is also how a presented key is looked up.
type Key struct {
	Name    string    `json:"name"`
	SHA256  string    `json:"sha256"` // hex SHA-256 of the secret
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"` // zero: never
	// Rate is the key's own limit, replacing the origin and client limits
	// for its requests: "1000/1h", or "off" for none.
	Rate string `json:"rate"`
	// Daily, Monthly and MonthlyBytes are its quotas per UTC day and
	// calendar month (requests, requests, response body bytes); 0: none.
	Daily        int64    `json:"daily,omitempty"`
	Monthly      int64    `json:"monthly,omitempty"`
	MonthlyBytes int64    `json:"monthly_bytes,omitempty"`
	Origins      []string `json:"origins,omitempty"` // origin patterns it works from; empty: any
	Targets      []string `json:"targets,omitempty"` // target patterns it works for; empty: any
	Secrets      []string `json:"secrets,omitempty"` // names of the secrets its requests may send
}

// Validate reports a key the proxy would skip.
func (k Key) Validate() error {
	_, err := k.compile()
	return err
}

// Quota is the key's quotas as one value.
func (k Key) Quota() rate.Quota {
	return rate.Quota{Daily: k.Daily, Monthly: k.Monthly, MonthlyBytes: k.MonthlyBytes}
}

// NewKey makes a key with a fresh random secret and returns both; the secret
// is shown to the operator once and never stored.
func NewKey(name string, expires time.Time, rate string, origins, targets []string, now time.Time) (Key, string, error) {
	var raw [secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Key{}, "", err
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	if rate == "" {
		rate = DefaultKeyRate
	}
	k := Key{
		Name:    name,
		SHA256:  hex.EncodeToString(sum[:]),
		Created: now.UTC().Truncate(time.Second),
		Rate:    rate,
		Origins: origins,
		Targets: targets,
	}
	if !expires.IsZero() {
		k.Expires = expires.UTC().Truncate(time.Second)
	}
	if _, err := k.compile(); err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// ValidName reports whether name can name a key: 1 to 64 letters, digits,
// '.', '_' or '-'. Names appear in logs and in rate-limit counter keys.
func ValidName(name string) error {
	if name == "" || len(name) > maxKeyName {
		return fmt.Errorf("key name must be 1 to %d characters", maxKeyName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key name %q: use letters, digits, '.', '_' and '-' only", name)
		}
	}
	return nil
}

// compile checks a stored key and builds its grant and lookup hash.
func (k Key) compile() (compiledKey, error) {
	if err := ValidName(k.Name); err != nil {
		return compiledKey{}, err
	}
	var ck compiledKey
	b, err := hex.DecodeString(k.SHA256)
	if err != nil || len(b) != sha256.Size {
		return compiledKey{}, fmt.Errorf("key %q: sha256 must be 64 hex digits", k.Name)
	}
	copy(ck.hash[:], b)
	limit, err := rate.Parse(k.Rate)
	if err != nil {
		return compiledKey{}, fmt.Errorf("key %q: rate: %w", k.Name, err)
	}
	q := k.Quota()
	if err := q.Validate(); err != nil {
		return compiledKey{}, fmt.Errorf("key %q: %w", k.Name, err)
	}
	g := &Grant{Name: k.Name, Limit: limit, Quota: q, expires: k.Expires}
	if len(k.Origins) > 0 {
		if g.origins, err = allowlist.NewOriginSet(k.Origins); err != nil {
			return compiledKey{}, fmt.Errorf("key %q: %w", k.Name, err)
		}
	}
	if len(k.Targets) > 0 {
		if g.targets, err = allowlist.NewTargetSet(k.Targets); err != nil {
			return compiledKey{}, fmt.Errorf("key %q: %w", k.Name, err)
		}
	}
	if g.secrets, err = secretNames(k.Secrets); err != nil {
		return compiledKey{}, fmt.Errorf("key %q: %w", k.Name, err)
	}
	ck.grant = g
	return ck, nil
}

type compiledKey struct {
	hash  [sha256.Size]byte
	grant *Grant
}

// errSecretShape: not "cbk_" and 43 base64url characters.
var errSecretShape = errors.New("malformed key")

// secretHash is the lookup id of a presented secret.
func secretHash(secret string) ([sha256.Size]byte, error) {
	if len(secret) != keySecretLen {
		return [sha256.Size]byte{}, errSecretShape
	}
	for i := len(KeyPrefix); i < len(secret); i++ {
		if !isBase64URL(secret[i]) {
			return [sha256.Size]byte{}, errSecretShape
		}
	}
	return sha256.Sum256([]byte(secret)), nil
}

// secretNames checks the secret names a key or token grants and sorts them,
// so a grant sends its secrets in one order on every instance.
func secretNames(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, n := range out {
		if err := ValidName(n); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
	}
	return out, nil
}

func isBase64URL(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

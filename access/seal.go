package access

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Secret values are stored sealed with AES-256-GCM under
// CORSBRIDGE_SECRETS_KEY, so a copy of Redis or of the keys file does not
// hand out the upstream APIs' keys:
//
//	v1.<kid>.<base64url(nonce || ciphertext || tag)>
//
// kid (8 base64url characters) names the key that sealed it, so a list of
// keys can be rotated: the first seals, every one opens. The additional data
// is the secret's name, target and how it is sent: someone who can write to
// the store but does not hold the key cannot point a sealed value at another
// host, or move it to another secret's name.
const sealVersion = "v1"

// SecretsKeyBytes is the length of a key in CORSBRIDGE_SECRETS_KEY, before
// base64 (`openssl rand -base64 32`).
const SecretsKeyBytes = 32

// ErrNoSecretsKey: a secret must be sealed or opened and no key is set.
var ErrNoSecretsKey = errors.New("CORSBRIDGE_SECRETS_KEY is not set: secrets cannot be sealed or opened without it")

// Keyring holds the keys of CORSBRIDGE_SECRETS_KEY. A nil *Keyring holds
// none: sealing and opening fail with ErrNoSecretsKey.
type Keyring struct {
	first string // kid of the sealing key
	aeads map[string]cipher.AEAD
}

// ParseKeyring reads CORSBRIDGE_SECRETS_KEY: keys of 32 bytes in base64
// (standard or URL alphabet, padded or not), comma separated. An empty value
// is a nil Keyring.
func ParseKeyring(v string) (*Keyring, error) {
	var kr *Keyring
	for i, text := range strings.Split(v, ",") {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		raw, err := decodeKey(text)
		if err != nil || len(raw) != SecretsKeyBytes {
			// The key's text is never part of the message.
			return nil, fmt.Errorf("secrets key %d: want %d bytes in base64 (try: openssl rand -base64 32)", i+1, SecretsKeyBytes)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if kr == nil {
			kr = &Keyring{first: keyID(raw), aeads: map[string]cipher.AEAD{}}
		}
		id := keyID(raw)
		if _, dup := kr.aeads[id]; dup {
			return nil, fmt.Errorf("secrets key %d is listed twice", i+1)
		}
		kr.aeads[id] = aead
	}
	return kr, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// keyID names a key without revealing it.
func keyID(raw []byte) string {
	sum := sha256.Sum256(append([]byte("corsbridge secrets key id\x00"), raw...))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// KeyID is the id of the key that seals, for `admin secrets list`; "" for a
// nil Keyring.
func (kr *Keyring) KeyID() string {
	if kr == nil {
		return ""
	}
	return kr.first
}

// seal encrypts plaintext for the secret whose binding is ad.
func (kr *Keyring) seal(plaintext, ad []byte) (string, error) {
	if kr == nil {
		return "", ErrNoSecretsKey
	}
	aead := kr.aeads[kr.first]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, plaintext, ad)
	return sealVersion + "." + kr.first + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open decrypts a sealed value; errors name the key id, never the value.
func (kr *Keyring) open(sealed string, ad []byte) ([]byte, error) {
	version, rest, ok1 := strings.Cut(sealed, ".")
	kid, body, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || version != sealVersion {
		return nil, errors.New("the sealed value is malformed")
	}
	if kr == nil {
		return nil, ErrNoSecretsKey
	}
	aead, ok := kr.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("sealed with key id %s, which CORSBRIDGE_SECRETS_KEY does not hold", kid)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("the sealed value is malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("the sealed value does not open with key id %s (changed, or sealed for another name or target)", kid)
	}
	return plain, nil
}

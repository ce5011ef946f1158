package access

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// Two test keys of 32 bytes, in different base64 spellings.
var (
	sealKeyA = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	sealKeyB = base64.RawURLEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
)

func mustKeyring(t testing.TB, v string) *Keyring {
	t.Helper()
	kr, err := ParseKeyring(v)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestParseKeyring(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		keys        int
		wantErr     bool
	}{
		{"empty is no keyring", "", 0, false},
		{"one key in standard base64", sealKeyA, 1, false},
		{"one key in unpadded url base64", sealKeyB, 1, false},
		{"rotation list", sealKeyB + ", " + sealKeyA, 2, false},
		{"too short", base64.StdEncoding.EncodeToString([]byte("short")), 0, true},
		{"not base64", "not base64 at all!", 0, true},
		{"listed twice", sealKeyA + "," + sealKeyA, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := ParseKeyring(tc.value)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil && tc.value != "" && strings.Contains(err.Error(), strings.Split(tc.value, ",")[0]) {
				t.Errorf("the error shows the key: %v", err)
			}
			got := 0
			if kr != nil {
				got = len(kr.aeads)
			}
			if got != tc.keys {
				t.Errorf("%d keys, want %d", got, tc.keys)
			}
		})
	}
}

func TestSealAndRotate(t *testing.T) {
	ad := []byte("binding")
	oldRing := mustKeyring(t, sealKeyA)
	sealed, err := oldRing.seal([]byte("the value"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "the value") || !strings.HasPrefix(sealed, "v1."+oldRing.KeyID()+".") {
		t.Fatalf("sealed = %q", sealed)
	}
	again, _ := oldRing.seal([]byte("the value"), ad)
	if again == sealed {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	rotated := mustKeyring(t, sealKeyB+","+sealKeyA)
	for _, tc := range []struct {
		name    string
		ring    *Keyring
		sealed  string
		ad      string
		wantErr string
	}{
		{"the key that sealed", oldRing, sealed, "binding", ""},
		{"a rotation list that still holds it", rotated, sealed, "binding", ""},
		{"a list without it", mustKeyring(t, sealKeyB), sealed, "binding", "does not hold"},
		{"no key", nil, sealed, "binding", "CORSBRIDGE_SECRETS_KEY is not set"},
		{"another binding", oldRing, sealed, "other secret", "does not open"},
		{"tampered", oldRing, sealed[:len(sealed)-2] + "AA", "binding", "does not open"},
		{"malformed", oldRing, "v1.nothing", "binding", "malformed"},
		{"unknown version", oldRing, "v9" + sealed[2:], "binding", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain, err := tc.ring.open(tc.sealed, []byte(tc.ad))
			switch {
			case tc.wantErr == "" && (err != nil || string(plain) != "the value"):
				t.Fatalf("open = %q, %v", plain, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// New seals use the first key of the list.
	if s, _ := rotated.seal([]byte("x"), ad); !strings.HasPrefix(s, "v1."+mustKeyring(t, sealKeyB).KeyID()+".") {
		t.Errorf("rotated seal %q", s)
	}
	if _, err := (*Keyring)(nil).seal([]byte("x"), ad); !errors.Is(err, ErrNoSecretsKey) {
		t.Errorf("sealing without a key: %v", err)
	}
}

// FuzzOpenSealed: no input panics the opener, and nothing opens but what
// the key sealed (each fuzz worker seals its own seed, with its own nonce).
func FuzzOpenSealed(f *testing.F) {
	kr := mustKeyring(f, sealKeyA)
	good, err := kr.seal([]byte("fuzz value"), []byte("ad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("v1..")
	f.Add("v1." + kr.KeyID() + ".")
	f.Fuzz(func(t *testing.T, s string) {
		plain, err := kr.open(s, []byte("ad"))
		if err == nil && string(plain) != "fuzz value" {
			t.Fatalf("open(%q) = %q", s, plain)
		}
	})
}

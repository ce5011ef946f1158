package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestKeysStayTheSame: keys are shared through Redis by instances of
// different versions and found by prefix when purging, so their spelling
// is fixed: hex of the URL's SHA-256 (16 bytes), then ":-", or ":" and hex
// of the keyed headers' and partition's SHA-256 (8 bytes).
func TestKeysStayTheSame(t *testing.T) {
	sum := func(s string, n int) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:n]) }
	long := "https://api.example/" + strings.Repeat("p", 1000) // longer than the stack scratch
	tests := []struct{ target, keyed, partition, want string }{
		{"https://api.example/v1?x=1", "", "", sum("https://api.example/v1?x=1", 16) + ":-"},
		{"https://api.example/v1", "abc", "", sum("https://api.example/v1", 16) + ":" + sum("abc\x00", 8)},
		{"https://api.example/v1", "", "key:k", sum("https://api.example/v1", 16) + ":" + sum("\x00key:k", 8)},
		{long, "", "", sum(long, 16) + ":-"},
	}
	for _, tt := range tests {
		if got := variantKey(tt.target, tt.keyed, tt.partition); got != tt.want {
			t.Errorf("variantKey(%.40q, %q, %q) = %q, want %q", tt.target, tt.keyed, tt.partition, got, tt.want)
		}
		if got := urlKey(tt.target); !strings.HasPrefix(tt.want, got+":") || len(got) != 32 {
			t.Errorf("urlKey(%.40q) = %q, not the prefix of %q", tt.target, got, tt.want)
		}
	}
}

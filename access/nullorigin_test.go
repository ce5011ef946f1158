package access

import (
	"testing"
	"time"
)

// TestBlocksNullOrigin: a blocked page's sandboxed frame sends Origin: null;
// the block judges it by its Referer's origin, and a block of "null" itself
// refuses every null origin, Referer or not.
func TestBlocksNullOrigin(t *testing.T) {
	byHost := newGuard(t, Config{Store: keysFile(t, Data{Blocks: Blocks{Origins: []string{"evil.example"}}})})
	byNull := newGuard(t, Config{Store: keysFile(t, Data{Blocks: Blocks{Origins: []string{"null"}}})})
	for _, tc := range []struct {
		name            string
		g               *Guard
		origin, referer string
		want            string
	}{
		{"blocked page's sandboxed frame", byHost, "null", "https://evil.example/app?id=1", "origin_blocked"},
		{"blocked host on another port and scheme", byHost, "null", "http://evil.example:8080/", "origin_blocked"},
		{"another page's sandboxed frame", byHost, "null", "https://good.example/", "ok"},
		{"no referer: what the platform leaves open", byHost, "null", "", "ok"},
		{"a real origin is judged, not its referer", byHost, "https://good.example", "https://evil.example/", "ok"},
		{"null blocked, no referer", byNull, "null", "", "origin_blocked"},
		{"null blocked, innocent referer", byNull, "null", "https://good.example/", "origin_blocked"},
		{"null blocked, real origins pass", byNull, "https://good.example", "", "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.g.Authorize("", tc.origin, tc.referer, mustURL(t, "https://api.example.com/"), time.Now())
			if got := codeOf(err); got != tc.want {
				t.Fatalf("Authorize(origin %q, referer %q) = %s, want %s", tc.origin, tc.referer, got, tc.want)
			}
		})
	}
}

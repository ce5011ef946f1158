package access

import (
	"testing"

	"github.com/corsbridge/corsbridge/allowlist"
)

// A run-time block on a path refuses the spellings that reach the same
// resource on case-insensitive or IIS-style upstreams, not only the one written.
func TestTargetBlockMatchesSpellings(t *testing.T) {
	cb, errs := compileBlocks(Blocks{Targets: []string{"api.example.com/admin/"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, tt := range []struct {
		path    string
		blocked bool
	}{
		{"/admin/x", true},
		{"/ADMIN/x", true},
		{"/Admin/x", true},
		{"/admin./x", true},
		{"/admin%20/x", true},
		{"/%61dmin/x", true},
		{"//admin/x", true},
		{"/admin;p=1/x", true},
		{"/x%5C..%5Cadmin", true},
		{"/administrator", false},
		{"/public/x", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			u, err := allowlist.ParseTarget("/https://api.example.com" + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := cb.targetBlocked(u); got != tt.blocked {
				t.Errorf("targetBlocked(%s) = %v, want %v", tt.path, got, tt.blocked)
			}
		})
	}
}

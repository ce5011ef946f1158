package allowlist

import (
	"net/url"
	"slices"
	"testing"
)

func TestTargetSet(t *testing.T) {
	s, err := NewTargetSet([]string{"api.example.com/v1/*", "*.cdn.example", "API.example.com/v1/", "bücher.example"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Patterns(), []string{"api.example.com/v1/", "*.cdn.example", "xn--bcher-kva.example"}; !slices.Equal(got, want) {
		t.Errorf("Patterns = %q, want %q", got, want)
	}
	for _, c := range []struct {
		raw         string
		match, deny bool
	}{
		{"https://api.example.com/v1", true, true},
		{"https://api.example.com/v1/items?x=1", true, true},
		{"https://API.example.com.:8443/v1/items", true, true},
		{"https://api.example.com/v10", false, false},
		{"https://api.example.com/", false, false},
		{"https://api.example.com/v1/../admin", false, true},
		{"https://api.example.com/v1%2F..%2Fadmin", false, true},
		{"https://a.b.cdn.example/x", true, true},
		{"https://cdn.example/x", false, false},
		{"https://xn--bcher-kva.example/", true, true},
		{"https://other.example/v1", false, false},
	} {
		u, err := url.Parse(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Match(u); got != c.match {
			t.Errorf("Match(%s) = %v, want %v", c.raw, got, c.match)
		}
		if got := s.MatchDeny(u); got != c.deny {
			t.Errorf("MatchDeny(%s) = %v, want %v", c.raw, got, c.deny)
		}
	}
	opaque := &url.URL{Scheme: "https", Host: "api.example.com", Opaque: "/v1/it'em", Path: "/v1/it'em"}
	if !s.Match(opaque) {
		t.Error("a URL in Opaque form does not match")
	}
	var none *TargetSet
	if none.Match(&url.URL{Scheme: "https", Host: "a.example"}) || s.Any() {
		t.Error("nil or scoped set matches everything")
	}
	all, _ := NewTargetSet([]string{"*"})
	if !all.Any() || !all.Match(&url.URL{Scheme: "https", Host: "a.example", Path: "/"}) {
		t.Error(`"*" does not match everything`)
	}
	if all, _ := NewTargetSet([]string{"*/*"}); !all.Any() {
		t.Error(`"*/*" is not any target`)
	}
	for _, bad := range []string{"https://api.example.com", "api.example.com:443", "*.10.0.0.1", "api.example.com/%zz"} {
		if _, err := NewTargetSet([]string{bad}); err == nil {
			t.Errorf("NewTargetSet(%q) accepted", bad)
		}
	}
}

package usage

import (
	"reflect"
	"testing"
)

// FuzzParseFile: any bytes either fail to parse or give figures that
// survive a write and a read unchanged.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"days": {"20261202": {"web-team": {"requests": 3, "bytes": 10, "refused": {"rate_limited": 1}}}}}`))
	f.Add([]byte(`{"days": {}}`))
	f.Add([]byte(`{"days": {"20261302": {"a": {"requests": 1}}}}`))
	f.Add([]byte(`{"days": {"20261202": {"a": {"requests": -1}}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := parseFile(raw)
		if err != nil {
			return
		}
		out, err := formatFile(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseFile(out)
		if err != nil {
			t.Fatalf("own output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normal(got), normal(again)) {
			t.Fatalf("round trip changed the figures:\n%v\n%v", got, again)
		}
	})
}

// normal drops empty refusal maps, which JSON does not tell from none.
func normal(t tally) map[entry]Counts {
	out := map[entry]Counts{}
	for e, c := range t {
		n := *c
		if len(n.Refused) == 0 {
			n.Refused = nil
		}
		out[e] = n
	}
	return out
}

// FuzzParseHash: any hash gives figures, never a panic, and a field that
// is not a whole number never counts.
func FuzzParseHash(f *testing.F) {
	f.Add("requests", "5", "refused:rate_limited", "1")
	f.Add("bytes", "x", "refused:", "2")
	f.Add("requests", "9223372036854775808", "other", "1")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		c := parseHash(map[string]string{k1: v1, k2: v2})
		if c.Requests != 0 && k1 != fieldRequests && k2 != fieldRequests {
			t.Fatalf("requests %d from %q=%q %q=%q", c.Requests, k1, v1, k2, v2)
		}
		for code := range c.Refused {
			if code == "" {
				t.Fatal("a refusal without a code")
			}
		}
	})
}

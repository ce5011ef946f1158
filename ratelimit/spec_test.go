package ratelimit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCorsAnywhere(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       Limit
		wantExempt []string
		wantOnly   bool
		wantErr    string
	}{
		{name: "limit only", in: "50 3", want: Limit{Requests: 50, Window: 3 * time.Minute}},
		{name: "readme example", in: `50 3 my.example.com /(.*\.)?friendly\.example$/`,
			want: Limit{Requests: 50, Window: 3 * time.Minute}, wantExempt: []string{"my.example.com", `/(.*\.)?friendly\.example$/`}},
		{name: "extra spaces", in: "  1   5   example.com  ", want: Limit{Requests: 1, Window: 5 * time.Minute}, wantExempt: []string{"example.com"}},
		{name: "host with port", in: "1 5 localhost:8080", want: Limit{Requests: 1, Window: 5 * time.Minute}, wantExempt: []string{"localhost:8080"}},
		{name: "empty is off", in: "", want: Limit{}},
		{name: "blank is off", in: "   ", want: Limit{}},
		{name: "max zero serves only the listed hosts", in: `0 1 /(.*\.)?example\.com/`,
			wantExempt: []string{`/(.*\.)?example\.com/`}, wantOnly: true},
		{name: "max zero with two hosts", in: "0 1 example.com www.example.com",
			wantExempt: []string{"example.com", "www.example.com"}, wantOnly: true},
		{name: "max zero without hosts", in: "0 1", wantErr: "none is listed"},
		{name: "period zero", in: "1 0", wantErr: "minutes"},
		{name: "period too long", in: "1 1441", wantErr: "minutes"},
		{name: "missing period", in: "50", wantErr: "missing the period"},
		{name: "not numbers", in: "fifty 3", wantErr: "max requests"},
		{name: "limit syntax", in: "50/1m", wantErr: "missing the period"},
		{name: "negative", in: "-5 3", wantErr: "max requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCorsAnywhere(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCorsAnywhere(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Origin != tt.want || !slices.Equal(got.Exempt, tt.wantExempt) || got.Only != tt.wantOnly {
				t.Fatalf("ParseCorsAnywhere(%q) = %+v, %v; want %v, %q, only %v", tt.in, got, err, tt.want, tt.wantExempt, tt.wantOnly)
			}
		})
	}
}

func FuzzParseCorsAnywhere(f *testing.F) {
	for _, s := range []string{"50 3", `50 3 my.example.com /(.*\.)?friendly\.example$/`, "0 1 a.com", "1 5 localhost:8080", "1 1 /a)|(b/", "1 1 //", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ca, err := ParseCorsAnywhere(s)
		if err != nil {
			return
		}
		l, exempt := ca.Origin, ca.Exempt
		if ca.Only && (!l.Off() || len(exempt) == 0) {
			t.Fatalf("ParseCorsAnywhere(%q) = %+v: a max of 0 must list hosts and limit nothing", s, ca)
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseCorsAnywhere(%q) = %v, which does not validate: %v", s, l, err)
		}
		if !ca.Only && l.Window%time.Minute != 0 {
			t.Fatalf("ParseCorsAnywhere(%q) window %v is not whole minutes", s, l.Window)
		}
	})
}

// TestDefaultLimits: the defaults are valid limits of the documented size.
func TestDefaultLimits(t *testing.T) {
	for in, want := range map[string]Limit{
		DefaultOriginLimit: {Requests: 600, Window: time.Minute},
		DefaultClientLimit: {Requests: 1200, Window: time.Minute},
	} {
		if got, err := ParseLimit(in); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

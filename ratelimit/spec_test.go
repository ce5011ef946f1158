package ratelimit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		wantErr string // substring; empty means success
	}{
		{in: "60/1m", want: Limit{60, time.Minute}},
		{in: "1000/1h", want: Limit{1000, time.Hour}},
		{in: "10/30s", want: Limit{10, 30 * time.Second}},
		{in: "5/s", want: Limit{5, time.Second}},
		{in: "5/m", want: Limit{5, time.Minute}},
		{in: "5/h", want: Limit{5, time.Hour}},
		{in: "100/1h30m", want: Limit{100, 90 * time.Minute}},
		{in: "100/1m30s", want: Limit{100, 90 * time.Second}},
		{in: "7/90s", want: Limit{7, 90 * time.Second}},
		{in: "1/24h", want: Limit{1, 24 * time.Hour}},
		{in: "1000000/1s", want: Limit{MaxRequests, time.Second}},
		{in: "  60/1m\n", want: Limit{60, time.Minute}},
		{in: "off", want: Limit{}},
		{in: "OFF", want: Limit{}},
		{in: " Off ", want: Limit{}},
		{in: "", wantErr: "empty"},
		{in: "60", wantErr: "no '/'"},
		{in: "0/1m", wantErr: "write \"off\""},
		{in: "-1/1m", wantErr: "whole number"},
		{in: "+1/1m", wantErr: "whole number"},
		{in: "1.5/1m", wantErr: "whole number"},
		{in: "1000001/1s", wantErr: "whole number"},
		{in: "99999999999/1s", wantErr: "whole number"},
		{in: "60/", wantErr: "empty window"},
		{in: "60/1", wantErr: "want whole numbers"},
		{in: "60/m1", wantErr: "want whole numbers"},
		{in: "60/1d", wantErr: "want whole numbers"},
		{in: "60/500ms", wantErr: "want whole numbers"},
		{in: "60/1us", wantErr: "want whole numbers"},
		{in: "60/1s1m", wantErr: "units must be"},
		{in: "60/1m1m", wantErr: "units must be"},
		{in: "60/1.5m", wantErr: "want whole numbers"},
		{in: "60/0s", wantErr: "shorter than"},
		{in: "60/25h", wantErr: "longer than"},
		{in: "60/86401s", wantErr: "longer than"},
		{in: "60/99999999999h", wantErr: "longer than"},
		{in: "60 /1m", wantErr: "whole number"},
		{in: "60/ 1m", wantErr: "want whole numbers"},
		{in: "60/1M", wantErr: "want whole numbers"},
		{in: "60/1m/1m", wantErr: "want whole numbers"},
		{in: "on", wantErr: "no '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLimit(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLimit(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLimitString(t *testing.T) {
	tests := []struct {
		in   Limit
		want string
	}{
		{Limit{}, "off"},
		{Limit{60, time.Minute}, "60/1m"},
		{Limit{5, time.Second}, "5/1s"},
		{Limit{7, 90 * time.Second}, "7/90s"},
		{Limit{1, 90 * time.Minute}, "1/90m"},
		{Limit{1000, time.Hour}, "1000/1h"},
		{Limit{1, 24 * time.Hour}, "1/24h"},
		{Limit{600, time.Minute}, DefaultOriginLimit},
		{Limit{1200, time.Minute}, DefaultClientLimit},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParseLimit(tt.want)
			if err != nil || back != tt.in {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %v", tt.want, back, err, tt.in)
			}
		})
	}
}

func TestParseCorsAnywhere(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       Limit
		wantExempt []string
		wantErr    string
	}{
		{name: "limit only", in: "50 3", want: Limit{50, 3 * time.Minute}},
		{name: "readme example", in: `50 3 my.example.com /(.*\.)?friendly\.example$/`,
			want: Limit{50, 3 * time.Minute}, wantExempt: []string{"my.example.com", `/(.*\.)?friendly\.example$/`}},
		{name: "extra spaces", in: "  1   5   example.com  ", want: Limit{1, 5 * time.Minute}, wantExempt: []string{"example.com"}},
		{name: "host with port", in: "1 5 localhost:8080", want: Limit{1, 5 * time.Minute}, wantExempt: []string{"localhost:8080"}},
		{name: "empty is off", in: "", want: Limit{}},
		{name: "blank is off", in: "   ", want: Limit{}},
		{name: "max zero", in: "0 1 example.com", wantErr: "origin allowlist"},
		{name: "period zero", in: "1 0", wantErr: "minutes"},
		{name: "period too long", in: "1 1441", wantErr: "minutes"},
		{name: "missing period", in: "50", wantErr: "missing the period"},
		{name: "not numbers", in: "fifty 3", wantErr: "max requests"},
		{name: "limit syntax", in: "50/1m", wantErr: "missing the period"},
		{name: "negative", in: "-5 3", wantErr: "max requests"},
		{name: "regex unterminated", in: "1 1 /abc", wantErr: "start and end with '/'"},
		{name: "regex unopened", in: "1 1 abc/", wantErr: "start and end with '/'"},
		{name: "regex empty", in: "1 1 //", wantErr: "start and end"},
		{name: "regex lookahead", in: "1 1 /(?!x)y/", wantErr: "RE2"},
		{name: "regex unbalanced", in: "1 1 /a)|(b/", wantErr: "RE2"},
		{name: "bad host", in: "1 1 exa$mple.com", wantErr: "not an origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, exempt, err := ParseCorsAnywhere(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCorsAnywhere(%q) = %v, %q, %v; want error containing %q", tt.in, got, exempt, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || !slices.Equal(exempt, tt.wantExempt) {
				t.Fatalf("ParseCorsAnywhere(%q) = %v, %q, %v; want %v, %q", tt.in, got, exempt, err, tt.want, tt.wantExempt)
			}
		})
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"60/1m", "5/s", "1000/1h", "100/1h30m", "off", "0/1m", "60/1d", "1/24h", "1000000/1s", "60/0s", "9/1h0m0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLimit(%q) = %v, which does not validate: %v", s, l, err)
		}
		back, err := ParseLimit(l.String())
		if err != nil || back != l {
			t.Fatalf("ParseLimit(%q) = %v; its String %q reads back as %v, %v", s, l, l.String(), back, err)
		}
	})
}

func FuzzParseCorsAnywhere(f *testing.F) {
	for _, s := range []string{"50 3", `50 3 my.example.com /(.*\.)?friendly\.example$/`, "0 1 a.com", "1 5 localhost:8080", "1 1 /a)|(b/", "1 1 //", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, exempt, err := ParseCorsAnywhere(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseCorsAnywhere(%q) = %v, which does not validate: %v", s, l, err)
		}
		if l.Window%time.Minute != 0 {
			t.Fatalf("ParseCorsAnywhere(%q) window %v is not whole minutes", s, l.Window)
		}
		if _, err := compileExempt(exempt); err != nil {
			t.Fatalf("ParseCorsAnywhere(%q) exempt %q does not compile: %v", s, exempt, err)
		}
	})
}

package rate

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		wantErr string // substring; empty means success
	}{
		{in: "60/1m", want: Limit{Requests: 60, Window: time.Minute}},
		{in: "1000/1h", want: Limit{Requests: 1000, Window: time.Hour}},
		{in: "10/30s", want: Limit{Requests: 10, Window: 30 * time.Second}},
		{in: "5/s", want: Limit{Requests: 5, Window: time.Second}},
		{in: "5/m", want: Limit{Requests: 5, Window: time.Minute}},
		{in: "5/h", want: Limit{Requests: 5, Window: time.Hour}},
		{in: "100/1h30m", want: Limit{Requests: 100, Window: 90 * time.Minute}},
		{in: "100/1m30s", want: Limit{Requests: 100, Window: 90 * time.Second}},
		{in: "7/90s", want: Limit{Requests: 7, Window: 90 * time.Second}},
		{in: "1/24h", want: Limit{Requests: 1, Window: 24 * time.Hour}},
		{in: "1000000/1s", want: Limit{Requests: MaxRequests, Window: time.Second}},
		{in: "  60/1m\n", want: Limit{Requests: 60, Window: time.Minute}},
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
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
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
		{Limit{Requests: 60, Window: time.Minute}, "60/1m"},
		{Limit{Requests: 5, Window: time.Second}, "5/1s"},
		{Limit{Requests: 7, Window: 90 * time.Second}, "7/90s"},
		{Limit{Requests: 1, Window: 90 * time.Minute}, "1/90m"},
		{Limit{Requests: 1000, Window: time.Hour}, "1000/1h"},
		{Limit{Requests: 1, Window: 24 * time.Hour}, "1/24h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			back, err := Parse(tt.want)
			if err != nil || back != tt.in {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tt.want, back, err, tt.in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"60/1m", "5/s", "1000/1h", "100/1h30m", "off", "0/1m", "60/1d", "1/24h", "1000000/1s", "60/0s", "9/1h0m0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %v, which does not validate: %v", s, l, err)
		}
		back, err := Parse(l.String())
		if err != nil || back != l {
			t.Fatalf("Parse(%q) = %v; its String %q reads back as %v, %v", s, l, l.String(), back, err)
		}
	})
}

package web

import (
	"strconv"
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1024", 1024},
		{"1B", 1},
		{"64KiB", 64 << 10},
		{"10MiB", 10 << 20},
		{"1GiB", 1 << 30},
		{" 2 GiB ", 2 << 30},
		{"4294967296GiB", 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, err := ParseBytes(tt.in); err != nil || got != tt.want {
				t.Errorf("ParseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "-1", "1TB", "1 KB", "lots", "1.5MiB", "4294967297GiB", "GiB", "0x10"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			if n, err := ParseBytes(bad); err == nil {
				t.Errorf("ParseBytes(%q) = %d, accepted", bad, n)
			}
		})
	}
}

// FuzzParseBytes: whatever is accepted is a count from 0 to 2^62 that
// reads back the same written as a plain number.
func FuzzParseBytes(f *testing.F) {
	for _, seed := range []string{"0", "10MiB", " 2 GiB ", "1B", "-1", "4294967297GiB", "9223372036854775807"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseBytes(in)
		if err != nil {
			return
		}
		if n < 0 || n > 1<<62 {
			t.Fatalf("ParseBytes(%q) = %d, outside 0..2^62", in, n)
		}
		if again, err := ParseBytes(strconv.FormatInt(n, 10)); err != nil || again != n {
			t.Fatalf("ParseBytes(%q) = %d, but its decimal form reads %d, %v", in, n, again, err)
		}
	})
}

package main

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{0, 5, 0}, 5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Ratios pair the rounds: a target that was slow in the round the machine
// was busy is compared with the reference in that same round.
func TestRatioPairsRounds(t *testing.T) {
	load := func(rps float64, p50 time.Duration) sample {
		return sample{Load: wrkResult{Requests: rps}, Single: wrkResult{P50: p50}}
	}
	r := results{
		"corsbridge": {load(100, 300*time.Microsecond), load(50, 500*time.Microsecond), load(120, 260*time.Microsecond)},
		"nginx":      {load(100, 100*time.Microsecond), load(25, 100*time.Microsecond), load(100, 100*time.Microsecond)},
		"direct":     {load(200, 100*time.Microsecond), load(200, 200*time.Microsecond), load(200, 60*time.Microsecond)},
	}
	if got := r.ratio("corsbridge", "nginx", reqs); got != 1.2 {
		t.Errorf("ratio = %v, want 1.2 (the median of 1, 2 and 1.2)", got)
	}
	if got, ok := r.overhead("corsbridge"); !ok || got != 200*time.Microsecond {
		t.Errorf("overhead = %v, %v; want 200µs", got, ok)
	}
	r["nginx"][1].Err = errTest
	if got := r.ratio("corsbridge", "nginx", reqs); got != 1.1 {
		t.Errorf("ratio without the failed round = %v, want 1.1", got)
	}
}

var errTest = testError("failed")

type testError string

func (e testError) Error() string { return string(e) }

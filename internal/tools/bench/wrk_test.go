package main

import (
	"testing"
	"time"
)

const wrkReport = `Running 10s test @ http://127.0.0.1:40000/http://127.0.0.1:40001/1k
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.02ms  41.33ms   91.02%
    Req/Sec    15.61k     1.10k   17.90k    70.50%
  Latency Distribution
     50%  812.00us
     75%    2.26ms
     90%    2.90ms
     99%    5.50ms
  310745 requests in 10.00s, 387.43MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  31068.06
Transfer/sec:     38.74MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 31068.06, P50: 812 * time.Microsecond, P99: 5500 * time.Microsecond, Errors: 3, Non2xx: 7, Completed: 310745}
	if got != want {
		t.Errorf("parseWrk = %+v, want %+v", got, want)
	}
}

func TestParseWrkRefusesReportsWithoutLatency(t *testing.T) {
	if _, err := parseWrk("Requests/sec:  100.00\n"); err == nil {
		t.Error("parseWrk accepted a report without --latency figures")
	}
}

func TestParseWrkDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"812.00us", 812 * time.Microsecond},
		{"1.50ms", 1500 * time.Microsecond},
		{"2.00s", 2 * time.Second},
		{"1.50m", 90 * time.Second},
	}
	for _, tt := range tests {
		got, err := parseWrkDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12", "fast", "1.2h"} {
		if _, err := parseWrkDuration(bad); err == nil {
			t.Errorf("parseWrkDuration(%q) accepted", bad)
		}
	}
}

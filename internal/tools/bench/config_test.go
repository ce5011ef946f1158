package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParsePin(t *testing.T) {
	tests := []struct {
		in   string
		want pinning
	}{
		{"none", pinning{}},
		{"split", pinning{Load: "0", Proxy: "1", Upstream: "1"}},
		{"load=0,proxy=1,upstream=0", pinning{Load: "0", Proxy: "1", Upstream: "0"}},
		{"proxy=0-1", pinning{Proxy: "0-1"}},
	}
	for _, tt := range tests {
		if got, err := parsePin(tt.in); err != nil || got != tt.want {
			t.Errorf("parsePin(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"half", "load=", "wrk=0", "load=0;rm"} {
		if _, err := parsePin(bad); err == nil {
			t.Errorf("parsePin(%q) accepted", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"-rounds", "5", "-duration", "3s", "-targets", "corsbridge,nginx,plain-keepalive",
		"-stream", "16MiB", "-corsbridge-env", "GOGC=400"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rounds != 5 || c.Duration != 3*time.Second || c.StreamBytes != 16<<20 ||
		!slices.Equal(c.Targets, []string{"corsbridge", "nginx", "plain-keepalive"}) ||
		!slices.Equal(c.CorsbridgeEnv, []string{"GOGC=400"}) {
		t.Errorf("parseConfig = %+v", c)
	}
	for _, bad := range [][]string{
		{"-rounds", "0"}, {"-duration", "100ms"}, {"-targets", "haproxy"}, {"-threads", "65"},
		{"-corsbridge-env", "GOGC"}, {"extra"}, {"-stream", "65GiB"}, {"-stream", "lots"},
	} {
		if _, err := parseConfig(bad, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted", bad)
		}
	}
}

package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		trusted string
		headers map[string][]string
		want    string
	}{
		{name: "peer v4", remote: "192.0.2.1:1234", want: "192.0.2.1"},
		{name: "peer v6", remote: "[2001:db8::1]:1234", want: "2001:db8::1"},
		{name: "peer v4-mapped unmapped", remote: "[::ffff:192.0.2.1]:1234", want: "192.0.2.1"},
		{name: "peer zone dropped", remote: "[fe80::1%eth0]:1234", want: "fe80::1"},
		{name: "peer without port", remote: "192.0.2.1", want: "192.0.2.1"},
		{name: "peer unix socket", remote: "@", want: "invalid IP"},
		{name: "xff ignored without trusted header", remote: "192.0.2.1:1",
			headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "X-Real-Ip": {"198.51.100.8"}}, want: "192.0.2.1"},
		{name: "trusted header used", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}}, want: "198.51.100.7"},
		{name: "trusted header case-insensitive", remote: "10.0.0.1:1", trusted: "fly-client-ip",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}}, want: "198.51.100.7"},
		{name: "trusted header v6 mapped", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {" ::ffff:198.51.100.7 "}}, want: "198.51.100.7"},
		{name: "trusted header wins over xff", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7"}, "X-Forwarded-For": {"203.0.113.9"}}, want: "198.51.100.7"},
		{name: "trusted header missing: peer, not xff", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header invalid: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7, 203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header repeated: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7", "203.0.113.9"}}, want: "10.0.0.1"},
		{name: "trusted header with port: peer", remote: "10.0.0.1:1", trusted: "Fly-Client-IP",
			headers: map[string][]string{"Fly-Client-Ip": {"198.51.100.7:80"}}, want: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/https://api.example/", nil)
			r.RemoteAddr = tt.remote
			for k, vs := range tt.headers {
				r.Header[k] = vs
			}
			if got := ClientIP(r, tt.trusted).String(); got != tt.want {
				t.Fatalf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := clientKey(netip.MustParseAddr(tt.in)); got != tt.want {
				t.Fatalf("clientKey(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if got := clientKey(netip.Addr{}); got != "unknown" {
		t.Fatalf("clientKey(zero) = %s, want unknown", got)
	}
}

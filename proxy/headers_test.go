package proxy

import (
	"net/http"
	"strings"
	"testing"
)

func TestScrubRequestHeadersDropsRoutingOverrides(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		dropped bool
	}{
		{"IIS and Symfony path override", "X-Original-URL", true},
		{"ISAPI_Rewrite and Zend path override", "X-Rewrite-URL", true},
		{"path override", "X-Override-URL", true},
		{"nginx auth_request path", "X-Original-URI", true},
		{"Envoy original path", "X-Envoy-Original-Path", true},
		{"host override", "X-Host", true},
		{"ARR original host", "X-Original-Host", true},
		{"host override header", "X-HTTP-Host-Override", true},
		{"forwarded prefix", "X-Forwarded-Prefix", true},
		{"ordinary header kept", "X-Custom", false},
		{"Authorization kept", "Authorization", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, "/admin")
			scrubRequestHeaders(h, "")
			if got := h.Get(tt.header) == ""; got != tt.dropped {
				t.Errorf("%s dropped = %v, want %v", tt.header, got, tt.dropped)
			}
		})
	}
}

func TestScrubResponseHeadersDropsWhatActsOnTheProxyOrigin(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		dropped bool
	}{
		{"FedCM login status", "Set-Login", true},
		{"FedCM login status, old name", "IdP-SignIn-Status", true},
		{"origin trial token", "Origin-Trial", true},
		{"client hints", "Accept-CH", true},
		{"client hints lifetime", "Accept-CH-Lifetime", true},
		{"critical client hints", "Critical-CH", true},
		{"speculation rules", "Speculation-Rules", true},
		{"prerender opt-in", "Supports-Loading-Mode", true},
		{"refresh", "Refresh", true},
		{"origin agent cluster", "Origin-Agent-Cluster", true},
		{"topics", "Observe-Browsing-Topics", true},
		{"shared storage", "Shared-Storage-Write", true},
		{"storage access", "Activate-Storage-Access", true},
		{"device-bound session", "Secure-Session-Registration", true},
		{"device-bound session challenge", "Secure-Session-Challenge", true},
		{"device-bound session, old name", "Sec-Session-Registration", true},
		{"private state token", "Sec-Private-State-Token", true},
		{"attribution source", "Attribution-Reporting-Register-Source", true},
		{"attribution trigger", "Attribution-Reporting-Register-Trigger", true},
		{"attribution OS source", "Attribution-Reporting-Register-OS-Source", true},
		{"protected audience signals", "Ad-Auction-Signals", true},
		{"content type kept", "Content-Type", false},
		{"cache control kept", "Cache-Control", false},
		{"link kept", "Link", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, "x")
			scrubResponseHeaders(h)
			if got := h.Get(tt.header) == ""; got != tt.dropped {
				t.Errorf("%s dropped = %v, want %v", tt.header, got, tt.dropped)
			}
		})
	}
}

// The tables are looked up by canonical key: a name spelt otherwise would
// never match, and every entry must say why it is there.
func TestScrubTablesCanonicalWithReasons(t *testing.T) {
	check := func(table, name, reason string) {
		t.Helper()
		if name != http.CanonicalHeaderKey(name) {
			t.Errorf("%s: %q is not canonical (%q)", table, name, http.CanonicalHeaderKey(name))
		}
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: %q has no reason", table, name)
		}
	}
	for name, reason := range dropRequestHeaders {
		check("request", name, reason)
	}
	for name, reason := range dropResponseHeaders {
		check("response", name, reason)
	}
	for _, p := range dropResponsePrefixes {
		check("response prefix", strings.TrimSuffix(p.prefix, "-"), p.reason)
	}
}

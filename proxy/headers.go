package proxy

import (
	"net/http"
	"strings"
)

// Request headers that never reach the upstream, beyond the hop-by-hop
// headers (and those named in Connection) that httputil.ReverseProxy already
// removes. One reason per header.
var dropRequestHeaders = map[string]string{
	"Cookie":                   "the user's cookies for the proxy's origin are not the upstream's business",
	"Cookie2":                  "obsolete cookie header, same reason as Cookie",
	"Forwarded":                "client-supplied forwarding claims are spoofable; the proxy does not vouch for them",
	"X-Real-Ip":                "a spoofable client-IP claim",
	"True-Client-Ip":           "a spoofable client-IP claim",
	"Client-Ip":                "a spoofable client-IP claim",
	"X-Originating-Ip":         "a spoofable client-IP claim",
	"X-Remote-Ip":              "a spoofable client-IP claim",
	"X-Remote-Addr":            "a spoofable client-IP claim",
	"X-Original-Forwarded-For": "a spoofable client-IP claim",
	"X-Client-Ip":              "a spoofable client-IP claim",
	"X-Cluster-Client-Ip":      "a spoofable client-IP claim",
	"Via":                      "describes the path to the proxy, not to the upstream; the proxy sets its own",
	"X-Corsbridge-Key":         "a corsbridge access key is for the proxy, never for the upstream",

	// Routing overrides: servers that honour them serve the path or host they
	// name instead of the request's own, which would defeat every path scope,
	// deny rule and block the proxy judged on the request line.
	"X-Original-Url":        "IIS URL Rewrite and Symfony serve this path instead of the request's",
	"X-Rewrite-Url":         "IIS (ISAPI_Rewrite), Zend and Symfony serve this path instead of the request's",
	"X-Override-Url":        "some frameworks serve this path instead of the request's",
	"X-Original-Uri":        "the nginx auth_request convention for the path, trusted by some backends",
	"X-Envoy-Original-Path": "set by Envoy for the path before its rewrite; backends trust it as the real path",
	"X-Host":                "a host override some frameworks honour, picking another virtual host",
	"X-Original-Host":       "some gateways and frameworks read it as the request's host",
	"X-Http-Host-Override":  "a host override some frameworks honour",
}

// Prefixes of request headers set by platforms in front of the proxy (or
// forged to look like them); forwarding them would leak the user's IP and
// the platform's internals to every upstream.
var dropRequestPrefixes = []string{
	"X-Forwarded-", // X-Forwarded-For/Host/Proto/Port/Prefix/Ssl: spoofable, and leak the client IP
	"Fly-",         // Fly.io edge: Fly-Client-Ip, Fly-Region, Fly-Request-Id
	"Cf-",          // Cloudflare edge: Cf-Connecting-Ip, Cf-Ray, Cf-Ipcountry
}

func scrubRequestHeaders(h http.Header, extra string) {
	for name := range h {
		if dropped(name) {
			delete(h, name)
		}
	}
	if extra != "" {
		h.Del(extra)
	}
}

// dropped: a request header (by its canonical name) in the tables above.
// Names with underscores are dropped whole, as nginx does: CGI, WSGI and PHP
// map X_Forwarded_For to the same variable as X-Forwarded-For, so they would
// smuggle what the tables refuse.
func dropped(name string) bool {
	_, drop := dropRequestHeaders[name]
	return drop || hasAnyPrefix(name, dropRequestPrefixes) || strings.IndexByte(name, '_') >= 0
}

// DropsRequestHeader reports whether a request header (by its canonical
// name) never reaches the upstream: the tables above, or the trusted
// client-IP header. The cache leaves such headers out of its key, since
// they cannot change the upstream's answer.
func DropsRequestHeader(name, trustedProxyHeader string) bool {
	return dropped(name) || (trustedProxyHeader != "" && strings.EqualFold(name, trustedProxyHeader))
}

// Response headers that never reach the client. One reason per header.
var dropResponseHeaders = map[string]string{
	"Set-Cookie":                           "cookies would be set on the proxy's origin, shared by every site using it",
	"Set-Cookie2":                          "obsolete cookie header, same reason as Set-Cookie",
	"Strict-Transport-Security":            "would pin HSTS on the proxy's origin",
	"Alt-Svc":                              "would redirect the browser's later connections to the proxy elsewhere",
	"Clear-Site-Data":                      "would wipe the proxy origin's storage for every site using it",
	"Service-Worker-Allowed":               "would widen a service worker's scope on the proxy's origin",
	"Nel":                                  "would register error reporting for the proxy's origin",
	"Report-To":                            "would register report endpoints for the proxy's origin",
	"Reporting-Endpoints":                  "would register report endpoints for the proxy's origin",
	"Public-Key-Pins":                      "would pin keys on the proxy's origin",
	"Public-Key-Pins-Report-Only":          "same as Public-Key-Pins",
	"Expect-Ct":                            "would set certificate-transparency policy on the proxy's origin",
	"Cross-Origin-Resource-Policy":         "names the upstream's origin, not the proxy's; it would block what CORS allows",
	"Timing-Allow-Origin":                  "the proxy decides cross-origin access, not the upstream",
	"X-Request-Url":                        "the proxy sets it; an upstream value would mislead",
	"X-Final-Url":                          "the proxy sets it; an upstream value would mislead",
	"X-Request-Id":                         "the proxy sets it; an upstream value would mislead",
	"Access-Control-Allow-Private-Network": "the proxy answers preflights itself",
	"X-Corsbridge-Error":                   "an upstream must not be able to forge the proxy's own errors",

	// Headers the HTML, Fetch and related specifications apply to the origin
	// that served the response: relayed, they would act on the proxy's origin,
	// shared by every site using it.
	"Set-Login":                   "FedCM: would set the login status of the proxy's origin",
	"Idp-Signin-Status":           "FedCM's earlier name of Set-Login",
	"Origin-Trial":                "would enable experimental browser features for the proxy's origin",
	"Accept-Ch":                   "would make the browser send client hints to the proxy's origin from now on",
	"Accept-Ch-Lifetime":          "the obsolete lifetime of Accept-CH, same reason",
	"Critical-Ch":                 "makes the browser retry with client hints, with Accept-CH",
	"Speculation-Rules":           "would load speculation rules that prefetch and prerender URLs at the proxy's origin",
	"Supports-Loading-Mode":       "would opt the proxy's origin into credentialed prerendering and fenced frames",
	"Refresh":                     "would navigate a document at the proxy's origin elsewhere",
	"Origin-Agent-Cluster":        "would decide origin-keyed agent clustering for the proxy's whole origin",
	"Observe-Browsing-Topics":     "Topics API: would record the user's topics as observed by the proxy's origin",
	"Shared-Storage-Write":        "would write to the proxy origin's shared storage",
	"Activate-Storage-Access":     "Storage Access headers: would activate storage access for the proxy's origin",
	"Secure-Session-Registration": "device-bound sessions: would register a session for the proxy origin's cookies",
	"Secure-Session-Challenge":    "device-bound sessions: answers a session challenge for the proxy's origin",
	"Sec-Session-Registration":    "earlier name of Secure-Session-Registration",
	"Sec-Session-Challenge":       "earlier name of Secure-Session-Challenge",
	"Sec-Private-State-Token":     "would store Private State Tokens issued in the proxy origin's name",
}

// Prefixes of response headers that act on the origin serving them, beyond
// the Access-Control-* headers: one reason per prefix.
var dropResponsePrefixes = []struct{ prefix, reason string }{
	{"Attribution-Reporting-", "Attribution Reporting: would register sources and triggers for the proxy's origin"},
	{"Ad-Auction-", "Protected Audience: would store auction signals and events for the proxy's origin"},
}

// Upstream rate-limit headers are kept under this prefix so they do not
// collide with the proxy's own X-RateLimit-*, RateLimit and
// RateLimit-Policy headers.
const upstreamRateLimitPrefix = "X-Upstream-"

func scrubResponseHeaders(h http.Header) {
	for name, values := range h {
		switch {
		case strings.HasPrefix(name, "Access-Control-"):
			// Every upstream CORS header: the proxy decides CORS, exactly once.
			delete(h, name)
		case strings.HasPrefix(name, "X-Ratelimit-"), name == "Ratelimit", name == "Ratelimit-Policy":
			delete(h, name)
			h[upstreamRateLimitPrefix+name] = values
		default:
			if _, drop := dropResponseHeaders[name]; drop || hasResponsePrefix(name) {
				delete(h, name)
			}
		}
	}
}

func hasResponsePrefix(name string) bool {
	for _, p := range dropResponsePrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

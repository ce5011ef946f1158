package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
)

// neutralHeaders are request headers known not to select a different
// resource on their own, or handled by the cache itself. Every other
// forwarded request header is part of the cache key; see keyedHeaders.
var neutralHeaders = map[string]bool{
	// Sent by browsers on every fetch; a server that negotiates on them
	// says so in Vary, which the cache honours.
	"Accept":          true,
	"Accept-Encoding": true,
	"Accept-Language": true,
	"User-Agent":      true,
	"Referer":         true,
	"Origin":          true,
	"Dnt":             true,
	"Sec-Gpc":         true,
	"Priority":        true,
	"Save-Data":       true,
	"Sec-Fetch-Dest":  true,
	"Sec-Fetch-Mode":  true,
	"Sec-Fetch-Site":  true,
	"Sec-Fetch-User":  true,
	// corsbridge requires it of non-browser clients.
	"X-Requested-With": true,
	// Upgrade-Insecure-Requests only asks for an https redirect.
	"Upgrade-Insecure-Requests": true,
	// Tracing headers name the request, not the resource.
	"X-Request-Id": true,
	"Traceparent":  true,
	"Tracestate":   true,
	// The cache answers or rewrites these itself.
	"Cache-Control":     true,
	"Pragma":            true,
	"If-None-Match":     true,
	"If-Modified-Since": true,
	// Framing, not content.
	"Content-Length": true,
	"Connection":     true,
	"Keep-Alive":     true,
	"Te":             true,
}

// neutralPrefixes are like neutralHeaders: client hints, which servers that
// use them name in Vary (or Accept-CH and Critical-CH).
var neutralPrefixes = []string{"Sec-Ch-"}

// keyedHeaders is the rule that keeps one client's answer from another:
// every request header that reaches the upstream and is not in
// neutralHeaders is part of the cache key, name and value. An API key in a
// custom header (X-Api-Key: secret), a bearer token, a tenant or version
// header: the upstream may answer differently for it without naming it in
// Vary, so a request that carries it shares entries only with requests
// that carry exactly the same value, and never with one that carries none.
// The list of neutral headers is short on purpose: a header missing from
// it costs hit rate, never correctness. Headers the proxy does not forward
// (dropped says which) cannot change the upstream's answer and are left
// out. The values are hashed, so no secret is kept in a key.
//
// Authorization is keyed like any other, on top of RFC 9111 section 3.5
// (such a response is stored only when marked public, s-maxage or
// must-revalidate). Cookie never reaches the upstream (the proxy drops
// it), so it cannot select a response and is not keyed.
func keyedHeaders(h http.Header, dropped func(string) bool) string {
	var names []string
	for name := range h {
		if neutralHeaders[name] || hasPrefix(name, neutralPrefixes) || (dropped != nil && dropped(name)) {
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	sum := sha256.New()
	for _, name := range names {
		sum.Write([]byte(name))
		for _, v := range h[name] {
			sum.Write([]byte{0})
			sum.Write([]byte(v))
		}
		sum.Write([]byte{'\n'})
	}
	return hex.EncodeToString(sum.Sum(nil)[:16])
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// urlKey is the hash of a target URL: every key of that URL starts with it,
// so a purge of one URL finds all its variants.
func urlKey(target string) string {
	var buf [32]byte
	return string(appendURLKey(buf[:0], target))
}

// appendURLKey appends urlKey(target) to dst. With dst and the URL's copy on
// the stack, a lookup's key costs one allocation, the key itself, instead
// of three (docs/performance.md, "Cache hits (issue 14)").
func appendURLKey(dst []byte, target string) []byte {
	var scratch [512]byte
	sum := sha256.Sum256(append(scratch[:0], target...))
	return hex.AppendEncode(dst, sum[:16])
}

// variantKey is the key of a request before Vary: the URL, the keyed
// headers and the server's partition.
func variantKey(target, keyed, partition string) string {
	var buf [32 + 1 + 16]byte
	k := append(appendURLKey(buf[:0], target), ':')
	if keyed == "" && partition == "" {
		return string(append(k, '-'))
	}
	sum := sha256.Sum256([]byte(keyed + "\x00" + partition))
	return string(hex.AppendEncode(k, sum[:8]))
}

// varyNames lists the canonical header names of every Vary line.
func varyNames(h http.Header) []string {
	var names []string
	for _, line := range h.Values("Vary") {
		for _, name := range strings.Split(line, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if name != "*" {
				name = http.CanonicalHeaderKey(name)
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// varySelector is what a request sends in the headers an entry varies on,
// normalised so "gzip,br" and "gzip, br" select the same entry.
func varySelector(h http.Header, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range h.Values(name) {
			for j, part := range strings.Split(v, ",") {
				if i > 0 || j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.TrimSpace(part))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// varyKey is the key of one variant of a response that varies.
func varyKey(variant, selector string) string {
	sum := sha256.Sum256([]byte(selector))
	return variant + ":" + hex.EncodeToString(sum[:8])
}

package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// infoView is Info formatted for people, once, in New.
type infoView struct {
	Version      string
	OriginLimit  string // "600 requests per minute" or "off"
	ClientLimit  string
	SharedLimits bool
	Origins      []string // empty = any origin
	RequestBody  string   // "up to 10 MiB" or "no limit"
	ResponseBody string
	Redirects    string   // "up to 5 followed" or "not followed"
	Private      []string // empty = private targets refused
	Ports        []string // empty = any
	Required     []string // empty = none
	RequireKey   bool     // a key or token is required
	KeysEnabled  bool     // a key or token may be presented; true whenever RequireKey is
	Cache        string   // "off", or the cache's size and where it lives

	// CurlHeader is the header a client without a browser sends to pass the
	// required-header check; zero when none is required.
	CurlHeader header
	// FetchHeader is the header a cross-origin page must add; zero when the
	// Origin header, which the browser sends by itself, is enough.
	FetchHeader header
	// CurlHeaders and FetchHeaders are what the usage examples send: the
	// header above, if any, and the access key when one is required.
	CurlHeaders  []header
	FetchHeaders []header
}

type header struct{ Name, Value string }

// The access key as the examples send it. The name is the server's
// HeaderKey, which web does not import.
const (
	keyHeaderName  = "X-Corsbridge-Key"
	keyPlaceholder = "YOUR_KEY"
)

func newInfoView(info Info) infoView {
	v := infoView{
		Version:      strings.TrimSpace(info.Version),
		OriginLimit:  formatLimit(info.OriginLimit),
		ClientLimit:  formatLimit(info.ClientLimit),
		SharedLimits: info.SharedLimits,
		Origins:      clean(info.AllowedOrigins),
		RequestBody:  formatSizeLimit(info.MaxRequestBody),
		ResponseBody: formatSizeLimit(info.MaxResponseBody),
		Redirects:    formatRedirects(info.MaxRedirects),
		Private:      clean(info.AllowPrivate),
		Ports:        clean(info.AllowPorts),
		Required:     clean(info.RequireHeader),
		RequireKey:   info.RequireKey,
		KeysEnabled:  info.KeysEnabled || info.RequireKey,
		Cache:        formatCache(info.CacheSize, info.SharedCache),
	}
	v.CurlHeader, v.FetchHeader = exampleHeaders(v.Required, v.Origins)
	v.CurlHeaders = withKey(v.CurlHeader, v.RequireKey)
	v.FetchHeaders = withKey(v.FetchHeader, v.RequireKey)
	return v
}

// withKey lists h, unless it is zero, and the access key header when a key
// is required.
func withKey(h header, requireKey bool) []header {
	var out []header
	if h.Name != "" {
		out = append(out, h)
	}
	if requireKey {
		out = append(out, header{keyHeaderName, keyPlaceholder})
	}
	return out
}

// exampleHeaders picks the headers the usage examples send. The proxy wants
// any one of required. X-Requested-With is preferred because any client can
// send it; Origin alone means a terminal has to pretend to be a page.
func exampleHeaders(required, origins []string) (curl, fetch header) {
	if len(required) == 0 {
		return header{}, header{}
	}
	var originOK bool
	var other string
	for _, h := range required {
		switch {
		case strings.EqualFold(h, "Origin"):
			originOK = true
		case strings.EqualFold(h, "X-Requested-With"):
			other = "X-Requested-With"
		case other == "":
			other = http.CanonicalHeaderKey(h)
		}
	}
	switch {
	case other != "":
		curl = header{other, "x"}
	case len(origins) > 0:
		curl = header{"Origin", origins[0]}
	default:
		curl = header{"Origin", "https://your.site"}
	}
	if !originOK {
		fetch = curl
	}
	return curl, fetch
}

// clean drops blank entries and surrounding space.
func clean(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// formatLimit turns a rate limit as configured ("600/1m") into words ("600
// requests per minute"). Anything it does not understand is shown as written.
func formatLimit(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return "off"
	}
	n, period, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 0 {
		return s
	}
	noun := "requests"
	if count == 1 {
		noun = "request"
	}
	return fmt.Sprintf("%s %s per %s", groupDigits(count), noun, formatPeriod(strings.TrimSpace(period)))
}

func formatPeriod(p string) string {
	d, err := time.ParseDuration(p)
	if err != nil {
		return p
	}
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return p
}

// groupDigits writes 12000 as "12,000".
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatSizeLimit writes a body size limit: "up to 10 MiB", or "no limit"
// for zero or less.
func formatSizeLimit(n int64) string {
	if n <= 0 {
		return "no limit"
	}
	return "up to " + FormatBytes(n)
}

// formatBytes writes a positive size in binary units: 10485760 is "10 MiB",
// 1536 is "1.5 KiB".
// FormatBytes renders a byte count for people: "1 byte", "512 bytes",
// "10 MiB", "1.5 GiB". The proxy's error messages use it too.
func FormatBytes(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1024:
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	v = math.Round(v*10) / 10
	if v >= 1024 && i < len(units)-1 { // 1023.96 KiB rounds up to 1 MiB
		v = math.Round(v/1024*10) / 10
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func formatRedirects(n int) string {
	switch {
	case n <= 0:
		return "not followed"
	case n == 1:
		return "up to 1 followed"
	}
	return fmt.Sprintf("up to %d followed", n)
}

// formatCache describes the response cache for the landing page.
func formatCache(size int64, shared bool) string {
	if size <= 0 {
		return "off"
	}
	s := "up to " + FormatBytes(size) + " in memory"
	if shared {
		s += ", shared between instances through Redis"
	}
	return s
}

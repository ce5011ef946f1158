package tlsserve

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// redirectHandler sends every request on the plain port to the same host
// over https. The request target is copied from the raw request line, not
// rebuilt from the parsed URL: a proxied target such as
// /https://api.example/x?y=%2F must reach the https side byte for byte, and
// re-encoding would turn %2F into / or merge the double slash. 308 keeps
// the method and body, so a POST is not turned into a GET.
//
// A request without a Host (HTTP/1.0) cannot be redirected anywhere and
// goes to fallback.
func redirectHandler(httpsPort int, fallback http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			fallback.ServeHTTP(w, r)
			return
		}
		if httpsPort != DefaultHTTPSPort {
			host = net.JoinHostPort(host, strconv.Itoa(httpsPort))
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		target := r.RequestURI
		if !strings.HasPrefix(target, "/") {
			// absolute-form ("GET http://host/path"): Go has parsed it;
			// the path and query as sent are in the URL's raw fields.
			target = r.URL.RequestURI()
		}
		w.Header().Set("Location", "https://"+host+target)
		w.WriteHeader(http.StatusPermanentRedirect)
	})
}

package main

import (
	"context"
	"flag"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// plainProxy is the reference a Go programmer writes in ten lines: the
// target is read from the path as corsbridge does (/http://host/path), the
// transport is http.DefaultTransport's, and the only CORS work is
// Access-Control-Allow-Origin: *. No policy, no SSRF guard, no log, no
// limits. maxIdlePerHost > 0 overrides the standard library's 2 idle
// connections per host, to show how much of the gap is connection reuse.
func plainProxy(maxIdlePerHost int) http.Handler {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if maxIdlePerHost > 0 {
		transport.MaxIdleConnsPerHost = maxIdlePerHost
	}
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			if target, err := url.Parse(strings.TrimPrefix(pr.In.RequestURI, "/")); err == nil {
				pr.Out.URL = target
				pr.Out.Host = ""
			}
		},
		ModifyResponse: func(res *http.Response) error {
			res.Header.Set("Access-Control-Allow-Origin", "*")
			return nil
		},
	}
}

func runPlain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("plain", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	idle := fs.Int("max-idle-per-host", 0, "idle upstream connections kept per host; 0 keeps the standard library's default (2)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(ctx, *addr, plainProxy(*idle))
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
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
// roots, when set, are the CAs it trusts for HTTPS upstreams; its transport
// uses HTTP/2 where the upstream offers it, as http.DefaultTransport does.
func plainProxy(maxIdlePerHost int, roots *x509.CertPool) http.Handler {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if maxIdlePerHost > 0 {
		transport.MaxIdleConnsPerHost = maxIdlePerHost
	}
	if roots != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: roots}
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
	caFile := fs.String("ca", "", "PEM file of the roots trusted for HTTPS upstreams; empty: the system's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var roots *x509.CertPool
	if *caFile != "" {
		var err error
		if roots, err = loadRoots(*caFile); err != nil {
			return fmt.Errorf("-ca %s: %w", *caFile, err)
		}
	}
	return serve(ctx, *addr, plainProxy(*idle, roots), nil)
}

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// healthcheckTimeout bounds the whole probe; container runtimes have their
// own, longer, timeout around it.
const healthcheckTimeout = 3 * time.Second

// healthcheck is `corsbridge healthcheck`: it probes /healthz of the
// instance configured by the same flags and environment (CORSBRIDGE_ADDR,
// PORT) and succeeds only on 200. It needs no shell and no curl, so a
// distroless image's HEALTHCHECK can run it.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	addr, useTLS := healthAddr(cfg)
	target, err := healthURL(addr)
	if err != nil {
		return &usageError{err}
	}
	transport := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if useTLS {
		target = "https" + strings.TrimPrefix(target, "http")
		// A probe of the process itself over loopback: the certificate
		// cannot match 127.0.0.1, and only the status matters. The name
		// picks the certificate (autocert needs one).
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		if len(cfg.TLS.Domains) > 0 {
			transport.TLSClientConfig.ServerName = cfg.TLS.Domains[0]
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	// Proxy: nil: HTTP_PROXY in the container's environment must not
	// reroute a probe of the process itself.
	client := &http.Client{Transport: transport}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	fmt.Fprintln(stdout, "ok:", target)
	return nil
}

// healthAddr is where /healthz answers: --addr, or with TLS on the plain
// --http-addr (which serves it without a certificate), or when that is off
// the TLS address.
func healthAddr(cfg Config) (addr string, useTLS bool) {
	switch {
	case !cfg.TLS.On():
		return cfg.Addr, false
	case cfg.TLS.HTTPAddr != "off":
		return cfg.TLS.HTTPAddr, false
	}
	return cfg.TLS.Addr, true
}

// healthURL turns a listen address into the URL of its /healthz on this
// host: a wildcard listener (":8080", "0.0.0.0:8080", "[::]:8080") is probed
// on loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	switch ip, err := netip.ParseAddr(host); {
	case host == "":
		host = "127.0.0.1"
	case err == nil && ip.IsUnspecified() && ip.Is4():
		host = "127.0.0.1"
	case err == nil && ip.IsUnspecified():
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Control is a dialer's Control hook: it sees the address actually dialled,
// after DNS, and refuses it with an error.
type Control func(network, address string, c syscall.RawConn) error

// newTransport builds the proxy's own transport. Proxy is nil on purpose:
// HTTP_PROXY from the environment must never reroute (and so bypass) the
// SSRF guard, which sits in the dialer's Control hook and sees every address
// actually dialled, after DNS, on every redirect hop and reconnect.
func newTransport(d Deps) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            guardedDialer(d),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  d.Config.UpstreamTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true, // relay bodies as sent; never inflate (gzip bombs stay compressed)
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		TLSClientConfig:        clientTLS(d.RootCAs),
	}
}

// maxResponseHeaderBytes caps an upstream's response head.
const maxResponseHeaderBytes = 256 << 10

// guardedDialer dials through the SSRF Control hook (then the outer test
// guard, if any), resolving names with the injected resolver when one is set.
func guardedDialer(d Deps) func(ctx context.Context, network, addr string) (net.Conn, error) {
	control := func(network, address string, c syscall.RawConn) error {
		if err := d.Control(network, address, c); err != nil {
			return &refused{err}
		}
		if d.OuterControl != nil {
			return d.OuterControl(network, address, c)
		}
		return nil
	}
	dialer := &net.Dialer{
		Timeout:   min(d.Config.UpstreamTimeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   control,
	}
	if d.LookupHost != nil {
		return resolvingDialer(dialer, d.LookupHost)
	}
	return dialer.DialContext
}

// resolvingDialer resolves names with an injected resolver and dials each
// address in turn. The Control hook still checks every address dialled.
func resolvingDialer(d *net.Dialer, lookup func(ctx context.Context, host string) ([]string, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return d.DialContext(ctx, network, addr)
		}
		ips, err := lookup(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		var firstErr error
		for _, ip := range ips {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = &net.OpError{Op: "dial", Net: network, Err: errors.New("no addresses")}
		}
		return nil, firstErr
	}
}

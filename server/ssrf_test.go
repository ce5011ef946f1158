package server

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/corsbridge/corsbridge/allowlist"
)

// fakeDNS maps names to addresses, so tests can make a public-looking name
// resolve to a private address without a real resolver. Unknown names fail
// like NXDOMAIN.
func fakeDNS(records map[string][]string) func(ctx context.Context, host string) ([]string, error) {
	return func(ctx context.Context, host string) ([]string, error) {
		if addrs, ok := records[strings.ToLower(host)]; ok {
			return addrs, nil
		}
		return nil, errors.New("no such host")
	}
}

// dialCounter wraps the outer guard and counts the dials the policy let
// through to it.
type dialCounter struct{ allowed atomic.Int64 }

func TestSSRFLiteralSpellingsRefused(t *testing.T) {
	var counter dialCounter
	p := newProxy(t, func(d *Deps) {
		d.Policy = mustPolicy(t, allowlist.Config{}) // the public default: no private exceptions
		d.DialControl = func(network, address string, c syscall.RawConn) error {
			counter.allowed.Add(1)
			return loopbackOnly(network, address, c)
		}
	})
	targets := []string{
		"http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/",
		"http://0177.0.0.1/", "http://017700000001/", "http://127.0.0.1.:80/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
		"http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
		"http://0.0.0.0/", "http://0/", "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/", "http://100.64.0.1/",
		"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[fe80::1]/", "http://[fc00::1]/",
		"http://localhost/", "http://LOCALHOST./", "http://api.localhost/", "http://printer.local/", "http://db.internal/",
		"http://router.home.arpa/", "http://intranet/", "http://127。0。0。1/", "http://１２７.０.０.１/",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			res, body := p.do(t, "GET", "/"+target, nil, nil)
			if res.StatusCode != 403 && res.StatusCode != 400 {
				t.Fatalf("status %d (%s), want a refusal", res.StatusCode, body)
			}
		})
	}
	if n := counter.allowed.Load(); n != 0 {
		t.Errorf("the policy let %d dials through to the outer guard", n)
	}
}

func TestSSRFNamesResolvingToPrivateAddressesRefusedAtDial(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	port := upstream.URL[strings.LastIndexByte(upstream.URL, ':')+1:]
	var counter dialCounter
	p := newProxy(t, func(d *Deps) {
		d.Policy = mustPolicy(t, allowlist.Config{})
		d.LookupHost = fakeDNS(map[string][]string{
			"rebind.example.com":   {"127.0.0.1"},
			"metadata.example.com": {"169.254.169.254"},
			"private.example.com":  {"10.1.2.3", "192.168.0.10"},
			"mapped.example.com":   {"::ffff:10.0.0.1"},
			"public.example.com":   {"93.184.216.34"},
		})
		d.DialControl = func(network, address string, c syscall.RawConn) error {
			counter.allowed.Add(1)
			return loopbackOnly(network, address, c)
		}
	})
	for _, name := range []string{"rebind.example.com", "metadata.example.com", "private.example.com", "mapped.example.com"} {
		t.Run(name, func(t *testing.T) {
			res, body := p.do(t, "GET", "/http://"+name+":"+port+"/", nil, nil)
			checkErrorContract(t, res, body, 403, "target_forbidden")
		})
	}
	if n := counter.allowed.Load(); n != 0 {
		t.Errorf("the policy let %d private dials through", n)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("the loopback upstream was reached %d times through a rebinding name", n)
	}

	// A public address passes the policy; the outer guard stops it here, so
	// the test proves the policy's decision without a packet leaving.
	res, _ := p.do(t, "GET", "/http://public.example.com/", nil, nil)
	if res.StatusCode != 502 || counter.allowed.Load() != 1 {
		t.Errorf("public address: status %d, dials allowed by the policy %d; want 502 from the test guard after 1", res.StatusCode, counter.allowed.Load())
	}
	if !strings.Contains(p.Logs.String(), "test guard: refusing non-loopback dial to 93.184.216.34:80") {
		t.Errorf("the outer guard did not see the public dial:\n%s", p.Logs.String())
	}
}

func TestSSRFEveryResolvedAddressChecked(t *testing.T) {
	upstream, rec := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	port := upstream.URL[strings.LastIndexByte(upstream.URL, ':')+1:]
	p := newProxy(t, func(d *Deps) {
		d.Policy = mustPolicy(t, allowlist.Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		d.LookupHost = fakeDNS(map[string][]string{"mixed.example.com": {"10.9.9.9", "127.0.0.1"}})
	})
	res, _ := p.do(t, "GET", "/http://mixed.example.com:"+port+"/ok", nil, nil)
	if res.StatusCode != 200 || rec.last(t).RequestURI != "/ok" {
		t.Fatalf("status %d: the allowed address after a refused one was not used", res.StatusCode)
	}
}

func TestSSRFRedirectsToPrivateAddressesRefused(t *testing.T) {
	upstream, _ := newUpstream(t, redirector)
	p := newProxy(t, func(d *Deps) {
		// Only the upstream's own address is allowed, as an operator would
		// allow one internal API.
		d.Policy = mustPolicy(t, allowlist.Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		d.LookupHost = fakeDNS(map[string][]string{"sneaky.example.com": {"10.0.0.7"}})
	})
	for _, loc := range []string{
		"http://127.0.0.2/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
		"http://2130706434/", "http://localhost/", "http://sneaky.example.com/", "http://[::ffff:169.254.169.254]/",
	} {
		t.Run(loc, func(t *testing.T) {
			res, body := p.do(t, "GET", "/"+upstream.URL+"/to?code=302&loc="+loc, nil, nil)
			checkErrorContract(t, res, body, 403, "target_forbidden")
		})
	}
}

func mustPolicy(t *testing.T, cfg allowlist.Config) *allowlist.Policy {
	t.Helper()
	p, err := allowlist.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

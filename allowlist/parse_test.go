package allowlist

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParsePatterns(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,\t", nil},
		{"https://a.com,http://b.com:8080", []string{"https://a.com", "http://b.com:8080"}},
		{" a.com ,  b.com\n*.c.com ", []string{"a.com", "b.com", "*.c.com"}},
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := ParsePatterns(c.in); !slices.Equal(got, c.want) {
				t.Errorf("ParsePatterns(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"127.0.0.0/8, ::1", []string{"127.0.0.0/8", "::1/128"}},
		{"10.1.2.3/8 192.168.1.1", []string{"10.0.0.0/8", "192.168.1.1/32"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
		{"::ffff:127.0.0.1", []string{"127.0.0.1/32"}},
		{"fd00::/8", []string{"fd00::/8"}},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParsePrefixes(c.in)
			if err != nil {
				t.Fatal(err)
			}
			var gs []string
			for _, p := range got {
				gs = append(gs, p.String())
			}
			if !slices.Equal(gs, c.want) {
				t.Errorf("ParsePrefixes(%q) = %q, want %q", c.in, gs, c.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "localhost", "fe80::1%eth0", "fe80::%eth0/64", "::ffff:0:0/90", "1.2.3", "10.0.0.0/-1"} {
		t.Run("bad/"+bad, func(t *testing.T) {
			if _, err := ParsePrefixes(bad); err == nil {
				t.Errorf("ParsePrefixes(%q) succeeded", bad)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	got, err := ParsePorts("80, 443 8080")
	if err != nil || !slices.Equal(got, []uint16{80, 443, 8080}) {
		t.Errorf("ParsePorts = %v, %v", got, err)
	}
	if got, err := ParsePorts(""); err != nil || got != nil {
		t.Errorf(`ParsePorts("") = %v, %v; want any`, got, err)
	}
	for _, bad := range []string{"0", "65536", "-1", "http", "80x", "+80"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := ParsePorts(bad); err == nil {
				t.Errorf("ParsePorts(%q) succeeded", bad)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"port zero", Config{AllowPorts: []uint16{0}}},
		{"invalid prefix", Config{AllowPrivate: []netip.Prefix{{}}}},
		{"zoned self", Config{SelfAddrs: []netip.AddrPort{netip.MustParseAddrPort("[fe80::1%eth0]:80")}}},
		{"invalid self", Config{SelfAddrs: []netip.AddrPort{{}}}},
		{"bad origin", Config{AllowOrigins: []string{"example.com"}}},
		{"bad deny origin", Config{DenyOrigins: []string{"https://a.com/x"}}},
		{"null allowed", Config{AllowOrigins: []string{"null"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg); err == nil {
				t.Errorf("New(%+v) succeeded", c.cfg)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	p := mustPolicy(t, Config{
		AllowPrivate: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")},
		AllowPorts:   []uint16{8443, 443, 443},
		AllowOrigins: []string{"HTTPS://App.Example.com:443"},
		DenyOrigins:  []string{"null"},
		AllowTargets: []string{"*.Bücher.example", "api.example.com/v1"},
		DenyTargets:  []string{"*"},
	})
	d := p.Describe()
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("AllowOrigins", d.AllowOrigins, []string{"https://app.example.com"})
	check("DenyOrigins", d.DenyOrigins, []string{"null"})
	check("AllowTargets", d.AllowTargets, []string{"*.xn--bcher-kva.example", "api.example.com/v1/"})
	check("DenyTargets", d.DenyTargets, []string{"*"})
	if !slices.Equal(d.AllowPorts, []uint16{443, 8443}) {
		t.Errorf("AllowPorts = %v", d.AllowPorts)
	}
	if len(d.AllowPrivate) != 1 || d.AllowPrivate[0].String() != "10.1.0.0/16" {
		t.Errorf("AllowPrivate = %v", d.AllowPrivate)
	}
	d.AllowPorts[0] = 1
	if p.Describe().AllowPorts[0] != 443 {
		t.Error("Describe returned the policy's own slice")
	}
	if d := (&Policy{}).Describe(); d.AllowOrigins != nil || d.AllowPorts != nil {
		t.Errorf("zero Policy Describe = %+v", d)
	}
}

package tlsserve

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// Status is what /readyz and the start-up line report.
type Status struct {
	Mode         string       // ModeOff, ModeACME or ModeFiles
	Certificates []CertExpiry // sorted by name; empty until one is obtained
}

// CertExpiry is one certificate's name and end of validity.
type CertExpiry struct {
	Name     string
	NotAfter time.Time
}

// Earliest is the first expiry among the certificates; zero when there are
// none.
func (s Status) Earliest() time.Time {
	var first time.Time
	for _, c := range s.Certificates {
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	return first
}

// certExpiry reads the leaf's NotAfter from autocert's cache format (the
// private key, then the chain, in PEM) and whether it is valid at now.
func certExpiry(data []byte, now time.Time) (time.Time, bool) {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return time.Time{}, false
		}
		return leaf.NotAfter, !now.Before(leaf.NotBefore) && now.Before(leaf.NotAfter)
	}
	return time.Time{}, false
}

// expiries remembers the expiry of every certificate seen.
type expiries struct {
	mu sync.Mutex
	by map[string]time.Time
}

func (e *expiries) record(name string, notAfter time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.by == nil {
		e.by = map[string]time.Time{}
	}
	e.by[name] = notAfter
}

func (e *expiries) list() []CertExpiry {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]CertExpiry, 0, len(e.by))
	for name, t := range e.by {
		out = append(out, CertExpiry{Name: name, NotAfter: t})
	}
	slices.SortFunc(out, func(a, b CertExpiry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// observedCache notes the expiry of every certificate autocert reads or
// stores: autocert renews in the background and does not say when.
type observedCache struct {
	autocert.Cache
	seen *expiries
}

func (o observedCache) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := o.Cache.Get(ctx, key)
	if err == nil {
		o.note(key, data)
	}
	return data, err
}

func (o observedCache) Put(ctx context.Context, key string, data []byte) error {
	err := o.Cache.Put(ctx, key, data)
	if err == nil {
		o.note(key, data)
	}
	return err
}

func (o observedCache) note(key string, data []byte) {
	if !isCertKey(key) {
		return
	}
	if t, ok := certExpiry(data, time.Now()); ok {
		o.seen.record(key, t)
	}
}

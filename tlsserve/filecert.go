package tlsserve

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// fileCert serves a certificate and key from files managed elsewhere
// (certbot, a Kubernetes secret), polled for changes. Each handshake takes
// the pair current at that moment, so a new pair applies to new connections
// without a restart and open connections keep theirs. Polling the files'
// size and modification time needs nothing beyond the standard library and
// also sees the symlink swaps Kubernetes uses for secrets, which inotify
// watches on the old target would miss.
type fileCert struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	loaded            stamp // of the pair in cur
	failed            stamp // of the last pair that did not load, logged once
}

// stamp identifies a version of both files.
type stamp struct {
	certSize, keySize int64
	certMod, keyMod   time.Time
}

func newFileCert(certFile, keyFile string, log *slog.Logger) (*fileCert, error) {
	f := &fileCert{certFile: certFile, keyFile: keyFile, log: log}
	st, err := f.stamp()
	if err != nil {
		return nil, err
	}
	if err := f.load(); err != nil {
		return nil, err
	}
	f.loaded = st
	return f, nil
}

func (f *fileCert) stamp() (stamp, error) {
	c, err := os.Stat(f.certFile)
	if err != nil {
		return stamp{}, err
	}
	k, err := os.Stat(f.keyFile)
	if err != nil {
		return stamp{}, err
	}
	return stamp{certSize: c.Size(), keySize: k.Size(), certMod: c.ModTime(), keyMod: k.ModTime()}, nil
}

func (f *fileCert) load() error {
	pair, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", f.certFile, f.keyFile, err)
	}
	f.cur.Store(&pair)
	return nil
}

func (f *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return f.cur.Load(), nil }

// watch reloads the pair when either file changes, until ctx ends. A pair
// caught half written does not load; the old one stays and the next poll
// tries again.
func (f *fileCert) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := f.stamp()
		if err != nil || st == f.loaded {
			continue
		}
		if err := f.load(); err != nil {
			if st != f.failed {
				f.failed = st
				f.log.Warn("tls: keeping the current certificate", "error", err)
			}
			continue
		}
		f.loaded = st
		leaf := f.cur.Load().Leaf
		f.log.Info("tls: certificate reloaded", "file", f.certFile, "expires", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

func (f *fileCert) status() []CertExpiry {
	leaf := f.cur.Load().Leaf
	name := leaf.Subject.CommonName
	if len(leaf.DNSNames) > 0 {
		name = leaf.DNSNames[0]
	}
	return []CertExpiry{{Name: name, NotAfter: leaf.NotAfter}}
}

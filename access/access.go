// Package access decides who may use a corsbridge beyond the origin and
// target rules: access keys for a team, signed demo tokens for a public page,
// and blocks an operator adds while the proxy runs.
//
//   - A key (cbk_...) is a random secret handed to a team or a service. The
//     store holds only its SHA-256, which is also its lookup id. A key has a
//     name, an optional expiry, its own rate limit and optional origin and
//     target patterns it is restricted to.
//   - A token (cbt_..., see TokenPrefix) is signed with CORSBRIDGE_TOKEN_SECRET
//     and carries its scope, expiry and rate itself: no storage, no lookup.
//   - Blocks refuse an origin or a target on every instance within a second
//     or two of being added, without a restart.
//   - Secrets are upstream APIs' credentials that the proxy adds to the
//     requests of keys and tokens that name them (Guard.Secrets), sealed at rest
//     under CORSBRIDGE_SECRETS_KEY, sent only inside their target pattern
//     and redacted from everything the proxy relays.
//
// Keys, blocks and secrets live in a Store (Redis, shared by every instance, or a
// JSON file). A Guard serves from an immutable snapshot of the store,
// reloaded in the background when the store's version changes; when the store
// cannot be read, the last snapshot stays in force.
//
// The package sits above allowlist (whose pattern syntax it reuses) and rate
// (the value type of a key's limit); it knows nothing of how limits are
// counted. server and cmd/corsbridge use it.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the background reload.
const (
	// DefaultPollInterval is how often an instance asks the store whether
	// anything changed: how fast a block or a revocation takes effect.
	DefaultPollInterval = time.Second
	// DefaultResyncInterval is how often the whole store is read even when
	// its version did not move, in case the version was lost (a Redis
	// restarted empty, a file replaced within one clock tick).
	DefaultResyncInterval = 30 * time.Second
	// loadTimeout bounds one read of the store.
	loadTimeout = 2 * time.Second
)

// Config configures a Guard. The zero Config requires no key, knows no keys,
// verifies no tokens and blocks nothing; a key or token presented to it is
// refused.
type Config struct {
	// RequireKey refuses requests without a key or token
	// (CORSBRIDGE_REQUIRE_KEY).
	RequireKey bool
	// TokenSecrets verify signed tokens (CORSBRIDGE_TOKEN_SECRET, comma
	// separated): the first signs, every one verifies.
	TokenSecrets []string
	// Store holds keys, blocks and secrets; nil: none.
	Store Store
	// SecretsKey opens the store's secrets (CORSBRIDGE_SECRETS_KEY); nil:
	// none, and New refuses a store that holds secrets.
	SecretsKey *Keyring
	// Logger gets one line per change applied and per change of the store's
	// availability; nil discards.
	Logger         *slog.Logger
	PollInterval   time.Duration // zero: DefaultPollInterval
	ResyncInterval time.Duration // zero: DefaultResyncInterval
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if _, err := newVerifier(c.TokenSecrets); err != nil {
		return err
	}
	if c.PollInterval < 0 || c.ResyncInterval < 0 {
		return errors.New("access: intervals must not be negative")
	}
	return nil
}

// Guard applies keys, tokens and blocks to requests. A nil *Guard is valid
// and behaves as New with the zero Config.
type Guard struct {
	requireKey bool
	tokens     *verifier
	store      Store
	keyring    *Keyring
	log        *slog.Logger
	state      atomic.Pointer[state]

	poll, resync time.Duration
	degraded     atomic.Bool // the last read of the store failed; set by the watcher, read by Status
	stop         context.CancelFunc
	done         chan struct{}
	closeOnce    sync.Once
}

// New builds a Guard. With a store it reads the store once, bounded by ctx
// and a short timeout, and then polls it in the background until Close. An
// unreadable store is logged, not an error: the Guard serves with no keys
// and no blocks until the store answers (a presented key then gets 503
// unavailable rather than a misleading 403). A store holding a secret that
// does not open (no SecretsKey, or the wrong one) is an error.
func New(ctx context.Context, cfg Config) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{requireKey: cfg.RequireKey, store: cfg.Store, keyring: cfg.SecretsKey, log: cfg.Logger,
		poll: cfg.PollInterval, resync: cfg.ResyncInterval}
	g.tokens, _ = newVerifier(cfg.TokenSecrets)
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.poll == 0 {
		g.poll = DefaultPollInterval
	}
	if g.resync == 0 {
		g.resync = DefaultResyncInterval
	}
	g.state.Store(emptyState)
	if g.store == nil {
		return g, nil
	}
	g.reload(ctx, true)
	if sealed := g.state.Load().sealed; len(sealed) > 0 {
		// Better no proxy than one that silently sends requests without
		// the credentials its operator configured.
		return nil, fmt.Errorf("access: %d secret(s) in the key store cannot be opened: %s", len(sealed), sealed[0])
	}
	watchCtx, stop := context.WithCancel(context.Background())
	g.stop, g.done = stop, make(chan struct{})
	go g.watch(watchCtx)
	return g, nil
}

// Close stops the background reload.
func (g *Guard) Close() error {
	if g == nil {
		return nil
	}
	g.closeOnce.Do(func() {
		if g.stop != nil {
			g.stop()
			<-g.done
		}
	})
	return nil
}

func (g *Guard) current() *state {
	if g == nil {
		return emptyState
	}
	return g.state.Load()
}

// Authorize decides one request: cred is the key or token it presented (""
// for none), origin its raw Origin header, referer its raw Referer header
// (which judges origin blocks when the origin is "null", see
// allowlist.OriginSet.MatchDeny), target the canonical target URL.
// Blocks come first and apply to everyone. Without a credential the result
// is (nil, nil) unless keys are required. A valid credential returns its
// grant, whose Limit replaces the origin and client limits. Errors are always
// *Error.
func (g *Guard) Authorize(cred, origin, referer string, target *url.URL, now time.Time) (*Grant, error) {
	st := g.current()
	if st.blocks.originBlocked(origin, referer) {
		return nil, errOriginBlocked
	}
	if st.blocks.targetBlocked(target) {
		return nil, errTargetBlocked
	}
	if cred == "" {
		if g != nil && g.requireKey {
			return nil, errKeyRequired
		}
		return nil, nil
	}
	grant, err := g.lookup(st, cred)
	if err != nil {
		return nil, err
	}
	if err := grant.check(origin, target, now); err != nil {
		return nil, err
	}
	return grant, nil
}

// lookup finds the grant of a genuine credential: a key in the store, or a
// token whose signature verifies. Its expiry and scope are not checked.
func (g *Guard) lookup(st *state, cred string) (*Grant, *Error) {
	switch {
	case strings.HasPrefix(cred, KeyPrefix):
		h, err := secretHash(cred)
		if err != nil {
			return nil, errKeyMalformed
		}
		if !st.loaded && g != nil && g.store != nil {
			return nil, errUnavailable
		}
		// The lookup id is the secret's SHA-256: looking it up reveals
		// nothing about the secret, so the map needs no constant-time
		// comparison (and a stored hash matches only its own secret).
		if grant := st.keys[h]; grant != nil {
			return grant, nil
		}
		return nil, errKeyUnknown
	case strings.HasPrefix(cred, TokenPrefix):
		return g.verifier().verify(cred)
	default:
		return nil, errKeyMalformed
	}
}

func (g *Guard) verifier() *verifier {
	if g == nil {
		return nil
	}
	return g.tokens
}

// CheckHop applies the blocks and the grant's target scope (grant may be
// nil) to a redirect hop the proxy is about to follow: a key or a token for
// api.example.com must not reach another host through its redirects.
func (g *Guard) CheckHop(grant *Grant, target *url.URL) error {
	if g.current().blocks.targetBlocked(target) {
		return errTargetBlocked
	}
	if grant != nil {
		if err := grant.checkTarget(target); err != nil {
			return err
		}
	}
	return nil
}

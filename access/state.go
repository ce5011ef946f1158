package access

import (
	"crypto/sha256"
	"log/slog"
	"slices"
)

// Data is everything a store holds: the keys (hashed), the blocks and the
// secrets (sealed). It is also the keys file's format.
type Data struct {
	Keys    []Key    `json:"keys"`
	Blocks  Blocks   `json:"blocks"`
	Secrets []Secret `json:"secrets,omitempty"`
}

// SecretNamed returns the secret called name.
func (d Data) SecretNamed(name string) (Secret, bool) {
	for _, s := range d.Secrets {
		if s.Name == name {
			return s, true
		}
	}
	return Secret{}, false
}

// KeyNamed returns the key called name.
func (d Data) KeyNamed(name string) (Key, bool) {
	for _, k := range d.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// state is the compiled Data a Guard serves with; it is replaced whole on
// every reload and never changed, so requests read it without locks.
type state struct {
	loaded  bool   // false until the store has answered once
	version string // the store's version it was loaded at
	keys    map[[sha256.Size]byte]*Grant
	blocks  compiledBlocks
	secrets map[string]*secret // opened, by name
	data    Data               // as loaded, valid entries only, for the next diff
	invalid []string           // entries skipped, for logging once
	// sealed counts the secrets that did not open: the server refuses to
	// start with any (no key, or the wrong one).
	sealed []string
}

var emptyState = &state{}

// compileState compiles d, opening its secrets with kr; invalid keys, blocks
// and secrets are skipped and listed.
func compileState(d Data, version string, kr *Keyring) *state {
	st := &state{loaded: true, version: version, keys: make(map[[sha256.Size]byte]*Grant, len(d.Keys))}
	names := map[string]bool{}
	for _, k := range d.Keys {
		ck, err := k.compile()
		switch {
		case err != nil:
			st.invalid = append(st.invalid, err.Error())
			continue
		case names[k.Name]:
			st.invalid = append(st.invalid, "key "+k.Name+" is listed twice")
			continue
		}
		names[k.Name] = true
		st.keys[ck.hash] = ck.grant
		st.data.Keys = append(st.data.Keys, k)
	}
	st.compileSecrets(d.Secrets, kr)
	var errs []error
	st.blocks, errs = compileBlocks(d.Blocks)
	for _, err := range errs {
		st.invalid = append(st.invalid, err.Error())
	}
	for _, p := range d.Blocks.Origins {
		if CheckBlock(KindOrigin, p) == nil && !slices.Contains(st.data.Blocks.Origins, p) {
			st.data.Blocks.Origins = append(st.data.Blocks.Origins, p)
		}
	}
	for _, p := range d.Blocks.Targets {
		if CheckBlock(KindTarget, p) == nil && !slices.Contains(st.data.Blocks.Targets, p) {
			st.data.Blocks.Targets = append(st.data.Blocks.Targets, p)
		}
	}
	return st
}

// logChanges writes one line per change from old to st: key added, changed
// or revoked (by name, never the secret or its hash), block added or
// removed. The first load is summarised in one line instead.
func logChanges(log *slog.Logger, old, st *state) {
	if !old.loaded {
		log.Info("access: keys and blocks loaded",
			"keys", len(st.data.Keys), "origin_blocks", len(st.data.Blocks.Origins), "target_blocks", len(st.data.Blocks.Targets),
			"secrets", len(st.data.Secrets))
		return
	}
	logNamedChanges(log, "secret", "removed", old.data.Secrets, st.data.Secrets, func(s Secret) string { return s.Name }, sameSecret)
	logNamedChanges(log, "key", "revoked", old.data.Keys, st.data.Keys, func(k Key) string { return k.Name }, sameKey)
	for _, kind := range []Kind{KindOrigin, KindTarget} {
		for _, p := range *st.data.Blocks.list(kind) {
			if !old.data.Blocks.Has(kind, p) {
				log.Info("access: block added", "kind", string(kind), "pattern", p)
			}
		}
		for _, p := range *old.data.Blocks.list(kind) {
			if !st.data.Blocks.Has(kind, p) {
				log.Info("access: block removed", "kind", string(kind), "pattern", p)
			}
		}
	}
}

func (st *state) compileSecrets(list []Secret, kr *Keyring) {
	for _, s := range list {
		c, err := s.compile(kr)
		switch {
		case err != nil:
			st.invalid = append(st.invalid, err.Error())
			st.sealed = append(st.sealed, err.Error())
			continue
		case st.secrets[s.Name] != nil:
			st.invalid = append(st.invalid, "secret "+s.Name+" is listed twice")
			continue
		}
		if st.secrets == nil {
			st.secrets = map[string]*secret{}
		}
		st.secrets[s.Name] = c
		st.data.Secrets = append(st.data.Secrets, s)
	}
}

// logNamedChanges logs the entries (keys, secrets) added, changed and gone
// between two loads, by name only: never a hash or a sealed value.
func logNamedChanges[T any](log *slog.Logger, what, gone string, old, cur []T, name func(T) string, same func(a, b T) bool) {
	before := make(map[string]T, len(old))
	for _, e := range old {
		before[name(e)] = e
	}
	now := make(map[string]bool, len(cur))
	for _, e := range cur {
		now[name(e)] = true
		prev, ok := before[name(e)]
		switch {
		case !ok:
			log.Info("access: "+what+" added", what, name(e))
		case !same(prev, e):
			log.Info("access: "+what+" changed", what, name(e))
		}
	}
	for _, e := range old {
		if !now[name(e)] {
			log.Info("access: "+what+" "+gone, what, name(e))
		}
	}
}

func sameSecret(a, b Secret) bool {
	return a.Name == b.Name && a.Target == b.Target && a.Header == b.Header && a.Query == b.Query &&
		a.Sealed == b.Sealed && a.Created.Equal(b.Created)
}

func sameKey(a, b Key) bool {
	return a.Name == b.Name && a.SHA256 == b.SHA256 && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) &&
		a.Rate == b.Rate && slices.Equal(a.Origins, b.Origins) && slices.Equal(a.Targets, b.Targets) && slices.Equal(a.Secrets, b.Secrets)
}

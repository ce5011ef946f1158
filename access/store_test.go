package access

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/atomicfile"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

const fastPoll = 20 * time.Millisecond

// storeContract runs the same operations against any Store.
func storeContract(t *testing.T, s Store) {
	ctx := context.Background()
	v0, _ := s.Version(ctx) // a keys file may not exist yet
	k, _ := mustKey(t, "ci", time.Now().Add(time.Hour), "10/1m", []string{"https://app.example"}, []string{"api.example.com"})
	if err := s.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKey(ctx, k); !errors.Is(err, ErrExists) {
		t.Errorf("adding a name twice: %v", err)
	}
	if err := s.AddBlock(ctx, KindOrigin, "https://evil.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddBlock(ctx, KindOrigin, "https://evil.example"); !errors.Is(err, ErrExists) {
		t.Errorf("blocking twice: %v", err)
	}
	if err := s.AddBlock(ctx, KindTarget, "victim.example"); err != nil {
		t.Fatal(err)
	}
	d, v1, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 == v0 {
		t.Errorf("version did not move: %q", v1)
	}
	got, ok := d.KeyNamed("ci")
	if !ok || !sameKey(got, k) || len(d.Keys) != 1 || !d.Blocks.Has(KindOrigin, "https://evil.example") || !d.Blocks.Has(KindTarget, "victim.example") {
		t.Fatalf("loaded %+v", d)
	}
	if err := s.RevokeKey(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "ci"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	if err := s.RemoveBlock(ctx, KindOrigin, "https://evil.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveBlock(ctx, KindOrigin, "https://evil.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unblocking twice: %v", err)
	}
	d, _, err = s.Load(ctx)
	if err != nil || len(d.Keys) != 0 || len(d.Blocks.Origins) != 0 || len(d.Blocks.Targets) != 1 {
		t.Fatalf("after revoking and unblocking: %+v %v", d, err)
	}
	secretsContract(t, s)
}

// secretsContract: set creates or replaces, remove deletes once, and the
// store holds the value sealed only.
func secretsContract(t *testing.T, s Store) {
	ctx := context.Background()
	kr := mustKeyring(t, sealKeyA)
	first := mustSecret(t, kr, "weather", "api.weather.example", "", "appid", "first-value")
	second := mustSecret(t, kr, "weather", "api.weather.example/v2/", "X-Api-Key", "", "second-value")
	for _, sec := range []Secret{first, second} {
		if err := s.SetSecret(ctx, sec); err != nil {
			t.Fatal(err)
		}
	}
	d, _, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := d.SecretNamed("weather"); !ok || len(d.Secrets) != 1 || !sameSecret(got, second) {
		t.Fatalf("secrets after two sets: %+v", d.Secrets)
	}
	if strings.Contains(fmt.Sprint(d), "second-value") {
		t.Fatalf("the store holds the value in clear: %+v", d.Secrets)
	}
	if err := s.RemoveSecret(ctx, "weather"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSecret(ctx, "weather"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
}

func TestFileStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := OpenFileStore(path); err == nil {
		t.Error("a server opened a keys file that does not exist")
	}
	// The admin commands create it.
	storeContract(t, NewFileStore(path))
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode %v, %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"targets": [`) {
		t.Errorf("file format:\n%s", raw)
	}
	for name, content := range map[string]string{
		"not json":      "{",
		"unknown field": `{"keys": [{"name": "x", "origin": ["https://a.example"]}]}`,
		"wrong type":    `{"keys": {}}`,
	} {
		bad := filepath.Join(t.TempDir(), "keys.json")
		os.WriteFile(bad, []byte(content), 0o600)
		if _, err := OpenFileStore(bad); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	empty := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(empty, nil, 0o600)
	if _, err := OpenFileStore(empty); err != nil {
		t.Errorf("an empty file: %v", err)
	}
}

func TestRedisStore(t *testing.T) {
	c := redisClient(t, sharedRedisURL)
	flushAccess(t, c)
	storeContract(t, NewRedisStore(c))
}

// TestFileReload: an instance reloads the keys file when it changes, logs
// one line per change, and keeps its last keys while the file is broken or
// gone.
func TestFileReload(t *testing.T) {
	ctx := context.Background()
	k, secret := mustKey(t, "ci", time.Time{}, "", nil, nil)
	store := keysFile(t, Data{})
	logs := &syncBuffer{}
	g := newGuard(t, Config{RequireKey: true, Store: store, Logger: logs.logger(), PollInterval: fastPoll})
	target := mustURL(t, "https://api.example.com/")
	authorize := func(cred, origin string) string {
		_, err := g.Authorize(cred, origin, "", target, time.Now())
		return codeOf(err)
	}
	if got := authorize(secret, ""); got != "key_forbidden" {
		t.Fatalf("before the key is added: %s", got)
	}
	if err := store.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() string {
		if got := authorize(secret, ""); got != "ok" {
			return "key not loaded: " + got
		}
		return ""
	})
	if err := store.AddBlock(ctx, KindOrigin, "evil.example"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() string {
		if got := authorize(secret, "https://evil.example"); got != "origin_blocked" {
			return "block not loaded: " + got
		}
		return ""
	})

	// A broken file keeps the last keys, and says so once.
	path := store.path
	good, _ := os.ReadFile(path)
	// Written through a rename, as the admin commands write: os.WriteFile
	// truncates first, and an instance polling in between reads an empty
	// file, which is a valid empty store.
	if err := atomicfile.Write(path, []byte("{broken")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() string {
		if logs.count("key store unavailable") != 1 {
			return "no warning about the broken file:\n" + logs.String()
		}
		return ""
	})
	if got := authorize(secret, ""); got != "ok" {
		t.Errorf("with the file broken: %s, want the last keys kept", got)
	}
	if err := atomicfile.Write(path, good); err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeKey(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() string {
		if got := authorize(secret, ""); got != "key_forbidden" {
			return "revocation not loaded: " + got
		}
		return ""
	})
	if err := store.RemoveBlock(ctx, KindOrigin, "evil.example"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() string {
		if logs.count(`"msg":"access: block removed"`) != 1 {
			return "no unblock line:\n" + logs.String()
		}
		return ""
	})
	out := logs.String()
	for _, want := range []string{
		`"msg":"access: keys and blocks loaded","keys":0`,
		`"msg":"access: key added","key":"ci"`,
		`"msg":"access: block added","kind":"origin","pattern":"evil.example"`,
		`"msg":"access: key store available again"`,
		`"msg":"access: key revoked","key":"ci"`,
		`"msg":"access: block removed","kind":"origin","pattern":"evil.example"`,
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("want exactly one %s in:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, k.SHA256) {
		t.Errorf("the log shows a secret or its hash:\n%s", out)
	}
}

// TestRedisPropagation: two instances on one Redis see a key, a block and
// a revocation within a poll or two; an invalid entry is skipped, not fatal.
func TestRedisPropagation(t *testing.T) {
	ctx := context.Background()
	admin := redisClient(t, sharedRedisURL)
	flushAccess(t, admin)
	store := NewRedisStore(admin)
	var guards []*Guard
	var logs []*syncBuffer
	for range 2 {
		l := &syncBuffer{}
		guards = append(guards, newGuard(t, Config{RequireKey: true, Store: NewRedisStore(redisClient(t, sharedRedisURL)), Logger: l.logger(), PollInterval: fastPoll}))
		logs = append(logs, l)
	}
	target := mustURL(t, "https://api.example.com/")
	all := func(cred, origin, want string) func() string {
		return func() string {
			for i, g := range guards {
				if _, err := g.Authorize(cred, origin, "", target, time.Now()); codeOf(err) != want {
					return "instance " + string(rune('1'+i)) + ": " + codeOf(err) + ", want " + want
				}
			}
			return ""
		}
	}
	k, secret := mustKey(t, "team", time.Time{}, "", nil, nil)
	if err := store.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, all(secret, "", "ok"))
	if err := store.AddBlock(ctx, KindTarget, "api.example.com"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, all(secret, "", "target_blocked"))
	if err := store.RemoveBlock(ctx, KindTarget, "api.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeKey(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, all(secret, "", "key_forbidden"))

	// Garbage written by hand is skipped and reported, the rest applies.
	admin.HSet(ctx, redisKeys, "junk", "{not json")
	admin.SAdd(ctx, redisOriginBlocks, "not an origin/")
	admin.SAdd(ctx, redisOriginBlocks, "https://evil.example")
	admin.Incr(ctx, redisVersion)
	eventually(t, 3*time.Second, all("", "https://evil.example", "origin_blocked"))
	for i, l := range logs {
		out := l.String()
		for _, want := range []string{`"access: key added","key":"team"`, `"access: block added","kind":"target"`, `"access: block removed","kind":"target"`, `"access: key revoked","key":"team"`, `skipping an invalid entry`} {
			if !strings.Contains(out, want) {
				t.Errorf("instance %d: no %s in:\n%s", i+1, want, out)
			}
		}
	}
	flushAccess(t, admin)
}

// TestRedisOutageKeepsTheLastSet: with Redis gone the instance keeps
// serving with what it knew, logs the outage once and the recovery once,
// and a Redis that comes back empty empties the set.
func TestRedisOutageKeepsTheLastSet(t *testing.T) {
	srv := redistest.Dedicated(t)
	c := redisClient(t, srv.URL())
	store := NewRedisStore(c)
	k, secret := mustKey(t, "team", time.Time{}, "", nil, nil)
	if err := store.AddKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	g := newGuard(t, Config{RequireKey: true, Store: store, Logger: logs.logger(), PollInterval: fastPoll, ResyncInterval: time.Hour})
	target := mustURL(t, "https://api.example.com/")
	if _, err := g.Authorize(secret, "", "", target, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	eventually(t, 3*time.Second, func() string {
		if logs.count("key store unavailable, serving with the last known keys") != 1 {
			return "no outage line:\n" + logs.String()
		}
		return ""
	})
	time.Sleep(5 * fastPoll)
	if n := logs.count("key store unavailable"); n != 1 {
		t.Errorf("%d outage lines, want 1", n)
	}
	if _, err := g.Authorize(secret, "", "", target, time.Now()); err != nil {
		t.Errorf("during the outage: %v, want the last known key", err)
	}
	if got := g.Status(); got != StatusDegraded {
		t.Errorf("Status during the outage = %q, want %q", got, StatusDegraded)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if logs.count("key store available again") != 1 {
			return "no recovery line:\n" + logs.String()
		}
		if _, err := g.Authorize(secret, "", "", target, time.Now()); codeOf(err) != "key_forbidden" {
			return "a Redis restarted empty still has the key: " + codeOf(err)
		}
		return ""
	})
	if got := g.Status(); got != StatusHealthy {
		t.Errorf("Status after the recovery = %q, want %q", got, StatusHealthy)
	}
}

// TestStoreDownAtStart: a key cannot be judged before the store has been
// read once; tokens and keyless requests are unaffected.
func TestStoreDownAtStart(t *testing.T) {
	srv := redistest.Dedicated(t)
	c := redisClient(t, srv.URL())
	srv.Stop()
	logs := &syncBuffer{}
	g := newGuard(t, Config{Store: NewRedisStore(c), TokenSecrets: []string{secretA}, Logger: logs.logger(), PollInterval: fastPoll})
	_, secret := mustKey(t, "team", time.Time{}, "", nil, nil)
	api := mustURL(t, "https://api.example.com/v1/")
	if _, err := g.Authorize(secret, "", "", api, time.Now()); codeOf(err) != "unavailable" {
		t.Errorf("a key before the store answered: %v", err)
	}
	tok, _ := SignToken(secretA, demoClaims(time.Now().Add(time.Hour)))
	if _, err := g.Authorize(tok, "https://demo.example", "", api, time.Now()); err != nil {
		t.Errorf("a token: %v", err)
	}
	if _, err := g.Authorize("", "https://a.example", "", api, time.Now()); err != nil {
		t.Errorf("no key: %v", err)
	}
	if !strings.Contains(logs.String(), "no keys or blocks until it answers") {
		t.Errorf("log:\n%s", logs.String())
	}
	if got := g.Status(); got != StatusDegraded {
		t.Errorf("Status = %q, want %q", got, StatusDegraded)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// admin runs `corsbridge admin args...` in-process and returns its stdout.
func admin(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"admin"}, args...), envOf(env), nil, &out, &errOut); err != nil {
		t.Fatalf("admin %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// call sends one GET through an instance and returns the status and the
// proxy's error code ("" for none).
func call(t *testing.T, base, target, origin, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/"+target, nil)
	req.Header.Set("Origin", origin)
	if key != "" {
		req.Header.Set("X-Corsbridge-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("X-Corsbridge-Error")
}

// everywhere waits until every instance answers with code ("" for a
// proxied 200); changes travel through the store, so they take a poll or two.
func everywhere(t *testing.T, insts []*instance, target, origin, key, code string) {
	t.Helper()
	waitEach(t, insts, 8*time.Second, func(inst *instance) (bool, string) {
		status, got := call(t, inst.base, target, origin, key)
		return got == code && (code != "" || status == 200),
			fmt.Sprintf("instance %s still answers %d %q, want %q", inst.base, status, got, code)
	})
}

// accessThroughRedis: a key, a block and a revocation made with
// `corsbridge admin` reach two running instances through the Redis at
// redisURL, without a restart, and each instance logs each change once,
// never the secret. TestTwoInstancesOnEveryDeployment runs it.
func accessThroughRedis(t *testing.T, redisURL string) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	env := map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"REDIS_URL":                redisURL,
		"CORSBRIDGE_REQUIRE_KEY":   "true",
	}
	insts := []*instance{start(t, env), start(t, env)}
	target := upstream.URL + "/x"
	origin := "https://team.example"
	everywhere(t, insts, target, origin, "", "key_required")

	secret := admin(t, env, "keys", "add", "--name", "team", "--rate", "1000/1h", "--target", "127.0.0.1")
	if !strings.HasPrefix(secret, "cbk_") {
		t.Fatalf("keys add printed %q", secret)
	}
	everywhere(t, insts, target, origin, secret, "")
	if list := admin(t, env, "keys", "list"); !strings.Contains(list, "team") || strings.Contains(list, secret) {
		t.Errorf("keys list:\n%s", list)
	}

	admin(t, env, "block", "origin", "team.example")
	everywhere(t, insts, target, origin, secret, "origin_blocked")
	admin(t, env, "block", "target", "127.0.0.1")
	everywhere(t, insts, target, "https://other.example", secret, "target_blocked")
	if list := admin(t, env, "blocks", "list"); list != "origin\tteam.example\ntarget\t127.0.0.1" {
		t.Errorf("blocks list:\n%s", list)
	}
	admin(t, env, "unblock", "origin", "team.example")
	admin(t, env, "unblock", "target", "127.0.0.1")
	everywhere(t, insts, target, origin, secret, "")

	admin(t, env, "keys", "revoke", "team")
	everywhere(t, insts, target, origin, secret, "key_forbidden")

	for i, inst := range insts {
		// The last line logged; buffered lines arrive in order.
		waitForLog(t, inst, `"msg":"access: key revoked","key":"team"`)
		logs := inst.logs.String()
		for _, line := range []string{
			`"msg":"access: key added","key":"team"`,
			`"msg":"access: block added","kind":"origin","pattern":"team.example"`,
			`"msg":"access: block added","kind":"target","pattern":"127.0.0.1"`,
			`"msg":"access: block removed","kind":"origin","pattern":"team.example"`,
			`"msg":"access: block removed","kind":"target","pattern":"127.0.0.1"`,
			`"msg":"access: key revoked","key":"team"`,
		} {
			if n := strings.Count(logs, line); n != 1 {
				t.Errorf("instance %d logged %s %d times, want once", i+1, line, n)
			}
		}
		if strings.Contains(logs, secret) {
			t.Errorf("instance %d logged the secret", i+1)
		}
		named := false
		for line := range strings.SplitSeq(logs, "\n") {
			named = named || strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"key":"team"`)
		}
		if !named {
			t.Errorf("instance %d: no request line names the key", i+1)
		}
	}
}

// TestAccessKeysFile: without Redis the keys file is the store; the
// instance reloads it when the admin command rewrites it.
func TestAccessKeysFile(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	file := filepath.Join(t.TempDir(), "keys.json")
	env := map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"CORSBRIDGE_KEYS_FILE":     file,
		"CORSBRIDGE_REQUIRE_KEY":   "true",
	}
	// The server refuses to start on a keys file that is not there.
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0"}, envOf(env), nil, io.Discard, io.Discard)
	var usage *usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "CORSBRIDGE_KEYS_FILE") {
		t.Fatalf("missing keys file: %v", err)
	}
	first := admin(t, env, "keys", "add", "--name", "first", "--origin", "https://app.example")
	inst := start(t, env)
	insts := []*instance{inst}
	// The landing page and /readyz know about the keys.
	if _, page := get(t, inst.base+"/", ""); !strings.Contains(page, "Access key</dt><dd>required") || !strings.Contains(page, `id="try-key"`) {
		t.Errorf("the landing page does not say a key is required")
	}
	if _, body := get(t, inst.base+"/readyz", ""); !strings.Contains(body, `"access":"healthy"`) {
		t.Errorf("readyz: %s", body)
	}
	target := upstream.URL + "/x"
	everywhere(t, insts, target, "https://app.example", first, "")
	everywhere(t, insts, target, "https://elsewhere.example", first, "key_forbidden")

	second := admin(t, nil, "--keys-file", file, "keys", "add", "--name", "second", "--expires", "1h", "--rate", "2/1m")
	everywhere(t, insts, target, "https://any.example", second, "")
	// Its own limit, 2/1m: one request is already counted.
	everywhere(t, insts, target, "https://any.example", second, "")
	if status, code := call(t, inst.base, target, "https://any.example", second); status != 429 || code != "rate_limited" {
		t.Errorf("third request on a 2/1m key: %d %s", status, code)
	}
	admin(t, env, "block", "target", "127.0.0.1")
	everywhere(t, insts, target, "https://app.example", first, "target_blocked")
	admin(t, env, "unblock", "target", "127.0.0.1")
	admin(t, env, "keys", "revoke", "first")
	everywhere(t, insts, target, "https://app.example", first, "key_forbidden")
	waitForLog(t, inst, `"access: key revoked","key":"first"`)
	waitForLog(t, inst, `"access: key added","key":"second"`)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("keys file: %v %v", fi, err)
	}
}

// TestTokenSubcommand: `corsbridge token` signs with the first secret; an
// instance verifies with every listed one, from the token's origin, for its
// targets, at its rate. A secret dropped from the list no longer verifies.
func TestTokenSubcommand(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	const oldSecret, newSecret = "old-token-secret-0123456789abcdefghij", "new-token-secret-0123456789abcdefghij"
	sign := func(secrets string, args ...string) string {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"token"}, args...), envOf(map[string]string{"CORSBRIDGE_TOKEN_SECRET": secrets}), nil, &out, io.Discard)
		if err != nil {
			t.Fatalf("token %v: %v", args, err)
		}
		return strings.TrimSpace(out.String())
	}
	demo := []string{"--origin", "https://demo.example", "--target", "127.0.0.1/v1/*", "--ttl", "1h", "--rate", "2/1m"}
	byOld := sign(oldSecret, demo...)
	byNew := sign(newSecret+","+oldSecret, demo...)
	if !strings.HasPrefix(byOld, "cbt_") || byOld == byNew {
		t.Fatalf("tokens %q %q", byOld, byNew)
	}
	rotated := start(t, map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"CORSBRIDGE_REQUIRE_KEY":   "true",
		"CORSBRIDGE_TOKEN_SECRET":  newSecret + ", " + oldSecret,
	})
	dropped := start(t, map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"CORSBRIDGE_TOKEN_SECRET":  newSecret,
	})
	inScope := upstream.URL + "/v1/items?corsbridge_key=" + byOld
	for i, want := range []int{200, 200, 429} {
		if status, _ := get(t, rotated.base+"/"+inScope, "https://demo.example"); status != want {
			t.Errorf("old-secret token, request %d: %d, want %d", i+1, status, want)
		}
	}
	for _, tc := range []struct {
		base, path, origin string
		status             int
	}{
		{rotated.base, upstream.URL + "/v1/items?corsbridge_key=" + byNew, "https://demo.example", 200},
		{rotated.base, upstream.URL + "/v1/items?corsbridge_key=" + byNew, "https://evil.example", 403},
		{rotated.base, upstream.URL + "/v2/items?corsbridge_key=" + byNew, "https://demo.example", 403},
		{dropped.base, upstream.URL + "/v1/items?corsbridge_key=" + byOld, "https://demo.example", 403},
		{dropped.base, upstream.URL + "/v1/items?corsbridge_key=" + byNew, "https://demo.example", 200},
	} {
		if status, body := get(t, tc.base+"/"+tc.path, tc.origin); status != tc.status {
			t.Errorf("%s from %s: %d, want %d: %s", tc.path, tc.origin, status, tc.status, body)
		}
	}
	for _, inst := range []*instance{rotated, dropped} {
		syncLog(t, inst)
		if logs := inst.logs.String(); strings.Contains(logs, oldSecret) || strings.Contains(logs, newSecret) || strings.Contains(logs, byOld) {
			t.Errorf("the log holds a secret or a token:\n%s", logs)
		}
		if !strings.Contains(inst.logs.String(), `"token-secret":"(redacted)"`) {
			t.Errorf("start-up line does not redact the token secret")
		}
	}

	for name, args := range map[string][]string{
		"no origin":   {"--target", "api.example.com"},
		"no target":   {"--origin", "https://demo.example"},
		"any target":  {"--origin", "https://demo.example", "--target", "*"},
		"rate off":    {"--origin", "https://demo.example", "--target", "api.example.com", "--rate", "off"},
		"bad ttl":     {"--origin", "https://demo.example", "--target", "api.example.com", "--ttl", "-1h"},
		"stray":       {"--origin", "https://demo.example", "--target", "api.example.com", "extra"},
		"unknown flg": {"--nope"},
	} {
		err := run(context.Background(), append([]string{"token"}, args...), envOf(map[string]string{"CORSBRIDGE_TOKEN_SECRET": newSecret}), nil, io.Discard, io.Discard)
		var usage *usageError
		if !errors.As(err, &usage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	err := run(context.Background(), []string{"token", "--origin", "https://demo.example", "--target", "a.example"}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CORSBRIDGE_TOKEN_SECRET") {
		t.Errorf("without a secret: %v", err)
	}
}

func TestAccessConfigAndAdminErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		mentions string
	}{
		{"require key with nothing to check it", map[string]string{"CORSBRIDGE_REQUIRE_KEY": "true"}, "CORSBRIDGE_REQUIRE_KEY"},
		{"short token secret", map[string]string{"CORSBRIDGE_TOKEN_SECRET": "hunter2"}, "CORSBRIDGE_TOKEN_SECRET"},
		{"a token secret listed twice", map[string]string{"CORSBRIDGE_TOKEN_SECRET": strings.Repeat("hunter2", 5) + "," + strings.Repeat("hunter2", 5)}, "twice"},
		{"bad boolean", map[string]string{"CORSBRIDGE_REQUIRE_KEY": "perhaps"}, "CORSBRIDGE_REQUIRE_KEY"},
	} {
		_, err := parseConfig(nil, envOf(tc.env), io.Discard)
		var usage *usageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.mentions) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, ok := range []map[string]string{
		{"CORSBRIDGE_REQUIRE_KEY": "true", "CORSBRIDGE_KEYS_FILE": "/k.json"},
		{"CORSBRIDGE_REQUIRE_KEY": "true", "REDIS_URL": "redis://127.0.0.1:6379"},
		{"CORSBRIDGE_REQUIRE_KEY": "true", "CORSBRIDGE_TOKEN_SECRET": strings.Repeat("s", 32)},
	} {
		if _, err := parseConfig(nil, envOf(ok), io.Discard); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}

	file := filepath.Join(t.TempDir(), "keys.json")
	fileEnv := map[string]string{"CORSBRIDGE_KEYS_FILE": file}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		usage bool
	}{
		{"no store", nil, []string{"keys", "list"}, true},
		{"no command", fileEnv, nil, true},
		{"unknown command", fileEnv, []string{"keys", "rotate"}, true},
		{"no name", fileEnv, []string{"keys", "add"}, true},
		{"bad name", fileEnv, []string{"keys", "add", "--name", "a b"}, true},
		{"bad rate", fileEnv, []string{"keys", "add", "--name", "a", "--rate", "fast"}, true},
		{"bad expiry", fileEnv, []string{"keys", "add", "--name", "a", "--expires", "yesterday"}, true},
		{"past expiry", fileEnv, []string{"keys", "add", "--name", "a", "--expires", "2001-01-01T00:00:00Z"}, true},
		{"bad origin", fileEnv, []string{"keys", "add", "--name", "a", "--origin", "https://a.example/path"}, true},
		{"bad block kind", fileEnv, []string{"block", "host", "a.example"}, true},
		{"bad block pattern", fileEnv, []string{"block", "target", "https://a.example"}, true},
		{"revoke a missing key", fileEnv, []string{"keys", "revoke", "nobody"}, false},
		{"unblock a missing block", fileEnv, []string{"unblock", "origin", "a.example"}, false},
		{"bad redis url", map[string]string{"REDIS_URL": "mysql://x"}, []string{"keys", "list"}, true},
	} {
		err := run(context.Background(), append([]string{"admin"}, tc.args...), envOf(tc.env), nil, io.Discard, io.Discard)
		var usage *usageError
		if err == nil || errors.As(err, &usage) != tc.usage {
			t.Errorf("%s: %v (usage error: %v)", tc.name, err, tc.usage)
		}
	}
	// Adding the same name twice fails; blocking twice is not an error.
	admin(t, fileEnv, "keys", "add", "--name", "dup")
	if err := run(context.Background(), []string{"admin", "keys", "add", "--name", "dup"}, envOf(fileEnv), nil, io.Discard, io.Discard); err == nil {
		t.Error("a second key with the same name")
	}
	admin(t, fileEnv, "block", "origin", "a.example")
	admin(t, fileEnv, "block", "origin", "a.example")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "-h"}, envOf(nil), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "keys revoke NAME") {
		t.Errorf("admin -h: %v\n%s", err, out.String())
	}
}

// TestSiteInfoKeys: the landing page offers a key field whenever a key or
// token can be presented, and says a key is required when it is.
func TestSiteInfoKeys(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name          string
		access        AccessConfig
		redisURL      string
		require, keys bool
	}{
		{"nothing", AccessConfig{}, "", false, false},
		{"keys file", AccessConfig{KeysFile: "keys.json"}, "", false, true},
		{"redis holds the keys", AccessConfig{}, "redis://127.0.0.1:6379", false, true},
		{"tokens", AccessConfig{TokenSecrets: []string{secret}}, "", false, true},
		{"required", AccessConfig{RequireKey: true, KeysFile: "keys.json"}, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			cfg.Access = tt.access
			cfg.RateLimit.RedisURL = tt.redisURL
			info := siteInfo(cfg)
			if info.RequireKey != tt.require || info.KeysEnabled != tt.keys {
				t.Errorf("RequireKey %v, KeysEnabled %v; want %v, %v", info.RequireKey, info.KeysEnabled, tt.require, tt.keys)
			}
		})
	}
}

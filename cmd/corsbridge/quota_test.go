package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/access"
)

// TestQuotaFlags: `admin keys add --daily --monthly --monthly-bytes` stores
// the quotas in the key (daily, monthly, monthly_bytes) and `keys list`
// shows them; `token` signs them into its claims (qd, qm, qb); bad values
// are usage errors.
func TestQuotaFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	env := map[string]string{"CORSBRIDGE_KEYS_FILE": file}
	admin(t, env, "keys", "add", "--name", "metered", "--daily", "1000", "--monthly", "20000", "--monthly-bytes", "500MiB")
	admin(t, env, "keys", "add", "--name", "plain")
	stored, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"daily": 1000`, `"monthly": 20000`, `"monthly_bytes": 524288000`} {
		if !bytes.Contains(stored, []byte(want)) {
			t.Errorf("keys file lacks %s:\n%s", want, stored)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "keys", "list"}, envOf(env), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.Contains(lines[0], "QUOTAS") || !strings.Contains(out.String(), "1000/day, 20000/month, 500 MiB/month") {
		t.Errorf("keys list:\n%s", out.String())
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "plain ") && !strings.Contains(l, "600/1m  -  ") {
			t.Errorf("a key without quotas: %q, want its quotas shown as -", l)
		}
	}

	secret := strings.Repeat("t", 32)
	tokenEnv := envOf(map[string]string{"CORSBRIDGE_TOKEN_SECRET": secret})
	out.Reset()
	err = run(context.Background(), []string{"token", "--origin", "https://demo.example", "--target", "api.example.com",
		"--daily", "50", "--monthly-bytes", "1GiB"}, tokenEnv, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := access.ParseToken(strings.TrimSpace(out.String()))
	if err != nil || !bytes.Contains(p.Payload, []byte(`"qd":50,"qb":1073741824`)) || bytes.Contains(p.Payload, []byte(`"qm"`)) {
		t.Errorf("token claims %s %v: want qd 50, qb 1 GiB, no qm", p.Payload, err)
	}

	for _, tc := range []struct {
		name string
		args []string
		env  func(string) string
	}{
		{"negative daily", []string{"admin", "keys", "add", "--name", "x", "--daily", "-1"}, envOf(env)},
		{"bad size", []string{"admin", "keys", "add", "--name", "x", "--monthly-bytes", "5XB"}, envOf(env)},
		{"monthly not a number", []string{"admin", "keys", "add", "--name", "x", "--monthly", "lots"}, envOf(env)},
		{"token bad size", []string{"token", "--origin", "https://demo.example", "--target", "api.example.com", "--monthly-bytes", "-1"}, tokenEnv},
		{"token quota too large", []string{"token", "--origin", "https://demo.example", "--target", "api.example.com", "--monthly", "9999999999999999"}, tokenEnv},
	} {
		err := run(context.Background(), tc.args, tc.env, nil, io.Discard, io.Discard)
		var usage *usageError
		if !errors.As(err, &usage) {
			t.Errorf("%s: %v, want a usage error", tc.name, err)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "-h"}, tokenEnv, nil, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "--monthly-bytes") || !strings.Contains(out.String(), "requests per UTC day") {
		t.Errorf("token -h: %v\n%s", err, out.String())
	}
}

// TestQuotaSharedAcrossInstances: a key added with `admin keys add --daily
// 5` in Redis, used through two instances alternately, is served exactly
// five times in total, then refused with 429 quota_exceeded by both; on a
// single Redis and on a three-master Cluster, where the key's rate and
// quota counters share one hash slot so one script call reaches them all.
func TestQuotaSharedAcrossInstances(t *testing.T) {
	for _, d := range redisDeployments()[:2] {
		t.Run(d.name, func(t *testing.T) {
			url := d.start(t)
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer upstream.Close()
			env := map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8", "REDIS_URL": url}
			secret := admin(t, env, "keys", "add", "--name", "metered", "--rate", "100/1h", "--daily", "5")
			insts := []*instance{start(t, env), start(t, env)}
			waitReady(t, insts, "healthy")
			served, refused := 0, 0
			var last [2]string
			// A key not loaded yet is 403 key_forbidden and counts against
			// nothing; the loop is bounded.
			for i := 0; i < 40 && refused < 4; i++ {
				status, code := call(t, insts[i%2].base, upstream.URL+"/", "https://app.example", secret)
				switch {
				case status == 200:
					served++
				case status == 429 && code == "quota_exceeded":
					refused++
				case code != "key_forbidden":
					t.Fatalf("request %d: %d %q", i+1, status, code)
				}
				last[i%2] = code
			}
			if served != 5 || last != [2]string{"quota_exceeded", "quota_exceeded"} {
				t.Errorf("two instances, daily 5: %d served, last answers %q; want exactly 5, then quota_exceeded from both", served, last)
			}
		})
	}
}

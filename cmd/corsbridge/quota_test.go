package main

import (
	"bytes"
	"context"
	"errors"
	"io"
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

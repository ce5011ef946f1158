package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/internal/redistest"
)

const (
	testSecretValue = "upstream-api-key-0123456789"
	testSecretsKey  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
)

// adminIn runs `corsbridge admin args...` with stdin and returns its
// stdout, stderr and error.
func adminIn(env map[string]string, stdin string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"admin"}, args...), envOf(env), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestAdminSecrets: `secrets set` reads the value from standard input and
// stores it sealed; `list` never shows it; keys may grant only secrets that
// exist; `remove` removes.
func TestAdminSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	noKey := map[string]string{"CORSBRIDGE_KEYS_FILE": file}
	env := map[string]string{"CORSBRIDGE_KEYS_FILE": file, "CORSBRIDGE_SECRETS_KEY": testSecretsKey}
	set := []string{"secrets", "set", "weather", "--target", "https://api.weather.example/v1/", "--query", "appid"}

	for _, tc := range []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		want  string
	}{
		{"no secrets key", noKey, testSecretValue, set, "CORSBRIDGE_SECRETS_KEY is not set"},
		{"a malformed secrets key", map[string]string{"CORSBRIDGE_KEYS_FILE": file, "CORSBRIDGE_SECRETS_KEY": "short"}, testSecretValue, set, "want 32 bytes"},
		{"nothing on stdin", env, "", set, "no value on standard input"},
		{"no target", env, testSecretValue, []string{"secrets", "set", "weather", "--query", "appid"}, "exactly one --target"},
		{"header and query", env, testSecretValue, append(slices.Clone(set), "--header", "X-Key"), "not both"},
		{"a wildcard target", env, testSecretValue, []string{"secrets", "set", "w", "--target", "*.example.com", "--query", "k"}, "no wildcards"},
		{"a key granting a secret that does not exist", env, "", []string{"keys", "add", "--name", "demo", "--secret", "weather"}, `secret "weather" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := adminIn(tc.env, tc.stdin, tc.args...)
			var usage *usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a usage error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testSecretValue) || strings.Contains(err.Error(), "MDEyMzQ1") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}

	// A value piped with a trailing newline, as echo sends it.
	if _, errOut, err := adminIn(env, testSecretValue+"\n", set...); err != nil || !strings.Contains(errOut, `set secret "weather"`) {
		t.Fatalf("secrets set: %v\n%s", err, errOut)
	}
	raw, _ := os.ReadFile(file)
	if bytes.Contains(raw, []byte(testSecretValue)) || !bytes.Contains(raw, []byte(`"sealed": "v1.`)) {
		t.Fatalf("keys file:\n%s", raw)
	}
	var d access.Data
	if err := json.Unmarshal(raw, &d); err != nil || len(d.Secrets) != 1 {
		t.Fatalf("keys file: %v %+v", err, d)
	}
	kr, _ := access.ParseKeyring(testSecretsKey)
	if err := d.Secrets[0].Check(kr); err != nil {
		t.Errorf("the stored secret does not open: %v", err)
	}

	list, _, err := adminIn(env, "", "secrets", "list")
	if err != nil || !strings.Contains(list, "weather") || !strings.Contains(list, "query appid") || !strings.Contains(list, "yes") || strings.Contains(list, testSecretValue) {
		t.Errorf("secrets list: %v\n%s", err, list)
	}
	if list, _, _ := adminIn(noKey, "", "secrets", "list"); !strings.Contains(list, "not set here") {
		t.Errorf("secrets list without the key:\n%s", list)
	}
	if _, _, err := adminIn(env, "", "keys", "add", "--name", "demo", "--secret", "weather"); err != nil {
		t.Fatal(err)
	}
	if keys, _, _ := adminIn(env, "", "keys", "list"); !strings.Contains(keys, "weather") {
		t.Errorf("keys list does not show the granted secret:\n%s", keys)
	}
	if _, _, err := adminIn(env, "", "secrets", "remove", "weather"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := adminIn(env, "", "secrets", "remove", "weather"); err == nil {
		t.Error("removed a secret twice")
	}
}

// TestSecretsNeedTheKeyAtStart: an instance refuses to start on a store
// holding secrets without CORSBRIDGE_SECRETS_KEY (a clear error, not a 5xx
// per request), and starts with it, never logging the key.
func TestSecretsNeedTheKeyAtStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	env := map[string]string{"CORSBRIDGE_KEYS_FILE": file, "CORSBRIDGE_SECRETS_KEY": testSecretsKey}
	if _, _, err := adminIn(env, testSecretValue, "secrets", "set", "maps", "--target", "maps.example", "--header", "X-Api-Key"); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0"}, envOf(map[string]string{"CORSBRIDGE_KEYS_FILE": file}), nil, io.Discard, io.Discard)
	var usage *usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "CORSBRIDGE_SECRETS_KEY is not set") {
		t.Fatalf("started without the key: %v", err)
	}
	inst := start(t, env)
	syncLog(t, inst)
	logs := inst.logs.String()
	if strings.Contains(logs, testSecretsKey) || strings.Contains(logs, testSecretValue) || !strings.Contains(logs, `"secrets-key":"(redacted)"`) {
		t.Errorf("start-up log:\n%s", logs)
	}
}

// TestTokenGrantsSecrets: `corsbridge token --secret` puts the names, never
// a value, in the token.
func TestTokenGrantsSecrets(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"token", "--origin", "https://demo.example", "--target", "maps.example", "--secret", "maps", "--secret", "weather"},
		envOf(map[string]string{"CORSBRIDGE_TOKEN_SECRET": strings.Repeat("t", 40)}), nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := access.ParseToken(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	var c access.Claims
	if err := json.Unmarshal(p.Payload, &c); err != nil || strings.Join(c.Secrets, ",") != "maps,weather" {
		t.Errorf("claims %s: %v", p.Payload, err)
	}
}

// TestSecretsThroughRedisOnTwoInstances: a secret set with `admin` in Redis
// reaches the upstream through both instances, only for the key granting
// it; neither instance logs its value.
func TestSecretsThroughRedisOnTwoInstances(t *testing.T) {
	var mu sync.Mutex
	var got []string // X-Api-Key as the upstream saw it, per request
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Api-Key"))
		mu.Unlock()
	}))
	defer upstream.Close()
	env := map[string]string{
		"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8",
		"REDIS_URL":                redistest.Dedicated(t).URL(),
		"CORSBRIDGE_SECRETS_KEY":   testSecretsKey,
	}
	// http:// named explicitly: the test upstream is plain HTTP.
	if _, _, err := adminIn(env, testSecretValue, "secrets", "set", "api", "--target", upstream.URL+"/v1/", "--header", "X-Api-Key"); err != nil {
		t.Fatal(err)
	}
	granted := admin(t, env, "keys", "add", "--name", "demo", "--secret", "api")
	plain := admin(t, env, "keys", "add", "--name", "plain")
	insts := []*instance{start(t, env), start(t, env)}
	for _, inst := range insts {
		for _, tc := range []struct{ key, want string }{{granted, testSecretValue}, {plain, ""}, {"", ""}} {
			mu.Lock()
			got = nil
			mu.Unlock()
			if status, code := call(t, inst.base, upstream.URL+"/v1/x", "https://demo.example", tc.key); status != 200 || code != "" {
				t.Fatalf("%s: %d %s", inst.base, status, code)
			}
			mu.Lock()
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s: upstream got X-Api-Key %q, want %q", inst.base, got, tc.want)
			}
			mu.Unlock()
		}
		syncLog(t, inst)
		if logs := inst.logs.String(); strings.Contains(logs, testSecretValue) || !strings.Contains(logs, `"secrets":["api"]`) {
			t.Errorf("%s log:\n%s", inst.base, logs)
		}
	}
}

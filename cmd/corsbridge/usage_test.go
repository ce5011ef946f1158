package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsbridge/corsbridge/internal/redistest"
)

// keyedCalls sends n GETs with key through base and returns the response
// body bytes received; the caller knows which answers to expect.
func keyedCalls(t *testing.T, base, target, key string, n int) (bodyBytes int64, codes []string) {
	t.Helper()
	for range n {
		req, _ := http.NewRequest("GET", base+"/"+target, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("X-Corsbridge-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		bodyBytes += int64(len(body))
		codes = append(codes, res.Header.Get("X-Corsbridge-Error"))
	}
	return bodyBytes, codes
}

// TestAdminUsage: requests made through a real instance with a key appear
// exactly in `corsbridge admin usage`, read from Redis and from the file
// beside a keys file, once the instance has stopped (its last flush).
func TestAdminUsage(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "twelve bytes") }))
	defer upstream.Close()
	stores := []struct {
		name string
		env  func(t *testing.T) map[string]string
	}{
		{"redis", func(t *testing.T) map[string]string {
			return map[string]string{"REDIS_URL": redistest.Dedicated(t).URL()}
		}},
		{"keys file", func(t *testing.T) map[string]string {
			return map[string]string{"CORSBRIDGE_KEYS_FILE": filepath.Join(t.TempDir(), "keys.json")}
		}},
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			env := store.env(t)
			secret := admin(t, env, "keys", "add", "--name", "team", "--rate", "3/1m")
			env["CORSBRIDGE_ALLOW_PRIVATE"] = "127.0.0.0/8"
			inst := start(t, env)
			bodyBytes, codes := keyedCalls(t, inst.base, upstream.URL+"/", secret, 5)
			if got := strings.Join(codes, ","); got != ",,,rate_limited,rate_limited" {
				t.Fatalf("answers %q, want three served and two rate_limited", got)
			}
			// Stopped, so its last flush has every request.
			inst.cancel()
			if err := <-inst.done; err != nil {
				t.Fatalf("run returned %v", err)
			}
			inst.done <- nil // for the cleanup's stop

			out := admin(t, env, "usage")
			today := time.Now().UTC().Format(time.DateOnly)
			want := fmt.Sprintf("team  %s  5         %d", today, bodyBytes)
			if !strings.Contains(out, want) || !strings.HasSuffix(out, "rate_limited=2") {
				t.Errorf("admin usage:\n%s\nwant a row %q ending rate_limited=2", out, want)
			}
			out = admin(t, env, "usage", "team", "--days", "3")
			if lines := strings.Split(out, "\n"); len(lines) != 4 || !strings.Contains(lines[1], "  0  ") || !strings.HasPrefix(lines[3], "team  "+today+"  5") {
				t.Errorf("admin usage team --days 3: want a header and three days, the last today:\n%s", out)
			}
		})
	}
}

func TestAdminUsageRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no store", nil, []string{"usage"}, "GET /_corsbridge/usage"},
		{"zero days", map[string]string{"CORSBRIDGE_KEYS_FILE": "k.json"}, []string{"usage", "--days", "0"}, "--days must be 1 to 400"},
		{"two names", map[string]string{"CORSBRIDGE_KEYS_FILE": "k.json"}, []string{"usage", "a", "b"}, "corsbridge admin usage [NAME]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"admin"}, tc.args...), envOf(tc.env), nil, &out, &errOut)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestUsageStoreShown: the start-up line and /readyz say where usage is
// kept: Redis whenever there is one, else beside the keys file, else
// memory.
func TestUsageStoreShown(t *testing.T) {
	tests := []struct {
		name string
		env  func(t *testing.T) map[string]string
		want string
	}{
		{"neither", func(*testing.T) map[string]string { return nil }, "memory"},
		{"keys file", func(t *testing.T) map[string]string {
			return map[string]string{"CORSBRIDGE_KEYS_FILE": filepath.Join(t.TempDir(), "keys.json")}
		}, "file"},
		{"redis and a keys file", func(t *testing.T) map[string]string {
			return map[string]string{"REDIS_URL": redistest.Dedicated(t).URL(), "CORSBRIDGE_KEYS_FILE": filepath.Join(t.TempDir(), "keys.json")}
		}, "redis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env(t)
			if env["CORSBRIDGE_KEYS_FILE"] != "" {
				admin(t, map[string]string{"CORSBRIDGE_KEYS_FILE": env["CORSBRIDGE_KEYS_FILE"]}, "keys", "add", "--name", "team")
			}
			inst := start(t, env)
			if got := startLine(t, inst)["usage"]; got != tc.want {
				t.Errorf("start-up line: usage %v, want %q", got, tc.want)
			}
			if status, body := getBody(t, inst.base+"/readyz"); status != 200 || !strings.Contains(body, `"usage":"`+tc.want+`"`) {
				t.Errorf("readyz: %d %s, want usage %q", status, body, tc.want)
			}
		})
	}
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	demoAPIKey     = "weather-api-key-5d8e1f0a" // only the proxy's store holds it
	demoSecretsKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	demoTokenKey   = "e2e-token-secret-0123456789abcdef0123"
)

// corsbridgeCmd runs the built binary with env only (nothing from the
// developer's environment) and stdin, and returns its standard output.
func corsbridgeCmd(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(e2e.bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("corsbridge %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// TestDemoAPIAccess is README's "Demo API access" recipe in a real browser:
// the page holds a demo token and no API key, calls an upstream that refuses
// requests without its key, and gets the answer, because the proxy adds the
// key. The key appears nowhere the page can read.
func TestDemoAPIAccess(t *testing.T) {
	page := startPage(t)
	ctx := openPage(t, page)
	var api upstreamCalls
	up := serveOn(t, upstreamIP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.add(r.URL.RawQuery)
		if r.URL.Query().Get("appid") != demoAPIKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"an appid is required"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"city":"`+r.URL.Query().Get("q")+`","temp":21}`)
	}))
	keys := filepath.Join(t.TempDir(), "keys.json")
	env := []string{"CORSBRIDGE_KEYS_FILE=" + keys, "CORSBRIDGE_SECRETS_KEY=" + demoSecretsKey, "CORSBRIDGE_TOKEN_SECRET=" + demoTokenKey}
	// The test upstream is plain HTTP, so the pattern says http:// explicitly.
	corsbridgeCmd(t, env, demoAPIKey+"\n", "admin", "secrets", "set", "weather", "--target", up.URL+"/v1/", "--query", "appid")
	token := corsbridgeCmd(t, env, "", "token", "--origin", page.URL, "--target", upstreamIP+"/v1/", "--rate", "50/1m", "--daily", "100", "--secret", "weather")
	p := startProxy(t, append([]string{allowUpstream}, env...)...)

	target := up.URL + "/v1/now?q=Zurich"
	withToken := "{headers: {" + jsString("X-Corsbridge-Key") + ": " + jsString(token) + "}}"
	res := probe(t, ctx, p.URL+"/"+target, withToken)
	if res.Error != "" || res.Status != http.StatusOK {
		t.Fatalf("with the token: %+v", res)
	}
	var body struct {
		City string `json:"city"`
		Temp int    `json:"temp"`
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil || body.City != "Zurich" || body.Temp != 21 {
		t.Errorf("body %q: %v", res.Body, err)
	}
	if got := api.last(); got != "q=Zurich&appid="+demoAPIKey {
		t.Errorf("upstream got query %q, want the page's plus the injected key", got)
	}
	if res.Headers["x-request-url"] != target || res.Headers["x-final-url"] != target {
		t.Errorf("X-Request-Url %q, X-Final-Url %q, want %q", res.Headers["x-request-url"], res.Headers["x-final-url"], target)
	}

	// Without the token the proxy adds nothing: the upstream refuses.
	if res := probe(t, ctx, p.URL+"/"+target, "{}"); res.Status != http.StatusUnauthorized {
		t.Errorf("without the token: %+v", res)
	}
	if got := api.last(); got != "q=Zurich" {
		t.Errorf("upstream got query %q without the token", got)
	}

	// The page reads what its token has left, cross-origin, through a
	// preflight for the header: one request made, 99 left today. The
	// request is recorded as its handler returns, so the page may ask
	// again.
	var left struct {
		Name   string `json:"name"`
		Quotas []struct {
			Name      string `json:"name"`
			Remaining int64  `json:"remaining"`
		} `json:"quotas"`
		Usage struct {
			Today struct{ Requests int64 } `json:"today"`
		} `json:"usage"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := probe(t, ctx, p.URL+"/_corsbridge/usage", withToken)
		if res.Error != "" || res.Status != http.StatusOK || res.Headers["cache-control"] != "no-store" {
			t.Fatalf("usage: %+v", res)
		}
		if err := json.Unmarshal([]byte(res.Body), &left); err != nil {
			t.Fatalf("usage body %q: %v", res.Body, err)
		}
		if left.Usage.Today.Requests == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left.Name == "" || left.Usage.Today.Requests != 1 || len(left.Quotas) != 1 || left.Quotas[0].Name != "daily" || left.Quotas[0].Remaining != 99 {
		t.Errorf("usage as the page reads it: %+v", left)
	}

	// Nothing the page can read holds the key: its own source, what fetch
	// returned, or the proxy's log.
	html := eval[string](t, ctx, "document.documentElement.outerHTML")
	raw, _ := json.Marshal(res)
	for what, text := range map[string]string{"the page": html, "the response": string(raw), "the proxy's log": p.logs.String()} {
		if strings.Contains(text, demoAPIKey) {
			t.Errorf("%s holds the API key", what)
		}
	}
}

// upstreamCalls records the raw queries an upstream got.
type upstreamCalls struct {
	mu      sync.Mutex
	queries []string
}

func (c *upstreamCalls) add(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, q)
}

func (c *upstreamCalls) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queries) == 0 {
		return ""
	}
	return c.queries[len(c.queries)-1]
}

package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestLandingPage loads the proxy's own landing page, keeps light and dark
// screenshots of it, and uses the "try it" form as a person would: type a
// URL, click Send, read the result panel.
func TestLandingPage(t *testing.T) {
	ctx := needBrowser(t).tab(t)
	up := startUpstream(t)
	p := startProxy(t, allowUpstream)
	do(t, ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(p.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("try-form")),
	)

	// app.js ran under the page's Content-Security-Policy: it wrote the
	// browser's own origin into the examples and showed the copy buttons.
	if got := eval[string](t, ctx, `document.querySelector(".js-base").textContent`); got != p.URL {
		t.Errorf("examples show base %q, want %q", got, p.URL)
	}
	if eval[bool](t, ctx, `document.querySelector("button[data-copy]").hidden`) {
		t.Error("copy buttons are still hidden: app.js did not run")
	}

	t.Run("screenshots", func(t *testing.T) {
		defer setColorScheme(t, ctx, "")
		setColorScheme(t, ctx, "light")
		light := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`)
		screenshot(t, ctx, "landing.png")

		setColorScheme(t, ctx, "dark")
		if !eval[bool](t, ctx, `matchMedia("(prefers-color-scheme: dark)").matches`) {
			t.Fatal("dark color scheme emulation did not apply")
		}
		if dark := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); dark == light {
			t.Errorf("dark scheme background %s is the light one: the page has no dark style", dark)
		}
		screenshot(t, ctx, "landing-dark.png")
	})

	t.Run("try it: upstream answer", func(t *testing.T) {
		target := up.URL + "/plain"
		tryIt(t, ctx, target, "The upstream answered 200")

		if got := eval[string](t, ctx, `document.querySelector("#try-result .badge").textContent`); got != "200" {
			t.Errorf("shown status %q, want 200", got)
		}
		headers := shownHeaders(t, ctx)
		if headers["x-custom"] != "custom-value" || headers["x-final-url"] != target {
			t.Errorf("shown headers %v, want x-custom: custom-value and x-final-url: %s", headers, target)
		}
		// The panel marks the proxy's own headers apart from the upstream's.
		ours := eval[[]string](t, ctx, `[...document.querySelectorAll("#try-result dl.headers dt.ours")].map((dt) => dt.textContent)`)
		for _, name := range []string{"x-final-url", "x-request-id", "x-request-url", "x-ratelimit-limit"} {
			if !slices.Contains(ours, name) {
				t.Errorf("%s is not marked as the proxy's own header; marked: %v", name, ours)
			}
		}
		if slices.Contains(ours, "x-custom") {
			t.Error("the upstream's x-custom is marked as the proxy's own header")
		}
		if body := eval[string](t, ctx, `document.querySelector("#try-result pre.body").textContent`); body != "hello from upstream" {
			t.Errorf("shown body %q, want %q", body, "hello from upstream")
		}
		got := up.requests("/plain")
		if len(got) != 1 || got[0].Method != http.MethodGet || got[0].Header.Get("X-Requested-With") != "corsbridge" {
			t.Errorf("upstream got %+v, want one GET with X-Requested-With: corsbridge", got)
		}
		elementScreenshot(t, ctx, "#try", "try-ok.png")
	})

	t.Run("try it: proxy refusal", func(t *testing.T) {
		tryIt(t, ctx, "http://localhost:"+up.port()+"/plain", "corsbridge refused the request: target_forbidden")

		if got := eval[string](t, ctx, `document.querySelector("#try-result .badge").textContent`); got != "403" {
			t.Errorf("shown status %q, want 403", got)
		}
		banner := eval[string](t, ctx, `document.querySelector("#try-result .banner.bad").textContent`)
		if !strings.HasPrefix(banner, "corsbridge refused: target_forbidden") {
			t.Errorf("banner %q, want it to start with %q", banner, "corsbridge refused: target_forbidden")
		}
		if headers := shownHeaders(t, ctx); headers["x-corsbridge-error"] != "target_forbidden" {
			t.Errorf("shown headers %v, want x-corsbridge-error: target_forbidden", headers)
		}
		if n := len(up.all()); n != 1 {
			t.Errorf("upstream got %d requests, want only the first test's 1", n)
		}
		elementScreenshot(t, ctx, "#try", "try-refused.png")
	})
}

// TestLandingPageWithKey: on an instance that requires a key the try-it
// form has a Key field; a request without a key shows key_required like any
// other refusal, and the key typed in reaches the proxy as a header only:
// not in any URL, not forwarded, not stored by the page.
func TestLandingPageWithKey(t *testing.T) {
	ctx := needBrowser(t).tab(t)
	up := startUpstream(t)
	keys := filepath.Join(t.TempDir(), "keys.json")
	add := exec.Command(e2e.bin, "admin", "--keys-file", keys, "keys", "add", "--name", "e2e")
	add.Env = []string{} // nothing from the developer's environment (REDIS_URL)
	out, err := add.Output()
	if err != nil {
		t.Fatalf("corsbridge admin keys add: %v", err)
	}
	secret := strings.TrimSpace(string(out))
	p := startProxy(t, allowUpstream, "CORSBRIDGE_KEYS_FILE="+keys, "CORSBRIDGE_REQUIRE_KEY=true")
	do(t, ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(p.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("try-key")),
	)
	if got := eval[string](t, ctx, `document.getElementById("try-key").type`); got != "password" {
		t.Errorf("the key field's type is %q, want password", got)
	}

	target := up.URL + "/plain"
	tryIt(t, ctx, target, "corsbridge refused the request: key_required")
	if hint := eval[string](t, ctx, `document.querySelector("#try-result .banner.note").textContent`); !strings.Contains(hint, "Key field") {
		t.Errorf("key_required hint %q, want it to point at the Key field", hint)
	}
	if n := len(up.all()); n != 0 {
		t.Errorf("upstream got %d requests without a key, want 0", n)
	}

	do(t, ctx, chromedp.SendKeys(chromedp.ID("try-key"), secret))
	tryIt(t, ctx, target, "The upstream answered 200")
	got := up.requests("/plain")
	if len(got) != 1 || got[0].Header.Get("X-Corsbridge-Key") != "" {
		t.Errorf("upstream got %+v, want one request without the key", got)
	}
	// The key went as a header: no URL the page fetched holds it, and the
	// page kept it nowhere.
	urls := eval[[]string](t, ctx, `performance.getEntriesByType("resource").map((e) => e.name)`)
	for _, u := range append(urls, eval[string](t, ctx, `location.href`)) {
		if strings.Contains(u, secret) {
			t.Errorf("the key is in a URL: %s", u)
		}
	}
	if n := eval[int](t, ctx, `localStorage.length + sessionStorage.length + document.cookie.length`); n != 0 {
		t.Errorf("the page stored something (%d)", n)
	}
	elementScreenshot(t, ctx, "#try", "try-key.png")
}

// tryIt types target over the URL field, clicks Send and waits until the status
// line starts with status.
func tryIt(t *testing.T, ctx context.Context, target, status string) {
	t.Helper()
	do(t, ctx,
		// Select what the field holds and type over it. (chromedp.Clear only
		// resets the value attribute, not what was typed before.)
		chromedp.Focus(chromedp.ID("try-url")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.SendKeys(chromedp.ID("try-url"), target),
		chromedp.Click(chromedp.CSS(`#try-form button[type="submit"]`)),
	)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`!document.getElementById("try-result").hidden && document.getElementById("try-status").textContent.startsWith(`+jsString(status)+`)`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		shown := eval[string](t, ctx, `document.getElementById("try-status").textContent + " | " + document.getElementById("try-result").textContent`)
		t.Fatalf("try it with %s: want status %q, page shows %q (%v)", target, status, shown, err)
	}
}

// shownHeaders reads the response headers the result panel lists.
func shownHeaders(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("#try-result dl.headers dt")]
		.map((dt) => [dt.textContent, dt.nextElementSibling.textContent]))`)
}

// setColorScheme emulates prefers-color-scheme, with reduced motion so the
// page's colour transitions do not run into a screenshot, and waits until
// nothing animates; "" restores the defaults.
func setColorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	params := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		params.Features = []*emulation.MediaFeature{
			{Name: "prefers-color-scheme", Value: scheme},
			{Name: "prefers-reduced-motion", Value: "reduce"},
		}
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, params); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "transitions to end", `document.getAnimations().length === 0`, 5*time.Second)
}

// screenshot keeps a full-page PNG in the output directory and, with
// CORSBRIDGE_E2E_UPDATE_DOCS=1, in docs/ for the README.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	writeOutput(t, name, png)
	if os.Getenv("CORSBRIDGE_E2E_UPDATE_DOCS") == "1" {
		path := filepath.Join("..", "docs", name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
	}
}

func elementScreenshot(t *testing.T, ctx context.Context, selector, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err != nil {
		t.Fatal(err)
	}
	writeOutput(t, name, png)
}

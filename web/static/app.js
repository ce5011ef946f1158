// corsbridge pages: the real base URL in the examples, copy buttons, and the
// live "try it" form. No framework and no inline handlers (the page's CSP
// forbids them); everything shown from a response goes in as textContent.
"use strict";

(() => {
  const origin = location.origin;
  const BODY_LIMIT = 4096;
  const TIMEOUT_MS = 30000;
  const OUR_HEADERS = /^(x-request-url|x-request-id$|x-final-url|x-ratelimit-|x-corsbridge-|retry-after$)/;

  // The server guessed its own address from the Host header; the browser
  // knows the real one, scheme included, even behind a TLS-terminating proxy.
  for (const el of document.querySelectorAll(".js-base")) el.textContent = origin;

  const announce = (text) => {
    const el = document.getElementById("announce");
    if (el) el.textContent = text;
  };

  // Copy buttons are hidden in the HTML so they only appear when they work.
  for (const btn of document.querySelectorAll("button[data-copy]")) {
    btn.hidden = false;
    btn.addEventListener("click", () => copy(btn));
  }

  async function copy(btn) {
    const src = document.getElementById(btn.dataset.copy);
    if (!src) return;
    let label = "Copied";
    try {
      await navigator.clipboard.writeText(src.textContent);
    } catch {
      // No clipboard API (plain http on a non-local host): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(src);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      label = "Selected";
    }
    btn.textContent = label;
    btn.classList.add("done");
    announce(label === "Copied" ? "Copied to the clipboard" : "Selected; press Ctrl+C or Cmd+C to copy");
    clearTimeout(btn.resetTimer);
    btn.resetTimer = setTimeout(() => {
      btn.textContent = "Copy";
      btn.classList.remove("done");
    }, 1600);
  }

  // Try it.
  const form = document.getElementById("try-form");
  if (!form) return;
  const status = document.getElementById("try-status");
  const result = document.getElementById("try-result");
  let current = null;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });

  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props);
    node.append(...children);
    return node;
  };

  async function send() {
    let target = form.elements.url.value.trim();
    const method = form.elements.method.value;
    // The access key goes in a header only: never in the URL (which ends up
    // in logs and history), never stored. The field exists when the
    // instance accepts keys.
    const key = form.elements.key ? form.elements.key.value.trim() : "";
    const headers = { "X-Requested-With": "corsbridge" };
    if (key) headers["X-Corsbridge-Key"] = key;
    // Accept a whole proxied URL pasted back in.
    if (target.startsWith(origin + "/")) target = target.slice(origin.length + 1);
    if (!target) {
      status.textContent = "Enter a URL to send a request to.";
      form.elements.url.focus();
      return;
    }
    if (current) current.abort(new DOMException("replaced", "AbortError"));
    const ctl = new AbortController();
    current = ctl;
    const timer = setTimeout(() => ctl.abort(new DOMException("timeout", "TimeoutError")), TIMEOUT_MS);
    status.textContent = `Sending ${method} ${target} …`;
    const started = performance.now();
    try {
      const res = await fetch(origin + "/" + target, {
        method,
        headers,
        credentials: "omit",
        cache: "no-store",
        // A redirect the proxy passes on points at another origin, which this
        // page's CSP would block; report it instead of failing obscurely.
        redirect: "manual",
        signal: ctl.signal,
      });
      const head = method === "HEAD" ? null : await readHead(res);
      if (ctl !== current) return;
      show(res, head, performance.now() - started, method);
    } catch (err) {
      if (ctl !== current) return;
      showFailure(err, performance.now() - started);
    } finally {
      clearTimeout(timer);
      if (ctl === current) current = null;
    }
  }

  // readHead reads the first BODY_LIMIT bytes of a body and stops.
  async function readHead(res) {
    if (!res.body) return { bytes: new Uint8Array(0), more: false };
    const reader = res.body.getReader();
    const chunks = [];
    let n = 0;
    try {
      while (n <= BODY_LIMIT) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        n += value.length;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    const bytes = new Uint8Array(Math.min(n, BODY_LIMIT));
    let at = 0;
    for (const c of chunks) {
      const part = c.subarray(0, bytes.length - at);
      bytes.set(part, at);
      at += part.length;
      if (at === bytes.length) break;
    }
    return { bytes, more: n > BODY_LIMIT };
  }

  function show(res, head, ms, method) {
    result.replaceChildren();
    result.hidden = false;
    const took = formatMs(ms);

    if (res.type === "opaqueredirect") {
      status.textContent = `Redirect not followed (${took}).`;
      result.append(el("p", { className: "banner warn", textContent:
        "The upstream answered with a redirect that the proxy passed on instead of following (see the redirect limit below). Browsers hide such responses from scripts." }));
      return;
    }

    const proxyCode = res.headers.get("X-Corsbridge-Error");
    const text = head ? decode(head.bytes) : "";
    const kind = proxyCode ? "bad" : res.ok ? "ok" : res.status >= 500 ? "bad" : "warn";

    const summary = el("div", { className: "summary" },
      el("span", { className: "badge " + kind, textContent: String(res.status) }),
      el("span", { textContent: res.statusText || "" }),
      el("span", { className: "meta", textContent: took }),
    );
    const size = res.headers.get("Content-Length");
    if (size) summary.append(el("span", { className: "meta", textContent: formatBytes(Number(size)) }));
    result.append(summary);

    let message;
    if (proxyCode) {
      let detail = { code: proxyCode, message: "" };
      try {
        detail = { ...detail, ...JSON.parse(text) };
      } catch { /* keep the header's code */ }
      const banner = el("p", { className: "banner bad" },
        el("strong", { textContent: "corsbridge refused: " }),
        `${detail.code}${detail.message ? " — " + detail.message : ""}`);
      const retry = res.headers.get("Retry-After");
      if (retry) banner.append(` (retry after ${retry} s)`);
      result.append(banner);
      const hint = keyHint(detail.code);
      if (hint) result.append(el("p", { className: "banner note", textContent: hint }));
      message = `corsbridge refused the request: ${detail.code}.`;
    } else if (!res.ok) {
      result.append(el("p", { className: "banner " + kind },
        el("strong", { textContent: "The upstream answered " + res.status + ". " }),
        "This is the target's own response, passed through by the proxy."));
      message = `The upstream answered ${res.status}.`;
    } else {
      message = `The upstream answered ${res.status} in ${took}.`;
    }
    status.textContent = message;

    const names = [...res.headers.keys()].sort();
    result.append(el("h3", { textContent: `Response headers (${names.length})` }));
    const dl = el("dl", { className: "headers" });
    for (const name of names) {
      const ours = OUR_HEADERS.test(name);
      dl.append(el("dt", { className: ours ? "ours" : "", textContent: name }),
        el("dd", { textContent: res.headers.get(name) }));
    }
    result.append(dl);

    if (!head) {
      result.append(el("p", { className: "body note", textContent: "No body: this was a HEAD request." }));
      return;
    }
    const label = head.more ? `Body (first ${BODY_LIMIT / 1024} KiB)` : "Body";
    result.append(el("h3", { textContent: label }));
    let body;
    if (head.bytes.length === 0) body = "(empty)";
    else if (head.bytes.includes(0)) body = `(binary content, ${head.more ? "more than " : ""}${formatBytes(head.bytes.length)}; not shown)`;
    else body = prettyJSON(text, res.headers.get("Content-Type"), head.more) + (head.more ? "\n…" : "");
    result.append(el("pre", { className: "body", textContent: body }));
  }

  // keyHint says what to do about an access-key refusal, or "".
  function keyHint(code) {
    const field = form.elements.key;
    switch (code) {
      case "key_required":
        return field ? "This instance requires an access key: enter it in the Key field and send again."
          : "This instance requires an access key, sent in the X-Corsbridge-Key header.";
      case "key_forbidden":
        if (field && field.value.trim()) return "Check the key in the Key field, or clear it to send without one.";
    }
    return "";
  }

  function showFailure(err, ms) {
    result.replaceChildren();
    result.hidden = false;
    let text;
    if (err && err.name === "TimeoutError") {
      text = `No response within ${TIMEOUT_MS / 1000} s; the request was cancelled.`;
    } else {
      text = "The request did not complete: the proxy could not be reached or the connection failed" +
        (err && err.message ? ` (${err.message}).` : ".");
    }
    result.append(el("p", { className: "banner bad" }, el("strong", { textContent: "Network error: " }), text));
    status.textContent = `Network error after ${formatMs(ms)}.`;
  }

  function decode(bytes) {
    // stream: true holds back a character cut in half at the 4 KiB mark.
    return new TextDecoder("utf-8").decode(bytes, { stream: true });
  }

  function prettyJSON(text, type, truncated) {
    if (truncated || !/\bjson\b/i.test(type || "")) return text;
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  function formatMs(ms) {
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
  }

  function formatBytes(n) {
    if (!Number.isFinite(n)) return "";
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }
})();

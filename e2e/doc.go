// Package e2e drives a real browser against the real corsbridge binary.
//
// The tests build ./cmd/corsbridge once, run it as a subprocess per scenario,
// and load pages into Debian's headless chromium through chromedp. Three
// loopback origins stand in for the three parties of a CORS proxy:
//
//	http://127.0.0.3:<port>  the page that wants the data (origin A)
//	http://127.0.0.1:<port>  corsbridge
//	http://127.0.0.2:<port>  the upstream API, which sends no CORS headers
//
// Linux routes all of 127.0.0.0/8 to the loopback interface, so the three are
// distinct origins to the browser while no packet leaves the machine. The
// browser sends everything that is not loopback to a local sink proxy that
// refuses it and fails the test that caused it.
//
// Chromium is found as CORSBRIDGE_E2E_CHROMIUM, else chromium on PATH. When it
// is missing the tests skip, except under CI (CI=true), where they fail.
// Screenshots land in testdata/out/ (or CORSBRIDGE_E2E_OUT); with
// CORSBRIDGE_E2E_UPDATE_DOCS=1 the landing page screenshots are also written
// to docs/ for the README.
package e2e

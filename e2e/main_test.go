package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// suite is what TestMain prepares once for every test: the binary, the
// output directory and one browser whose tabs the tests share.
type suite struct {
	bin        string   // the corsbridge binary, built from this checkout
	out        string   // screenshots for a reviewer
	browser    *browser // nil when browserErr is set
	browserErr error
}

var e2e suite

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "corsbridge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	if e2e.bin, err = buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if e2e.out, err = outputDir(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	e2e.browser, e2e.browserErr = startBrowser(filepath.Join(dir, "profile"))

	code := m.Run()
	if e2e.browser != nil {
		if err := e2e.browser.close(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: errors on successful test run:", err)
			code = 1
		}
	}
	return code
}

// buildBinary builds the real command, as a deploy would, into dir.
func buildBinary(dir string) (string, error) {
	goTool, err := exec.LookPath("go") // go test puts its own GOROOT/bin first on PATH
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build corsbridge: %w", err)
	}
	bin := filepath.Join(dir, "corsbridge")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/corsbridge/corsbridge/cmd/corsbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// outputDir is where screenshots go: CORSBRIDGE_E2E_OUT, else testdata/out
// beside these tests (ignored by git).
func outputDir() (string, error) {
	dir := os.Getenv("CORSBRIDGE_E2E_OUT")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// inCI: the CI entry point sets CI=true. There a missing browser is a broken
// machine, not a reason to skip.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// needBrowser returns the shared browser. Without one it fails the test,
// except that a missing chromium outside CI skips it, naming what is
// missing.
func needBrowser(t *testing.T) *browser {
	t.Helper()
	if e2e.browser != nil {
		return e2e.browser
	}
	if !errors.Is(e2e.browserErr, errNoChromium) {
		t.Fatalf("chromium did not start: %v", e2e.browserErr)
	}
	if inCI() {
		t.Fatalf("real-browser tests need chromium (make test installs it; or apt-get install chromium): %v", e2e.browserErr)
	}
	t.Skipf("skipping real-browser test: %v (apt-get install chromium, or set CORSBRIDGE_E2E_CHROMIUM; with CI=true this fails)", e2e.browserErr)
	return nil
}

// writeOutput keeps an artifact of the run for a reviewer and logs its path.
func writeOutput(t *testing.T, name string, data []byte) {
	t.Helper()
	path := filepath.Join(e2e.out, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// testTimeout bounds every browser interaction of one test.
const testTimeout = 30 * time.Second

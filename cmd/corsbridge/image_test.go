package main

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const repoRoot = "../.."

// instruction is one Dockerfile instruction: its keyword and the rest.
type instruction struct {
	cmd, args string
}

// stage is one FROM ... stage of a Dockerfile.
type stage struct {
	from, name string
	body       []instruction
}

// parseDockerfile reads the Dockerfile's stages: continuation lines joined,
// comments and the syntax directive dropped.
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var pending string
	for line := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			pending += cont + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		cmd, args, _ := strings.Cut(full, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			st := stage{from: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile: %s before FROM", in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	return stages
}

func (s stage) find(cmd string) []string {
	var out []string
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm decodes a JSON-array instruction argument; options before it
// (HEALTHCHECK --interval=...) are skipped.
func execForm(t *testing.T, args string) []string {
	t.Helper()
	i := strings.IndexByte(args, '[')
	var argv []string
	if i < 0 || json.Unmarshal([]byte(args[i:]), &argv) != nil {
		t.Fatalf("%q is not in exec form: a distroless image has no shell", args)
	}
	return argv
}

func defaultPort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(DefaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// makeBuild runs `make build` as the Dockerfile does, into dir.
func makeBuild(t *testing.T, bin, version string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed to build the binary as the Dockerfile does")
	}
	cmd := exec.Command("make", "-s", "-C", repoRoot, "build", "BIN="+bin, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stages", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final image %s: want distroless static or scratch", final.from)
	}

	// The binary is built by `make build` into BIN and copied from there.
	var bin, builder string
	for _, st := range stages[:len(stages)-1] {
		for _, run := range st.find("RUN") {
			if strings.Contains(run, "make build") {
				for _, f := range strings.Fields(run) {
					if v, ok := strings.CutPrefix(f, "BIN="); ok {
						bin, builder = strings.Trim(v, `"`), st.name
					}
				}
			}
		}
	}
	if bin == "" {
		t.Fatal("no build stage runs `make build BIN=...`")
	}
	entry := execForm(t, strings.Join(final.find("ENTRYPOINT"), ""))
	copied := false
	for _, c := range final.find("COPY") {
		f := strings.Fields(c)
		if len(f) == 3 && f[0] == "--from="+builder && f[1] == bin && f[2] == entry[0] {
			copied = true
		}
	}
	if !copied {
		t.Errorf("the final stage does not COPY --from=%s %s %s", builder, bin, entry[0])
	}

	users := final.find("USER")
	if len(users) == 0 {
		t.Error("the final stage runs as root: no USER")
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u, ":"); name == "root" || name == "0" {
			t.Errorf("USER %s is root", u)
		}
	}
	if expose := final.find("EXPOSE"); !slices.Equal(expose, []string{defaultPort(t)}) {
		t.Errorf("EXPOSE %v, want the default port %s", expose, defaultPort(t))
	}
	hc := final.find("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("want one HEALTHCHECK, got %v", hc)
	}
	if argv := execForm(t, hc[0]); !slices.Equal(argv, []string{entry[0], "healthcheck"}) {
		t.Errorf("HEALTHCHECK runs %q, want [%s healthcheck]", argv, entry[0])
	}
	for _, sig := range final.find("STOPSIGNAL") {
		if sig != "SIGTERM" && sig != "SIGINT" {
			t.Errorf("STOPSIGNAL %s: the binary drains on SIGTERM and SIGINT only", sig)
		}
	}

	// The flags that make the binary fit the image live in the Makefile.
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=$(VERSION)", "-o $(BIN) ./cmd/corsbridge"} {
		if !strings.Contains(string(makefile), want) {
			t.Errorf("the Makefile's build target lacks %q", want)
		}
	}
}

// rootRunner runs the binary inside an otherwise empty root directory, as
// the distroless image's non-root user would: chroot as root, else an
// unprivileged user namespace.
type rootRunner struct {
	root string
	argv []string // before the binary's own arguments
}

func newRootRunner(t *testing.T, root string) rootRunner {
	t.Helper()
	if os.Geteuid() == 0 {
		if chroot, err := exec.LookPath("chroot"); err == nil {
			return rootRunner{root, []string{chroot, "--userspec=65532:65532", root, "/corsbridge"}}
		}
	}
	if unshare, err := exec.LookPath("unshare"); err == nil {
		r := rootRunner{root, []string{unshare, "--map-root-user", "--root=" + root, "/corsbridge"}}
		if err := r.command(context.Background(), "--version").Run(); err == nil {
			return r
		}
	}
	t.Skip("neither chroot (as root) nor an unprivileged unshare --root is available: cannot run the binary in an empty root")
	return rootRunner{}
}

func (r rootRunner) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.argv[0], append(slices.Clone(r.argv[1:]), args...)...)
	cmd.Env = []string{} // nothing from the test's environment
	return cmd
}

// TestImageBinaryInEmptyRoot proves the image recipe without Docker: the
// binary built exactly as the Dockerfile builds it runs in a root holding
// nothing but itself and a CA bundle where distroless keeps it, as uid
// 65532, and serves, proxies over TLS, probes itself and drains.
func TestImageBinaryInEmptyRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	bin := filepath.Join(root, "corsbridge")
	if err := os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	makeBuild(t, bin, "v0.0.0-imagetest")
	for _, dir := range []string{filepath.Dir(root), root, filepath.Join(root, "etc"), filepath.Join(root, "etc/ssl"), filepath.Join(root, "etc/ssl/certs")} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// Static: no program interpreter, no shared libraries.
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader; the image has none")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	f.Close()

	// The TLS upstream's certificate is the only CA the root trusts, at the
	// path distroless keeps its bundle: a proxied https request proves the
	// binary finds CA certificates there.
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "over tls")
	}))
	defer upstream.Close()
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: upstream.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	runner := newRootRunner(t, root)

	out, err := runner.command(context.Background(), "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "v0.0.0-imagetest" {
		t.Fatalf("--version in the empty root: %q, %v", out, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := runner.command(ctx, "--addr", "127.0.0.1:0", "--shutdown-grace", "2s")
	srv.Env = []string{"CORSBRIDGE_ALLOW_PRIVATE=127.0.0.0/8"}
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exited <- srv.Wait()
	}()
	defer func() {
		if srv.ProcessState == nil {
			_ = srv.Process.Kill()
		}
	}()
	var addr string
	for addr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the binary exited before listening: %v", <-exited)
			}
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				addr = entry.Addr
			}
		case <-ctx.Done():
			t.Fatal("the binary did not start listening")
		}
	}
	base := "http://" + addr

	status, body := getBody(t, base+"/healthz")
	if status != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("/healthz: %d %s", status, body)
	}
	status, body = get(t, base+"/"+upstream.URL+"/", "https://app.example")
	if status != 200 || body != "over tls" {
		t.Errorf("https upstream through the empty root: %d %q", status, body)
	}
	out, err = runner.command(ctx, "healthcheck", "--addr", addr).Output()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Errorf("healthcheck in the empty root: %q, %v", out, err)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := <-exited; err != nil {
		t.Errorf("after SIGTERM the binary exited with %v, want 0", err)
	}
	err = runner.command(context.Background(), "healthcheck", "--addr", addr).Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Errorf("healthcheck with nothing listening: %v, want exit status 1", err)
	}
}

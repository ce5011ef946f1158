package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const unitPath = "../../deploy/corsbridge.service"

// unit is a systemd unit file: section -> key -> every value given.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, data []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", unitPath, n, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

// The VPS recipe's unit sandboxes the binary, lets it bind 80 and 443
// without root, keeps certificates in its state directory, gives the drain
// its time, and sets only settings corsbridge reads, with values it accepts.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	svc := parseUnit(t, data)["Service"]
	for _, tc := range []struct{ key, want string }{
		{"DynamicUser", "yes"},
		{"AmbientCapabilities", "CAP_NET_BIND_SERVICE"},
		{"CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"},
		{"ProtectSystem", "strict"},
		{"StateDirectory", "corsbridge"},
		{"NoNewPrivileges", "yes"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"KillSignal", "SIGTERM"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if got := svc[tc.key]; len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s=%q, want %q", tc.key, got, tc.want)
			}
		})
	}
	if len(svc["ExecStart"]) != 1 || !strings.HasSuffix(svc["ExecStart"][0], "/corsbridge") {
		t.Errorf("ExecStart=%q", svc["ExecStart"])
	}
	stop, err := time.ParseDuration(strings.Join(svc["TimeoutStopSec"], ""))
	if err != nil {
		t.Errorf("TimeoutStopSec: %v", err)
	}
	atLeastGrace(t, "TimeoutStopSec", stop)

	// systemd sets STATE_DIRECTORY from StateDirectory; corsbridge reads it
	// as its data directory.
	env := map[string]string{"STATE_DIRECTORY": "/var/lib/corsbridge"}
	for _, e := range svc["Environment"] {
		k, v, _ := strings.Cut(strings.Trim(e, `"`), "=")
		env[k] = v
	}
	if env["CORSBRIDGE_TLS_DOMAINS"] == "" {
		t.Error("the unit does not set CORSBRIDGE_TLS_DOMAINS, the one setting the recipe is about")
	}
	checkEnv(t, unitPath, env)
	cfg, err := parseConfig(nil, envOf(env), &bytes.Buffer{})
	if err == nil && (cfg.TLS.DataDir != "/var/lib/corsbridge" || cfg.TLS.Addr != ":443" || cfg.TLS.HTTPAddr != ":80") {
		t.Errorf("under the unit corsbridge would keep certificates in %q and listen on %q and %q", cfg.TLS.DataDir, cfg.TLS.Addr, cfg.TLS.HTTPAddr)
	}
}

// systemd's own checker, when it is installed: every directive known and
// well formed. ExecStart points at a binary that exists here.
func TestSystemdAnalyzeVerify(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; TestSystemdUnit checks the unit by parsing it")
	}
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "ExecStart=") {
			line = "ExecStart=" + self
		}
		out = append(out, line)
	}
	path := filepath.Join(t.TempDir(), "corsbridge.service")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// verify exits 0 on unknown or malformed directives and only says so:
	// any output is a failure.
	msg, err := exec.CommandContext(ctx, bin, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(msg)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, msg)
	}
}

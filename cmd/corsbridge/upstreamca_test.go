package main

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An HTTPS upstream under a private CA is reached only when
// CORSBRIDGE_UPSTREAM_CA_FILE names that CA; a file that holds no
// certificate stops the start.
func TestRunUpstreamCAFile(t *testing.T) {
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello over TLS")
	}))
	defer upstream.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: upstream.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		wantStatus int
		wantBody   string
	}{
		{"with the CA file", map[string]string{"CORSBRIDGE_UPSTREAM_CA_FILE": caFile}, 200, "hello over TLS"},
		{"without it", nil, 502, `"code":"upstream_unreachable"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CORSBRIDGE_ALLOW_PRIVATE": "127.0.0.0/8"}
			for k, v := range tt.env {
				env[k] = v
			}
			inst := start(t, env)
			status, body := get(t, inst.base+"/"+upstream.URL+"/x", "https://app.example")
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("status %d %q; want %d with %q", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		t.Run("refuses "+filepath.Base(path), func(t *testing.T) {
			err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--upstream-ca-file", path}, envOf(nil), nil, io.Discard, io.Discard)
			var usage *usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), "CORSBRIDGE_UPSTREAM_CA_FILE") {
				t.Errorf("run = %v, want a usage error naming CORSBRIDGE_UPSTREAM_CA_FILE", err)
			}
		})
	}
}

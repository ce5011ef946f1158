package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestHelpPrintsUsageOnce: -h and --help, for the server and for every
// subcommand, print the usage exactly once to standard output, nothing to
// standard error, and succeed (exit 0). A mistyped flag prints nothing but
// the usage error main reports (exit 2).
func TestHelpPrintsUsageOnce(t *testing.T) {
	var serverHelp bytes.Buffer
	writeHelp(&serverHelp, settings())
	tests := []struct {
		name  string
		args  []string
		usage string // what standard output starts with
		flag  string // a line of the flags' defaults, printed once
	}{
		{"server -h", []string{"-h"}, serverHelp.String(), ""},
		{"server --help", []string{"--help"}, serverHelp.String(), ""},
		{"healthcheck -h", []string{"healthcheck", "-h"}, serverHelp.String(), ""},
		{"token -h", []string{"token", "-h"}, tokenUsage, "  -monthly-bytes string\n"},
		{"token --help after flags", []string{"token", "--daily", "5", "--help"}, tokenUsage, "  -monthly-bytes string\n"},
		{"admin -h", []string{"admin", "-h"}, adminUsage, "  -keys-file string\n"},
		{"admin --help", []string{"admin", "--help"}, adminUsage, "  -keys-file string\n"},
		{"admin usage -h", []string{"admin", "usage", "-h"}, adminUsage, "  -keys-file string\n"},
		{"admin keys add -h", []string{"admin", "keys", "add", "-h"}, adminUsage, "  -keys-file string\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), tc.args, envOf(nil), nil, &stdout, &stderr); err != nil {
				t.Fatalf("err = %v, want nil (exit 0)", err)
			}
			out := stdout.String()
			if !strings.HasPrefix(out, tc.usage) {
				t.Errorf("standard output does not start with the usage:\n%s", out)
			}
			if n := strings.Count(out, "Usage: "); n != 1 {
				t.Errorf("the usage is printed %d times:\n%s", n, out)
			}
			if tc.flag != "" && strings.Count(out, tc.flag) != 1 {
				t.Errorf("the flags are not listed exactly once (%q):\n%s", tc.flag, out)
			}
			if tc.flag == "" && out != tc.usage {
				t.Errorf("standard output is not the help alone:\n%s", out)
			}
			if stderr.Len() != 0 {
				t.Errorf("standard error: %s", stderr.String())
			}
		})
	}
	for _, args := range [][]string{{"token", "--bogus"}, {"admin", "--bogus", "keys", "list"}, {"admin", "keys", "list", "--days", "x"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, envOf(nil), nil, &stdout, &stderr)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Errorf("err = %v, want a usage error (exit 2)", err)
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("printed besides the error:\n%s%s", stdout.String(), stderr.String())
			}
		})
	}
}

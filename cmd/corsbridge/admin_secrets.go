package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"
	"time"

	"github.com/corsbridge/corsbridge/access"
)

// maxSecretInput bounds what `secrets set` reads from standard input: a
// value, a line ending, and enough over to tell a value that is too long.
const maxSecretInput = 8 << 10

// adminSetSecret is `admin secrets set NAME --target P (--header H | --query P)`.
// The value comes from standard input, never from a flag: flags end up in
// shell history and in every process listing.
func adminSetSecret(ctx context.Context, store access.Store, getenv func(string) string, stdin io.Reader, name string, targets []string, header, query string, stderr io.Writer) error {
	kr, err := access.ParseKeyring(getenv("CORSBRIDGE_SECRETS_KEY"))
	switch {
	case err != nil:
		return &usageError{fmt.Errorf("admin: CORSBRIDGE_SECRETS_KEY: %w", err)}
	case kr == nil:
		return &usageError{fmt.Errorf("admin: %w (every instance needs the same one: openssl rand -base64 32)", access.ErrNoSecretsKey)}
	case len(targets) != 1:
		return &usageError{errors.New("admin: secrets set needs exactly one --target")}
	case stdin == nil:
		return &usageError{errors.New("admin: secrets set reads the value from standard input")}
	}
	value, err := readSecretValue(stdin)
	if errors.Is(err, errNoValue) {
		return &usageError{fmt.Errorf("admin: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	sec, err := access.NewSecret(kr, name, targets[0], header, query, value, time.Now())
	clear(value)
	if err != nil {
		return &usageError{fmt.Errorf("admin: %w", err)}
	}
	if err := store.SetSecret(ctx, sec); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	how := "header " + sec.Header
	if sec.Query != "" {
		how = "query parameter " + sec.Query
	}
	fmt.Fprintf(stderr, "set secret %q: sent to %s as the %s, sealed with key id %s.\n"+
		"Grant it with: corsbridge admin keys add ... --secret %s, or corsbridge token ... --secret %s\n",
		sec.Name, sec.Target, how, sec.KeyID(), sec.Name, sec.Name)
	return nil
}

// readSecretValue reads standard input whole, minus one trailing line
// ending (echo and editors add one).
func readSecretValue(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSecretInput))
	if err != nil {
		return nil, fmt.Errorf("reading the value from standard input: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, errNoValue
	}
	return b, nil
}

var errNoValue = errors.New(`no value on standard input (try: printf %s "$KEY" | corsbridge admin secrets set ...)`)

// adminListSecrets lists secrets, never their values: where each goes, how,
// which key sealed it and whether this machine's CORSBRIDGE_SECRETS_KEY
// opens it.
func adminListSecrets(ctx context.Context, store access.Store, getenv func(string) string, stdout io.Writer) error {
	d, _, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	kr, krErr := access.ParseKeyring(getenv("CORSBRIDGE_SECRETS_KEY"))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTARGET\tSENT AS\tKEY ID\tCREATED\tOPENS")
	for _, s := range d.Secrets {
		how := "header " + s.Header
		if s.Query != "" {
			how = "query " + s.Query
		}
		opens := "yes"
		switch {
		case krErr != nil || kr == nil:
			opens = "? (CORSBRIDGE_SECRETS_KEY not set here)"
		case s.Check(kr) != nil:
			opens = "NO: " + s.Check(kr).Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Target, how, s.KeyID(), s.Created.UTC().Format(time.RFC3339), opens)
	}
	return tw.Flush()
}

// checkGrantedSecrets refuses a key naming a secret the store does not
// hold: a typo would otherwise hand out a key that silently sends nothing.
func checkGrantedSecrets(ctx context.Context, store access.Store, names []string) error {
	if len(names) == 0 {
		return nil
	}
	d, _, err := store.Load(ctx)
	if err != nil && !errors.Is(err, fs.ErrNotExist) { // a keys file not yet written holds no secrets
		return fmt.Errorf("admin: %w", err)
	}
	for _, n := range names {
		if _, ok := d.SecretNamed(n); !ok {
			return &usageError{fmt.Errorf("admin: secret %q does not exist; set it first: corsbridge admin secrets set %s --target PATTERN --query P", n, n)}
		}
	}
	return nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/ratelimit"
)

const tokenUsage = `Usage: corsbridge token --origin ORIGIN --target PATTERN [--ttl 24h] [--rate 100/1h]
       [--daily N] [--monthly N] [--monthly-bytes SIZE] [--secret NAME]...

Prints a demo token signed with the first secret of CORSBRIDGE_TOKEN_SECRET.
It works only from its origins, only for its targets, until it expires and
at its rate (and within its quotas per UTC day and calendar month, if
given), and needs no storage: a demo page may embed it in its source.
Pages send it as X-Corsbridge-Key or as the corsbridge_key query parameter.

`

// runToken is `corsbridge token`.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newSubcommand("corsbridge token", tokenUsage, stdout)
	var origins, targets listFlag
	fs.Var(&origins, "origin", "origin the token works from (https://demo.example, https://*.demo.example); repeatable")
	fs.Var(&targets, "target", "target pattern it works for (api.example.com/v1/*, *.example.com); repeatable")
	var grantSecrets listFlag
	fs.Var(&grantSecrets, "secret", "a secret (corsbridge admin secrets set) the proxy sends for the token's requests to that secret's target; repeatable")
	ttl := fs.Duration("ttl", access.DefaultTokenTTL, "how long the token works")
	rate := fs.String("rate", access.DefaultTokenRate, "its own rate limit, N/duration")
	daily := fs.Int64("daily", 0, "requests per UTC day; 0: no quota")
	monthly := fs.Int64("monthly", 0, "requests per UTC calendar month; 0: no quota")
	monthlyBytes := fs.String("monthly-bytes", "", "response body bytes per UTC calendar month (500MiB, 2GiB); empty: no quota")
	positional, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return &usageError{fmt.Errorf("token: unexpected argument %q", positional[0])}
	}
	secrets := splitSecrets(getenv("CORSBRIDGE_TOKEN_SECRET"))
	if len(secrets) == 0 {
		return &usageError{errors.New("token: set CORSBRIDGE_TOKEN_SECRET to the secret the proxy verifies tokens with")}
	}
	if *ttl <= 0 {
		return &usageError{errors.New("token: --ttl must be positive")}
	}
	limit, err := ratelimit.ParseLimit(*rate)
	if err != nil {
		return &usageError{fmt.Errorf("token: --rate: %w", err)}
	}
	q, err := parseQuota("token", *daily, *monthly, *monthlyBytes)
	if err != nil {
		return err
	}
	now := time.Now()
	expires := now.Add(*ttl).Truncate(time.Second)
	tok, err := access.SignToken(secrets[0], access.Claims{
		Origins:      origins,
		Targets:      targets,
		Expires:      expires.Unix(),
		Rate:         limit.String(),
		Issued:       now.Unix(),
		Secrets:      grantSecrets,
		Daily:        q.Daily,
		Monthly:      q.Monthly,
		MonthlyBytes: q.MonthlyBytes,
	})
	if err != nil {
		return &usageError{fmt.Errorf("token: %w", err)}
	}
	fmt.Fprintln(stdout, tok)
	fmt.Fprintf(stderr, "token: from %s, for %s, at %s, quotas %s, until %s (logged and counted as %s)\n",
		strings.Join(origins, " "), strings.Join(targets, " "), limit, quotaText(q), expires.UTC().Format(time.RFC3339), access.TokenID(tok))
	if len(grantSecrets) > 0 {
		fmt.Fprintf(stderr, "token: the proxy sends the secrets %s with its requests, each to its own target only\n", strings.Join(grantSecrets, " "))
	}
	return nil
}

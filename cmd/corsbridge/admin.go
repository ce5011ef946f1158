package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/corsbridge/corsbridge/access"
	"github.com/corsbridge/corsbridge/rate"
	"github.com/corsbridge/corsbridge/ratelimit"
)

const adminUsage = `Usage: corsbridge admin [--redis-url URL | --keys-file PATH] COMMAND

Manages access keys, run-time blocks and upstream secrets where every
instance reads them: in Redis (REDIS_URL), or in the keys file
(CORSBRIDGE_KEYS_FILE) when one is set. Instances apply a change within a few
seconds, without a restart.

  keys add --name NAME [--expires 720h] [--rate 1000/1h] [--daily N] [--monthly N] [--monthly-bytes SIZE]
           [--origin P]... [--target P]... [--secret S]...
                                  add a key and print its secret, once; --daily, --monthly and
                                  --monthly-bytes (500MiB) are quotas per UTC day and calendar month
  keys list                       list keys (never their secrets)
  keys revoke NAME                revoke a key
  block origin|target PATTERN     refuse an origin (403 origin_blocked) or a target (403 target_blocked)
  unblock origin|target PATTERN   lift a block
  blocks list                     list blocks
  secrets set NAME --target [https://]HOST[:PORT][/PATH/] (--header H | --query P)
                                  store an upstream API's credential, read from standard input and
                                  sealed with CORSBRIDGE_SECRETS_KEY; keys and tokens with --secret NAME
                                  have the proxy send it to that target, and nowhere else
  secrets list                    list secrets (never their values)
  secrets remove NAME             remove a secret
  cache purge URL | --all         drop a URL's cached responses (every variant), or all of them,
                                  from the Redis the instances share (CORSBRIDGE_CACHE_REDIS_URL,
                                  else REDIS_URL); instances let go of memory copies within 1s
  usage [NAME] [--days 7]         requests, bytes and refusals by error code per key or token and UTC day,
                                  today included; every name used in those days when NAME is omitted.
                                  Read from Redis when --redis-url (REDIS_URL) is set, else from the
                                  usage file beside the keys file

`

// adminTimeout bounds one admin command's work against the store.
const adminTimeout = 10 * time.Second

// runAdmin is `corsbridge admin`.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newSubcommand("corsbridge admin", adminUsage, stdout)
	redisURL := fs.String("redis-url", getenv("REDIS_URL"), "Redis holding keys and blocks (default $REDIS_URL)")
	keysFile := fs.String("keys-file", getenv("CORSBRIDGE_KEYS_FILE"), "keys file, used instead of Redis when set (default $CORSBRIDGE_KEYS_FILE)")
	// Command flags, accepted anywhere on the line.
	name := fs.String("name", "", "keys add: the key's name (letters, digits, '.', '_', '-')")
	expires := fs.String("expires", "", "keys add: lifetime (720h) or an RFC 3339 time; empty: never")
	rate := fs.String("rate", access.DefaultKeyRate, `keys add: the key's own limit, N/duration or "off"`)
	daily := fs.Int64("daily", 0, "keys add: requests per UTC day; 0: no quota")
	monthly := fs.Int64("monthly", 0, "keys add: requests per UTC calendar month; 0: no quota")
	monthlyBytes := fs.String("monthly-bytes", "", "keys add: response body bytes per UTC calendar month (500MiB, 2GiB); empty: no quota")
	var origins, targets, secrets listFlag
	fs.Var(&origins, "origin", "keys add: an origin the key works from; repeatable; none: any")
	fs.Var(&targets, "target", "keys add: a target pattern the key works for; repeatable; none: any. secrets set: where the secret may go")
	fs.Var(&secrets, "secret", "keys add: a secret (admin secrets set) the proxy sends for the key's requests to its target; repeatable")
	header := fs.String("header", "", "secrets set: send the secret as this request header")
	query := fs.String("query", "", "secrets set: send the secret as this query parameter")
	all := fs.Bool("all", false, "cache purge: every cached response")
	days := fs.Int("days", defaultUsageDays, "usage: how many days, today (UTC) included")
	cmd, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(cmd) == 0 {
		fs.printUsage()
		return &usageError{errors.New("admin: a command is required")}
	}
	if cmd[0] == "cache" {
		return adminCache(ctx, cmd, *all, getenv, *redisURL, stderr)
	}
	if cmd[0] == "usage" {
		ctx, cancel := context.WithTimeout(ctx, adminTimeout)
		defer cancel()
		return adminShowUsage(ctx, cmd, *days, *redisURL, *keysFile, time.Now(), stdout, stderr)
	}
	store, closeStore, err := adminStore(*redisURL, *keysFile)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()

	verb := strings.Join(cmd[:min(2, len(cmd))], " ")
	switch {
	case verb == "keys add" && len(cmd) == 2:
		if err := checkGrantedSecrets(ctx, store, secrets); err != nil {
			return err
		}
		q, err := parseQuota("admin", *daily, *monthly, *monthlyBytes)
		if err != nil {
			return err
		}
		return adminAddKey(ctx, store, keySpec{*name, *expires, *rate, origins, targets, secrets, q}, stdout, stderr)
	case verb == "keys list" && len(cmd) == 2:
		return adminListKeys(ctx, store, stdout)
	case verb == "keys revoke" && len(cmd) == 3:
		if err := store.RevokeKey(ctx, cmd[2]); err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		fmt.Fprintf(stderr, "revoked key %q\n", cmd[2])
		return nil
	case (cmd[0] == "block" || cmd[0] == "unblock") && len(cmd) == 3:
		return adminBlock(ctx, store, cmd[0] == "block", cmd[1], cmd[2], stderr)
	case verb == "blocks list" && len(cmd) == 2:
		return adminListBlocks(ctx, store, stdout)
	case verb == "secrets set" && len(cmd) == 3:
		return adminSetSecret(ctx, store, getenv, stdin, cmd[2], targets, *header, *query, stderr)
	case verb == "secrets list" && len(cmd) == 2:
		return adminListSecrets(ctx, store, getenv, stdout)
	case verb == "secrets remove" && len(cmd) == 3:
		if err := store.RemoveSecret(ctx, cmd[2]); err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		fmt.Fprintf(stderr, "removed secret %q\n", cmd[2])
		return nil
	}
	return &usageError{fmt.Errorf("admin: unknown command %q; see corsbridge admin -h", strings.Join(cmd, " "))}
}

// adminStore opens the store the instances read: the keys file when set,
// else Redis.
func adminStore(redisURL, keysFile string) (access.Store, func(), error) {
	switch {
	case keysFile != "":
		return access.NewFileStore(keysFile), func() {}, nil
	case redisURL != "":
		rdb, err := adminRedis(redisURL)
		if err != nil {
			return nil, nil, err
		}
		return access.NewRedisStore(rdb), func() { rdb.Close() }, nil
	}
	return nil, nil, &usageError{errors.New("admin: set REDIS_URL or CORSBRIDGE_KEYS_FILE (or --redis-url, --keys-file) to the store the instances read")}
}

// adminRedis is a client for an operator's command.
func adminRedis(redisURL string) (redis.UniversalClient, error) {
	opts, err := ratelimit.ParseRedisURL(redisURL)
	if err != nil {
		return nil, &usageError{fmt.Errorf("admin: Redis URL: %w", err)}
	}
	// The proxy's client gives up after milliseconds; an operator's
	// command may cross the internet to a managed Redis.
	opts.Dialer = nil // go-redis's own dialer, which does TLS too
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
	return redis.NewUniversalClient(opts), nil
}

// keySpec is `keys add`'s flags.
type keySpec struct {
	name, expires, rate       string
	origins, targets, secrets []string
	quota                     rate.Quota
}

func adminAddKey(ctx context.Context, store access.Store, spec keySpec, stdout, stderr io.Writer) error {
	name, expires := spec.name, spec.expires
	if name == "" {
		return &usageError{errors.New("admin: keys add needs --name")}
	}
	now := time.Now()
	var exp time.Time
	if expires != "" {
		if d, err := time.ParseDuration(expires); err == nil && d > 0 {
			exp = now.Add(d)
		} else if t, err := time.Parse(time.RFC3339, expires); err == nil && t.After(now) {
			exp = t
		} else {
			return &usageError{fmt.Errorf("admin: --expires %q: want a positive duration (720h) or a future RFC 3339 time", expires)}
		}
	}
	k, secret, err := access.NewKey(name, exp, spec.rate, spec.origins, spec.targets, now)
	if err == nil {
		k.Secrets = spec.secrets
		k.Daily, k.Monthly, k.MonthlyBytes = spec.quota.Daily, spec.quota.Monthly, spec.quota.MonthlyBytes
		err = k.Validate()
	}
	if err != nil {
		return &usageError{fmt.Errorf("admin: %w", err)}
	}
	if err := store.AddKey(ctx, k); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "added key %q (rate %s, quotas %s, expires %s); its secret is printed once, above: store it now.\n"+
		"Send it as the X-Corsbridge-Key header or the corsbridge_key query parameter.\n", k.Name, k.Rate, quotaText(k.Quota()), orNever(k.Expires))
	return nil
}

func adminListKeys(ctx context.Context, store access.Store, stdout io.Writer) error {
	d, _, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tEXPIRES\tRATE\tQUOTAS\tORIGINS\tTARGETS\tSECRETS")
	now := time.Now()
	for _, k := range d.Keys {
		exp := orNever(k.Expires)
		if !k.Expires.IsZero() && !now.Before(k.Expires) {
			exp += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Created.UTC().Format(time.RFC3339), exp, k.Rate,
			quotaText(k.Quota()), orAny(k.Origins), orAny(k.Targets), orNone(k.Secrets))
	}
	return tw.Flush()
}

func adminBlock(ctx context.Context, store access.Store, block bool, kindText, pattern string, stderr io.Writer) error {
	kind, err := access.ParseKind(kindText)
	if err != nil {
		return &usageError{fmt.Errorf("admin: %w", err)}
	}
	if !block {
		if err := store.RemoveBlock(ctx, kind, pattern); err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		fmt.Fprintf(stderr, "unblocked %s %s\n", kind, pattern)
		return nil
	}
	if err := access.CheckBlock(kind, pattern); err != nil {
		return &usageError{fmt.Errorf("admin: %w", err)}
	}
	switch err := store.AddBlock(ctx, kind, pattern); {
	case errors.Is(err, access.ErrExists):
		fmt.Fprintf(stderr, "%s %s was already blocked\n", kind, pattern)
	case err != nil:
		return fmt.Errorf("admin: %w", err)
	default:
		fmt.Fprintf(stderr, "blocked %s %s\n", kind, pattern)
	}
	return nil
}

func adminListBlocks(ctx context.Context, store access.Store, stdout io.Writer) error {
	d, _, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	for _, p := range d.Blocks.Origins {
		fmt.Fprintf(stdout, "origin\t%s\n", p)
	}
	for _, p := range d.Blocks.Targets {
		fmt.Fprintf(stdout, "target\t%s\n", p)
	}
	return nil
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ",")
}

func orAny(list []string) string {
	if len(list) == 0 {
		return "any"
	}
	return strings.Join(list, ",")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/cache"
	"github.com/corsbridge/corsbridge/proxy"
)

// adminCache is `corsbridge admin cache purge URL|--all`. It needs the
// shared Redis: a memory-only cache lives inside each process, and empties
// when it restarts.
func adminCache(ctx context.Context, cmd []string, all bool, getenv func(string) string, redisURL string, stderr io.Writer) error {
	if len(cmd) < 2 || cmd[1] != "purge" || len(cmd) > 3 || (len(cmd) == 3) == all {
		return &usageError{errors.New("admin: usage: corsbridge admin cache purge URL | --all")}
	}
	url := (CacheConfig{Enabled: true, RedisURL: getenv("CORSBRIDGE_CACHE_REDIS_URL")}).SharedRedisURL(redisURL)
	if url == "" {
		return &usageError{errors.New("admin: cache purge needs the Redis the instances share (CORSBRIDGE_CACHE_REDIS_URL or REDIS_URL); a memory-only cache empties on restart")}
	}
	target := ""
	if !all {
		var err error
		if target, err = canonicalTarget(cmd[2]); err != nil {
			return &usageError{fmt.Errorf("admin: %q is not a target the proxy would fetch: %w", cmd[2], err)}
		}
	}
	rdb, err := adminRedis(url)
	if err != nil {
		return err
	}
	defer rdb.Close()
	n, err := cache.PurgeRedis(ctx, rdb, cache.DefaultRedisPrefix, target)
	if err != nil {
		return fmt.Errorf("admin: cache purge: %w", err)
	}
	if all {
		fmt.Fprintf(stderr, "purged %d cached entries\n", n)
	} else {
		fmt.Fprintf(stderr, "purged %d cached entries of %s\n", n, target)
	}
	return nil
}

// canonicalTarget is the URL as the proxy keys its cache: parsed as a
// request target and canonicalised by the target policy.
func canonicalTarget(s string) (string, error) {
	u, err := allowlist.ParseTarget("/" + s)
	if err != nil {
		return "", err
	}
	// Only the canonical form matters here, not whether this policy would
	// reach the address: the instances' own policy decided that.
	p, err := allowlist.New(allowlist.Config{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}})
	if err != nil {
		return "", err
	}
	if err := p.CheckTarget(u); err != nil {
		return "", err
	}
	return proxy.TargetString(u), nil
}

package ratelimit

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Timeouts of the Redis client. A dead or unreachable Redis costs a request
// at most a dial or one read and write, after which the Limiter stops asking
// Redis (see Limiter) until a probe succeeds.
const (
	redisDialTimeout = 200 * time.Millisecond
	redisIOTimeout   = 100 * time.Millisecond
	redisPoolTimeout = 100 * time.Millisecond
)

// ParseRedisURL reads REDIS_URL into go-redis options for
// redis.NewUniversalClient. Supported forms:
//
//	redis://[[user]:password@]host[:6379][/db]
//	rediss://...                                  same, over TLS (1.2+, verified)
//	redis+sentinel://[[user]:password@]s1[:26379],s2[:26379]/master[/db][?sentinel_username=u&sentinel_password=p]
//	rediss+sentinel://...                         same, TLS to sentinels and master
//	redis+cluster://[[user]:password@]n1[:6379],n2[:6379]
//	rediss+cluster://...                          same, over TLS
//
// The userinfo authenticates to the data nodes (the master, for sentinel);
// sentinels that need their own credentials take the two query parameters.
// Passwords with reserved characters are percent-encoded. IPv6 hosts are
// bracketed: redis://[::1]:6379. Any other query parameter is an error, so
// a typo cannot go unnoticed.
//
// The client is built for a rate limiter on the request path, and for managed
// Redis services: dial timeout 200ms, read/write timeouts 100ms, pool wait
// 100ms, go-redis's pool of 10 connections per CPU (a request holds one for a
// single round trip; 128 measured no faster and took 15 MiB more memory, see
// docs/performance.md), one immediate retry on a broken connection, one dial
// attempt; RESP2 (Protocol 2), and no CLIENT SETINFO (DisableIdentity) nor
// CLIENT MAINT_NOTIFICATIONS at connect, which some managed services and
// proxies reject. Connections use their own
// net.Dialer, never the proxy's transport.
func ParseRedisURL(s string) (*redis.UniversalOptions, error) {
	// url.Parse takes one host only: parse a stand-in, hosts separately.
	hosts, standIn := splitHosts(s)
	u, err := url.Parse(standIn)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: invalid Redis URL: %v", redactURLError(err))
	}
	u.Host = hosts
	bad := func(format string, a ...any) (*redis.UniversalOptions, error) {
		safe := *u
		safe.RawQuery, safe.ForceQuery = "", false // may hold sentinel_password
		return nil, fmt.Errorf("ratelimit: invalid Redis URL %s: %s", safe.Redacted(), fmt.Sprintf(format, a...))
	}
	o := &redis.UniversalOptions{}
	scheme, mode, _ := strings.Cut(u.Scheme, "+")
	switch scheme {
	case "redis":
	case "rediss":
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	default:
		return bad("scheme must be redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster")
	}
	defPort := "6379"
	switch mode {
	case "", "cluster":
	case "sentinel":
		defPort = "26379"
	default:
		return bad("unknown mode %q, want sentinel or cluster", mode)
	}
	if u.Opaque != "" || u.Fragment != "" || u.Host == "" {
		return bad("want %s://host[:port]...", u.Scheme)
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	for h := range strings.SplitSeq(u.Host, ",") {
		addr, err := hostPort(h, defPort)
		if err != nil {
			return bad("%v", err)
		}
		o.Addrs = append(o.Addrs, addr)
	}
	path := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	q := u.Query()
	switch mode {
	case "":
		if len(o.Addrs) != 1 {
			return bad("one host only; use redis+cluster:// or redis+sentinel:// for several")
		}
		if o.DB, err = parseDB(path); err != nil {
			return bad("%v", err)
		}
	case "cluster":
		o.IsClusterMode = true
		if len(path) > 1 || len(path) == 1 && path[0] != "0" {
			return bad("a cluster has database 0 only")
		}
	case "sentinel":
		if len(path) == 0 {
			return bad("the master name is missing: %s://sentinel:26379/mymaster", u.Scheme)
		}
		o.MasterName = path[0]
		if o.DB, err = parseDB(path[1:]); err != nil {
			return bad("%v", err)
		}
		o.SentinelUsername = q.Get("sentinel_username")
		o.SentinelPassword = q.Get("sentinel_password")
		q.Del("sentinel_username")
		q.Del("sentinel_password")
	}
	for k := range q {
		return bad("unsupported query parameter %q", k)
	}
	applyClientOptions(o)
	return o, nil
}

// applyClientOptions sets what ParseRedisURL documents, and the dialer.
func applyClientOptions(o *redis.UniversalOptions) {
	o.DialTimeout = redisDialTimeout
	o.DialerRetries = 1
	o.ReadTimeout = redisIOTimeout
	o.WriteTimeout = redisIOTimeout
	o.PoolTimeout = redisPoolTimeout
	o.ContextTimeoutEnabled = true
	// One immediate retry: after Redis restarts, the pool still holds
	// connections to the old process, and the first command on one fails
	// with EOF. Without a retry that single stale connection would send the
	// limiter back to its fallback right after recovering. Timeouts are
	// never retried for scripts, so a slow Redis still costs one timeout.
	o.MaxRetries = 1
	o.MinRetryBackoff = -1 // no sleep before the retry
	o.MaxRetryBackoff = -1
	o.Protocol = 2
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	o.Dialer = newDialer(o.TLSConfig)
}

// newDialer is the Redis client's own dialer. It does TLS itself, since
// go-redis only adds TLS around its default dialer; the server name is taken
// from each node's address.
func newDialer(tlsConf *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: redisDialTimeout, KeepAlive: 30 * time.Second}
	if tlsConf == nil {
		return nd.DialContext
	}
	td := &tls.Dialer{NetDialer: nd, Config: tlsConf}
	return td.DialContext
}

// splitHosts takes the host list out of a URL's authority, leaving "h" in
// its place when there is one.
func splitHosts(s string) (hosts, standIn string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	at := strings.LastIndexByte(auth, '@') + 1
	hosts = auth[at:]
	if hosts == "" {
		return "", s
	}
	return hosts, scheme + "://" + auth[:at] + "h" + rest[end:]
}

// hostPort validates one "host", "host:port", "[v6]" or "[v6]:port".
func hostPort(h, defPort string) (string, error) {
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", fmt.Errorf("host %q: missing ']'", h)
		}
		host = h[1:end]
		if rest := h[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", fmt.Errorf("host %q: want [address]:port", h)
			}
			port = rest[1:]
		} else {
			port = defPort
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
	} else {
		port = defPort
	}
	if p, ok := parseDigits(port, 65535); !ok || p == 0 {
		return "", fmt.Errorf("host %q: invalid port", h)
	}
	if host == "" || strings.ContainsAny(host, "/@?#[] ") {
		return "", fmt.Errorf("host %q: invalid", h)
	}
	return net.JoinHostPort(host, port), nil
}

func parseDB(path []string) (int, error) {
	switch len(path) {
	case 0:
		return 0, nil
	case 1:
		db, err := strconv.Atoi(path[0])
		if err != nil || db < 0 {
			return 0, fmt.Errorf("database %q is not a number", path[0])
		}
		return db, nil
	}
	return 0, fmt.Errorf("too many path segments")
}

// redactURLError drops the URL, with any password, from url.Parse's error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

package ratelimit

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"slices"
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
// redis.NewUniversalClient. go-redis's own parsers read it (redis.ParseURL,
// ParseClusterURL, ParseFailoverURL); the cluster and sentinel forms, which
// list their hosts in the authority, are rewritten into go-redis's form
// (further hosts as addr parameters) first. Accepted forms:
//
//	redis://[[user]:password@]host[:6379][/db]
//	rediss://...                                  same, over TLS (1.2+, verified)
//	redis+cluster://[[user]:password@]n1[:6379][,n2[:6379]...][?addr=n3:6379...]
//	redis+sentinel://[[user]:password@]s1[:26379][,s2[:26379]...]/master[/db][?sentinel_username=u&sentinel_password=p]
//	rediss+cluster://..., rediss+sentinel://...   same, over TLS
//
// The userinfo authenticates to the data nodes (the master, for sentinel);
// sentinels that need their own credentials take the two query parameters.
// Reserved characters in a user name or password ('@', ':', '/', '?', '#',
// '%' and the like) are percent-encoded. IPv6 hosts are bracketed:
// redis://[::1]:6379. A cluster has database 0 only. go-redis's pool
// parameters are accepted (see isPoolParam); every other query parameter is
// an error, so a typo cannot go unnoticed, and so are those that would undo
// the options below.
//
// The client is built for a rate limiter on the request path, and for managed
// Redis services: dial timeout 200ms, read/write timeouts 100ms, pool wait
// 100ms, go-redis's pool of 10 connections per CPU unless pool_size says
// otherwise (a request holds one for a single round trip; 128 measured no
// faster and took 15 MiB more memory, see docs/performance.md), one immediate
// retry on a broken connection, one dial attempt; RESP2 (Protocol 2), and no
// CLIENT SETINFO (DisableIdentity) nor CLIENT MAINT_NOTIFICATIONS at connect,
// which some managed services and proxies reject. Connections use their own
// net.Dialer, never the proxy's transport.
//
// Errors never quote the URL, whatever fails: see urlProblem.
func ParseRedisURL(s string) (*redis.UniversalOptions, error) {
	p, err := splitRedisURL(s)
	if err != nil {
		return nil, err
	}
	var o *redis.UniversalOptions
	switch p.mode {
	case "":
		o, err = parseSingle(p)
	case "cluster":
		o, err = parseCluster(p)
	case "sentinel":
		o, err = parseSentinel(p)
	}
	if err != nil {
		return nil, err
	}
	if p.tls {
		// go-redis names one server for every node; the dialer takes each
		// node's own name from its address instead.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	applyClientOptions(o)
	return o, nil
}

// parseSingle reads redis:// and rediss:// with redis.ParseURL as it is.
func parseSingle(p redisURLParts) (*redis.UniversalOptions, error) {
	if len(p.hosts) != 1 {
		return nil, problemOneHost
	}
	opt, err := redis.ParseURL(p.base + "://" + p.rest)
	if err != nil {
		return nil, goRedisProblem(err)
	}
	if opt.DB < 0 {
		return nil, problemDB
	}
	o := &redis.UniversalOptions{Addrs: []string{opt.Addr}, Username: opt.Username, Password: opt.Password, DB: opt.DB}
	copyPool(o, opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns, opt.ConnMaxIdleTime, opt.ConnMaxLifetime)
	return o, nil
}

// parseCluster maps redis+cluster://u:p@n1,n2 onto go-redis's
// redis://u:p@n1?addr=n2 and reads it with redis.ParseClusterURL.
func parseCluster(p redisURLParts) (*redis.UniversalOptions, error) {
	if p.path != "" && p.path != "/" && p.path != "/0" {
		return nil, problemClusterDB // ParseClusterURL would ignore it
	}
	q := p.query
	q["addr"] = slices.Concat(p.hosts[1:], q["addr"])
	u := p.base + "://"
	if p.userinfo != "" {
		u += p.userinfo + "@"
	}
	u += p.hosts[0] + "?" + q.Encode()
	opt, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, goRedisProblem(err)
	}
	o := &redis.UniversalOptions{Addrs: opt.Addrs, Username: opt.Username, Password: opt.Password, IsClusterMode: true}
	copyPool(o, opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns, opt.ConnMaxIdleTime, opt.ConnMaxLifetime)
	return o, nil
}

// parseSentinel maps redis+sentinel://u:p@s1,s2/master/db?sentinel_password=sp
// onto go-redis's redis://:sp@s1/db?master_name=master&addr=s2&username=u&password=p
// (its userinfo is the sentinels', the master's credentials are parameters)
// and reads it with redis.ParseFailoverURL.
func parseSentinel(p redisURLParts) (*redis.UniversalOptions, error) {
	segs := strings.FieldsFunc(p.path, func(r rune) bool { return r == '/' })
	if len(segs) == 0 {
		return nil, problemMaster
	}
	master, err := url.PathUnescape(segs[0])
	if err != nil || master == "" {
		return nil, problemMaster
	}
	user, pass, err := p.credentials()
	if err != nil {
		return nil, err
	}
	q := p.query
	g := url.URL{Scheme: p.base, Host: p.hosts[0], Path: "/" + strings.Join(segs[1:], "/")}
	if su, sp := q.Get("sentinel_username"), q.Get("sentinel_password"); su != "" || sp != "" {
		g.User = url.UserPassword(su, sp)
	}
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Set("master_name", master)
	if user != "" {
		q.Set("username", user)
	}
	if pass != "" {
		q.Set("password", pass)
	}
	q["addr"] = slices.Concat(p.hosts[1:], q["addr"])
	g.RawQuery = q.Encode()
	opt, err := redis.ParseFailoverURL(g.String())
	if err != nil {
		return nil, goRedisProblem(err)
	}
	if opt.DB < 0 {
		return nil, problemDB
	}
	o := &redis.UniversalOptions{Addrs: opt.SentinelAddrs, MasterName: opt.MasterName, DB: opt.DB,
		Username: opt.Username, Password: opt.Password,
		SentinelUsername: opt.SentinelUsername, SentinelPassword: opt.SentinelPassword}
	copyPool(o, opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns, opt.ConnMaxIdleTime, opt.ConnMaxLifetime)
	return o, nil
}

// copyPool carries the pool parameters a URL may set (isPoolParam).
func copyPool(o *redis.UniversalOptions, size, minIdle, maxIdle int, idle, lifetime time.Duration) {
	o.PoolSize, o.MinIdleConns, o.MaxIdleConns = size, minIdle, maxIdle
	o.ConnMaxIdleTime, o.ConnMaxLifetime = idle, lifetime
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

// validHost reports whether h is a usable host:port: go-redis checks less
// (it takes any port digits, and an empty host as localhost).
func validHost(h string) bool {
	host, port, err := net.SplitHostPort(h)
	if err != nil || host == "" || strings.ContainsAny(host, "/@?#[]% ,") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n <= 65535 && port[0] != '+'
}

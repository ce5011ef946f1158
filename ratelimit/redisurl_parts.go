package ratelimit

import (
	"net/url"
	"strings"
)

// urlProblem is why a REDIS_URL was refused. It is always one of the
// constants below and never quotes the URL: the userinfo holds a password,
// and when a password has an unencoded '#', '@', '/' or '?' no parser can
// tell where it ends, so no part of the input is safe to repeat in an error
// (which reaches the terminal, and the log of a platform that runs us).
type urlProblem string

func (p urlProblem) Error() string { return "ratelimit: invalid Redis URL: " + string(p) }

const (
	problemScheme    urlProblem = "the scheme must be redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel"
	problemReserved  urlProblem = "a '#', or an '@' after the host: percent-encode reserved characters in the user name and password ('@' as %40, '#' as %23, '/' as %2F, '?' as %3F, '%' as %25)"
	problemSyntax    urlProblem = "it does not parse: percent-encode reserved characters in the user name and password"
	problemHost      urlProblem = "every host must be host[:port] or [IPv6][:port], with a port from 1 to 65535"
	problemOneHost   urlProblem = "one host only; use redis+cluster:// or redis+sentinel:// for several"
	problemDB        urlProblem = "the path must be /db, a database number from 0"
	problemClusterDB urlProblem = "a cluster has database 0 only"
	problemMaster    urlProblem = "the master name is missing: redis+sentinel://sentinel:26379/mymaster[/db]"
	problemParam     urlProblem = "unsupported query parameter: the URL takes pool_size, min_idle_conns, max_idle_conns, conn_max_idle_time, conn_max_lifetime, addr (cluster, sentinel), sentinel_username and sentinel_password (sentinel); timeouts, retries, protocol and TLS are corsbridge's own"
	problemValue     urlProblem = "a query parameter's value is not a number or a duration"
)

// redisURLParts is a REDIS_URL cut where go-redis's parsers cannot cut it:
// a list of hosts in the authority, and a scheme with a mode.
type redisURLParts struct {
	base     string // redis or rediss
	mode     string // "", cluster or sentinel
	tls      bool
	rest     string     // everything after "://"
	userinfo string     // raw, still percent-encoded
	hosts    []string   // host:port, the mode's default port added
	path     string     // raw
	query    url.Values // only parameters the mode accepts
}

// splitRedisURL checks what go-redis leaves unchecked (several hosts, ports,
// reserved characters that would move the end of a password) and cuts s.
func splitRedisURL(s string) (redisURLParts, error) {
	var p redisURLParts
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return p, problemScheme
	}
	p.base, p.mode, _ = strings.Cut(scheme, "+")
	if p.base != "redis" && p.base != "rediss" || p.mode != "" && p.mode != "cluster" && p.mode != "sentinel" {
		return p, problemScheme
	}
	p.tls, p.rest = p.base == "rediss", rest
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.ContainsAny(s, "#") || strings.Contains(tail, "@") {
		return p, problemReserved
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		p.userinfo, authority = authority[:at], authority[at+1:]
	}
	rawQuery := ""
	p.path, rawQuery, _ = strings.Cut(tail, "?")
	var err error
	if p.query, err = url.ParseQuery(rawQuery); err != nil {
		return p, problemSyntax
	}
	if err := p.checkParams(); err != nil {
		return p, err
	}
	defPort := "6379"
	if p.mode == "sentinel" {
		defPort = "26379"
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h != "" && !strings.Contains(h[strings.LastIndexByte(h, ']')+1:], ":") {
			h += ":" + defPort
		}
		if !validHost(h) {
			return p, problemHost
		}
		p.hosts = append(p.hosts, h)
	}
	return p, nil
}

// checkParams refuses query parameters the mode does not take.
func (p *redisURLParts) checkParams() error {
	for name, vals := range p.query {
		switch {
		case name == "addr" && p.mode != "":
			for _, v := range vals {
				if !validHost(v) {
					return problemHost
				}
			}
		case (name == "sentinel_username" || name == "sentinel_password") && p.mode == "sentinel":
		case !isPoolParam(name):
			return problemParam
		}
	}
	return nil
}

// isPoolParam reports whether name is one of the go-redis query parameters
// a URL may set: they size the connection pool and leave the timeouts,
// retries, protocol and TLS verification that applyClientOptions sets alone.
func isPoolParam(name string) bool {
	switch name {
	case "pool_size", "min_idle_conns", "max_idle_conns", "conn_max_idle_time", "conn_max_lifetime":
		return true
	}
	return false
}

// credentials decodes the userinfo.
func (p redisURLParts) credentials() (user, pass string, err error) {
	rawUser, rawPass, _ := strings.Cut(p.userinfo, ":")
	if user, err = url.PathUnescape(rawUser); err != nil {
		return "", "", problemSyntax
	}
	if pass, err = url.PathUnescape(rawPass); err != nil {
		return "", "", problemSyntax
	}
	return user, pass, nil
}

// goRedisProblem turns a go-redis or net/url parse error into a
// urlProblem: their messages quote the input.
func goRedisProblem(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "redis: invalid database number"), strings.HasPrefix(msg, "redis: invalid URL path"):
		return problemDB
	case strings.HasPrefix(msg, "redis: unable to parse addr"):
		return problemHost
	case strings.HasPrefix(msg, "redis: unexpected option"):
		return problemParam
	case strings.HasPrefix(msg, "redis: invalid "):
		return problemValue
	}
	return problemSyntax
}

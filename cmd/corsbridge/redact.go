package main

import (
	"net/url"
	"strings"
)

// redactAll hides a secret that is not a URL (a token secret) whole.
func redactAll(v string) string {
	if v == "" {
		return ""
	}
	return "(redacted)"
}

// redactURL hides the secrets of a URL setting (REDIS_URL) for the start-up
// log: the password in the user info and every query parameter whose name
// mentions a password, as in redis+sentinel's sentinel_password. A value
// that is not a URL with a scheme and a host is hidden whole.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(redacted)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for name := range q {
			if strings.Contains(strings.ToLower(name), "password") {
				q.Set(name, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

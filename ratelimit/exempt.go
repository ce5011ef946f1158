package ratelimit

import (
	"fmt"
	"regexp"
	"strings"
)

// exemptList matches origin keys (see OriginKey) that the per-origin limit
// does not apply to. It is built once in New; match does lookups only.
type exemptList struct {
	exact    map[string]struct{}
	suffixes []string // ".example.com" from "*.example.com"
	regexps  []*regexp.Regexp
}

// exemptEntry is one compiled Config.Exempt entry.
type exemptEntry struct {
	exact  string
	suffix string
	re     *regexp.Regexp
}

// compileExemptEntry reads one entry of Config.Exempt:
//
//	"app.example.com", "https://app.example.com", "localhost:8080"
//	    exact: the entry's origin key; a scheme only decides whether its
//	    port is the default one, so http and https origins of a host match alike
//	"*.example.com"
//	    any subdomain of example.com (not example.com itself), on any port
//	"/(.*\.)?friendly\.example$/"
//	    cors-anywhere's form: an RE2 regex matching the whole origin key
//	    (host, plus ":port" when not default), case-insensitively
func compileExemptEntry(e string) (exemptEntry, error) {
	switch {
	case strings.HasPrefix(e, "/") || strings.HasSuffix(e, "/") && !strings.Contains(e, "://"):
		re, err := compileRegexEntry(e)
		if err != nil {
			return exemptEntry{}, err
		}
		return exemptEntry{re: re}, nil
	case strings.HasPrefix(e, "*."):
		k := OriginKey(e[2:])
		if k == "" || k == "null" || strings.Contains(k, ":") || strings.Contains(k, "[") {
			return exemptEntry{}, fmt.Errorf("exempt wildcard %q: want \"*.\" followed by a domain name", e)
		}
		return exemptEntry{suffix: "." + k}, nil
	case strings.Contains(e, "*"):
		return exemptEntry{}, fmt.Errorf("exempt origin %q: '*' is only allowed as a leading \"*.\"", e)
	}
	k := OriginKey(e)
	if k == "" {
		return exemptEntry{}, fmt.Errorf("exempt origin %q is not an origin or host[:port]", e)
	}
	return exemptEntry{exact: k}, nil
}

func compileExempt(entries []string) (exemptList, error) {
	l := exemptList{exact: make(map[string]struct{})}
	for _, raw := range entries {
		e, err := compileExemptEntry(strings.TrimSpace(raw))
		if err != nil {
			return exemptList{}, fmt.Errorf("ratelimit: %w", err)
		}
		switch {
		case e.re != nil:
			l.regexps = append(l.regexps, e.re)
		case e.suffix != "":
			l.suffixes = append(l.suffixes, e.suffix)
		default:
			l.exact[e.exact] = struct{}{}
		}
	}
	return l, nil
}

// match reports whether the origin key is exempt.
func (l *exemptList) match(key string) bool {
	if _, ok := l.exact[key]; ok {
		return true
	}
	if len(l.suffixes) > 0 {
		host := key
		if i := strings.LastIndexByte(key, ':'); i >= 0 && !strings.HasSuffix(key, "]") {
			host = key[:i]
		}
		for _, s := range l.suffixes {
			if strings.HasSuffix(host, s) {
				return true
			}
		}
	}
	for _, re := range l.regexps {
		if re.MatchString(key) {
			return true
		}
	}
	return false
}

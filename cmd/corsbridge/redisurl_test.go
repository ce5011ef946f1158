package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/corsbridge/corsbridge/ratelimit"
)

// TestRedisURLPasswordNeverShown: a REDIS_URL whose password has raw
// reserved characters, in any form, never puts a part of the password in
// what the process prints or returns, whether it refuses the URL or starts.
// Each password is made of pieces no message holds by chance.
func TestRedisURLPasswordNeverShown(t *testing.T) {
	passwords := []string{"Zq1#Xw2", "Zq1@Xw2", "Zq1/Xw2", "Zq1?Xw2", "Zq1%Xw2", "Zq1 Xw2", "Zq1[Xw2",
		"Zq1#Xw2@Yv3/Uu4?Tt5", "Zq1:Xw2", "Zq1,Xw2#", "Zq1/6379", "Zq1?pool_size=Xw2"}
	templates := []string{
		"redis://:%s@127.0.0.1:1/0",
		"rediss://user:%s@127.0.0.1:1",
		"redis+cluster://:%s@127.0.0.1:1,127.0.0.1:2",
		"redis+sentinel://:%s@127.0.0.1:1/mymaster",
		"redis+sentinel://127.0.0.1:1/mymaster?sentinel_password=%s",
	}
	for _, tmpl := range templates {
		for _, pw := range passwords {
			url := strings.Replace(tmpl, "%s", pw, 1)
			t.Run(url, func(t *testing.T) {
				var out, errOut bytes.Buffer
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // start and stop at once: only start-up matters here
				err := run(ctx, []string{"--addr", "127.0.0.1:0"}, envOf(map[string]string{"REDIS_URL": url}), nil, &out, &errOut)
				shown := out.String() + errOut.String()
				if err != nil {
					shown += err.Error()
				}
				for _, piece := range strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("#@/?%[: ,=", r) }) {
					if len(piece) >= 3 && strings.Contains(shown, piece) {
						t.Fatalf("%q of the password shown:\n%s", piece, shown)
					}
				}
			})
		}
	}
}

// FuzzRedactURL: whenever a REDIS_URL is read with the password as written,
// the start-up line shows none of it.
func FuzzRedactURL(f *testing.F) {
	for _, pw := range []string{"hunter22", "Zq1:Xw2", "p%40ss", "a+b&c=d", "Zq1,Xw2", "sp ace"} {
		f.Add(pw)
	}
	templates := []string{
		"redis://:%s@h:6379/0", "rediss://u:%s@h", "redis+cluster://u:%s@n1,n2:7000",
		"redis+sentinel://:%s@s1,s2/m/1", "redis+sentinel://s1/m?sentinel_password=%s",
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 4 {
			return // too short to tell from the URL's other text
		}
		for _, tmpl := range templates {
			if strings.Contains(tmpl, pw) {
				continue
			}
			in := strings.Replace(tmpl, "%s", pw, 1)
			o, err := ratelimit.ParseRedisURL(in)
			if err != nil || o.Password != pw && o.SentinelPassword != pw {
				continue
			}
			if shown := redactURL(in); strings.Contains(shown, pw) {
				t.Fatalf("redactURL(%q) = %q shows the password", in, shown)
			}
		}
	})
}

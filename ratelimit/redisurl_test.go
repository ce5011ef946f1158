package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    redis.UniversalOptions // the fields compared below
		tls     bool
		wantErr error
	}{
		{name: "host only", in: "redis://localhost", want: redis.UniversalOptions{Addrs: []string{"localhost:6379"}}},
		{name: "password, port and db", in: "redis://:secret@redis.internal:6380/2",
			want: redis.UniversalOptions{Addrs: []string{"redis.internal:6380"}, Password: "secret", DB: 2}},
		{name: "encoded password on IPv6", in: "redis://default:p%40ss%2Fword@[::1]:7000",
			want: redis.UniversalOptions{Addrs: []string{"[::1]:7000"}, Username: "default", Password: "p@ss/word"}},
		{name: "IPv6 default port", in: "redis://[::1]", want: redis.UniversalOptions{Addrs: []string{"[::1]:6379"}}},
		{name: "raw colon and plus in password", in: "redis://u:a:b+c@h", want: redis.UniversalOptions{Addrs: []string{"h:6379"}, Username: "u", Password: "a:b+c"}},
		{name: "TLS", in: "rediss://u:p@cache.example.com:6380", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"cache.example.com:6380"}, Username: "u", Password: "p"}},
		{name: "pool size", in: "redis://h?pool_size=32&conn_max_idle_time=30s",
			want: redis.UniversalOptions{Addrs: []string{"h:6379"}, PoolSize: 32, ConnMaxIdleTime: 30 * time.Second}},
		{name: "sentinels", in: "redis+sentinel://s1:26379,s2,s3:26380/mymaster/1",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26379", "s3:26380"}, MasterName: "mymaster", DB: 1}},
		{name: "sentinels with credentials each", in: "rediss+sentinel://:pw@s1/mymaster?sentinel_password=spw&sentinel_username=su", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"s1:26379"}, MasterName: "mymaster", Password: "pw",
				SentinelUsername: "su", SentinelPassword: "spw"}},
		{name: "sentinel credentials survive the rewrite", in: "redis+sentinel://us%3Ar:p+q%26r%3D@s1,s2/m?sentinel_password=x%2By%40z&addr=s3:1",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26379", "s3:1"}, MasterName: "m", Username: "us:r", Password: "p+q&r=",
				SentinelPassword: "x+y@z"}},
		{name: "cluster", in: "redis+cluster://n1:6379,n2:6380,n3",
			want: redis.UniversalOptions{Addrs: []string{"n1:6379", "n2:6380", "n3:6379"}, IsClusterMode: true}},
		{name: "cluster in go-redis's form", in: "redis+cluster://u:p@n1?addr=n2:7001&addr=[::1]:7002",
			want: redis.UniversalOptions{Addrs: []string{"n1:6379", "n2:7001", "[::1]:7002"}, Username: "u", Password: "p", IsClusterMode: true}},
		{name: "cluster over TLS, db 0", in: "rediss+cluster://:pw@n1/0", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"n1:6379"}, Password: "pw", IsClusterMode: true}},

		{name: "empty", in: "", wantErr: problemScheme},
		{name: "no scheme", in: "localhost:6379", wantErr: problemScheme},
		{name: "http", in: "http://localhost", wantErr: problemScheme},
		{name: "unix socket", in: "unix:///tmp/redis.sock", wantErr: problemScheme},
		{name: "ring", in: "redis+ring://a,b", wantErr: problemScheme},
		{name: "no host", in: "redis://", wantErr: problemHost},
		{name: "no host before the port", in: "redis://:6380", wantErr: problemHost},
		{name: "two hosts", in: "redis://a,b", wantErr: problemOneHost},
		{name: "db not a number", in: "redis://a/x", wantErr: problemDB},
		{name: "negative db", in: "redis://a/-1", wantErr: problemDB},
		{name: "two path segments", in: "redis://a/1/2", wantErr: problemDB},
		{name: "port 0", in: "redis://a:0", wantErr: problemHost},
		{name: "port too large", in: "redis://a:65536", wantErr: problemHost},
		{name: "empty port", in: "redis://a:", wantErr: problemHost},
		{name: "empty second host", in: "redis+cluster://a,:1", wantErr: problemHost},
		{name: "bad addr parameter", in: "redis+cluster://a?addr=b", wantErr: problemHost},
		{name: "addr on a single server", in: "redis://a?addr=b:1", wantErr: problemParam},
		{name: "our timeouts are ours", in: "redis://a?dial_timeout=10s", wantErr: problemParam},
		{name: "TLS stays verified", in: "rediss://a?skip_verify=true", wantErr: problemParam},
		{name: "unknown parameter", in: "redis://a?nope=1", wantErr: problemParam},
		{name: "bad pool size", in: "redis://a?pool_size=many", wantErr: problemValue},
		{name: "bad query escape", in: "redis://a?pool_size=%zz", wantErr: problemSyntax},
		{name: "cluster db", in: "redis+cluster://a,b/3", wantErr: problemClusterDB},
		{name: "sentinel without master", in: "redis+sentinel://a,b", wantErr: problemMaster},
		{name: "sentinel db not a number", in: "redis+sentinel://a/m/x", wantErr: problemDB},
		{name: "fragment", in: "redis://a#frag", wantErr: problemReserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRedisURL(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseRedisURL(%q) error %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if !slices.Equal(got.Addrs, w.Addrs) || got.Username != w.Username || got.Password != w.Password ||
				got.DB != w.DB || got.MasterName != w.MasterName || got.IsClusterMode != w.IsClusterMode ||
				got.SentinelUsername != w.SentinelUsername || got.SentinelPassword != w.SentinelPassword ||
				got.PoolSize != w.PoolSize || got.ConnMaxIdleTime != w.ConnMaxIdleTime {
				t.Fatalf("ParseRedisURL(%q) = %+v, want %+v", tt.in, got, w)
			}
			if (got.TLSConfig != nil) != tt.tls || tt.tls && (got.TLSConfig.ServerName != "" || got.TLSConfig.InsecureSkipVerify) {
				t.Fatalf("TLS %+v, want TLS %v with each node's own name", got.TLSConfig, tt.tls)
			}
			if got.Protocol != 2 || !got.DisableIdentity || got.MaxRetries != 1 || got.DialerRetries != 1 ||
				got.DialTimeout != redisDialTimeout || got.ReadTimeout != redisIOTimeout ||
				got.WriteTimeout != redisIOTimeout || got.PoolTimeout != redisPoolTimeout || got.Dialer == nil {
				t.Fatalf("client options not applied: %+v", got)
			}
		})
	}
}

// leakyPasswords are passwords with raw reserved characters, each made of
// pieces no error message could contain by chance: an error that quotes any
// part of the URL around them shows one of the pieces.
var leakyPasswords = []string{
	"Zq1#Xw2", "Zq1@Xw2", "Zq1/Xw2", "Zq1?Xw2", "Zq1%Xw2", "Zq1%zzXw2", "Zq1 Xw2", "Zq1[Xw2]", "Zq1]Xw2",
	"Zq1#Xw2@Yv3/Uu4?Tt5", "Zq1:Xw2#", "#Zq1Xw2", "Zq1Xw2#", "Zq1\x00Xw2", "Zq1\nXw2", "Zq1,Xw2#Yv3", "Zq1/6379",
	"Zq1?pool_size=Xw2", "Zq1?dial_timeout=1#", "Zq1@[::1]:Xw2", "Zq1:65536/Xw2", "Zq1%2Xw2", "Zq1+Xw2#",
}

// leakyTemplates put the password (%s) where each URL form carries one.
var leakyTemplates = []string{
	"redis://:%s@redis.internal:6379/0",
	"redis://user:%s@redis.internal",
	"rediss://default:%s@cache.example.com:6380",
	"redis+cluster://:%s@n1:7000,n2:7001",
	"rediss+cluster://u:%s@n1?addr=n2:7001",
	"redis+sentinel://:%s@s1,s2:26380/mymaster/1",
	"redis+sentinel://s1/mymaster?sentinel_password=%s",
	"redis://:%s@",
	"redis://:%s",
}

// passwordPieces are the runs of a password between reserved characters.
func passwordPieces(pw string) []string {
	return strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("#@/?%[]: ,+=\\", r) })
}

// TestParseRedisURLNeverQuotesPassword: whatever fails in a URL whose
// password has raw reserved characters, the error holds no part of it.
func TestParseRedisURLNeverQuotesPassword(t *testing.T) {
	refused := 0
	for _, tmpl := range leakyTemplates {
		for _, pw := range leakyPasswords {
			in := strings.Replace(tmpl, "%s", pw, 1)
			t.Run(in, func(t *testing.T) {
				_, err := ParseRedisURL(in)
				if err == nil {
					return
				}
				refused++
				var p urlProblem
				if !errors.As(err, &p) {
					t.Errorf("error %T %v is not a urlProblem", err, err)
				}
				for _, piece := range passwordPieces(pw) {
					if len(piece) >= 3 && strings.Contains(err.Error(), piece) {
						t.Errorf("error quotes %q of the password: %v", piece, err)
					}
				}
			})
		}
	}
	if refused < len(leakyTemplates)*len(leakyPasswords)/2 {
		t.Errorf("only %d URLs refused: the table no longer tests failures", refused)
	}
}

func TestRedisURLProblemsQuoteNothing(t *testing.T) {
	for _, in := range []string{
		"redis://:hunter2@a,b",
		"redis+sentinel://a/m?sentinel_password=hunter2&x=1",
		"redis://:hunter2@a/%zz",
		"redis://:hunter2@a:bad",
		"redis://:hunter2@a?pool_size=hunter2",
		"redis+cluster://:hunter2@a?addr=hunter2",
		"redis+sentinel://:hunter2@a/hunter2/hunter2",
	} {
		_, err := ParseRedisURL(in)
		if err == nil {
			t.Fatalf("ParseRedisURL(%q) succeeded, want error", in)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("ParseRedisURL(%q) error leaks the password: %v", in, err)
		}
	}
}

func TestRedisLog(t *testing.T) {
	logs := &logBuffer{}
	RedisLog{Logger: logs.logger(), Level: slog.LevelDebug - 4}.Printf(context.Background(), "dial %s", "x")
	if logs.String() != "" {
		t.Fatalf("logged below the handler's level: %s", logs.String())
	}
	RedisLog{Logger: logs.logger(), Level: slog.LevelWarn}.Printf(context.Background(), "failed to dial %s", "127.0.0.1:1")
	if got := logs.String(); !strings.Contains(got, `level=WARN msg="failed to dial 127.0.0.1:1" component=go-redis`) {
		t.Fatalf("log line %q", got)
	}
	RedisLog{}.Printf(context.Background(), "no logger: no panic")
}

func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{"redis://localhost", "rediss://u:p@h:6380/1", "redis+sentinel://a,b:26380/m/2?sentinel_password=x",
		"redis+cluster://[::1]:7000,n2", "redis://a?x=1", "redis://:p@[::1", "redis://a,b", "redis://:Zq1#Xw2@h/0",
		"redis+cluster://n1?addr=n2:1&pool_size=3", "redis+sentinel://:p%2B@s/m?sentinel_password=%40"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseRedisURL(s)
		if err != nil {
			// Only fixed text: a urlProblem quotes nothing of s.
			var p urlProblem
			if !errors.As(err, &p) || err.Error() != p.Error() {
				t.Fatalf("ParseRedisURL(%q): error %v is not a bare urlProblem", s, err)
			}
			return
		}
		if len(o.Addrs) == 0 {
			t.Fatalf("ParseRedisURL(%q): no address", s)
		}
		for _, a := range o.Addrs {
			if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
				t.Fatalf("ParseRedisURL(%q): address %q: %v", s, a, err)
			}
		}
		if o.Protocol != 2 || o.Dialer == nil || o.DialTimeout != redisDialTimeout {
			t.Fatalf("ParseRedisURL(%q): client options not applied", s)
		}
	})
}

// FuzzRedisURLPassword puts any password, raw, where each form carries one:
// a refusal never quotes the password.
func FuzzRedisURLPassword(f *testing.F) {
	for _, pw := range leakyPasswords {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		for _, tmpl := range leakyTemplates {
			in := strings.Replace(tmpl, "%s", pw, 1)
			_, err := ParseRedisURL(in)
			if err == nil {
				continue
			}
			var p urlProblem
			if !errors.As(err, &p) || err.Error() != p.Error() {
				t.Fatalf("ParseRedisURL(%q): error %v is not a bare urlProblem", in, err)
			}
			if len(pw) >= 8 && strings.Contains(err.Error(), pw) {
				t.Fatalf("ParseRedisURL(%q): error quotes the password: %v", in, err)
			}
		}
	})
}

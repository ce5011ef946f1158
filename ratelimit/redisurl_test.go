package ratelimit

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		in      string
		want    redis.UniversalOptions // the fields compared below
		tls     bool
		wantErr string
	}{
		{in: "redis://localhost", want: redis.UniversalOptions{Addrs: []string{"localhost:6379"}}},
		{in: "redis://:secret@redis.internal:6380/2",
			want: redis.UniversalOptions{Addrs: []string{"redis.internal:6380"}, Password: "secret", DB: 2}},
		{in: "redis://default:p%40ss%2Fword@[::1]:7000",
			want: redis.UniversalOptions{Addrs: []string{"[::1]:7000"}, Username: "default", Password: "p@ss/word"}},
		{in: "redis://[::1]", want: redis.UniversalOptions{Addrs: []string{"[::1]:6379"}}},
		{in: "rediss://u:p@cache.example.com:6380", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"cache.example.com:6380"}, Username: "u", Password: "p"}},
		{in: "redis+sentinel://s1:26379,s2,s3:26380/mymaster/1",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26379", "s3:26380"}, MasterName: "mymaster", DB: 1}},
		{in: "rediss+sentinel://:pw@s1/mymaster?sentinel_password=spw&sentinel_username=su", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"s1:26379"}, MasterName: "mymaster", Password: "pw",
				SentinelUsername: "su", SentinelPassword: "spw"}},
		{in: "redis+cluster://n1:6379,n2:6380,n3",
			want: redis.UniversalOptions{Addrs: []string{"n1:6379", "n2:6380", "n3:6379"}, IsClusterMode: true}},
		{in: "rediss+cluster://:pw@n1/0", tls: true,
			want: redis.UniversalOptions{Addrs: []string{"n1:6379"}, Password: "pw", IsClusterMode: true}},

		{in: "", wantErr: "scheme"},
		{in: "localhost:6379", wantErr: "scheme"},
		{in: "http://localhost", wantErr: "scheme"},
		{in: "unix:///tmp/redis.sock", wantErr: "scheme"},
		{in: "redis+ring://a,b", wantErr: "unknown mode"},
		{in: "redis://", wantErr: "want redis://host"},
		{in: "redis://a,b", wantErr: "one host only"},
		{in: "redis://a/x", wantErr: "not a number"},
		{in: "redis://a/1/2", wantErr: "too many"},
		{in: "redis://a:0", wantErr: "invalid port"},
		{in: "redis://a:65536", wantErr: "invalid port"},
		{in: "redis://a,:1", wantErr: "invalid"},
		{in: "redis://a?dial_timeout=10s", wantErr: "unsupported query parameter \"dial_timeout\""},
		{in: "redis+cluster://a,b/3", wantErr: "database 0 only"},
		{in: "redis+sentinel://a,b", wantErr: "master name is missing"},
		{in: "redis+sentinel://a/m/x", wantErr: "not a number"},
		{in: "redis://a#frag", wantErr: "want redis://host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRedisURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRedisURL(%q) error %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if !slices.Equal(got.Addrs, w.Addrs) || got.Username != w.Username || got.Password != w.Password ||
				got.DB != w.DB || got.MasterName != w.MasterName || got.IsClusterMode != w.IsClusterMode ||
				got.SentinelUsername != w.SentinelUsername || got.SentinelPassword != w.SentinelPassword {
				t.Fatalf("ParseRedisURL(%q) = %+v, want %+v", tt.in, got, w)
			}
			if (got.TLSConfig != nil) != tt.tls {
				t.Fatalf("TLS %v, want %v", got.TLSConfig != nil, tt.tls)
			}
			if got.Protocol != 2 || !got.DisableIdentity || got.MaxRetries != 1 || got.DialerRetries != 1 ||
				got.DialTimeout != redisDialTimeout || got.ReadTimeout != redisIOTimeout ||
				got.WriteTimeout != redisIOTimeout || got.PoolTimeout != redisPoolTimeout || got.Dialer == nil {
				t.Fatalf("client options not applied: %+v", got)
			}
		})
	}
}

// TestParseRedisURLRedacts keeps passwords out of configuration errors, which
// end up in logs.
func TestParseRedisURLRedacts(t *testing.T) {
	for _, in := range []string{
		"redis://:hunter2@a,b",
		"redis+sentinel://a/m?sentinel_password=hunter2&x=1",
		"redis://:hunter2@a/%zz",
		"redis://:hunter2@a:bad",
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
		"redis+cluster://[::1]:7000,n2", "redis://a?x=1", "redis://:p@[::1", "redis://a,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseRedisURL(s)
		if err != nil {
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
		if o.Protocol != 2 || o.Dialer == nil {
			t.Fatalf("ParseRedisURL(%q): client options not applied", s)
		}
	})
}

package ratelimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/corsbridge/corsbridge/allowlist"
	"github.com/corsbridge/corsbridge/ratelimit"
)

// The server builds the Limiter once from its settings, passing allowlist's
// origin canonicaliser and exemption matcher, and takes one count per
// request as a step of its proxy handler.
func ExampleLimiter_Take() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	origin, _ := ratelimit.ParseLimit(ratelimit.DefaultOriginLimit)
	client, _ := ratelimit.ParseLimit(ratelimit.DefaultClientLimit)
	exempt, _ := allowlist.NewOriginKeySet([]string{"app.example.com", "*.example.org"})
	limiter, err := ratelimit.New(context.Background(), ratelimit.Config{
		Origin:             origin,
		Client:             client,
		OriginKey:          allowlist.OriginKey,
		Exempt:             exempt.MatchKey,
		TrustedProxyHeader: "Fly-Client-IP",
		FailMode:           ratelimit.FailOpen,
		RedisURL:           os.Getenv("REDIS_URL"),
		Logger:             logger,
	})
	if err != nil {
		logger.Error("bad rate limit configuration", "err", err)
		return
	}
	defer limiter.Close()

	handle := func(w http.ResponseWriter, r *http.Request) {
		res := limiter.Take(r.Context(), ratelimit.Request{
			Client: ratelimit.ClientIP(r, "Fly-Client-IP"),
			Origin: r.Header.Get("Origin"),
		}, time.Now())
		res.SetHeaders(w.Header())
		if !res.Allowed() {
			http.Error(w, `{"code":"rate_limited","message":"too many requests"}`, http.StatusTooManyRequests)
			return
		}
		// ... the next step of the pipeline
	}
	_ = http.HandlerFunc(handle)
	logger.Info("rate limits", "status", limiter.Status(), "backend", limiter.Backend())
}

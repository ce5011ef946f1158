package ratelimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/corsbridge/corsbridge/ratelimit"
)

// The server builds the Limiter once from its settings and wraps the proxy.
func ExampleNew() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	origin, _ := ratelimit.ParseLimit(ratelimit.DefaultOriginLimit)
	client, _ := ratelimit.ParseLimit(ratelimit.DefaultClientLimit)
	limiter, err := ratelimit.New(context.Background(), ratelimit.Config{
		Origin:             origin,
		Client:             client,
		Exempt:             []string{"app.example.com", "*.example.org"},
		TrustedProxyHeader: "Fly-Client-IP",
		FailMode:           ratelimit.FailOpen,
		RedisURL:           os.Getenv("REDIS_URL"),
		Logger:             logger,
		OnLimited: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Corsbridge-Error", "rate_limited")
			http.Error(w, `{"code":"rate_limited","message":"too many requests"}`, http.StatusTooManyRequests)
		},
	})
	if err != nil {
		logger.Error("bad rate limit configuration", "err", err)
		return
	}
	defer limiter.Close()

	proxy := http.NotFoundHandler() // the real proxy
	_ = http.Handler(limiter.Middleware(proxy))
	logger.Info("rate limits", "status", limiter.Status(), "backend", limiter.Backend())
}

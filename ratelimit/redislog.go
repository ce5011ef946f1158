package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
)

// RedisLog adapts a slog.Logger to go-redis's logger. go-redis logs through
// one process-wide logger (redis.SetLogger), by default to stderr, one line
// per failed dial: while Redis is down that is a line per probe. This package
// does not touch process-wide state, so main installs it:
//
//	redis.SetLogger(ratelimit.RedisLog{Logger: logger, Level: slog.LevelDebug})
type RedisLog struct {
	Logger *slog.Logger
	Level  slog.Level
}

// Printf implements go-redis's logging interface.
func (r RedisLog) Printf(ctx context.Context, format string, v ...any) {
	if r.Logger != nil {
		r.Logger.Log(ctx, r.Level, fmt.Sprintf(format, v...), "component", "go-redis")
	}
}

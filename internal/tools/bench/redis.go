package main

import (
	"os"
	"path/filepath"

	"github.com/corsbridge/corsbridge/internal/redisproc"
)

// startRedis runs redis-server for corsbridge-redis, pinned with the proxy
// and logging to the run's directory, and returns how to stop it.
func (l *lab) startRedis() (stop func(), err error) {
	logFile, err := os.Create(filepath.Join(l.dir, "redis.log"))
	if err != nil {
		return nil, err
	}
	var wrap []string
	if l.cfg.Pin.Proxy != "" {
		wrap = []string{"taskset", "-c", l.cfg.Pin.Proxy}
	}
	rdb, err := redisproc.Start(redisproc.Config{Wrap: wrap, Output: logFile})
	if err != nil {
		logFile.Close()
		return nil, err
	}
	l.redisURL = rdb.URL()
	return func() { rdb.Stop(); logFile.Close() }, nil
}

package main

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// startRedis runs redis-server on a free loopback port, without
// persistence, pinned with the proxy, and waits for PING.
func startRedis(ctx context.Context, cpus, dir string) (*proc, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", errors.New("not found (apt-get install -y redis-server)")
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProc("redis-server", cpus, cleanEnv(), filepath.Join(dir, "redis.log"), bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(5 * time.Second)
	for !redisPing(addr) {
		if time.Now().After(deadline) || p.exited() || ctx.Err() != nil {
			p.stop()
			return nil, "", errors.New("did not answer PING on " + addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p, "redis://" + addr, nil
}

func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// instance is one corsbridge process under soak.
type instance struct {
	cmd  *exec.Cmd
	base string
	log  *os.File

	mu             sync.Mutex
	peakRSS        int64 // bytes, VmHWM
	goroutines     int   // at the last sample
	peakGoroutines int
}

func startInstance(ctx context.Context, bin, logPath, redisURL string) (*instance, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"REDIS_URL="+redisURL,
		"CORSBRIDGE_ALLOW_PRIVATE=127.0.0.0/8",
		"CORSBRIDGE_RATE_LIMIT=600/1m",
		"CORSBRIDGE_CLIENT_RATE_LIMIT=off",
		"CORSBRIDGE_RATE_LIMIT_EXEMPT=*.normal.example",
		"CORSBRIDGE_METRICS=true",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	inst := &instance{cmd: cmd, log: logFile}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "listening" {
				select {
				case found <- entry.Addr:
				default:
				}
			}
			_, _ = logFile.Write(append(line, '\n'))
		}
	}()
	select {
	case addr := <-found:
		inst.base = "http://" + addr
	case <-time.After(15 * time.Second):
		inst.stop()
		return nil, fmt.Errorf("corsbridge did not start; see %s", logPath)
	}
	return inst, nil
}

func (inst *instance) stop() {
	if inst.cmd.Process != nil {
		_ = inst.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = inst.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = inst.cmd.Process.Kill()
			<-done
		}
	}
	inst.log.Close()
}

// sample reads peak RSS and goroutines every second while traffic runs.
func (inst *instance) sample(ctx context.Context) {
	for {
		inst.sampleOnce()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (inst *instance) sampleOnce() {
	rss := readVmHWM(inst.cmd.Process.Pid)
	g := readGoroutines(inst.base)
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.peakRSS = max(inst.peakRSS, rss)
	if g >= 0 {
		inst.goroutines = g
		inst.peakGoroutines = max(inst.peakGoroutines, g)
	}
}

func readVmHWM(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// readGoroutines scrapes go_goroutines from the instance's /metrics.
func readGoroutines(base string) int {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return int(f)
			}
		}
	}
	return -1
}

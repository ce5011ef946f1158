package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/corsbridge/corsbridge/internal/redisproc"
)

func soak(ctx context.Context, o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "corsbridge-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.binary
	if bin == "" {
		bin = filepath.Join(dir, "corsbridge")
		fmt.Fprintln(out, "building corsbridge ...")
		if b, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/corsbridge").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, b)
		}
	}
	rdb, err := redisproc.Start(redisproc.Config{})
	if err != nil {
		return err
	}
	defer rdb.Stop()
	up, err := startUpstream()
	if err != nil {
		return err
	}
	defer up.Close()

	var instances []*instance
	for i := range 2 {
		inst, err := startInstance(ctx, bin, filepath.Join(dir, fmt.Sprintf("instance-%d.log", i)), rdb.URL())
		if err != nil {
			return err
		}
		defer inst.stop()
		instances = append(instances, inst)
	}
	fmt.Fprintf(out, "soak: %v of mixed traffic, %d workers, 2 instances (%s, %s), Redis %s restarted at half time\n",
		o.duration, o.workers, instances[0].base, instances[1].base, rdb.Addr())

	stats := newStats()
	trafficCtx, stopTraffic := context.WithTimeout(ctx, o.duration)
	defer stopTraffic()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.workers * 2, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for w := range o.workers {
		wg.Go(func() { worker(trafficCtx, w, client, instances, up.URL, stats) })
	}
	for _, inst := range instances {
		wg.Go(func() { inst.sample(trafficCtx) })
	}

	select {
	case <-time.After(o.duration / 2):
		fmt.Fprintln(out, "restarting Redis ...")
		rdb.Stop()
		time.Sleep(2 * time.Second)
		if err := rdb.Restart(); err != nil {
			return fmt.Errorf("restart Redis: %w", err)
		}
		stats.markRestart()
	case <-trafficCtx.Done():
	}
	wg.Wait()
	for _, inst := range instances {
		inst.sampleOnce()
	}
	stats.report(out, instances)
	if n := stats.unexpectedCount(); n > 0 {
		return fmt.Errorf("%d unexpected errors", n)
	}
	return ctx.Err()
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// redisErrorsMetric counts the cache's failed or timed-out Redis calls. After
// each, the cache's Redis tier steps aside for a second: with nothing kept
// in memory (corsbridge-cache-redis), every request of that second is a
// miss, which is what a flagged run of that target then measured.
const redisErrorsMetric = "corsbridge_cache_redis_errors_total"

// metricValue reads an unlabelled counter or gauge from Prometheus's text
// format; ok is false when it is not there.
func metricValue(text, name string) (v float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		value, found := strings.CutPrefix(sc.Text(), name+" ")
		if !found {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return v, err == nil
	}
	return 0, false
}

// scrape reads one metric from a corsbridge instance's metrics listener
// (loopback); 0 when the instance does not export it.
func scrape(ctx context.Context, addr, name string) (int64, error) {
	text, err := getText(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	v, _ := metricValue(text, name)
	return int64(v), nil
}

// getText reads a small loopback answer whole: a metrics page, a count.
func getText(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return string(body), err
}

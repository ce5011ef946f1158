package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/corsbridge/corsbridge/usage"
	"github.com/corsbridge/corsbridge/web"
)

// defaultUsageDays is `admin usage`'s --days: a week, today included.
const defaultUsageDays = 7

// adminShowUsage is `corsbridge admin usage [NAME] [--days N]`: a table of
// each key's or token's requests, bytes and refusals per UTC day, read
// where the instances record them: Redis when there is one, else beside
// the keys file (see usageConfig).
func adminShowUsage(ctx context.Context, cmd []string, days int, redisURL, keysFile string, now time.Time, stdout, stderr io.Writer) error {
	if len(cmd) > 2 {
		return &usageError{errors.New("admin: usage: corsbridge admin usage [NAME] [--days N]")}
	}
	maxDays := int(usage.Retention / (24 * time.Hour))
	if days < 1 || days > maxDays {
		return &usageError{fmt.Errorf("admin: --days must be 1 to %d", maxDays)}
	}
	cfg := usage.Config{}
	switch {
	case redisURL != "":
		rdb, err := adminRedis(redisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		cfg.Redis = rdb
	case keysFile != "":
		cfg.File = keysFile + usage.FileSuffix
	default:
		return &usageError{errors.New("admin: usage is recorded in Redis (REDIS_URL) or beside the keys file (CORSBRIDGE_KEYS_FILE); " +
			"an instance with neither keeps it in its memory: ask it with the key at GET /_corsbridge/usage, or read its metrics (corsbridge_key_requests_total)")}
	}
	ledger, err := usage.New(cfg)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer ledger.Close()
	first := now.AddDate(0, 0, -(days - 1))
	byName := map[string][]usage.Day{}
	if len(cmd) == 2 {
		byName[cmd[1]], err = ledger.Range(ctx, cmd[1], first, now)
	} else {
		byName, err = ledger.All(ctx, first, now)
	}
	if err != nil {
		return fmt.Errorf("admin: reading usage: %w", err)
	}
	if len(byName) == 0 {
		fmt.Fprintf(stderr, "no usage recorded from %s to %s (UTC)\n", first.UTC().Format(time.DateOnly), now.UTC().Format(time.DateOnly))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDAY (UTC)\tREQUESTS\tBYTES\tREFUSED")
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		for _, d := range byName[name] {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, d.Date.Format(time.DateOnly), d.Requests, formatUsageBytes(d.Bytes), formatRefused(d.Refused))
		}
	}
	return tw.Flush()
}

// formatUsageBytes is exact, with a readable size beside it from 1 KiB.
func formatUsageBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10) + " (" + web.FormatBytes(n) + ")"
}

// formatRefused lists refusals by code, "-" for none: rate_limited=3,upstream_timeout=1.
func formatRefused(refused map[string]int64) string {
	if len(refused) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(refused))
	for _, code := range slices.Sorted(maps.Keys(refused)) {
		parts = append(parts, code+"="+strconv.FormatInt(refused[code], 10))
	}
	return strings.Join(parts, ",")
}

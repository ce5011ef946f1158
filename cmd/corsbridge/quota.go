package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/corsbridge/corsbridge/rate"
	"github.com/corsbridge/corsbridge/web"
)

// parseQuota reads the --daily, --monthly and --monthly-bytes flags of
// `admin keys add` and `token`; cmd names the command for the error.
func parseQuota(cmd string, daily, monthly int64, monthlyBytes string) (rate.Quota, error) {
	q := rate.Quota{Daily: daily, Monthly: monthly}
	if monthlyBytes != "" {
		n, err := web.ParseBytes(monthlyBytes)
		if err != nil {
			return rate.Quota{}, &usageError{fmt.Errorf("%s: --monthly-bytes %q: %w", cmd, monthlyBytes, err)}
		}
		q.MonthlyBytes = n
	}
	if err := q.Validate(); err != nil {
		return rate.Quota{}, &usageError{errors.New(cmd + ": " + strings.TrimPrefix(err.Error(), "rate: "))}
	}
	return q, nil
}

// quotaText shows quotas to the operator: "1000/day, 20000/month,
// 500 MiB/month", or "-" for none.
func quotaText(q rate.Quota) string {
	var parts []string
	if q.Daily > 0 {
		parts = append(parts, strconv.FormatInt(q.Daily, 10)+"/day")
	}
	if q.Monthly > 0 {
		parts = append(parts, strconv.FormatInt(q.Monthly, 10)+"/month")
	}
	if q.MonthlyBytes > 0 {
		parts = append(parts, web.FormatBytes(q.MonthlyBytes)+"/month")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

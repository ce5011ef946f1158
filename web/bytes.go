package web

import (
	"errors"
	"strconv"
	"strings"
)

// ParseBytes reads a byte count as operators write it: 1048576, 512KiB,
// 10MiB, 1GiB, with spaces allowed around the number. It is the inverse of
// FormatBytes's units, kept beside it so the binary's settings and the
// development tools read sizes one way.
func ParseBytes(v string) (int64, error) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, unit := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(v, unit.suffix); ok {
			v, mult = strings.TrimSpace(rest), unit.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("must be a byte count such as 1048576 or 10MiB")
	}
	return n * mult, nil
}

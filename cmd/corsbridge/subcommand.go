package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/corsbridge/corsbridge/allowlist"
)

// listFlag collects a repeatable flag whose values may also be comma
// separated: --origin a --origin b, or --origin a,b.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, allowlist.ParsePatterns(v)...)
	return nil
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. "--" ends flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// newFlagSet is a subcommand's flag set: errors are returned, not printed,
// and -h prints usage to w.
func newFlagSet(name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		io.WriteString(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// helpOrUsage prints the usage for -h and returns nil (exit 0); other flag
// errors are usage errors (exit 2).
func helpOrUsage(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return nil
	}
	return &usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
}

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

// subcommand is a subcommand's flag set with its usage text and where -h
// prints it.
type subcommand struct {
	*flag.FlagSet
	usage string
	w     io.Writer
}

// newSubcommand builds a subcommand's flag set that prints nothing itself.
// The flag package calls fs.Usage on -h and on every parse error before it
// returns the error; a Usage that printed would show the usage there and
// again after -h was handled, and on a mistyped flag would put the usage on
// standard output. So parse errors are only returned, for main to print once
// as it does for the server's own flags, and -h prints the usage once, from
// parse.
func newSubcommand(name, usage string, w io.Writer) *subcommand {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &subcommand{FlagSet: fs, usage: usage, w: w}
}

// printUsage writes the usage text and every flag with its default to w.
func (c *subcommand) printUsage() {
	io.WriteString(c.w, c.usage)
	c.SetOutput(c.w)
	c.PrintDefaults()
	c.SetOutput(io.Discard)
}

// parse parses args, flags anywhere among them (see parseInterleaved), and
// returns the positional arguments. -h prints the usage and returns
// errHelp (exit 0); other flag errors are usage errors (exit 2).
func (c *subcommand) parse(args []string) ([]string, error) {
	positional, err := parseInterleaved(c.FlagSet, args)
	switch {
	case err == nil:
		return positional, nil
	case errors.Is(err, flag.ErrHelp):
		c.printUsage()
		return nil, errHelp
	}
	return nil, &usageError{fmt.Errorf("%s: %w", c.Name(), err)}
}

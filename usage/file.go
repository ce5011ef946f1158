package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/corsbridge/corsbridge/internal/atomicfile"
)

// FileSuffix names the usage file after the keys file it sits beside:
// keys.json's usage is in keys.json.usage.json.
const FileSuffix = ".usage.json"

// fileStore keeps the figures in a JSON file, for instances that keep their
// keys in a keys file:
//
//	{"days": {"20261202": {"web-team": {"requests": 812, "bytes": 104857, "refused": {"rate_limited": 3}}}}}
//
// A flush locks the file (an flock on a ".lock" file beside it), reads it,
// adds its tally, drops days older than Retention and writes it whole
// through a temporary file and a rename, so readers never see half a file
// and instances on one machine that share a keys file add up instead of
// overwriting each other's figures.
type fileStore struct{ path string }

func (s *fileStore) backend() string { return "file" }

// fileData is the file's form.
type fileData struct {
	Days map[string]map[string]*Counts `json:"days"` // by day, YYYYMMDD, then by name
}

// maxFileSize bounds what a reader takes in: a year of a few hundred
// names is well under it.
const maxFileSize = 64 << 20

// parseFile reads a usage file's bytes. Every day must be a date in
// dayFormat and every name non-empty; counts must not be negative.
func parseFile(raw []byte) (tally, error) {
	var d fileData
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	t := tally{}
	for day, names := range d.Days {
		when, ok := parseDate(day)
		if !ok {
			return nil, fmt.Errorf("day %q is not a date written YYYYMMDD", day)
		}
		for name, c := range names {
			if name == "" || c == nil {
				return nil, fmt.Errorf("day %s: an empty name or figures", day)
			}
			if c.Requests < 0 || c.Bytes < 0 {
				return nil, fmt.Errorf("day %s, %s: negative figures", day, name)
			}
			for code, n := range c.Refused {
				if code == "" || n < 0 {
					return nil, fmt.Errorf("day %s, %s: a refusal without a code or a negative count", day, name)
				}
			}
			t.add(entry{name, when}, *c)
		}
	}
	return t, nil
}

func formatFile(t tally) ([]byte, error) {
	d := fileData{Days: map[string]map[string]*Counts{}}
	for e, c := range t {
		day := e.day.String()
		if d.Days[day] == nil {
			d.Days[day] = map[string]*Counts{}
		}
		d.Days[day][e.name] = c
	}
	raw, err := json.MarshalIndent(d, "", " ")
	return append(raw, '\n'), err
}

// load reads the file; a file that does not exist yet is empty.
func (s *fileStore) load() (tally, error) {
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return tally{}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(raw) > maxFileSize {
		return nil, fmt.Errorf("usage file %s: larger than %d bytes", s.path, maxFileSize)
	}
	t, err := parseFile(raw)
	if err != nil {
		return nil, fmt.Errorf("usage file %s: %w (move it away to start counting afresh)", s.path, err)
	}
	return t, nil
}

func (s *fileStore) add(_ context.Context, t tally, now time.Time) (tally, error) {
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := s.load()
	if err != nil {
		return nil, err
	}
	all.merge(t, now)
	raw, err := formatFile(all)
	if err != nil {
		return nil, err
	}
	return nil, atomicfile.Write(s.path, raw)
}

func (s *fileStore) read(_ context.Context, names []string, days []date) (tally, error) {
	all, err := s.load()
	if err != nil {
		return nil, err
	}
	return pick(all, names, days), nil
}

package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"

	"github.com/corsbridge/corsbridge/internal/atomicfile"
)

// FileStore keeps keys and blocks in a JSON file (CORSBRIDGE_KEYS_FILE), for
// an instance without Redis:
//
//	{
//	  "keys": [{"name": "ci", "sha256": "<hex>", "created": "2026-01-02T03:04:05Z",
//	            "expires": "2026-02-01T03:04:05Z", "rate": "1000/1h",
//	            "origins": ["https://app.example.com"], "targets": ["api.example.com/v1/"]}],
//	  "blocks": {"origins": ["https://evil.example"], "targets": ["bad.example.com"]},
//	  "secrets": [{"name": "weather", "target": "https://api.weather.example/v1/",
//	               "query": "appid", "sealed": "v1.<kid>.<...>", "created": "2026-01-02T03:04:05Z"}]
//	}
//
// Instances poll its modification time and size and reload it when they
// change. The admin commands rewrite it whole, through a temporary file and
// a rename, so an instance never reads half a file; run one admin command at
// a time.
type FileStore struct {
	path string
}

// NewFileStore uses the file at path; it need not exist yet (the admin
// commands create it).
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// OpenFileStore is NewFileStore for a server: the file must exist and parse,
// so a typo in CORSBRIDGE_KEYS_FILE stops start-up instead of refusing every
// key.
func OpenFileStore(path string) (*FileStore, error) {
	s := NewFileStore(path)
	if _, _, err := s.Load(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileStore) Version(context.Context) (string, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return "", err
	}
	return fileVersion(fi), nil
}

func fileVersion(fi fs.FileInfo) string {
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + "-" + strconv.FormatInt(fi.Size(), 10)
}

func (s *FileStore) Load(context.Context) (Data, string, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return Data{}, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Data{}, "", err
	}
	raw, err := readAll(f, fi.Size())
	if err != nil {
		return Data{}, "", err
	}
	d, err := parseFile(raw)
	if err != nil {
		return Data{}, "", fmt.Errorf("%s: %w", s.path, err)
	}
	return d, fileVersion(fi), nil
}

// maxFileSize keeps a wrong path (a log file, a device) from being read whole.
const maxFileSize = 16 << 20

func readAll(f *os.File, size int64) ([]byte, error) {
	if size > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Name(), maxFileSize)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func parseFile(raw []byte) (Data, error) {
	var d Data
	if len(bytes.TrimSpace(raw)) == 0 {
		return d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt "origin" must not widen a key
	if err := dec.Decode(&d); err != nil {
		return Data{}, err
	}
	return d, nil
}

// update rewrites the file with fn's changes, atomically.
func (s *FileStore) update(fn func(*Data) error) error {
	var d Data
	f, err := os.Open(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		fi, err := f.Stat()
		var raw []byte
		if err == nil {
			raw, err = readAll(f, fi.Size())
		}
		f.Close()
		if err != nil {
			return err
		}
		if d, err = parseFile(raw); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
	}
	if err := fn(&d); err != nil {
		return err
	}
	if d.Keys == nil {
		d.Keys = []Key{}
	}
	if d.Blocks.Origins == nil {
		d.Blocks.Origins = []string{}
	}
	if d.Blocks.Targets == nil {
		d.Blocks.Targets = []string{}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(out, '\n'))
}

func (s *FileStore) AddKey(_ context.Context, k Key) error {
	return s.update(func(d *Data) error {
		if _, ok := d.KeyNamed(k.Name); ok {
			return fmt.Errorf("key %q: %w", k.Name, ErrExists)
		}
		d.Keys = append(d.Keys, k)
		return nil
	})
}

func (s *FileStore) RevokeKey(_ context.Context, name string) error {
	return s.update(func(d *Data) error {
		i := slices.IndexFunc(d.Keys, func(k Key) bool { return k.Name == name })
		if i < 0 {
			return fmt.Errorf("key %q: %w", name, ErrNotFound)
		}
		d.Keys = slices.Delete(d.Keys, i, i+1)
		return nil
	})
}

func (s *FileStore) SetSecret(_ context.Context, sec Secret) error {
	return s.update(func(d *Data) error {
		if i := slices.IndexFunc(d.Secrets, func(x Secret) bool { return x.Name == sec.Name }); i >= 0 {
			d.Secrets[i] = sec
			return nil
		}
		d.Secrets = append(d.Secrets, sec)
		return nil
	})
}

func (s *FileStore) RemoveSecret(_ context.Context, name string) error {
	return s.update(func(d *Data) error {
		i := slices.IndexFunc(d.Secrets, func(x Secret) bool { return x.Name == name })
		if i < 0 {
			return fmt.Errorf("secret %q: %w", name, ErrNotFound)
		}
		d.Secrets = slices.Delete(d.Secrets, i, i+1)
		return nil
	})
}

func (s *FileStore) AddBlock(_ context.Context, kind Kind, pattern string) error {
	return s.update(func(d *Data) error {
		list := d.Blocks.list(kind)
		if slices.Contains(*list, pattern) {
			return fmt.Errorf("%s block %q: %w", kind, pattern, ErrExists)
		}
		*list = append(*list, pattern)
		return nil
	})
}

func (s *FileStore) RemoveBlock(_ context.Context, kind Kind, pattern string) error {
	return s.update(func(d *Data) error {
		list := d.Blocks.list(kind)
		i := slices.Index(*list, pattern)
		if i < 0 {
			return fmt.Errorf("%s block %q: %w", kind, pattern, ErrNotFound)
		}
		*list = slices.Delete(*list, i, i+1)
		return nil
	})
}

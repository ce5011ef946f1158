// Package atomicfile writes a file so that readers see either the old
// contents or the new, never a part: the keys file and the usage file beside
// it are read by instances while an operator's command or another instance
// rewrites them.
//
// github.com/google/renameio does the same, but not on Windows, where the
// usage package still builds (without its lock); these twenty lines were
// already written twice, in access and usage, before they moved here.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data through a temporary file in the same
// directory (so the rename stays on one file system), synced before the
// rename, with mode 0600: the files it writes hold key hashes, sealed
// secrets and usage figures.
func Write(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

//go:build unix

package usage

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on path (created if missing), so that
// instances on one machine flush the usage file one at a time; the lock is
// the kernel's, and goes with a process that dies holding it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

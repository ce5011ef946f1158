//go:build !unix

package usage

// lockFile has no cross-process lock to take outside Unix: there, one
// instance per keys file records usage (README: Usage).
func lockFile(string) (unlock func(), err error) { return func() {}, nil }

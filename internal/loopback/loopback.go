// Package loopback finds free ports on 127.0.0.1 for the processes the
// test harnesses and development tools start (redis-server, the bench's
// proxies), which must be told their port before they start.
package loopback

import "net"

// FreePort asks the kernel for an unused port on 127.0.0.1. Another
// process may take it before the caller's child binds it; callers check
// that their child really listens there.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

package loopback

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortIsFreeOnLoopback(t *testing.T) {
	seen := map[int]bool{}
	for range 3 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if port <= 0 || port > 65535 {
			t.Fatalf("port %d", port)
		}
		seen[port] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port %d is not free: %v", port, err)
		}
		ln.Close()
	}
	if len(seen) < 2 {
		t.Errorf("three calls gave one port: %v", seen)
	}
}

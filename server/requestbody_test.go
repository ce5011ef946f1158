package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A request body whose chunked framing is broken is the client's mistake,
// answered in the error contract; a client that went away mid-body gets
// nothing and is logged as 499 client_gone.
func TestMalformedChunkedRequestBodyIs400(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t)
	big := strings.Repeat("b", 0x20000)
	tests := []struct {
		name string
		body string
	}{
		{"bad chunk size", "zz\r\nhello\r\n0\r\n\r\n"},
		{"chunk without its CRLF", "5\r\nhelloXX\r\n0\r\n\r\n"},
		{"bad chunk after the replay buffer", "20000\r\n" + big + "\r\nzz\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := rawClient(t, p)
			go func() {
				_, _ = io.WriteString(conn, "POST /http://"+host+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"+
					"Transfer-Encoding: chunked\r\n\r\n"+tt.body)
			}()
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			checkErrorContract(t, res, body, http.StatusBadRequest, "invalid_request")
		})
	}
}

func TestClientGoneMidChunkedBodyIs499(t *testing.T) {
	upstream, _ := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(upstream.URL, "http://")
	p := newProxy(t)
	conn := rawClient(t, p)
	_, _ = io.WriteString(conn, "POST /http://"+host+"/ HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n5\r\nab")
	_ = conn.(*net.TCPConn).CloseWrite()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.ReadAll(conn)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.SplitSeq(p.Logs.String(), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil || entry["msg"] != "request" {
				continue
			}
			if entry["status"] != float64(499) || entry["client_gone"] != true {
				t.Fatalf("log line %s, want status 499 and client_gone", line)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request line logged:\n%s", p.Logs.String())
}

package proxy

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestCheckLocation(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		location string
		bad      bool
	}{
		{"relative", http.StatusFound, "/next?x=1", false},
		{"absolute", http.StatusMovedPermanently, "https://other.example/x", false},
		{"unparseable host", http.StatusFound, "http://[::1", true},
		{"bad escape", http.StatusTemporaryRedirect, "http://a.example/%zz", true},
		{"not a redirect", http.StatusOK, "http://[::1", false},
		{"no Location", http.StatusFound, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "http://upstream.example/start", nil)
			body := &closeRecorder{Reader: strings.NewReader("")}
			res := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: body}
			if tt.location != "" {
				res.Header.Set("Location", tt.location)
			}
			err := checkLocation(req, res)
			if got := errors.Is(err, ErrBadRedirect); got != tt.bad {
				t.Fatalf("checkLocation = %v, want a bad redirect: %v", err, tt.bad)
			}
			if tt.bad && !body.closed {
				t.Error("the refused response's body was not closed")
			}
			if tt.bad && classify(&refused{err}, false, false).Kind != KindBadRedirect {
				t.Error("not classified as KindBadRedirect")
			}
		})
	}
}

package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

func TestBodyReadFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"connection closed mid-body", io.ErrUnexpectedEOF, KindClientGone},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, KindClientGone},
		{"closed connection", fmt.Errorf("read: %w", net.ErrClosed), KindClientGone},
		{"request cancelled", context.Canceled, KindClientGone},
		// net/http's chunked reader errors are unexported plain errors.
		{"bad chunk length", errors.New("invalid byte in chunk length"), KindBadRequestBody},
		{"malformed chunked encoding", errors.New("malformed chunked encoding"), KindBadRequestBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bodyReadFailure(tt.err); got != tt.want {
				t.Errorf("bodyReadFailure(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

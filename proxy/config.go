package proxy

import (
	"errors"
	"time"
)

// Defaults of the forwarding settings.
const (
	DefaultMaxRequestBody  = 10 << 20
	DefaultMaxResponseBody = 100 << 20
	DefaultMaxRedirects    = 5
	DefaultUpstreamTimeout = 30 * time.Second
	DefaultBodyIdleTimeout = 30 * time.Second
	DefaultUpstreamIdle    = 120 * time.Second
	DefaultBodyTimeout     = 5 * time.Minute
)

// Config is how requests are forwarded.
type Config struct {
	MaxRequestBody      int64
	MaxResponseBody     int64
	MaxRedirects        int
	UpstreamTimeout     time.Duration
	UpstreamIdleTimeout time.Duration // longest pause inside an upstream response body
	BodyIdleTimeout     time.Duration // longest pause while a client sends a request body
	BodyTimeout         time.Duration // longest time a client may take to send a whole request body
	ForwardClientIP     bool          // send X-Forwarded-For with the client's IP
	TrustedProxyHeader  string        // the client-IP header a trusted front proxy sets; never forwarded
}

// DefaultConfig returns the forwarding settings corsbridge runs with.
func DefaultConfig() Config {
	return Config{
		MaxRequestBody:      DefaultMaxRequestBody,
		MaxResponseBody:     DefaultMaxResponseBody,
		MaxRedirects:        DefaultMaxRedirects,
		UpstreamTimeout:     DefaultUpstreamTimeout,
		UpstreamIdleTimeout: DefaultUpstreamIdle,
		BodyIdleTimeout:     DefaultBodyIdleTimeout,
		BodyTimeout:         DefaultBodyTimeout,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxRequestBody <= 0:
		return errors.New("max request body must be positive")
	case c.MaxResponseBody <= 0:
		return errors.New("max response body must be positive")
	case c.MaxRedirects < 0 || c.MaxRedirects > 20:
		return errors.New("max redirects must be between 0 and 20")
	case c.UpstreamTimeout <= 0:
		return errors.New("upstream timeout must be positive")
	case c.UpstreamIdleTimeout <= 0:
		return errors.New("upstream idle timeout must be positive")
	case c.BodyIdleTimeout <= 0:
		return errors.New("request body idle timeout must be positive")
	case c.BodyTimeout <= 0:
		return errors.New("request body timeout must be positive")
	}
	return nil
}

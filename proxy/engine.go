//go:build !corsbridge_fasthttp

package proxy

import "net/http"

// newEngine is ReverseProxy and net/http's transport, the engine corsbridge
// ships. The corsbridge_fasthttp build tag swaps in the alternative being
// measured against it (issue 17); it is never a user setting.
func (f *Forwarder) newEngine(Deps) func(ex *exchange, r *http.Request) { return f.relay }

package web

import (
	"encoding/json"
	"net/http"
)

// writeError writes the proxy's JSON error contract for the few errors this
// package generates itself (an unknown asset, a wrong method), so a client
// sees the same shape as for every other corsbridge error.
func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Corsbridge-Error", code)
	w.WriteHeader(status)
	// The struct cannot fail to encode; a write error means the client left.
	_ = json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message})
}

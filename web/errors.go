package web

import "net/http"

// ErrorWriter writes the proxy's JSON error contract (the server's one
// writer of it), so the few errors this package meets (an unknown asset, a
// wrong method, a page that failed to render) look like every other
// corsbridge error, CORS headers included. code is one of the codes in
// README's error table.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, code, message string)

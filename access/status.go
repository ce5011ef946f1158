package access

// Status values, for /readyz.
const (
	StatusNotConfigured = "not_configured" // no store, no token secrets, no key required
	StatusHealthy       = "healthy"        // the store answered its last read, or there is none to read
	StatusDegraded      = "degraded"       // the store cannot be read: the last set read stays in force
)

// Status reports the access store's health for /readyz. A nil Guard, or one
// with nothing configured, is StatusNotConfigured. With a store it is
// StatusDegraded from the first failed read until the next one that works,
// and StatusHealthy otherwise; without a store (tokens only) it is always
// StatusHealthy, since tokens need nothing to be read.
//
// Degraded before the store has ever been read means the last set is empty:
// no blocks apply, and a presented key gets 503 unavailable until it is.
func (g *Guard) Status() string {
	switch {
	case g == nil || (g.store == nil && g.tokens == nil && !g.requireKey):
		return StatusNotConfigured
	case g.degraded.Load():
		return StatusDegraded
	}
	return StatusHealthy
}

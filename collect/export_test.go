package collect

import "net/http"

// RefuseNonPublic is the address check of the page dialer.
var RefuseNonPublic = refuseNonPublic

// PageTransport is the transport c fetches full-text pages with, for tests
// that let one local test server through its address check.
func PageTransport(c *Collector) *http.Transport {
	return c.pageClient.Transport.(*http.Transport)
}

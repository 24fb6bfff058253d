package collect

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
)

// Full-text pages are fetched from article links, which come from
// untrusted feeds: a link may point into the bot's own network (localhost,
// the intranet, a cloud metadata service). Page fetches therefore refuse
// non-public addresses, checked on the address each connection is about to
// be made to, after name resolution. Checking the connection rather than
// the link also covers names that resolve to private addresses, DNS
// rebinding, and redirects to internal hosts.

// nonPublic holds the ranges netip's predicates count as global unicast
// that still lead into a local network or nowhere at all.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network": 0.0.0.0 reaches the host itself
	netip.MustParsePrefix("100.64.0.0/10"), // shared carrier-grade NAT space, where some clouds put their metadata service
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // network benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the limited broadcast address
	netip.MustParsePrefix("::/96"),         // IPv4-compatible IPv6, deprecated
	netip.MustParsePrefix("fec0::/10"),     // site-local IPv6, deprecated
}

// embeddedIPv4 holds the IPv6 ranges that reach an IPv4 address carried in
// the IPv6 one, through a translator or a tunnel, and where in the 16
// bytes that IPv4 address sits: it decides.
var embeddedIPv4 = []struct {
	prefix netip.Prefix
	offset int
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12}, // NAT64
	{netip.MustParsePrefix("2002::/16"), 2},     // 6to4
}

// publicAddress reports whether ip is an address on the public internet.
func publicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, e := range embeddedIPv4 {
		if e.prefix.Contains(ip) {
			b := ip.As16()
			return publicAddress(netip.AddrFrom4([4]byte(b[e.offset : e.offset+4])))
		}
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func privateAddressError(ip netip.Addr) error {
	return fmt.Errorf("refusing to fetch a page on a private address %s", ip)
}

// refuseNonPublic is a net.Dialer Control function. The dialer calls it
// with each resolved address it tries, before connecting.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refusing to fetch a page on %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("refusing to fetch a page on %q: not an IP address", address)
	}
	if !publicAddress(ip) {
		return privateAddressError(ip)
	}
	return nil
}

// pageGuard connects page fetches. Direct connections go to public
// addresses only. A proxy from the environment is the operator's choice,
// like a feed URL, and is dialled on whatever address it has; the host a
// proxied request names is checked instead, as far as the bot can resolve
// it (the proxy resolves it again, so rebinding is the proxy's to stop).
type pageGuard struct {
	direct    *net.Dialer // its Control is refuseNonPublic
	dialProxy func(ctx context.Context, network, address string) (net.Conn, error)
	proxyFor  func(*http.Request) (*url.URL, error)

	mu sync.Mutex
	// proxies holds the "host:port" of each proxy handed to the
	// transport, which dials it next.
	proxies map[string]bool
}

// newPageTransport is the feed transport with pageGuard's checks.
func newPageTransport(o Options) *http.Transport {
	t := newTransport(o)
	direct := newDialer(o)
	direct.Control = refuseNonPublic
	g := &pageGuard{direct: direct, dialProxy: t.DialContext, proxyFor: t.Proxy, proxies: make(map[string]bool)}
	t.Proxy, t.DialContext = g.proxy, g.dial
	return t
}

func (g *pageGuard) proxy(req *http.Request) (*url.URL, error) {
	proxyURL, err := g.proxyFor(req)
	if err != nil || proxyURL == nil {
		return proxyURL, err
	}
	if err := checkPublicHost(req.Context(), req.URL.Hostname()); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.proxies[proxyAddress(proxyURL)] = true
	return proxyURL, nil
}

func (g *pageGuard) dial(ctx context.Context, network, address string) (net.Conn, error) {
	g.mu.Lock()
	toProxy := g.proxies[address]
	g.mu.Unlock()
	if toProxy {
		return g.dialProxy(ctx, network, address)
	}
	return g.direct.DialContext(ctx, network, address)
}

// proxyAddress is the address the transport dials for proxyURL.
func proxyAddress(proxyURL *url.URL) string {
	port := proxyURL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[proxyURL.Scheme]
	}
	return net.JoinHostPort(proxyURL.Hostname(), port)
}

// checkPublicHost refuses a host that is, or resolves to, a non-public
// address.
func checkPublicHost(ctx context.Context, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !publicAddress(ip) {
			return privateAddressError(ip)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// Behind a proxy the bot often cannot resolve outside names at
		// all; the proxy can, so it gets to try.
		return nil
	}
	for _, ip := range ips {
		if !publicAddress(ip) {
			return privateAddressError(ip)
		}
	}
	return nil
}

package teams

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Microsoft's Connector endpoints: a serviceUrl elsewhere is refused, and
// the bot's token is only ever sent to these and the configured prefixes.
// Teams uses smba.trafficmanager.net with a regional path (/amer/, /emea/,
// /apac/, /teams/…); the government clouds have hosts of their own.
var (
	builtinServiceHosts = []string{
		"smba.trafficmanager.net",
		"smba.infra.gcc.teams.microsoft.com",
		"smba.infra.gov.teams.microsoft.us",
		"smba.infra.dod.teams.microsoft.us",
	}
	// builtinServiceDomains admit their subdomains.
	builtinServiceDomains = []string{".botframework.com", ".botframework.azure.us"}
)

// serviceURLs decides which Connector endpoints the bot talks to.
type serviceURLs struct {
	// prefixes are teams.service_urls, parsed.
	prefixes []*url.URL
	// loopback admits http(s) URLs on a loopback host: a local client such
	// as the Agents Playground serves its connector there.
	loopback bool
}

func newServiceURLs(prefixes []string, loopback bool) (serviceURLs, error) {
	s := serviceURLs{loopback: loopback}
	for i, p := range prefixes {
		u, err := httpURL(p)
		if err != nil {
			return serviceURLs{}, fmt.Errorf("teams.service_urls[%d]: %w", i, err)
		}
		s.prefixes = append(s.prefixes, u)
	}
	return s, nil
}

// CheckServiceURL tells whether a bot with these teams.service_urls (and,
// with teams.auth none, loopback hosts) would talk to serviceURL: nil when
// it would, else why not.
func CheckServiceURL(serviceURL string, prefixes []string, loopback bool) error {
	s, err := newServiceURLs(prefixes, loopback)
	if err != nil {
		return err
	}
	return s.check(serviceURL)
}

// check returns an error unless raw is an allowed Connector endpoint.
func (s serviceURLs) check(raw string) error {
	u, err := httpURL(raw)
	if err != nil {
		return err
	}
	if s.allowed(u) {
		return nil
	}
	return fmt.Errorf("serviceUrl %s is not a Microsoft Bot Framework endpoint nor in teams.service_urls", redact(raw))
}

func (s serviceURLs) allowed(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	if s.loopback && isLoopbackHost(host) {
		return true
	}
	for _, p := range s.prefixes {
		if strings.EqualFold(p.Scheme, u.Scheme) && strings.EqualFold(p.Host, u.Host) && underPath(u.Path, p.Path) {
			return true
		}
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") || u.User != nil {
		return false
	}
	for _, h := range builtinServiceHosts {
		if host == h {
			return true
		}
	}
	for _, d := range builtinServiceDomains {
		if strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// underPath reports whether path lies at or below prefix, segment-wise, so
// that "/amer" does not admit "/americas".
func underPath(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// isLoopbackHost reports whether host (no port) names this machine only.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackListen reports whether a listen address (host:port) accepts
// connections from this machine only; ":3978" listens everywhere.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

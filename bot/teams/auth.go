package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Bot Framework token rules (protocol notes §7).
const (
	tokenIssuer = "https://api.botframework.com"
	clockSkew   = 5 * time.Minute
	// keysMaxAge refreshes the keys now and then even without an unknown
	// kid; Microsoft rotates them and the SDK keeps them for days.
	keysMaxAge = 24 * time.Hour
	// minKeyRefresh stops tokens with made-up kids from making every
	// request fetch the keys again.
	minKeyRefresh = time.Minute
)

var errUnknownKey = errors.New("token signed with an unknown key")

// claims are a Bot Framework token's claims. JSON field matching ignores
// case, so "serviceurl" also reads "serviceUrl".
type claims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// keySet caches the RSA keys from the OpenID metadata's jwks_uri, fetching
// them again when a token names a kid it does not know.
type keySet struct {
	metadataURL string
	client      *http.Client
	now         func() time.Time

	mu      sync.Mutex
	keys    map[string]signingKey
	fetched time.Time
}

// signingKey is a JWKS key and the channels it is endorsed for; a key that
// lists no endorsements is good for any channel.
type signingKey struct {
	key          *rsa.PublicKey
	endorsements []string
}

// key returns the key for kid, refreshing the set when kid is unknown or
// the set is old, at most once per minKeyRefresh.
func (k *keySet) key(ctx context.Context, kid string) (signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	key, ok := k.keys[kid]
	stale := now.Sub(k.fetched) > keysMaxAge
	if (ok && !stale) || (k.keys != nil && now.Sub(k.fetched) < minKeyRefresh) {
		if !ok {
			return signingKey{}, fmt.Errorf("%w (kid %q)", errUnknownKey, kid)
		}
		return key, nil
	}
	keys, err := k.fetch(ctx)
	if err != nil {
		if ok {
			return key, nil // a stale key beats refusing every message
		}
		return signingKey{}, err
	}
	k.keys, k.fetched = keys, now
	if key, ok = keys[kid]; !ok {
		return signingKey{}, fmt.Errorf("%w (kid %q)", errUnknownKey, kid)
	}
	return key, nil
}

func (k *keySet) fetch(ctx context.Context) (map[string]signingKey, error) {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, k.client, k.metadataURL, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if _, err := httpURL(meta.JWKSURI); err != nil {
		return nil, fmt.Errorf("openid metadata %s: jwks_uri: %w", k.metadataURL, err)
	}
	var set struct {
		Keys []struct {
			Kty          string   `json:"kty"`
			Kid          string   `json:"kid"`
			N            string   `json:"n"`
			E            string   `json:"e"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	if err := getJSON(ctx, k.client, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	keys := map[string]signingKey{}
	for _, jwk := range set.Keys {
		if jwk.Kty != "RSA" || jwk.Kid == "" {
			continue
		}
		key, err := rsaKey(jwk.N, jwk.E)
		if err != nil {
			return nil, fmt.Errorf("signing key %s from %s: %w", jwk.Kid, meta.JWKSURI, err)
		}
		keys[jwk.Kid] = signingKey{key: key, endorsements: jwk.Endorsements}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("signing keys: %s lists no RSA key", meta.JWKSURI)
	}
	return keys, nil
}

// rsaKey builds a public key from a JWK's base64url modulus and exponent.
func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	exp := new(big.Int).SetBytes(eb)
	if len(nb) < 256 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31 {
		return nil, errors.New("not a usable RSA key (2048 bits or more)")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}

func getJSON(ctx context.Context, client *http.Client, target string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", target, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", target, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
		return fmt.Errorf("GET %s: decode: %w", target, err)
	}
	return nil
}

// verifier checks the Bearer tokens of inbound activities.
type verifier struct {
	keys   *keySet
	parser *jwt.Parser
}

func newVerifier(appID, metadataURL string, client *http.Client, now func() time.Time) *verifier {
	return &verifier{
		keys: &keySet{metadataURL: metadataURL, client: client, now: now},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(tokenIssuer),
			jwt.WithAudience(appID),
			jwt.WithLeeway(clockSkew),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

// grant is what a valid token allows: activities from one service URL, on
// the channels its signing key is endorsed for (any, when it lists none).
type grant struct {
	serviceURL   string
	endorsements []string
}

// allows reports whether an activity from serviceURL on channelID is
// covered by the grant.
func (g grant) allows(serviceURL, channelID string) error {
	if !sameServiceURL(g.serviceURL, serviceURL) {
		return fmt.Errorf("serviceUrl %q differs from the token's %q", serviceURL, g.serviceURL)
	}
	if len(g.endorsements) > 0 && !slices.Contains(g.endorsements, channelID) {
		return fmt.Errorf("the signing key is not endorsed for channel %q", channelID)
	}
	return nil
}

// verify checks the token's signature and claims and returns what it grants.
func (v *verifier) verify(ctx context.Context, token string) (grant, error) {
	var c claims
	var endorsements []string
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no key (kid)")
		}
		key, err := v.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		endorsements = key.endorsements
		return key.key, nil
	})
	if err != nil {
		return grant{}, err
	}
	if c.ServiceURL == "" {
		return grant{}, errors.New("token has no serviceurl claim")
	}
	return grant{serviceURL: c.ServiceURL, endorsements: endorsements}, nil
}

// sameServiceURL compares service URLs, ignoring a trailing slash that one
// side may have dropped.
func sameServiceURL(a, b string) bool {
	return a != "" && strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

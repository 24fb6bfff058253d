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
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// key returns the key for kid, refreshing the set when kid is unknown or
// the set is old, at most once per minKeyRefresh.
func (k *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	key, ok := k.keys[kid]
	stale := now.Sub(k.fetched) > keysMaxAge
	if (ok && !stale) || (k.keys != nil && now.Sub(k.fetched) < minKeyRefresh) {
		if !ok {
			return nil, fmt.Errorf("%w (kid %q)", errUnknownKey, kid)
		}
		return key, nil
	}
	keys, err := k.fetch(ctx)
	if err != nil {
		if ok {
			return key, nil // a stale key beats refusing every message
		}
		return nil, err
	}
	k.keys, k.fetched = keys, now
	if key, ok = keys[kid]; !ok {
		return nil, fmt.Errorf("%w (kid %q)", errUnknownKey, kid)
	}
	return key, nil
}

func (k *keySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
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
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := getJSON(ctx, k.client, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, jwk := range set.Keys {
		if jwk.Kty != "RSA" || jwk.Kid == "" {
			continue
		}
		key, err := rsaKey(jwk.N, jwk.E)
		if err != nil {
			return nil, fmt.Errorf("signing key %s from %s: %w", jwk.Kid, meta.JWKSURI, err)
		}
		keys[jwk.Kid] = key
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

// verify checks the token's signature and claims and returns the service
// URL it was issued for.
func (v *verifier) verify(ctx context.Context, token string) (string, error) {
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no key (kid)")
		}
		return v.keys.key(ctx, kid)
	})
	if err != nil {
		return "", err
	}
	if c.ServiceURL == "" {
		return "", errors.New("token has no serviceurl claim")
	}
	return c.ServiceURL, nil
}

// sameServiceURL compares service URLs, ignoring a trailing slash that one
// side may have dropped.
func sameServiceURL(a, b string) bool {
	return a != "" && strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

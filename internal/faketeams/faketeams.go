// Package faketeams is a loopback Bot Framework for tests: the OpenID
// metadata and signing keys inbound tokens are checked against, the token
// endpoint outbound calls authenticate with, the Connector REST endpoints a
// bot replies and posts through, and a Workflows webhook. It speaks the wire
// format of the project's protocol notes (§7).
//
// A test points the bot at OpenIDMetadataURL, TokenURL and ServiceURL, sends
// activities with SendActivity and a token from Token, and observes what the
// bot posted with Activities and WaitActivities. Every wait has a deadline
// and fails the test when it passes.
package faketeams

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults for a Server built without options.
const (
	DefaultAppID       = "00000000-0000-0000-0000-0000000000b0"
	DefaultAppPassword = "fake-app-password"
	DefaultTenantID    = "00000000-0000-0000-0000-00000000000a"
	DefaultBotName     = "Briefing"
	// Issuer is what Bot Framework tokens carry as iss.
	Issuer = "https://api.botframework.com"
	scope  = "https://api.botframework.com/.default"
	// servicePath is the fake's Connector base path, with a tenant segment
	// as real service URLs have, so a client that drops the path fails.
	servicePath = "/amer/" + DefaultTenantID + "/"
)

// Teams' size limits (protocol notes §7), enforced as Teams does.
const (
	maxBotMessageBytes = 40 * 1024
	maxWebhookBytes    = 28 * 1024
)

// Posted is one activity the bot sent and the server accepted.
type Posted struct {
	// Kind is "reply" (POST …/activities/{id}), "send" (POST …/activities),
	// "conversation" (POST v3/conversations: a new channel thread) or
	// "webhook".
	Kind           string
	ConversationID string
	// ReplyTo is the activity id in a reply's URL.
	ReplyTo string
	// ID is the id the server gave the new activity.
	ID string
	// ChannelID is channelData.channel.id of a new conversation.
	ChannelID string
	// Activity is the posted activity (for a conversation, its "activity").
	Activity Activity
	// Body is the request body as sent.
	Body json.RawMessage
	// Authorization is the request's Authorization header.
	Authorization string
	At            time.Time
}

// Cards returns the Adaptive Cards attached to the activity.
func (p Posted) Cards() []json.RawMessage {
	var cards []json.RawMessage
	for _, a := range p.Activity.Attachments {
		if a.ContentType == ContentTypeAdaptiveCard {
			cards = append(cards, a.Content)
		}
	}
	return cards
}

// ContentTypeAdaptiveCard is an Adaptive Card attachment's content type.
const ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"

// Activity is a Bot Framework activity, as far as tests need one.
type Activity struct {
	Type         string         `json:"type"`
	ID           string         `json:"id,omitempty"`
	Timestamp    string         `json:"timestamp,omitempty"`
	ChannelID    string         `json:"channelId,omitempty"`
	ServiceURL   string         `json:"serviceUrl,omitempty"`
	From         *Account       `json:"from,omitempty"`
	Recipient    *Account       `json:"recipient,omitempty"`
	Conversation *Conversation  `json:"conversation,omitempty"`
	Text         string         `json:"text,omitempty"`
	TextFormat   string         `json:"textFormat,omitempty"`
	Summary      string         `json:"summary,omitempty"`
	ReplyToID    string         `json:"replyToId,omitempty"`
	Entities     []Entity       `json:"entities,omitempty"`
	Attachments  []Attachment   `json:"attachments,omitempty"`
	ChannelData  map[string]any `json:"channelData,omitempty"`
	// Value is the data of the Adaptive Card Action.Submit that sent it.
	Value any `json:"value,omitempty"`
	// MembersAdded is a conversationUpdate's; Action an installationUpdate's
	// ("add", "remove").
	MembersAdded []Account `json:"membersAdded,omitempty"`
	Action       string    `json:"action,omitempty"`
}

// Account is a user, bot or conversation member.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

// Conversation is an activity's conversation.
type Conversation struct {
	ID               string `json:"id"`
	IsGroup          bool   `json:"isGroup,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
}

// Entity is a mention or client info in an inbound activity, or, in what
// the bot posts, the Message entity that carries Teams' AI label and
// citations.
type Entity struct {
	Type      string   `json:"type"`
	Mentioned *Account `json:"mentioned,omitempty"`
	Text      string   `json:"text,omitempty"`

	AtType         string     `json:"@type,omitempty"`
	AdditionalType []string   `json:"additionalType,omitempty"`
	Citation       []Citation `json:"citation,omitempty"`
}

// Citation is a Claim in a Message entity: position n is the text's [n].
type Citation struct {
	AtType     string `json:"@type"`
	Position   int    `json:"position"`
	Appearance struct {
		AtType   string `json:"@type"`
		Name     string `json:"name"`
		URL      string `json:"url"`
		Abstract string `json:"abstract"`
	} `json:"appearance"`
}

// Attachment is a card or file attached to an activity.
type Attachment struct {
	ContentType string          `json:"contentType"`
	ContentURL  *string         `json:"contentUrl,omitempty"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// accessTokenLifetime is the expires_in of issued access tokens.
const accessTokenLifetime = time.Hour

// Option configures a Server.
type Option func(*Server)

// WithTimeout bounds every wait.
func WithTimeout(d time.Duration) Option { return func(s *Server) { s.timeout = d } }

// AnonymousConnector makes the Connector take calls without a token, as
// the Agents Playground's does; Posted.Authorization shows whether one came.
func AnonymousConnector() Option { return func(s *Server) { s.anonymous = true } }

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	tb       testing.TB
	http     *httptest.Server
	appID    string
	password string
	tenantID string
	timeout  time.Duration
	// anonymous: Connector calls need no token.
	anonymous bool

	mu sync.Mutex
	// changed is closed and replaced whenever state changes, waking waiters.
	changed       chan struct{}
	key           *rsa.PrivateKey
	kid           string
	foreign       *rsa.PrivateKey
	keyGen        int
	metadataGets  int
	tokenRequests int
	accessTokens  map[string]bool
	posted        []Posted
	nextID        int64
	failures      []failure
}

type failure struct {
	status     int
	retryAfter string
}

// New starts a Server, closed when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb: tb, appID: DefaultAppID, password: DefaultAppPassword, tenantID: DefaultTenantID,
		timeout: 10 * time.Second,
		changed: make(chan struct{}), accessTokens: map[string]bool{}, nextID: time.Now().UnixMilli(),
	}
	for _, o := range opts {
		o(s)
	}
	s.key, s.kid = s.newKey(tb)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", s.serveMetadata)
	mux.HandleFunc("GET /v1/.well-known/keys", s.serveKeys)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.serveToken)
	mux.HandleFunc("POST "+servicePath+"v3/conversations", s.serveConversation)
	mux.HandleFunc("POST "+servicePath+"v3/conversations/{conv}/activities", s.serveActivity)
	mux.HandleFunc("POST "+servicePath+"v3/conversations/{conv}/activities/{id}", s.serveActivity)
	mux.HandleFunc("POST /workflows/webhook", s.serveWebhook)
	s.http = httptest.NewServer(mux)
	tb.Cleanup(s.http.Close)
	return s
}

// newKey makes the next published signing key and its kid.
func (s *Server) newKey(tb testing.TB) (*rsa.PrivateKey, string) {
	tb.Helper()
	s.keyGen++
	return generateKey(tb), fmt.Sprintf("fake-key-%d", s.keyGen)
}

func generateKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("faketeams: generate key: %v", err)
	}
	return key
}

// foreignKey is a key the server never publishes, made once.
func (s *Server) foreignKey() *rsa.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.foreign == nil {
		s.foreign = generateKey(s.tb)
	}
	return s.foreign
}

// OpenIDMetadataURL is the bot's teams.openid_metadata_url.
func (s *Server) OpenIDMetadataURL() string {
	return s.http.URL + "/v1/.well-known/openidconfiguration"
}

// TokenURL is the bot's teams.token_url.
func (s *Server) TokenURL() string { return s.http.URL + "/" + s.tenantID + "/oauth2/v2.0/token" }

// ServiceURL is the Connector endpoint activities come from, ending in "/".
func (s *Server) ServiceURL() string { return s.http.URL + servicePath }

// WebhookURL is a Workflows webhook; its query stands for the signature
// real ones carry.
func (s *Server) WebhookURL() string {
	return s.http.URL + "/workflows/webhook?api-version=1&sig=fake-signature"
}

// AppID, AppPassword and TenantID are the app registration the server
// accepts.
func (s *Server) AppID() string       { return s.appID }
func (s *Server) AppPassword() string { return s.password }
func (s *Server) TenantID() string    { return s.tenantID }

// RotateKey replaces the signing key (with a new kid), as Microsoft does
// now and then; tokens from Token are signed with the new one.
func (s *Server) RotateKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key, s.kid = s.newKey(s.tb)
}

// MetadataRequests is how often the OpenID metadata was fetched.
func (s *Server) MetadataRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metadataGets
}

// TokenRequests is how many access tokens were requested.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// FailNext makes the next Connector or webhook call answer status, with
// a Retry-After header when retryAfter is not "". Calls queue up.
func (s *Server) FailNext(status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status, retryAfter})
}

// Activities returns what the bot has posted so far.
func (s *Server) Activities() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posted)
}

// WaitActivities blocks until at least n posted activities match, and
// returns the matching ones; it fails tb after the server's timeout.
func (s *Server) WaitActivities(tb testing.TB, n int, match func(Posted) bool) []Posted {
	tb.Helper()
	deadline := time.NewTimer(s.timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		var found []Posted
		for _, p := range s.posted {
			if match == nil || match(p) {
				found = append(found, p)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if len(found) >= n {
			return found
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("faketeams: timed out after %v waiting for %d matching activities (have %d)", s.timeout, n, len(found))
		}
	}
}

func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- inbound: tokens and activities ----

// TokenOption changes a token Token signs.
type TokenOption func(*tokenSpec)

type tokenSpec struct {
	claims jwt.MapClaims
	key    *rsa.PrivateKey
	kid    string
	alg    jwt.SigningMethod
	// foreign signs with a key the server never published.
	foreign bool
}

// WithAudience sets aud.
func WithAudience(aud string) TokenOption { return func(t *tokenSpec) { t.claims["aud"] = aud } }

// WithIssuer sets iss.
func WithIssuer(iss string) TokenOption { return func(t *tokenSpec) { t.claims["iss"] = iss } }

// WithServiceURL sets the serviceurl claim.
func WithServiceURL(u string) TokenOption { return func(t *tokenSpec) { t.claims["serviceurl"] = u } }

// WithValidity sets nbf and exp relative to now.
func WithValidity(notBefore, expires time.Duration) TokenOption {
	return func(t *tokenSpec) {
		now := time.Now()
		t.claims["nbf"] = now.Add(notBefore).Unix()
		t.claims["exp"] = now.Add(expires).Unix()
	}
}

// Expired makes a token that expired an hour ago, beyond any clock skew.
func Expired() TokenOption { return WithValidity(-2*time.Hour, -time.Hour) }

// WithoutClaim drops a claim.
func WithoutClaim(name string) TokenOption { return func(t *tokenSpec) { delete(t.claims, name) } }

// SignedByUnknownKey signs with a key the JWKS does not list, under a kid
// it does not list either.
func SignedByUnknownKey() TokenOption {
	return func(t *tokenSpec) { t.foreign, t.kid = true, "unknown-key" }
}

// SignedByWrongKey signs with another key under the listed kid: a forged
// signature.
func SignedByWrongKey() TokenOption { return func(t *tokenSpec) { t.foreign = true } }

// SignedWithHS256 signs with HMAC, using the app password as the secret:
// the algorithm-confusion forgery a verifier must refuse.
func SignedWithHS256() TokenOption { return func(t *tokenSpec) { t.alg = jwt.SigningMethodHS256 } }

// Token signs an inbound Bot Framework token: valid for the server's app
// and ServiceURL unless options say otherwise.
func (s *Server) Token(opts ...TokenOption) string {
	s.mu.Lock()
	key, kid := s.key, s.kid
	s.mu.Unlock()
	now := time.Now()
	spec := &tokenSpec{
		claims: jwt.MapClaims{
			"iss": Issuer, "aud": s.appID, "serviceurl": s.ServiceURL(),
			"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"appid": "d6d49420-f39b-4df7-a1dc-d59a935871db", "version": "1.0",
		},
		key: key, kid: kid, alg: jwt.SigningMethodRS256,
	}
	for _, o := range opts {
		o(spec)
	}
	tok := jwt.NewWithClaims(spec.alg, spec.claims)
	tok.Header["kid"] = spec.kid
	var signKey any = spec.key
	if spec.foreign {
		signKey = s.foreignKey()
	}
	if spec.alg == jwt.SigningMethodHS256 {
		signKey = []byte(s.password)
	}
	signed, err := tok.SignedString(signKey)
	if err != nil {
		s.tb.Fatalf("faketeams: sign token: %v", err)
	}
	return signed
}

// ActivityOption changes an activity a builder makes.
type ActivityOption func(*Activity)

// InThread places the activity in a channel thread: its conversation id
// is channel + ";messageid=" + root.
func InThread(channel, root string) ActivityOption {
	return func(a *Activity) {
		a.Conversation.ID = channel + ";messageid=" + root
		a.ChannelData = map[string]any{"channel": map[string]any{"id": channel}, "teamsChannelId": channel}
	}
}

// InPersonalChat places the activity in a 1:1 chat with the bot, which has
// no threads.
func InPersonalChat(id string) ActivityOption {
	return func(a *Activity) {
		a.Conversation.ID, a.Conversation.ConversationType, a.Conversation.IsGroup = id, "personal", false
		a.ChannelData = nil
	}
}

// InGroupChat places the activity in a group chat, which has no threads.
func InGroupChat(id string) ActivityOption {
	return func(a *Activity) {
		a.Conversation.ID, a.Conversation.ConversationType, a.Conversation.IsGroup = id, "groupChat", true
		a.ChannelData = nil
	}
}

// WithChannelID sets channelId ("msteams" by default).
func WithChannelID(id string) ActivityOption { return func(a *Activity) { a.ChannelID = id } }

// FromServiceURL sets serviceUrl.
func FromServiceURL(u string) ActivityOption { return func(a *Activity) { a.ServiceURL = u } }

// Installed builds the activities Teams sends when the app is added to the
// conversation opts place it in: an installationUpdate "add" and a
// conversationUpdate whose membersAdded holds a user and the bot.
func (s *Server) Installed(opts ...ActivityOption) []Activity {
	install := s.Message("", opts...)
	install.Type, install.Text, install.TextFormat, install.Action = "installationUpdate", "", "", "add"
	update := s.Message("", opts...)
	update.Type, update.Text, update.TextFormat = "conversationUpdate", "", ""
	update.MembersAdded = []Account{*update.From, *update.Recipient}
	update.Conversation.ID, install.Conversation.ID = baseConversation(update.Conversation.ID), baseConversation(install.Conversation.ID)
	return []Activity{install, update}
}

// baseConversation drops a channel conversation's thread suffix.
func baseConversation(id string) string {
	base, _, _ := strings.Cut(id, ";messageid=")
	return base
}

// DefaultChannel is the channel builders use.
const DefaultChannel = "19:fakechannel@thread.tacv2"

// Mention builds a channel message that mentions the bot followed by text,
// as a new post in DefaultChannel (its own thread root) unless options say
// otherwise.
func (s *Server) Mention(text string, opts ...ActivityOption) Activity {
	at := "<at>" + DefaultBotName + "</at>"
	return s.Message(at+" "+text, append([]ActivityOption{func(a *Activity) {
		a.Entities = append(a.Entities, Entity{Type: "mention", Mentioned: a.Recipient, Text: at})
	}}, opts...)...)
}

// Message builds a channel message activity with the given text.
func (s *Server) Message(text string, opts ...ActivityOption) Activity {
	s.mu.Lock()
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	s.mu.Unlock()
	a := Activity{
		Type: "message", ID: id, Timestamp: time.Now().UTC().Format(time.RFC3339Nano), ChannelID: "msteams",
		ServiceURL:   s.ServiceURL(),
		From:         &Account{ID: "29:fake-user", Name: "Fake User"},
		Recipient:    &Account{ID: "28:" + s.appID, Name: DefaultBotName},
		Conversation: &Conversation{IsGroup: true, ConversationType: "channel", TenantID: s.tenantID},
		Text:         text, TextFormat: "plain",
	}
	InThread(DefaultChannel, id)(&a)
	for _, o := range opts {
		o(&a)
	}
	return a
}

// SendActivity posts a to the bot's messages URL with the Bearer token
// (none when token is "") and returns the HTTP status.
func (s *Server) SendActivity(tb testing.TB, botURL string, a Activity, token string) int {
	tb.Helper()
	body, err := json.Marshal(a)
	if err != nil {
		tb.Fatalf("faketeams: encode activity: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, botURL, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("faketeams: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("faketeams: send activity: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// ---- handlers ----

func (s *Server) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.metadataGets++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                Issuer,
		"authorization_endpoint":                "https://invalid.botframework.com",
		"jwks_uri":                              s.http.URL + "/v1/.well-known/keys",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func (s *Server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	pub, kid := s.key.PublicKey, s.kid
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n":            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"endorsements": []string{"msteams"},
	}}})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenRequests++
	switch {
	case r.PathValue("tenant") != s.tenantID:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_tenant"})
	case r.PostForm.Get("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
	case r.PostForm.Get("client_id") != s.appID || r.PostForm.Get("client_secret") != s.password:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
	case r.PostForm.Get("scope") != scope:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_scope"})
	default:
		tok := fmt.Sprintf("fake-access-token-%d", s.tokenRequests)
		s.accessTokens[tok] = true
		lifetime := int(accessTokenLifetime / time.Second)
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": tok,
		})
	}
	s.broadcastLocked()
}

// admit checks a Connector call's token and size and applies injected
// failures; it reports whether the call goes on, with its body.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, limit int, needToken bool) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadArgument", "unreadable body")
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if needToken && !s.anonymous {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !s.accessTokens[tok] {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "missing or unknown access token")
			return nil, false
		}
	}
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeError(w, f.status, "Throttled", "injected failure")
		s.broadcastLocked()
		return nil, false
	}
	if len(body) > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "MessageSizeTooBig", "message is too big")
		return nil, false
	}
	return body, true
}

// recordLocked keeps what the bot posted; s.mu must be held.
func (s *Server) recordLocked(p Posted) {
	p.At = time.Now()
	s.posted = append(s.posted, p)
	s.broadcastLocked()
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

func (s *Server) serveActivity(w http.ResponseWriter, r *http.Request) {
	body, ok := s.admit(w, r, maxBotMessageBytes, true)
	if !ok {
		return
	}
	var a Activity
	if err := json.Unmarshal(body, &a); err != nil || a.Type == "" {
		writeError(w, http.StatusBadRequest, "BadArgument", "not an activity")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Posted{Kind: "send", ConversationID: r.PathValue("conv"), ID: s.newIDLocked(), Activity: a, Body: body,
		Authorization: r.Header.Get("Authorization")}
	if id := r.PathValue("id"); id != "" {
		p.Kind, p.ReplyTo = "reply", id
	}
	s.recordLocked(p)
	writeJSON(w, http.StatusCreated, map[string]any{"id": p.ID})
}

func (s *Server) serveConversation(w http.ResponseWriter, r *http.Request) {
	body, ok := s.admit(w, r, maxBotMessageBytes, true)
	if !ok {
		return
	}
	var params struct {
		IsGroup     bool `json:"isGroup"`
		ChannelData struct {
			Channel struct {
				ID string `json:"id"`
			} `json:"channel"`
		} `json:"channelData"`
		Activity Activity `json:"activity"`
	}
	if err := json.Unmarshal(body, &params); err != nil || params.ChannelData.Channel.ID == "" || !params.IsGroup {
		writeError(w, http.StatusBadRequest, "BadArgument", "a channel thread needs isGroup and channelData.channel.id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newIDLocked()
	conv := params.ChannelData.Channel.ID + ";messageid=" + id
	s.recordLocked(Posted{Kind: "conversation", ConversationID: conv, ID: id, ChannelID: params.ChannelData.Channel.ID,
		Activity: params.Activity, Body: body, Authorization: r.Header.Get("Authorization")})
	writeJSON(w, http.StatusCreated, map[string]any{"id": conv, "activityId": id})
}

func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("sig") == "" {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "missing signature")
		return
	}
	body, ok := s.admit(w, r, maxWebhookBytes, false)
	if !ok {
		return
	}
	var a Activity
	if err := json.Unmarshal(body, &a); err != nil || a.Type != "message" || len(a.Attachments) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequestContent", "expected a message with attachments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(Posted{Kind: "webhook", ID: s.newIDLocked(), Activity: a, Body: body})
	w.WriteHeader(http.StatusAccepted)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

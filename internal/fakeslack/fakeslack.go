// Package fakeslack is a loopback Slack for tests: the Web API methods the
// bot calls and a socket-mode WebSocket, speaking the wire format the real
// slack-go client expects (see the project's protocol notes).
//
// A test points slack-go at APIURL, delivers slash commands and events with
// SendSlash and SendEvent, and observes what the bot posted with Messages and
// WaitMessages. Every wait has a deadline and fails the test when it passes.
package fakeslack

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// Defaults for a Server built without options.
const (
	DefaultBotToken  = "xoxb-fake-bot-token"
	DefaultAppToken  = "xapp-fake-app-token"
	DefaultBotUserID = "UBOT"
	DefaultBotID     = "BBOT"
	DefaultTeamID    = "TFAKE"
	DefaultAppID     = "AFAKE"
)

// Slack's Block Kit limits, enforced as Slack does so that a test sees the
// error the real API would give.
const (
	maxBlocks          = 50
	maxSectionText     = 3000
	maxHeaderText      = 150
	maxMessageTextRune = 40000
)

// Message is one chat.postMessage, chat.postEphemeral, chat.update or
// streaming call (chat.startStream, chat.appendStream, chat.stopStream) the
// server accepted. A streaming call's Text is its markdown_text.
type Message struct {
	Method  string // "chat.postMessage", "chat.startStream", …
	Channel string
	// TS is the message's ts; for chat.update, the updated message's.
	TS string
	// ThreadTS is the thread the message is in, "" at top level.
	ThreadTS string
	// User is the recipient of an ephemeral message or a stream.
	User     string
	Text     string
	Blocks   json.RawMessage
	Metadata *slack.SlackMetadata
	At       time.Time
}

// Request is one Web API call, whatever its outcome.
type Request struct {
	Method string
	Status int
	At     time.Time
}

// Ack is a socket-mode acknowledgement received for an envelope.
type Ack struct {
	Payload json.RawMessage
	// Latency is the time from writing the envelope to reading its ack.
	Latency time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithTokens sets the bot and app tokens the server accepts.
func WithTokens(bot, app string) Option {
	return func(s *Server) { s.botToken, s.appToken = bot, app }
}

// WithBotIdentity sets the user id and bot id auth.test reports and the
// server stamps on the bot's messages.
func WithBotIdentity(userID, botID string) Option {
	return func(s *Server) { s.botUserID, s.botID = userID, botID }
}

// WithPingInterval sets how often the socket is pinged after the first,
// immediate ping.
func WithPingInterval(d time.Duration) Option {
	return func(s *Server) { s.pingInterval = d }
}

// WithTimeout bounds every wait (WaitAck, WaitMessages, waiting for a live
// socket before sending).
func WithTimeout(d time.Duration) Option {
	return func(s *Server) { s.timeout = d }
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	tb           testing.TB
	http         *httptest.Server
	botToken     string
	appToken     string
	botUserID    string
	botID        string
	pingInterval time.Duration
	timeout      time.Duration
	upgrader     websocket.Upgrader

	mu sync.Mutex
	// changed is closed and replaced whenever state changes, waking waiters.
	changed     chan struct{}
	live        *socket
	connections int
	closed      bool
	envelopeSeq int
	lastTS      int64 // microseconds of the newest ts handed out
	sent        map[string]time.Time
	acks        map[string]Ack
	messages    []Message
	requests    []Request
	// history holds each channel's top-level messages, oldest first.
	history  map[string][]*stored
	byTS     map[string]*stored // channel+"/"+ts → message
	failures map[string][]failure
	sockets  []*socket
	// onMessage and onAck see each accepted chat call and ack before the
	// client gets an answer: the moment a test may kill the client.
	onMessage func(Message)
	onAck     func(envelopeID string)
	// refused maps a method to the error code every call of it gets.
	refused map[string]string
	// streaming holds the channel+"/"+ts of messages started and not stopped.
	streaming map[string]bool
	// spread sends envelopes round-robin over every open connection, as
	// Slack does with the (up to 10) connections of one app.
	spread bool
}

type stored struct {
	msg     slack.Msg
	channel string
}

type failure struct {
	status, retryAfter int
	// applied: the call takes effect and only its answer is lost, as when
	// a connection breaks after Slack acted.
	applied bool
}

type socket struct {
	conn *websocket.Conn
	wmu  sync.Mutex // gorilla allows one concurrent writer
	done chan struct{}
}

func (c *socket) writeJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteJSON(v)
}

// New starts a fake Slack on a loopback port; it is closed on cleanup.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:           tb,
		botToken:     DefaultBotToken,
		appToken:     DefaultAppToken,
		botUserID:    DefaultBotUserID,
		botID:        DefaultBotID,
		pingInterval: 5 * time.Second,
		timeout:      10 * time.Second,
		// slack-go dials with "Origin: https://api.slack.com", which the
		// default origin check refuses on 127.0.0.1.
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		changed:  make(chan struct{}),
		sent:     map[string]time.Time{},
		acks:     map[string]Ack{},
		history:  map[string][]*stored{},
		byTS:     map[string]*stored{},
		failures: map[string][]failure{},
	}
	s.refused, s.streaming = map[string]string{}, map[string]bool{}
	for _, opt := range opts {
		opt(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/link/", s.serveSocket)
	s.http = httptest.NewServer(mux)
	tb.Cleanup(s.close)
	return s
}

// APIURL is the Web API base URL for slack.OptionAPIURL; it ends with "/".
func (s *Server) APIURL() string { return s.http.URL + "/api/" }

// BotToken is the bot token the server accepts.
func (s *Server) BotToken() string { return s.botToken }

// AppToken is the app-level token the server accepts.
func (s *Server) AppToken() string { return s.appToken }

// BotUserID is the bot's user id, as auth.test reports it.
func (s *Server) BotUserID() string { return s.botUserID }

// BotID is the bot's bot id, as auth.test reports it.
func (s *Server) BotID() string { return s.botID }

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	sockets := s.sockets
	s.sockets = nil
	s.live = nil
	s.broadcastLocked()
	s.mu.Unlock()
	for _, c := range sockets {
		_ = c.conn.Close()
		<-c.done
	}
	s.http.Close()
}

// broadcastLocked wakes every waiter; s.mu must be held.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true, failing tb
// after the server's timeout.
func (s *Server) waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(s.timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("fakeslack: timed out after %v waiting for %s", s.timeout, what)
		}
	}
}

// FailNext makes the next call of method answer with HTTP status (429 with
// a Retry-After header when retryAfter > 0). Calls queue up per method.
func (s *Server) FailNext(method string, status, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], failure{status: status, retryAfter: retryAfter})
}

// FailNextApplied makes the next call of method take effect and then
// answer with HTTP status, as when Slack posted a message but the answer
// never reached the client. Calls queue up per method, with FailNext's.
func (s *Server) FailNextApplied(method string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], failure{status: status, applied: true})
}

// OnMessage calls f with each accepted chat.postMessage, chat.postEphemeral
// and chat.update, after the server applied it and before the client hears
// back; nil removes it. f must not call the Server's methods that wait.
func (s *Server) OnMessage(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = f
}

// OnAck calls f with each envelope id acknowledged, after the server
// recorded the ack; nil removes it.
func (s *Server) OnAck(f func(envelopeID string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAck = f
}

// Messages returns the accepted chat calls, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Requests returns the Web API calls of method, failed ones included.
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// WaitMessages blocks until n accepted chat calls match, and returns them.
func (s *Server) WaitMessages(tb testing.TB, n int, match func(Message) bool) []Message {
	tb.Helper()
	var found []Message
	s.waitFor(tb, fmt.Sprintf("%d matching messages", n), func() bool {
		found = found[:0]
		for _, m := range s.messages {
			if match(m) {
				found = append(found, m)
			}
		}
		return len(found) >= n
	})
	return found
}

// Connections is how many socket-mode connections have been opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// WaitConnected blocks until n socket-mode connections are open at once.
func (s *Server) WaitConnected(tb testing.TB, n int) {
	tb.Helper()
	s.waitFor(tb, fmt.Sprintf("%d open socket-mode connections", n), func() bool { return len(s.sockets) >= n })
}

// SpreadEnvelopes makes later envelopes go round-robin over every open
// connection rather than to the newest, as Slack spreads them over the
// connections of one app (replicas of a bot each hold one).
func (s *Server) SpreadEnvelopes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spread = true
}

// WaitDisconnected blocks until no socket-mode connection is open, as after
// the client shut down.
func (s *Server) WaitDisconnected(tb testing.TB) {
	tb.Helper()
	s.waitFor(tb, "the socket-mode connection to close", func() bool { return len(s.sockets) == 0 })
}

// AddMessage puts a top-level message into channel's history, as if someone
// else had posted it, and returns its ts.
func (s *Server) AddMessage(channel string, m slack.Msg) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.Type = "message"
	m.Timestamp = s.nextTSLocked()
	s.storeLocked(channel, m)
	return m.Timestamp
}

// nextTSLocked hands out a fresh, strictly increasing message ts.
func (s *Server) nextTSLocked() string {
	s.lastTS = max(time.Now().UnixMicro(), s.lastTS+1)
	return fmt.Sprintf("%d.%06d", s.lastTS/1e6, s.lastTS%1e6)
}

func (s *Server) storeLocked(channel string, m slack.Msg) *stored {
	st := &stored{msg: m, channel: channel}
	s.byTS[channel+"/"+m.Timestamp] = st
	if m.ThreadTimestamp == "" || m.ThreadTimestamp == m.Timestamp {
		s.history[channel] = append(s.history[channel], st)
	}
	return st
}

// ---- socket mode ----

// Disconnect sends a "disconnect" frame on the live socket, as Slack does
// before refreshing a connection. Later sends wait for the client to open a
// new connection.
func (s *Server) Disconnect(reason string) {
	s.tb.Helper()
	s.mu.Lock()
	c := s.live
	s.live = nil
	s.broadcastLocked()
	s.mu.Unlock()
	if c == nil {
		s.tb.Errorf("fakeslack: Disconnect(%q) with no live socket", reason)
		return
	}
	frame := map[string]any{"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "fakeslack"}}
	if err := c.writeJSON(frame); err != nil {
		s.tb.Errorf("fakeslack: write disconnect: %v", err)
	}
}

// SendSlash delivers a slash_commands envelope and returns its envelope id.
// Empty Command, TeamID and APIAppID get defaults.
func (s *Server) SendSlash(tb testing.TB, cmd slack.SlashCommand) string {
	tb.Helper()
	if cmd.Command == "" {
		cmd.Command = "/briefing"
	}
	if cmd.TeamID == "" {
		cmd.TeamID = DefaultTeamID
	}
	if cmd.APIAppID == "" {
		cmd.APIAppID = DefaultAppID
	}
	payload, err := json.Marshal(cmd)
	if err != nil {
		tb.Fatalf("fakeslack: marshal slash command: %v", err)
	}
	return s.send(tb, "slash_commands", true, payload, 0)
}

// SendEvent delivers an events_api envelope carrying event (the inner
// event: "type", "user", "text", "ts", …) with eventID, and returns its
// envelope id. A retryAttempt above 0 marks a redelivery.
func (s *Server) SendEvent(tb testing.TB, eventID string, event map[string]any, retryAttempt int) string {
	tb.Helper()
	payload, err := json.Marshal(map[string]any{
		"token":      "verification-token",
		"team_id":    DefaultTeamID,
		"api_app_id": DefaultAppID,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": time.Now().Unix(),
		"event":      event,
		"authorizations": []map[string]any{{
			"team_id": DefaultTeamID, "user_id": s.botUserID, "is_bot": true,
		}},
	})
	if err != nil {
		tb.Fatalf("fakeslack: marshal event: %v", err)
	}
	return s.send(tb, "events_api", false, payload, retryAttempt)
}

func (s *Server) send(tb testing.TB, kind string, acceptsPayload bool, payload json.RawMessage, retryAttempt int) string {
	tb.Helper()
	var c *socket
	s.waitFor(tb, "a live socket-mode connection", func() bool {
		c = s.live
		return c != nil || s.closed
	})
	s.mu.Lock()
	s.envelopeSeq++
	if s.spread && len(s.sockets) > 0 {
		c = s.sockets[s.envelopeSeq%len(s.sockets)]
	}
	id := fmt.Sprintf("env-%04d", s.envelopeSeq)
	s.sent[id] = time.Now()
	s.mu.Unlock()
	envelope := map[string]any{
		"envelope_id":              id,
		"type":                     kind,
		"accepts_response_payload": acceptsPayload,
		"payload":                  payload,
		"retry_attempt":            retryAttempt,
		"retry_reason":             "",
	}
	if retryAttempt > 0 {
		envelope["retry_reason"] = "timeout"
	}
	if c == nil {
		tb.Fatalf("fakeslack: server closed")
	}
	if err := c.writeJSON(envelope); err != nil {
		tb.Fatalf("fakeslack: write %s envelope: %v", kind, err)
	}
	return id
}

// WaitAck blocks until the envelope is acknowledged and returns the ack.
func (s *Server) WaitAck(tb testing.TB, envelopeID string) Ack {
	tb.Helper()
	var ack Ack
	s.waitFor(tb, "ack of "+envelopeID, func() bool {
		a, ok := s.acks[envelopeID]
		ack = a
		return ok
	})
	return ack
}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	c := &socket{conn: ws, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.live = c
	s.connections++
	s.sockets = append(s.sockets, c)
	s.broadcastLocked()
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		if s.live == c {
			s.live = nil
		}
		s.sockets = slices.DeleteFunc(s.sockets, func(o *socket) bool { return o == c })
		s.broadcastLocked()
		s.mu.Unlock()
		_ = ws.Close()
		close(c.done)
	}()

	hello := map[string]any{
		"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "fakeslack", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": DefaultAppID},
	}
	if err := c.writeJSON(hello); err != nil {
		return
	}
	stopPings := make(chan struct{})
	defer close(stopPings)
	go s.ping(c, stopPings)

	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var resp struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &resp); err != nil || resp.EnvelopeID == "" {
			s.tb.Errorf("fakeslack: unreadable socket response %q: %v", data, err)
			continue
		}
		s.mu.Lock()
		s.acks[resp.EnvelopeID] = Ack{Payload: resp.Payload, Latency: time.Since(s.sent[resp.EnvelopeID])}
		s.broadcastLocked()
		onAck := s.onAck
		s.mu.Unlock()
		if onAck != nil {
			onAck(resp.EnvelopeID)
		}
	}
}

// ping pings at once and then periodically: slack-go's watchdog reconnects
// when no ping arrived within its interval, starting from the zero time.
func (s *Server) ping(c *socket, stop <-chan struct{}) {
	t := time.NewTicker(s.pingInterval)
	defer t.Stop()
	for {
		if err := c.conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// ---- Web API ----

// params reads a Web API call's arguments from a form or a JSON body. JSON
// values that are not strings (blocks, metadata) keep their JSON text, as
// they would have in a form.
func params(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
	v := r.URL.Query()
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		if errors.Is(err, io.EOF) { // apps.connections.open posts no body
			return v, nil
		}
		return nil, err
	}
	for k, raw := range body {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			v.Set(k, str)
		} else {
			v.Set(k, string(raw))
		}
	}
	return v, nil
}

func token(r *http.Request, v url.Values) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	return v.Get("token")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func slackError(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	status := http.StatusOK
	// A call is recorded before it is answered, so that a test that saw
	// the client's next step also sees this call.
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: method, Status: status, At: time.Now()})
		s.broadcastLocked()
		s.mu.Unlock()
		writeJSON(w, status, v)
	}

	s.mu.Lock()
	var fail *failure
	if q := s.failures[method]; len(q) > 0 {
		fail = &q[0]
		s.failures[method] = q[1:]
	}
	s.mu.Unlock()
	if fail != nil && !fail.applied {
		status = fail.status
		if fail.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(fail.retryAfter))
		}
		code := "fakeslack_injected_failure"
		if status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
		writeJSON(w, status, slackError(code))
		return
	}

	v, err := params(r)
	if err != nil {
		writeJSON(w, status, slackError("invalid_form_data"))
		return
	}
	want := s.botToken
	if method == "apps.connections.open" {
		// The app-level token must come as a Bearer header, never a field.
		want = s.appToken
		v.Del("token")
	}
	switch got := token(r, v); {
	case got == "":
		writeJSON(w, status, slackError("not_authed"))
		return
	case got != want:
		writeJSON(w, status, slackError("invalid_auth"))
		return
	}

	if code := s.refusal(method); code != "" {
		writeJSON(w, status, slackError(code))
		return
	}
	var resp any
	var applied *Message
	switch method {
	case "auth.test":
		resp = map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "Fake",
			"user": "briefing", "team_id": DefaultTeamID, "user_id": s.botUserID, "bot_id": s.botID}
	case "apps.connections.open":
		resp = map[string]any{"ok": true,
			"url": "ws://" + s.http.Listener.Addr().String() + "/link/?ticket=fake&app_id=" + DefaultAppID}
	case "chat.postMessage":
		resp, applied = s.postMessage(v)
	case "chat.postEphemeral":
		resp, applied = s.postEphemeral(v)
	case "chat.update":
		resp, applied = s.update(v)
	case "conversations.history":
		resp = s.conversationsHistory(v)
	case "conversations.replies":
		resp = s.conversationsReplies(v)
	case "chat.getPermalink":
		resp = s.permalink(v)
	case "chat.startStream":
		resp, applied = s.startStream(v)
	case "chat.appendStream", "chat.stopStream":
		resp, applied = s.appendStream(method, v)
	default:
		resp = slackError("unknown_method")
	}
	s.mu.Lock()
	onMessage := s.onMessage
	s.mu.Unlock()
	if applied != nil && onMessage != nil {
		onMessage(*applied)
	}
	if fail != nil {
		status = fail.status
		resp = slackError("fakeslack_injected_failure")
	}
	writeJSON(w, status, resp)
}

// content validates a message's text and blocks as Slack does.
func content(v url.Values) (text string, blocks json.RawMessage, errCode string) {
	text = v.Get("text")
	if raw := v.Get("blocks"); raw != "" {
		var parsed slack.Blocks
		if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
			return "", nil, "invalid_blocks_format"
		}
		if len(parsed.BlockSet) > maxBlocks {
			return "", nil, "too_many_blocks"
		}
		for _, b := range parsed.BlockSet {
			if !validBlock(b) {
				return "", nil, "invalid_blocks"
			}
		}
		blocks = json.RawMessage(raw)
	}
	if text == "" && blocks == nil {
		return "", nil, "no_text"
	}
	if len([]rune(text)) > maxMessageTextRune {
		return "", nil, "msg_too_long"
	}
	return text, blocks, ""
}

func validBlock(b slack.Block) bool {
	runes := func(t *slack.TextBlockObject) int { return len([]rune(t.Text)) }
	switch b := b.(type) {
	case *slack.HeaderBlock:
		return b.Text != nil && b.Text.Type == slack.PlainTextType && runes(b.Text) > 0 && runes(b.Text) <= maxHeaderText
	case *slack.SectionBlock:
		return b.Text == nil || (runes(b.Text) > 0 && runes(b.Text) <= maxSectionText)
	}
	return true
}

func (s *Server) postMessage(v url.Values) (any, *Message) {
	channel := v.Get("channel")
	if channel == "" {
		return slackError("channel_not_found"), nil
	}
	text, blocks, code := content(v)
	if code != "" {
		return slackError(code), nil
	}
	var meta *slack.SlackMetadata
	if raw := v.Get("metadata"); raw != "" {
		meta = &slack.SlackMetadata{}
		if err := json.Unmarshal([]byte(raw), meta); err != nil {
			return slackError("invalid_metadata_format"), nil
		}
	}
	threadTS := v.Get("thread_ts")

	s.mu.Lock()
	defer s.mu.Unlock()
	if threadTS != "" && s.byTS[channel+"/"+threadTS] == nil {
		return slackError("thread_not_found"), nil
	}
	m := slack.Msg{Type: "message", User: s.botUserID, BotID: s.botID, Text: text, ThreadTimestamp: threadTS}
	m.Timestamp = s.nextTSLocked()
	if meta != nil {
		m.Metadata = *meta
	}
	if err := json.Unmarshal(orEmpty(blocks), &m.Blocks); err != nil {
		return slackError("invalid_blocks_format"), nil
	}
	s.storeLocked(channel, m)
	applied := s.recordLocked(Message{Method: "chat.postMessage", Channel: channel, TS: m.Timestamp,
		ThreadTS: threadTS, Text: text, Blocks: blocks, Metadata: meta, At: time.Now()})
	s.broadcastLocked()
	return map[string]any{"ok": true, "channel": channel, "ts": m.Timestamp, "message": m}, &applied
}

// recordLocked keeps an accepted chat call for Messages and returns it.
func (s *Server) recordLocked(m Message) Message {
	s.messages = append(s.messages, m)
	return m
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("[]")
	}
	return raw
}

func (s *Server) postEphemeral(v url.Values) (any, *Message) {
	channel, user := v.Get("channel"), v.Get("user")
	if channel == "" {
		return slackError("channel_not_found"), nil
	}
	if user == "" {
		return slackError("user_not_found"), nil
	}
	text, blocks, code := content(v)
	if code != "" {
		return slackError(code), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.nextTSLocked()
	applied := s.recordLocked(Message{Method: "chat.postEphemeral", Channel: channel, TS: ts,
		ThreadTS: v.Get("thread_ts"), User: user, Text: text, Blocks: blocks, At: time.Now()})
	s.broadcastLocked()
	return map[string]any{"ok": true, "message_ts": ts}, &applied
}

func (s *Server) update(v url.Values) (any, *Message) {
	channel, ts := v.Get("channel"), v.Get("ts")
	text, blocks, code := content(v)
	if code != "" {
		return slackError(code), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byTS[channel+"/"+ts]
	if st == nil {
		return slackError("message_not_found"), nil
	}
	st.msg.Text = text
	if blocks != nil {
		if err := json.Unmarshal(blocks, &st.msg.Blocks); err != nil {
			return slackError("invalid_blocks_format"), nil
		}
	}
	applied := s.recordLocked(Message{Method: "chat.update", Channel: channel, TS: ts,
		ThreadTS: st.msg.ThreadTimestamp, Text: text, Blocks: blocks, At: time.Now()})
	s.broadcastLocked()
	return map[string]any{"ok": true, "channel": channel, "ts": ts, "text": text}, &applied
}

// permalink answers chat.getPermalink for a message the server holds, in
// Slack's form: the ts without its dot after "p".
func (s *Server) permalink(v url.Values) any {
	channel, ts := v.Get("channel"), v.Get("message_ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byTS[channel+"/"+ts] == nil {
		return slackError("message_not_found")
	}
	return map[string]any{"ok": true, "channel": channel,
		"permalink": "https://fake.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")}
}

// tsMicros orders message timestamps ("1700000000.000100").
func tsMicros(ts string) (int64, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	frac = (frac + "000000")[:6]
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return s*1e6 + f, true
}

func (s *Server) conversationsHistory(v url.Values) any {
	channel := v.Get("channel")
	if channel == "" {
		return slackError("channel_not_found")
	}
	bound := func(key string) (int64, bool, bool) {
		raw := v.Get(key)
		if raw == "" {
			return 0, false, true
		}
		us, ok := tsMicros(raw)
		return us, true, ok
	}
	oldest, hasOldest, ok1 := bound("oldest")
	latest, hasLatest, ok2 := bound("latest")
	if !ok1 || !ok2 {
		return slackError("invalid_ts_oldest")
	}
	inclusive := v.Get("inclusive") == "1" || v.Get("inclusive") == "true"
	withMeta := v.Get("include_all_metadata") == "1" || v.Get("include_all_metadata") == "true"
	limit := 100
	if l, err := strconv.Atoi(v.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	offset := 0
	if c := v.Get("cursor"); c != "" {
		o, err := strconv.Atoi(c)
		if err != nil || o < 0 {
			return slackError("invalid_cursor")
		}
		offset = o
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []slack.Msg
	all := s.history[channel]
	for i := len(all) - 1; i >= 0; i-- { // newest first, as Slack returns them
		m := all[i].msg
		us, _ := tsMicros(m.Timestamp)
		if hasOldest && (us < oldest || (us == oldest && !inclusive)) {
			continue
		}
		if hasLatest && (us > latest || (us == latest && !inclusive)) {
			continue
		}
		if !withMeta {
			m.Metadata = slack.SlackMetadata{}
		}
		matched = append(matched, m)
	}
	page := matched[min(offset, len(matched)):]
	hasMore := len(page) > limit
	next := ""
	if hasMore {
		page = page[:limit]
		next = strconv.Itoa(offset + limit)
	}
	if page == nil {
		page = []slack.Msg{}
	}
	return map[string]any{"ok": true, "messages": page, "has_more": hasMore,
		"response_metadata": map[string]any{"next_cursor": next}}
}

// conversationsReplies returns a thread: its parent first, then the
// replies, oldest first, as Slack does.
func (s *Server) conversationsReplies(v url.Values) any {
	channel, ts := v.Get("channel"), v.Get("ts")
	withMeta := v.Get("include_all_metadata") == "1" || v.Get("include_all_metadata") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.byTS[channel+"/"+ts]
	if parent == nil {
		return slackError("thread_not_found")
	}
	var thread []*stored
	for _, st := range s.byTS {
		if st.channel == channel && (st == parent || st.msg.ThreadTimestamp == ts) {
			thread = append(thread, st)
		}
	}
	slices.SortFunc(thread, func(a, b *stored) int {
		x, _ := tsMicros(a.msg.Timestamp)
		y, _ := tsMicros(b.msg.Timestamp)
		return cmp.Compare(x, y)
	})
	msgs := make([]slack.Msg, 0, len(thread))
	for _, st := range thread {
		m := st.msg
		if !withMeta {
			m.Metadata = slack.SlackMetadata{}
		}
		msgs = append(msgs, m)
	}
	return map[string]any{"ok": true, "messages": msgs, "has_more": false,
		"response_metadata": map[string]any{"next_cursor": ""}}
}

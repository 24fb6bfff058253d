package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

const (
	// maxAnswerRunes keeps an answer's message well under Teams' 40 KB.
	maxAnswerRunes = 12000
	emptyQuestion  = "Ask me a question in this thread, e.g. “what does this mean for us?”"
	threadMarker   = ";messageid="
)

// activity is the part of a Bot Framework activity the bot reads.
type activity struct {
	Type         string   `json:"type"`
	ID           string   `json:"id"`
	Text         string   `json:"text"`
	ServiceURL   string   `json:"serviceUrl"`
	ChannelID    string   `json:"channelId"`
	From         account  `json:"from"`
	Recipient    account  `json:"recipient"`
	Conversation account  `json:"conversation"`
	Entities     []entity `json:"entities"`
	// Value is what an Adaptive Card's Action.Submit sends.
	Value json.RawMessage `json:"value,omitempty"`
}

type account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

type entity struct {
	Type      string  `json:"type"`
	Mentioned account `json:"mentioned"`
	Text      string  `json:"text"`
}

// Handler serves POST /api/messages. An activity is taken only with a valid
// Bearer token issued for its serviceUrl: without one the answer is 401,
// with a bad one 403, and nothing else happens. A taken activity is
// answered 200 at once and handled afterwards.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/messages", b.serveActivity)
	return mux
}

func (b *Bot) serveActivity(w http.ResponseWriter, r *http.Request) {
	log := b.log.With(slog.String("remote", r.RemoteAddr))
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		log.Warn("activity refused: no bearer token")
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "a Bot Framework bearer token is required", http.StatusUnauthorized)
		return
	}
	tokenServiceURL, err := b.auth.verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		log.Warn("activity refused: bad token", slog.Any("error", err))
		http.Error(w, "the bearer token is not valid for this bot", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxActivityBytes))
	if err != nil {
		log.Warn("activity refused: unreadable body", slog.Any("error", err))
		http.Error(w, "the activity could not be read", http.StatusBadRequest)
		return
	}
	var a activity
	if err := json.Unmarshal(body, &a); err != nil {
		log.Warn("activity refused: not JSON", slog.Any("error", err))
		http.Error(w, "the activity is not valid JSON", http.StatusBadRequest)
		return
	}
	if !sameServiceURL(tokenServiceURL, a.ServiceURL) {
		log.Warn("activity refused: serviceUrl differs from the token's", slog.String("service_url", a.ServiceURL),
			slog.String("token_service_url", tokenServiceURL))
		http.Error(w, "the activity's serviceUrl does not match the token", http.StatusForbidden)
		return
	}
	if a.Type != "message" || a.ID == "" || a.Conversation.ID == "" || a.From.ID == a.Recipient.ID {
		log.Debug("activity ignored", slog.String("type", a.Type), slog.String("id", a.ID))
		w.WriteHeader(http.StatusOK)
		return
	}
	if _, err := httpURL(a.ServiceURL); err != nil {
		log.Warn("activity refused: bad serviceUrl", slog.Any("error", err))
		http.Error(w, "the activity's serviceUrl is not an http(s) URL", http.StatusBadRequest)
		return
	}
	if !b.take(a) {
		log.Warn("activity refused: shutting down or too much work queued", slog.String("id", a.ID))
		http.Error(w, "the bot is shutting down or busy; try again later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// take decides what a message asks for and starts that work.
func (b *Bot) take(a activity) bool {
	log := b.log.With(slog.String("conversation", a.Conversation.ID), slog.String("activity_id", a.ID),
		slog.String("user", a.From.ID))
	if taken, ok := b.vote(log, a); ok {
		return taken
	}
	text := questionText(a)
	base, root := splitConversation(a.Conversation.ID)
	if root == "" || root == a.ID { // a new post, not a reply in a thread
		if taken, ok := b.setupCommand(log, a, text); ok {
			return taken
		}
	}
	if root != "" {
		key := threadKey(base, root)
		thread, known, err := b.opts.Threads.Thread(key)
		if err != nil {
			log.Error("look up thread; taking the message as a command", slog.String("thread", key), slog.Any("error", err))
		}
		if known {
			return b.spawn(b.answers, func(ctx context.Context) {
				if b.firstDelivery(log, a) {
					b.followUp(ctx, log, a, thread, text)
				}
			})
		}
	}
	arg, topic, found, help := b.parseCommand(text)
	sem := b.builds
	if !found {
		sem = b.answers
	}
	return b.spawn(sem, func(ctx context.Context) {
		if !b.firstDelivery(log, a) {
			return
		}
		switch {
		case help:
			b.replyText(ctx, log, a, b.commands.Help(helpIntro, chat.Request{Destination: briefing.TeamsDestination(base)}), "command")
		case !found:
			b.replyText(ctx, log, a, b.unknownTopic(arg), "command")
		default:
			b.briefingReply(ctx, log, a, topic)
		}
	})
}

// firstDelivery records the activity and reports whether it is new: Bot
// Framework delivers an activity again when the answer was slow or lost.
func (b *Bot) firstDelivery(log *slog.Logger, a activity) bool {
	first, err := b.opts.Events.FirstDelivery("teams:"+a.Conversation.ID+":"+a.ID, b.opts.Now())
	if err != nil {
		// Answering twice beats never answering.
		log.Error("record delivery", slog.Any("error", err))
		return true
	}
	if !first {
		log.Debug("activity already handled")
	}
	return first
}

// splitConversation cuts "19:…@thread.tacv2;messageid=N" into the channel's
// conversation id and the thread's root activity id ("" outside a thread).
func splitConversation(id string) (base, root string) {
	base, root, _ = strings.Cut(id, threadMarker)
	return base, root
}

// threadKey names a Teams thread in the ThreadStore.
func threadKey(conversation, root string) string { return "teams:" + conversation + ":" + root }

// questionText is the message's text without the bot's mention, as plain
// text. Other people's mentions keep their names.
func questionText(a activity) string {
	self := map[string]bool{}
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned.ID == a.Recipient.ID && e.Text != "" {
			self[e.Text] = true
		}
	}
	text := a.Text
	var sb strings.Builder
	for {
		start := strings.Index(text, "<at>")
		end := strings.Index(text, "</at>")
		if start < 0 || end < start {
			break
		}
		mention := text[start : end+len("</at>")]
		sb.WriteString(text[:start])
		// Without entities every mention is taken as the bot's: channels
		// deliver only messages that mention it.
		if len(self) > 0 && !self[mention] {
			sb.WriteString(text[start+len("<at>") : end])
		}
		text = text[end+len("</at>"):]
	}
	sb.WriteString(text)
	return strings.TrimSpace(strings.Join(strings.Fields(html.UnescapeString(sb.String())), " "))
}

// parseCommand reads "[briefing] TOPIC" or "[briefing] help"; arg is what
// names the topic.
func (b *Bot) parseCommand(text string) (arg string, topic briefing.Topic, found, help bool) {
	arg = text
	if word, rest, _ := strings.Cut(arg, " "); strings.EqualFold(word, "briefing") {
		arg = strings.TrimSpace(rest)
	}
	if arg == "" || strings.EqualFold(arg, "help") {
		return arg, briefing.Topic{}, false, true
	}
	topic, found = chat.FindTopic(b.opts.Service, arg)
	return arg, topic, found, false
}

func (b *Bot) unknownTopic(arg string) string {
	return fmt.Sprintf("There is no topic “%s”. Known topics: %s. Mention me with **help** for more.",
		EscapeMarkdown(truncate(arg, 100)), b.commands.TopicIDs())
}

// briefingReply builds the topic's briefing and replies with its card; the
// reply's thread then takes follow-ups. A failure is told to the user.
func (b *Bot) briefingReply(ctx context.Context, log *slog.Logger, a activity, topic briefing.Topic) {
	log = log.With(slog.String("topic", topic.ID))
	base, root := splitConversation(a.Conversation.ID)
	dest := briefing.TeamsDestination(base)
	br, err := b.opts.Service.Build(ctx, topic.ID, briefing.BuildOptions{For: dest})
	if err != nil {
		chat.LogBuildFailure(log, err)
		b.replyText(ctx, log, a, EscapeMarkdown(briefing.ErrorMessage(err)), "command")
		return
	}
	// The reply joins a thread that already exists, so it is recorded
	// first: a follow-up typed the moment the card shows is then known.
	if root == "" {
		root = a.ID
	}
	b.recordThread(log, briefing.Thread{Key: threadKey(base, root), BriefingID: br.ID, Topic: br.Topic})
	replyID, err := b.reply(ctx, a, cardMessage(br))
	b.opts.Metrics.Posted("teams", "command", err)
	if err != nil {
		log.Error("reply with briefing", slog.String("briefing_id", br.ID), slog.Any("error", err))
		return
	}
	if err := b.opts.Service.MarkPosted(ctx, br, briefing.Post{Destination: dest, MessageID: replyID}); err != nil {
		log.Error("mark briefing posted", slog.String("briefing_id", br.ID), slog.Any("error", err))
	}
	log.Info("briefing replied", slog.String("briefing_id", br.ID))
}

func (b *Bot) recordThread(log *slog.Logger, t briefing.Thread) {
	if err := b.opts.Threads.PutThread(t); err != nil {
		log.Error("record briefing thread; its replies will not be follow-ups", slog.String("thread", t.Key), slog.Any("error", err))
	}
}

// followUp answers a question asked in a briefing's thread, with the
// thread's earlier turns as context, and records the turn.
func (b *Bot) followUp(ctx context.Context, log *slog.Logger, a activity, thread briefing.Thread, text string) {
	if text == "" {
		b.replyText(ctx, log, a, emptyQuestion, "answer")
		return
	}
	q := briefing.Question{Text: text, Topic: thread.Topic, BriefingID: thread.BriefingID, History: thread.Turns}
	ans, _, err := b.answerer.Answer(ctx, log, &replyView{bot: b, a: a}, chat.FollowUp{Question: q, Thread: thread.Key})
	b.opts.Metrics.Posted("teams", "answer", err)
	if err != nil {
		log.Error("reply", slog.String("kind", "answer"), slog.Any("error", err))
		return
	}
	log.Info("follow-up answered", slog.String("briefing_id", q.BriefingID), slog.Int("sources", len(ans.Sources)))
}

// replyView shows an answer as one reply in the thread once it is whole.
type replyView struct {
	bot *Bot
	a   activity
}

func (v *replyView) Set(string) {}

func (v *replyView) Halt() {}

func (v *replyView) Fail(ctx context.Context, text string) error {
	return v.send(ctx, EscapeMarkdown(text))
}

func (v *replyView) Finish(ctx context.Context, ans briefing.Answer) error {
	return v.send(ctx, answerText(ans))
}

func (v *replyView) send(ctx context.Context, text string) error {
	_, err := v.bot.reply(ctx, v.a, map[string]any{"type": "message", "textFormat": "markdown", "text": text})
	return err
}

// answerText renders an answer as markdown ending with its sources.
func answerText(ans briefing.Answer) string {
	text := EscapeMarkdown(truncate(strings.TrimSpace(ans.Text), maxAnswerRunes))
	if text == "" {
		text = "_No answer came back._"
	}
	if links := sourceLinks(nil, ans.Sources); len(links) > 0 {
		text += "\n\nSources: " + strings.Join(links, ", ")
	}
	return text
}

// replyText replies with a markdown message and reports whether it went.
func (b *Bot) replyText(ctx context.Context, log *slog.Logger, a activity, text, kind string) bool {
	_, err := b.reply(ctx, a, map[string]any{"type": "message", "textFormat": "markdown", "text": text})
	b.opts.Metrics.Posted("teams", kind, err)
	if err != nil {
		log.Error("reply", slog.String("kind", kind), slog.Any("error", err))
	}
	return err == nil
}

// reply posts msg in a's thread and returns the new activity's id.
func (b *Bot) reply(ctx context.Context, a activity, msg map[string]any) (string, error) {
	msg["replyToId"] = a.ID
	path := "v3/conversations/" + url.PathEscape(a.Conversation.ID) + "/activities/" + url.PathEscape(a.ID)
	var res struct {
		ID string `json:"id"`
	}
	if err := b.connector(ctx, a.ServiceURL, path, msg, &res); err != nil {
		return "", fmt.Errorf("reply in %s: %w", a.Conversation.ID, err)
	}
	return res.ID, nil
}

// PostNote starts a new thread in a Teams channel with one line of
// markdown (escaped by the caller) and returns its root activity id.
func (b *Bot) PostNote(ctx context.Context, serviceURL, channelID, markdown string) (string, error) {
	root, _, err := b.startThread(ctx, serviceURL, channelID, map[string]any{"type": "message", "textFormat": "markdown", "text": markdown})
	if err != nil {
		return "", fmt.Errorf("post note: %w", err)
	}
	return root, nil
}

// startThread posts msg as a new thread of the Teams channel and returns
// the thread's root activity id ("" when Teams does not say) and the
// conversation id Teams gave.
func (b *Bot) startThread(ctx context.Context, serviceURL, channelID string, msg map[string]any) (root, conversation string, err error) {
	if strings.TrimSpace(channelID) == "" || strings.Contains(channelID, threadMarker) {
		return "", "", briefing.Errorf(briefing.EINVALID, "teams channel id %q is not a channel (19:…@thread.tacv2)", channelID)
	}
	if _, err := httpURL(serviceURL); err != nil {
		return "", "", briefing.Errorf(briefing.EINVALID, "teams service URL: %v", err)
	}
	params := map[string]any{
		"isGroup":     true,
		"tenantId":    b.opts.TenantID,
		"channelData": map[string]any{"channel": map[string]any{"id": channelID}, "tenant": map[string]any{"id": b.opts.TenantID}},
		"activity":    msg,
	}
	var res struct {
		ID         string `json:"id"`
		ActivityID string `json:"activityId"`
	}
	err = b.connector(ctx, serviceURL, "v3/conversations", params, &res)
	b.opts.Metrics.Posted("teams", "scheduled", err)
	if err != nil {
		return "", "", fmt.Errorf("to teams channel %s: %w", channelID, err)
	}
	root = res.ActivityID
	if root == "" {
		_, root = splitConversation(res.ID)
	}
	return root, res.ID, nil
}

// cardMessage is a message carrying the briefing's card; summary is what
// notifications show.
func cardMessage(br *briefing.Briefing) map[string]any {
	return map[string]any{
		"type":        "message",
		"summary":     truncate(strings.TrimSpace(br.Headline), maxHeadlineRunes),
		"attachments": []any{Attachment(Card(br))},
	}
}

// PostBriefing starts a new thread in a Teams channel (channelID is a
// "19:…@thread.tacv2" id, serviceURL the team's Connector endpoint) with the
// briefing's card, records the thread so that replies become follow-ups,
// and returns the new thread's root activity id. Once the card is posted it
// returns no error: failing to record the thread is logged, since posting
// again would repeat the briefing.
func (b *Bot) PostBriefing(ctx context.Context, serviceURL, channelID string, br *briefing.Briefing) (string, error) {
	if br == nil {
		return "", errors.New("post briefing to teams: no briefing")
	}
	root, conversation, err := b.startThread(ctx, serviceURL, channelID, cardMessage(br))
	if err != nil {
		return "", fmt.Errorf("post briefing %s: %w", br.ID, err)
	}
	log := b.log.With(slog.String("channel", channelID), slog.String("briefing_id", br.ID), slog.String("topic", br.Topic))
	if root == "" {
		log.Error("teams did not say which thread the briefing started; its replies will not be follow-ups",
			slog.String("conversation", conversation))
		return "", nil
	}
	b.recordThread(log, briefing.Thread{Key: threadKey(channelID, root), BriefingID: br.ID, Topic: br.Topic})
	log.Info("briefing posted", slog.String("activity_id", root))
	return root, nil
}

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
	"slices"
	"strings"
	"time"

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
	Type         string       `json:"type"`
	ID           string       `json:"id"`
	Text         string       `json:"text"`
	ServiceURL   string       `json:"serviceUrl"`
	ChannelID    string       `json:"channelId"`
	From         account      `json:"from"`
	Recipient    account      `json:"recipient"`
	Conversation conversation `json:"conversation"`
	Entities     []entity     `json:"entities"`
	// Value is what an Adaptive Card's Action.Submit sends.
	Value json.RawMessage `json:"value,omitempty"`
	// MembersAdded (conversationUpdate) and Action (installationUpdate)
	// tell that the app was installed.
	MembersAdded []account `json:"membersAdded"`
	Action       string    `json:"action"`
}

type conversation struct {
	ID string `json:"id"`
	// ConversationType is "personal", "groupChat" or "channel".
	ConversationType string `json:"conversationType"`
}

// inChat reports whether the activity comes from a personal or group chat,
// where there are no threads.
func (a activity) inChat() bool {
	return a.Conversation.ConversationType == "personal" || a.Conversation.ConversationType == "groupChat"
}

// welcomes reports whether the activity says the app was just installed in
// its conversation: the bot among the members added, or an install.
func (a activity) welcomes() bool {
	if a.Conversation.ID == "" {
		return false
	}
	switch a.Type {
	case "installationUpdate":
		return a.Action == "add"
	case "conversationUpdate":
		return slices.ContainsFunc(a.MembersAdded, func(m account) bool { return m.ID == a.Recipient.ID })
	}
	return false
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
	var g grant
	if b.auth != nil {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			log.Warn("activity refused: no bearer token")
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "a Bot Framework bearer token is required", http.StatusUnauthorized)
			return
		}
		var err error
		if g, err = b.auth.verify(r.Context(), strings.TrimSpace(token)); err != nil {
			log.Warn("activity refused: bad token", slog.Any("error", err))
			http.Error(w, "the bearer token is not valid for this bot", http.StatusForbidden)
			return
		}
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
	if b.auth != nil {
		if err := g.allows(a.ServiceURL, a.ChannelID); err != nil {
			log.Warn("activity refused: not what the token grants", slog.Any("error", err))
			http.Error(w, "the activity is not covered by its token", http.StatusForbidden)
			return
		}
	}
	if err := b.services.check(a.ServiceURL); err != nil {
		log.Warn("activity refused: serviceUrl not allowed", slog.Any("error", err))
		http.Error(w, "the activity's serviceUrl is not an allowed Bot Framework endpoint", http.StatusForbidden)
		return
	}
	work := b.take
	switch {
	case a.Type == "message" && a.ID != "" && a.Conversation.ID != "" && a.From.ID != a.Recipient.ID:
	case a.welcomes():
		work = b.welcome
	default:
		log.Debug("activity ignored", slog.String("type", a.Type), slog.String("id", a.ID))
		w.WriteHeader(http.StatusOK)
		return
	}
	if !work(a) {
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
	if _, root := splitConversation(a.Conversation.ID); root == "" || root == a.ID { // a new post, not a reply in a thread
		if taken, ok := b.setupCommand(log, a, text); ok {
			return taken
		}
	}
	arg, topic, found, help := b.parseCommand(text)
	if thread, ok := b.followUpThread(log, a, found || help); ok {
		return b.spawn(b.answers, func(ctx context.Context) {
			if b.firstDelivery(log, a) {
				b.followUp(ctx, log, a, thread, text)
			}
		})
	}
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
			b.replyText(ctx, log, a, b.help(a), "command")
		case !found:
			b.replyText(ctx, log, a, b.unknownTopic(arg, a.inChat()), "command")
		default:
			b.briefingReply(ctx, log, a, topic)
		}
	})
}

// chatFollowUpWindow is how long after a briefing a chat message that is
// not a command is taken as a question about it. Chats have no threads, so
// only time ties a question to a briefing; past this, a message is more
// likely a new subject than a question about this morning's news.
const chatFollowUpWindow = 12 * time.Hour

// followUpThread finds the briefing a message follows up on: in a channel,
// the briefing whose thread it was posted in, whatever it says; in a chat,
// the chat's latest briefing, when the message is no command and the
// briefing is recent.
func (b *Bot) followUpThread(log *slog.Logger, a activity, command bool) (briefing.Thread, bool) {
	base, root := splitConversation(a.Conversation.ID)
	var key string
	switch {
	case root != "":
		key = threadKey(base, root)
	case a.inChat() && !command:
		key = chatKey(base)
	default:
		return briefing.Thread{}, false
	}
	thread, known, err := b.opts.Threads.Thread(key)
	if err != nil {
		log.Error("look up thread; taking the message as a command", slog.String("thread", key), slog.Any("error", err))
		return briefing.Thread{}, false
	}
	if known && root == "" && b.opts.Now().Sub(thread.Posted) > chatFollowUpWindow {
		log.Debug("chat's latest briefing is too old for a follow-up", slog.String("thread", key), slog.Time("posted", thread.Posted))
		return briefing.Thread{}, false
	}
	return thread, known
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

// chatKey names, in the ThreadStore, the latest briefing of a chat, which
// has no threads: each briefing there replaces the one before.
func chatKey(conversation string) string { return "teams:" + conversation }

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

// Follow-up hints: a card promises follow-ups only where they work. A
// channel delivers the bot only messages that mention it; a chat has no
// threads, so its latest briefing takes the questions.
var (
	hintChannel = "Mention me in a reply to this thread to ask a follow-up."
	hintChat    = fmt.Sprintf("Ask me a follow-up question here within %d hours.", int(chatFollowUpWindow.Hours()))
	// helpIntroChat is helpIntro for chats, which have no threads.
	helpIntroChat = fmt.Sprintf("Send me **briefing TOPIC** (or just the topic) and I reply with a news briefing; "+
		"then just ask me about it here, within %d hours (in a group chat, mention me).", int(chatFollowUpWindow.Hours()))
)

// help is the help text for where a was sent.
func (b *Bot) help(a activity) string {
	base, _ := splitConversation(a.Conversation.ID)
	intro := helpIntro
	if a.inChat() {
		intro = helpIntroChat
	}
	return b.commands.Help(intro, chat.Request{Destination: briefing.TeamsDestination(base)})
}

func (b *Bot) unknownTopic(arg string, inChat bool) string {
	if inChat {
		return fmt.Sprintf("There is no topic “%s”, and no briefing here in the last %d hours to ask about. "+
			"Known topics: %s. Send me one for a briefing, then ask away.",
			EscapeMarkdown(truncate(arg, 100)), int(chatFollowUpWindow.Hours()), b.commands.TopicIDs())
	}
	return fmt.Sprintf("There is no topic “%s”. Known topics: %s. Mention me with **help** for more.",
		EscapeMarkdown(truncate(arg, 100)), b.commands.TopicIDs())
}

// welcome greets a chat or team the app was just installed in with the
// help text, once per conversation however many install events arrive.
func (b *Bot) welcome(a activity) bool {
	log := b.log.With(slog.String("conversation", a.Conversation.ID), slog.String("event", a.Type))
	return b.spawn(b.answers, func(ctx context.Context) {
		first, err := b.opts.Events.FirstDelivery("teams:welcome:"+a.Conversation.ID, b.opts.Now())
		if err != nil {
			log.Error("record welcome", slog.Any("error", err))
		}
		if !first && err == nil {
			return
		}
		text := "Hello! I bring this conversation news briefings and answer questions about them.\n\n" + b.help(a)
		path := "v3/conversations/" + url.PathEscape(a.Conversation.ID) + "/activities"
		err = b.connector(ctx, a.ServiceURL, path, markdownMessage(text), nil)
		b.opts.Metrics.Posted("teams", "welcome", err)
		if err != nil {
			log.Error("welcome", slog.Any("error", err))
			return
		}
		log.Info("welcomed")
	})
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
	key, hint := threadKey(base, root), hintChannel
	switch {
	case root == "" && a.inChat():
		key, hint = chatKey(base), hintChat
	case root == "":
		key = threadKey(base, a.ID)
	}
	b.recordThread(log, briefing.Thread{Key: key, BriefingID: br.ID, Topic: br.Topic, Posted: b.opts.Now()})
	replyID, err := b.reply(ctx, a, cardMessage(br, hint))
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
	ans, _, err := b.answerer.Answer(ctx, log, &replyView{bot: b, a: a, briefingID: thread.BriefingID}, chat.FollowUp{Question: q, Thread: thread.Key})
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
	// briefingID is the briefing asked about, whose articles name the
	// answer's sources.
	briefingID string
}

func (v *replyView) Set(string) {}

func (v *replyView) Halt() {}

func (v *replyView) Fail(ctx context.Context, text string) error {
	_, err := v.bot.reply(ctx, v.a, markdownMessage(EscapeMarkdown(text)))
	return err
}

func (v *replyView) Finish(ctx context.Context, ans briefing.Answer) error {
	// Without the briefing the sources go by their domain.
	br, err := v.bot.opts.Service.Briefing(ctx, v.briefingID)
	if err != nil {
		v.bot.log.Warn("load briefing to name the answer's sources", slog.String("briefing_id", v.briefingID), slog.Any("error", err))
		br = nil
	}
	_, err = v.bot.reply(ctx, v.a, answerMessage(ans, br))
	return err
}

// replyText replies with a markdown message and reports whether it went.
func (b *Bot) replyText(ctx context.Context, log *slog.Logger, a activity, text, kind string) bool {
	return b.replyMessage(ctx, log, a, markdownMessage(text), kind)
}

// replyMessage replies with msg and reports whether it went.
func (b *Bot) replyMessage(ctx context.Context, log *slog.Logger, a activity, msg map[string]any, kind string) bool {
	_, err := b.reply(ctx, a, msg)
	b.opts.Metrics.Posted("teams", kind, err)
	if err != nil {
		log.Error("reply", slog.String("kind", kind), slog.Any("error", err))
	}
	return err == nil
}

func markdownMessage(text string) map[string]any {
	return map[string]any{"type": "message", "textFormat": "markdown", "text": text}
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
	if err := b.services.check(serviceURL); err != nil {
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

// cardMessage is a message carrying the briefing's card, with hint in its
// footer; summary is what notifications show.
func cardMessage(br *briefing.Briefing, hint string) map[string]any {
	return map[string]any{
		"type":        "message",
		"summary":     truncate(strings.TrimSpace(br.Headline), maxHeadlineRunes),
		"attachments": []any{Attachment(Card(br, hint))},
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
	root, conversation, err := b.startThread(ctx, serviceURL, channelID, cardMessage(br, hintChannel))
	if err != nil {
		return "", fmt.Errorf("post briefing %s: %w", br.ID, err)
	}
	log := b.log.With(slog.String("channel", channelID), slog.String("briefing_id", br.ID), slog.String("topic", br.Topic))
	if root == "" {
		log.Error("teams did not say which thread the briefing started; its replies will not be follow-ups",
			slog.String("conversation", conversation))
		return "", nil
	}
	b.recordThread(log, briefing.Thread{Key: threadKey(channelID, root), BriefingID: br.ID, Topic: br.Topic, Posted: b.opts.Now()})
	log.Info("briefing posted", slog.String("activity_id", root))
	return root, nil
}

package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/briefing-bot/briefing"
)

// Add runs sc from now on, next to the schedules the Scheduler was made
// with, replacing one that has its id; it is safe while the Scheduler
// runs. A schedule added now has missed no slot, so nothing is caught up.
func (s *Scheduler) Add(sc Schedule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.byID[sc.ID]
	delete(s.byID, sc.ID)
	e, err := s.newEntry(sc)
	if err != nil {
		if old != nil {
			s.byID[sc.ID] = old
		}
		return err
	}
	if old != nil {
		s.removeLocked(old)
	}
	s.entries = append(s.entries, e)
	s.byID[sc.ID] = e
	if s.cron != nil {
		e.cronID = s.cron.Schedule(e.sched, s.cronJob(s.jobCtx, e))
	}
	return nil
}

// current returns the schedules running now, for a loop that must not
// hold the lock while it fires them.
func (s *Scheduler) current() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// Remove stops the schedule with id; an unknown id is no error.
func (s *Scheduler) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byID[id]; e != nil {
		s.removeLocked(e)
		delete(s.byID, id)
	}
}

func (s *Scheduler) removeLocked(e *entry) {
	s.entries = slices.DeleteFunc(s.entries, func(o *entry) bool { return o == e })
	if s.cron != nil {
		s.cron.Remove(e.cronID)
	}
}

// SubscriptionID is the schedule id of a subscription made in chat, stable
// across restarts so that the post ledger knows its slots.
func SubscriptionID(destination, topic string) string { return "chat:" + destination + ":" + topic }

// FromSubscription is the schedule that runs sub. Its error, a
// *briefing.Error (EINVALID), names the bad spec or zone.
func FromSubscription(sub briefing.Subscription) (Schedule, error) {
	zone := sub.Timezone
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || strings.EqualFold(zone, "local") {
		return Schedule{}, briefing.Errorf(briefing.EINVALID, "%q is not a time zone; use an IANA name such as Europe/Berlin", zone)
	}
	if err := Validate(sub.Cron); err != nil {
		return Schedule{}, err
	}
	return Schedule{ID: SubscriptionID(sub.Destination, sub.Topic), Topic: sub.Topic, Spec: sub.Cron,
		Location: loc, Audience: sub.Audience, Destination: sub.Destination, Address: sub.Address}, nil
}

// Setup keeps the subscriptions made in chat in Store and runs them on
// Scheduler. It implements briefing.ChannelSetup.
type Setup struct {
	Store     briefing.SubscriptionStore
	Scheduler *Scheduler
	Logger    *slog.Logger
	Now       func() time.Time

	// mu makes each change's read, check and write one step.
	mu sync.Mutex
}

var _ briefing.ChannelSetup = (*Setup)(nil)

// Schedules returns the schedules of the stored subscriptions, for the
// Scheduler to start with. A subscription that no longer parses (its topic
// left the config, its zone is unknown) is logged and left out.
func Schedules(st briefing.SubscriptionStore, topics func(id string) bool, log *slog.Logger) ([]Schedule, error) {
	subs, err := st.Subscriptions()
	if err != nil {
		return nil, err
	}
	var out []Schedule
	for _, sub := range subs {
		if sub.Cron == "" {
			continue
		}
		sc, err := FromSubscription(sub)
		if err == nil && !topics(sub.Topic) {
			err = fmt.Errorf("topic %q is no longer configured", sub.Topic)
		}
		if err != nil {
			log.Warn("chat subscription left out", slog.String("destination", sub.Destination),
				slog.String("topic", sub.Topic), slog.Any("error", err))
			continue
		}
		out = append(out, sc)
	}
	return out, nil
}

func (u *Setup) find(destination, topic string) (briefing.Subscription, bool, error) {
	subs, err := u.Subscriptions(destination)
	for _, s := range subs {
		if s.Topic == topic {
			return s, true, err
		}
	}
	return briefing.Subscription{Destination: destination, Topic: topic}, false, err
}

// Subscribe makes req.Destination get req.Topic's briefing at req.Cron
// in req.Timezone, keeping the audience set before.
func (u *Setup) Subscribe(_ context.Context, req briefing.Subscription) (briefing.Subscription, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	destination, topic := req.Destination, req.Topic
	sub, _, err := u.find(destination, topic)
	if err != nil {
		return sub, err
	}
	sub.Address, sub.Cron, sub.Timezone, sub.By, sub.UpdatedAt = req.Address, req.Cron, req.Timezone, req.By, u.Now()
	sc, err := FromSubscription(sub)
	if err != nil {
		return sub, err
	}
	if err := u.Scheduler.Add(sc); err != nil {
		return sub, err
	}
	if err := u.Store.PutSubscription(sub); err != nil {
		u.Scheduler.Remove(sc.ID)
		return sub, err
	}
	u.Logger.Info("chat subscription set", slog.String("destination", destination), slog.String("topic", topic),
		slog.String("cron", sub.Cron), slog.String("timezone", sub.Timezone), slog.String("by", sub.By))
	return sub, nil
}

// Unsubscribe stops destination's subscription to topic; an audience set
// for it is kept.
func (u *Setup) Unsubscribe(_ context.Context, destination, topic, by string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	sub, found, err := u.find(destination, topic)
	if err != nil {
		return err
	}
	if !found || sub.Cron == "" {
		return briefing.Errorf(briefing.ENOTFOUND, "This channel has no subscription to %s.", topic)
	}
	u.Scheduler.Remove(SubscriptionID(destination, topic))
	if sub.Audience == "" {
		err = u.Store.DeleteSubscription(destination, topic)
	} else {
		sub.Cron, sub.Timezone, sub.By, sub.UpdatedAt = "", "", by, u.Now()
		err = u.Store.PutSubscription(sub)
	}
	if err != nil {
		return err
	}
	u.Logger.Info("chat subscription ended", slog.String("destination", destination), slog.String("topic", topic),
		slog.String("by", by))
	return nil
}

// SetAudience sets the audience of destination's scheduled briefings of
// topic; "" goes back to the topic's own.
func (u *Setup) SetAudience(_ context.Context, destination, topic, audience, by string) (briefing.Subscription, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	sub, _, err := u.find(destination, topic)
	if err != nil {
		return sub, err
	}
	sub.Audience, sub.By, sub.UpdatedAt = audience, by, u.Now()
	if sub.Cron != "" {
		sc, err := FromSubscription(sub)
		if err == nil {
			err = u.Scheduler.Add(sc)
		}
		if err != nil {
			return sub, err
		}
	}
	if err := u.Store.PutSubscription(sub); err != nil {
		return sub, err
	}
	u.Logger.Info("chat audience set", slog.String("destination", destination), slog.String("topic", topic),
		slog.String("audience", audience), slog.String("by", by))
	return sub, nil
}

// Subscriptions returns destination's subscriptions, by topic.
func (u *Setup) Subscriptions(destination string) ([]briefing.Subscription, error) {
	all, err := u.Store.Subscriptions()
	if err != nil {
		return nil, err
	}
	var out []briefing.Subscription
	for _, s := range all {
		if s.Destination == destination {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b briefing.Subscription) int { return strings.Compare(a.Topic, b.Topic) })
	return out, nil
}

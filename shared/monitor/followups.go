package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Crisis follow-ups.
//
// When a crisis closes (by itself or by hand) and the protocol's
// crisis.followup_after has passed (the time to edit the text), every customer who wrote about
// its topic while it was open, whether or not they got the crisis template,
// is told it is over: one follow-up (the crisis_followup template, in the
// case's language, a reply to their latest post, or a DM in a DM case), never
// twice, and none to a customer a person answered after the crisis opened. A
// customer with several affected cases gets it on the latest. Each run queues
// at most MaxPerRun (the crisis reply cap), so that follow-ups spread over
// runs, and the reply sender keeps X's limits as for any reply. Customers are
// claimed before their follow-up is queued (store.ClaimFollowUp): a run cut
// short leaves claims unqueued, which the next run queues under the same
// idempotency key. Once every affected customer is handled, the counts are
// recorded (store.FinishFollowUps) and the crisis is not looked at again. The
// first run records the start (store.StartFollowUps) and goes with the text
// an admin wrote for the crisis, if any (store.SetFollowUpText, refused from
// then on); the template's otherwise.

// FollowUpStore is what the follow-ups read and write (*store.Store).
type FollowUpStore interface {
	ListCrises(ctx context.Context) ([]care.CrisisState, error)
	ListCases(ctx context.Context, q store.ListQuery) ([]care.CaseSummary, string, error)
	GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error)
	ListReplies(ctx context.Context, caseID string) ([]care.ReplyStatus, error)
	ClaimFollowUp(ctx context.Context, topic string, opened time.Time, f store.FollowUp) (*store.FollowUp, bool, error)
	MarkFollowUpQueued(ctx context.Context, topic string, opened time.Time, customer string, at time.Time) error
	FollowUps(ctx context.Context, topic string, opened time.Time) (map[string]store.FollowUp, error)
	FinishFollowUps(ctx context.Context, topic string, opened time.Time, job store.FollowUpJob) (bool, error)
	GetFollowUpJob(ctx context.Context, topic string, opened time.Time) (*store.FollowUpJob, error)
	GetFollowUpText(ctx context.Context, topic string, opened time.Time) (*store.FollowUpText, error)
	StartFollowUps(ctx context.Context, topic string, opened time.Time, at time.Time) (*store.FollowUpText, error)
}

// FollowUps sends the follow-ups of the crises that closed. Store, Protocol
// and Outbox are required.
type FollowUps struct {
	Store    FollowUpStore
	Protocol *protocol.Engine
	Outbox   Outbox
	// MaxPerRun bounds the follow-ups a run queues (the protocol's crisis
	// max_replies_per_window when 0).
	MaxPerRun int
	// Within is how long after it closed a crisis's follow-ups are still sent
	// (7 days when 0).
	Within time.Duration
}

// FollowUpReport is what a run did, per crisis (topic and opening).
type FollowUpReport struct {
	Crises []CrisisFollowUps `json:"crises,omitempty"`
}

// CrisisFollowUps are one crisis's follow-ups, as they stand after the run.
type CrisisFollowUps struct {
	Topic  string    `json:"topic"`
	Opened time.Time `json:"opened"`
	// StartsAt is when they start (the crisis closed, plus the protocol's
	// crisis.followup_after); nothing else is set before.
	StartsAt  time.Time      `json:"starts_at"`
	Customers int            `json:"customers"`
	Queued    int            `json:"queued"`
	QueuedNow int            `json:"queued_now"`
	Skipped   map[string]int `json:"skipped,omitempty"`
	Done      bool           `json:"done"`
}

// Reasons a customer gets no follow-up.
const (
	SkipAnswered = "answered_by_person"
	SkipNothing  = "nothing_to_answer"
	SkipLinter   = "linter"
)

func (m *Monitor) sendFollowUps(ctx context.Context, now time.Time, log *slog.Logger) (*FollowUpReport, error) {
	f := m.FollowUps
	within := f.Within
	if within <= 0 {
		within = 7 * 24 * time.Hour
	}
	budget := f.MaxPerRun
	if budget <= 0 {
		budget = max(f.Protocol.Config().Crisis.MaxRepliesPerWindow, 1)
	}
	crises, err := f.Store.ListCrises(ctx)
	if err != nil {
		return nil, fmt.Errorf("monitor: follow-ups: %w", err)
	}
	rep := &FollowUpReport{}
	var errs []error
	var closed []care.CrisisState
	for _, c := range crises {
		// A topic's earlier crises, replaced by a newer one, may still have
		// follow-ups due.
		closed = append(append(closed, c), c.Previous...)
	}
	for _, c := range closed {
		if c.Active || c.ClosedAt.IsZero() || now.Sub(c.ClosedAt) > within {
			continue
		}
		c.Previous = nil
		cf, err := f.crisis(ctx, c, now, &budget, log)
		if err != nil {
			errs = append(errs, err)
		}
		if cf != nil {
			rep.Crises = append(rep.Crises, *cf)
		}
	}
	return rep, errors.Join(errs...)
}

// crisis handles one closed crisis's follow-ups, spending budget.
func (f *FollowUps) crisis(ctx context.Context, c care.CrisisState, now time.Time, budget *int, log *slog.Logger) (*CrisisFollowUps, error) {
	// The job record first (one read): a crisis whose follow-ups are done, or
	// not started, is not read claim by claim.
	job, err := f.Store.GetFollowUpJob(ctx, c.Topic, c.Since)
	if err != nil {
		return nil, fmt.Errorf("monitor: follow-ups of %s: %w", c.Topic, err)
	}
	cf := &CrisisFollowUps{Topic: c.Topic, Opened: c.Since, Skipped: map[string]int{}, StartsAt: c.ClosedAt.Add(f.Protocol.Config().Crisis.FollowUpAfter.Std())}
	if job != nil {
		cf.Customers, cf.Queued, cf.Skipped, cf.Done = job.Customers, job.Queued, job.Skipped, true
		return cf, nil
	}
	if now.Before(cf.StartsAt) {
		return cf, nil
	}
	text, err := f.Store.GetFollowUpText(ctx, c.Topic, c.Since)
	if err == nil && (text == nil || text.StartedAt == nil) {
		text, err = f.Store.StartFollowUps(ctx, c.Topic, c.Since, now)
	}
	if err != nil {
		return nil, fmt.Errorf("monitor: follow-ups of %s: %w", c.Topic, err)
	}
	held, err := f.Store.FollowUps(ctx, c.Topic, c.Since)
	if err != nil {
		return nil, fmt.Errorf("monitor: follow-ups of %s: %w", c.Topic, err)
	}
	affected, err := f.affected(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("monitor: follow-ups of %s: %w", c.Topic, err)
	}
	cf.Customers = len(affected)
	var errs []error
	pending := 0
	for _, a := range affected {
		h, ok := held[a.c.CustomerID]
		switch {
		case ok && h.Skipped != "":
			cf.Skipped[strings.SplitN(h.Skipped, ":", 2)[0]]++
			continue
		case ok && h.QueuedAt != nil:
			cf.Queued++
			continue
		case *budget <= 0:
			pending++
			continue
		}
		queued, skip, err := f.customer(ctx, c, a, text.Texts, now)
		switch {
		case err != nil:
			errs = append(errs, err)
			pending++
		case skip != "":
			cf.Skipped[strings.SplitN(skip, ":", 2)[0]]++
		case queued:
			cf.Queued++
			cf.QueuedNow++
			*budget--
		}
	}
	if pending == 0 && len(errs) == 0 {
		closed := c
		won, err := f.Store.FinishFollowUps(ctx, c.Topic, c.Since, store.FollowUpJob{DoneAt: now, Customers: cf.Customers, Queued: cf.Queued, Skipped: cf.Skipped, Crisis: &closed})
		if err != nil {
			errs = append(errs, err)
		}
		cf.Done = err == nil
		if won {
			log.InfoContext(ctx, "monitor: crisis follow-ups done", "topic", c.Topic, "opened", c.Since, "customers", cf.Customers, "queued", cf.Queued, "skipped", cf.Skipped)
		}
	}
	return cf, errors.Join(errs...)
}

// affectedCase is a customer's latest case that wrote about the crisis while
// it was open.
type affectedCase struct {
	c    *care.Case
	msgs []care.StoredMessage
}

// affected lists the customers the crisis touched, one case each (their
// latest message during the crisis), in customer order.
func (f *FollowUps) affected(ctx context.Context, c care.CrisisState) ([]affectedCase, error) {
	latest := map[string]affectedCase{}
	at := map[string]time.Time{}
	for _, status := range []care.Status{care.Open, care.Pending, care.Resolved} {
		cursor := ""
		for {
			page, next, err := f.Store.ListCases(ctx, store.ListQuery{Status: status, CrisisTopic: c.Topic, Limit: store.MaxListLimit, Cursor: cursor})
			if err != nil {
				return nil, err
			}
			for _, s := range page {
				cs, msgs, err := f.Store.GetCase(ctx, s.ID)
				if err != nil {
					return nil, err
				}
				for _, m := range msgs {
					during := m.Direction == care.Inbound && m.AuthorID == cs.CustomerID && !m.CreatedAt.Before(c.Since) && !m.CreatedAt.After(c.ClosedAt)
					if during && m.CreatedAt.After(at[cs.CustomerID]) {
						at[cs.CustomerID], latest[cs.CustomerID] = m.CreatedAt, affectedCase{c: cs, msgs: msgs}
					}
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	out := make([]affectedCase, 0, len(latest))
	for _, id := range slices.Sorted(maps.Keys(latest)) {
		out = append(out, latest[id])
	}
	return out, nil
}

// customer queues one customer's follow-up, or says why they get none (the
// reason is kept on their claim). A claim left unqueued by an earlier run is
// queued now.
func (f *FollowUps) customer(ctx context.Context, c care.CrisisState, a affectedCase, texts map[string]string, now time.Time) (queued bool, skip string, err error) {
	skip, err = f.skipWhy(ctx, c, a)
	if err != nil {
		return false, "", err
	}
	var req care.ReplyRequest
	if skip == "" {
		var lint protocol.LintResult
		req, lint, err = f.Protocol.CrisisFollowUp(protocol.FollowUpInput{Case: *a.c, Messages: a.msgs, Topic: c.Topic, Opened: c.Since, Texts: texts, Now: now})
		switch {
		case errors.Is(err, protocol.ErrNothingToAnswer):
			skip, err = SkipNothing, nil
		case err != nil:
			return false, "", err
		case !lint.OK():
			skip = SkipLinter + ": " + strings.Join(lint.Strings(), "; ")
		}
	}
	claim := store.FollowUp{Customer: a.c.CustomerID, CaseID: a.c.ID, Key: req.IdempotencyKey, ClaimedAt: now, Skipped: skip}
	held, won, err := f.Store.ClaimFollowUp(ctx, c.Topic, c.Since, claim)
	if err != nil {
		return false, "", err
	}
	if !won && held.Skipped != "" {
		return false, held.Skipped, nil
	}
	if skip != "" {
		return false, skip, nil
	}
	if !won && held.QueuedAt != nil {
		return false, "", nil // queued by a concurrent run
	}
	if err := f.Outbox.EnqueueReplies(ctx, []care.ReplyRequest{req}); err != nil {
		return false, "", fmt.Errorf("monitor: queue the follow-up of %s: %w", a.c.CustomerID, err)
	}
	if err := f.Store.MarkFollowUpQueued(ctx, c.Topic, c.Since, a.c.CustomerID, now); err != nil {
		return false, "", err
	}
	return true, "", nil
}

// skipWhy says why a customer gets no follow-up: a person answered their case
// after the crisis opened.
func (f *FollowUps) skipWhy(ctx context.Context, c care.CrisisState, a affectedCase) (string, error) {
	replies, err := f.Store.ListReplies(ctx, a.c.ID)
	if err != nil {
		return "", err
	}
	for _, r := range replies {
		if r.Kind == care.ReplyAgent && r.State == care.ReplySent && !r.RequestedAt.Before(c.Since) {
			return SkipAnswered, nil
		}
	}
	return "", nil
}

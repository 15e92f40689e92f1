package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// The first-response service level (issue 7).
//
// Each run reads the open cases from the agent queue (index GSI1, highest
// priority first, at most MaxCases) and computes each one's due time from its
// priority and waiting time (protocol.Engine.FirstResponseDue: the priority's
// target in business time, and the wall-clock hard limit at the latest). The
// queue index does not hold first_response_at, so the case item of each case past
// its due time is read (one GetItem each: the overdue cases, and open cases
// answered before whose customer wrote again). A case still open without a first
// response is unanswered: it counts in the Unanswered metric (which should read
// 0), and in UnansweredOverHardLimit once past the hard limit. Both are emitted
// every run, 0 included, as one EMF line.
//
// An unanswered case not escalated yet is escalated: escalated_at is set on the
// case by a conditional update (store.Escalate: open, no first response, not
// escalated), and the run that set it, and only that one, sends one sla_breach
// alert. Concurrent or repeated runs therefore alert once per case, and a case
// answered between the read and the update is not escalated. When the alert
// cannot be sent the mark is taken back (store.ClearEscalation), so that the next
// run tries again, and the run fails. An escalated case keeps counting as
// unanswered until its first response.

// DefaultSLAMaxCases bounds the open cases one run reads from the queue.
const DefaultSLAMaxCases = 5000

// SLACases is what the first-response check reads and writes (*store.Store
// implements it).
type SLACases interface {
	ListCases(ctx context.Context, q store.ListQuery) ([]care.CaseSummary, string, error)
	GetCaseItem(ctx context.Context, id string) (*care.Case, error)
	Escalate(ctx context.Context, caseID string, at time.Time) (bool, error)
	ClearEscalation(ctx context.Context, caseID string, at time.Time) (bool, error)
}

// SLA escalates the open cases that passed their first-response due time without
// an answer. Protocol and Cases are required.
type SLA struct {
	// Protocol gives the due times (the protocol's sla section) and the brand's
	// time zone.
	Protocol *protocol.Engine
	Cases    SLACases
	// Notifier receives one care.AlertSLABreach alert per escalated case; nil
	// logs them (care.LogNotifier).
	Notifier care.Notifier
	// MaxCases bounds the open cases a run reads, highest priority first (0 means
	// DefaultSLAMaxCases); the rest wait for a shorter queue, and the report says
	// Truncated.
	MaxCases int
}

// SLAReport is what a run's first-response check found and did.
type SLAReport struct {
	// Checked counts the open cases read from the queue; Truncated is true when
	// the queue held more than MaxCases.
	Checked   int  `json:"checked"`
	Truncated bool `json:"truncated,omitempty"`
	// Unanswered counts the open cases past their first-response due time without
	// a first response; OverHardLimit those of them past the hard limit.
	Unanswered    int `json:"unanswered"`
	OverHardLimit int `json:"over_hard_limit"`
	// Escalated lists the cases this run escalated, each with one alert.
	Escalated []string `json:"escalated"`
}

// breach is an unanswered case not escalated yet.
type breach struct {
	c                *care.Case
	start, due, hard time.Time
	target           time.Duration
}

// checkSLA runs the first-response check and emits its metrics.
func (m *Monitor) checkSLA(ctx context.Context, now time.Time, log *slog.Logger) (*SLAReport, error) {
	s := m.SLA
	rep := &SLAReport{Escalated: []string{}}
	breaches, err := s.scan(ctx, now, rep)
	if err != nil {
		return rep, fmt.Errorf("monitor: first-response SLA: %w", err)
	}
	if rep.Truncated {
		log.WarnContext(ctx, "monitor: first-response SLA: the open cases beyond the first ones were not checked", "checked", rep.Checked)
	}
	m.emit(log, now, nil,
		emf.Metric{Name: "Unanswered", Unit: emf.Count, Value: float64(rep.Unanswered)},
		emf.Metric{Name: "UnansweredOverHardLimit", Unit: emf.Count, Value: float64(rep.OverHardLimit)})

	notifier := s.Notifier
	if notifier == nil {
		notifier = care.LogNotifier{Log: log}
	}
	var errs []error
	for _, b := range breaches {
		won, err := s.Cases.Escalate(ctx, b.c.ID, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !won {
			continue // another run escalated it, or it was answered meanwhile
		}
		if err := notifier.Notify(ctx, s.alert(b, now)); err != nil {
			err = fmt.Errorf("alert on case %s: %w", b.c.ID, err)
			if _, cerr := s.Cases.ClearEscalation(ctx, b.c.ID, now); cerr != nil {
				err = fmt.Errorf("%w; the case stays escalated without an alert: %w", err, cerr)
			}
			errs = append(errs, err)
			continue
		}
		rep.Escalated = append(rep.Escalated, b.c.ID)
	}
	log.InfoContext(ctx, "monitor: first-response SLA", "checked", rep.Checked, "unanswered", rep.Unanswered,
		"over_hard_limit", rep.OverHardLimit, "escalated", rep.Escalated)
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("monitor: first-response SLA: %w", err)
	}
	return rep, nil
}

// scan reads the open cases and counts the unanswered ones into rep; it returns
// those not escalated yet.
func (s *SLA) scan(ctx context.Context, now time.Time, rep *SLAReport) ([]breach, error) {
	limit := s.MaxCases
	if limit <= 0 {
		limit = DefaultSLAMaxCases
	}
	var breaches []breach
	q := store.ListQuery{Status: care.Open}
	for {
		q.Limit = min(store.MaxListLimit, limit-rep.Checked)
		page, next, err := s.Cases.ListCases(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, sum := range page {
			rep.Checked++
			// The summary has what the due time needs; the first response is on the
			// case item.
			c := care.Case{ID: sum.ID, Status: sum.Status, Priority: sum.Priority, WaitingSince: sum.WaitingSince, CreatedAt: sum.CreatedAt, Intent: sum.Intent}
			if due := s.Protocol.FirstResponseDue(c); due.IsZero() || now.Before(due) {
				continue // spam, or not due yet
			}
			full, err := s.Cases.GetCaseItem(ctx, sum.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if full.Status != care.Open || full.FirstResponseAt != nil {
				continue
			}
			due := s.Protocol.FirstResponseDue(*full)
			if due.IsZero() || now.Before(due) {
				continue // re-prioritised, reopened or found spam since the queue was read
			}
			rep.Unanswered++
			hard := s.Protocol.FirstResponseHardLimit(*full)
			if !now.Before(hard) {
				rep.OverHardLimit++
			}
			if full.EscalatedAt == nil {
				breaches = append(breaches, breach{c: full, start: protocol.FirstResponseStart(*full), due: due, hard: hard,
					target: s.Protocol.FirstResponseWithin(full.Priority)})
			}
		}
		if next == "" {
			return breaches, nil
		}
		if rep.Checked >= limit {
			rep.Truncated = true
			return breaches, nil
		}
		q.Cursor = next
	}
}

// alert is the sla_breach alert of b at now: "Case t1 (@maria, priority 850,
// billing) has no first response, 25m past its 15m target in business hours;
// waiting since Fri 20 Nov 17:50 CET."
func (s *SLA) alert(b breach, now time.Time) care.Alert {
	c := b.c
	who := "customer " + c.CustomerID
	if c.CustomerHandle != "" {
		who = "@" + c.CustomerHandle
	}
	dept := c.Department
	if dept == "" {
		dept = "no department"
	}
	missed := "its " + durationText(b.target) + " target"
	if s.Protocol.Config().SLA.BusinessHours {
		missed += " in business hours"
	}
	if !b.due.Before(b.hard) {
		missed = "the " + durationText(b.hard.Sub(b.start)) + " hard limit"
	}
	since := b.start.In(s.Protocol.Hours().Location()).Format("Mon 2 Jan 15:04 MST")
	return care.Alert{
		Kind:   care.AlertSLABreach,
		CaseID: c.ID,
		At:     now,
		Summary: fmt.Sprintf("Case %s (%s, priority %d, %s) has no first response, %s past %s; waiting since %s.",
			c.ID, who, c.Priority, dept, durationText(now.Sub(b.due)), missed, since),
	}
}

// durationText writes d in hours and minutes (protocol.FormatDuration: "25m",
// "1h05m", "48h"); "under a minute" below one.
func durationText(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	return protocol.FormatDuration(d)
}

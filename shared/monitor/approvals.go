package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Replies awaiting approval.
//
// A contributor's reply (or an agent's, where the protocol says) waits for an
// agent's approval (package agentapi). Nothing waits silently: each run lists
// the pending ones, and for each that has waited longer than the protocol's
// approval.alert_after it counts a signal and claims the reply's alert of the day
// (store.ClaimSignalAlert under SignalApprovalWaiting and the reply's case and
// draft: of concurrent runs one wins) and the winner sends one
// care.AlertApprovalWaiting alert. An alert that cannot be sent gives its claim
// back, for the next run.

// SignalApprovalWaiting keys the alerts of replies awaiting approval.
const SignalApprovalWaiting = "approval_waiting"

// ApprovalStore is what the check reads and writes (*store.Store implements it).
type ApprovalStore interface {
	PendingApprovals(ctx context.Context, limit int) ([]store.Draft, error)
	AddSignal(ctx context.Context, signal, key string, at time.Time) error
	ClaimSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
	ReleaseSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
}

// Approvals alerts the team to the replies that wait too long for an
// approval. Store is required.
type Approvals struct {
	Store ApprovalStore
	// After is how long a reply may wait before the alert.
	After time.Duration
	// Notifier receives the alerts; nil logs them.
	Notifier care.Notifier
}

// ApprovalReport is what a run's approval check found.
type ApprovalReport struct {
	Pending int `json:"pending"`
	Overdue int `json:"overdue"`
	Alerted int `json:"alerted"`
}

// maxApprovalsChecked bounds the replies a run looks at.
const maxApprovalsChecked = 500

func (m *Monitor) checkApprovals(ctx context.Context, now time.Time, log *slog.Logger) (*ApprovalReport, error) {
	a := m.Approvals
	pending, err := a.Store.PendingApprovals(ctx, maxApprovalsChecked)
	if err != nil {
		return nil, fmt.Errorf("monitor: replies awaiting approval: %w", err)
	}
	rep := &ApprovalReport{Pending: len(pending)}
	notifier := a.Notifier
	if notifier == nil {
		notifier = care.LogNotifier{Log: log}
	}
	day := now.Truncate(24 * time.Hour)
	var errs []error
	for _, d := range pending {
		waited := now.Sub(d.CreatedAt)
		if waited < a.After {
			continue
		}
		rep.Overdue++
		key := d.CaseID + "|" + d.DraftID
		// Counted (each run it is overdue), then the day's alert claimed.
		if err := a.Store.AddSignal(ctx, SignalApprovalWaiting, key, now); err != nil {
			errs = append(errs, err)
			continue
		}
		won, err := a.Store.ClaimSignalAlert(ctx, SignalApprovalWaiting, key, day, now)
		if err != nil || !won {
			errs = append(errs, err)
			continue
		}
		alert := care.Alert{Kind: care.AlertApprovalWaiting, CaseID: d.CaseID, At: now,
			Summary: fmt.Sprintf("A reply by %s on case %s has waited %s for an agent's approval (%s): approve or reject it in the console's Approvals",
				nameOr(d.Request.AuthorName, d.Request.Author), d.CaseID, waited.Round(time.Minute), d.Approval.Why)}
		if err := notifier.Notify(ctx, alert); err != nil {
			errs = append(errs, fmt.Errorf("monitor: approval alert for %s: %w", key, err))
			if _, rerr := a.Store.ReleaseSignalAlert(ctx, SignalApprovalWaiting, key, day, now); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		rep.Alerted++
	}
	if rep.Overdue > 0 {
		log.InfoContext(ctx, "monitor: replies awaiting approval", "pending", rep.Pending, "overdue", rep.Overdue, "alerted", rep.Alerted)
	}
	return rep, errors.Join(errs...)
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// Package monitor is Pajarito's scheduled watch over the service, run every
// minute by EventBridge Scheduler (functions/monitor) and by the local dev system's
// ticker. Each run:
//
//   - sweeps the crisis states: an automatic crisis closes once its topic calms
//     down even when no related message arrives to notice it, with an alert
//     (protocol.Monitor.Sweep);
//   - reports the active crises as the ActiveCrises metric (per topic, and in
//     total), so that a dashboard and an alarm can show them, and the cases
//     waiting for an agent as OpenCases;
//   - escalates, once, each case still unanswered past its first-response target
//     (business hours and priority bands, a hard limit; sla.go) and reports
//     Unanswered, which should read 0;
//   - retrains the classifier's corrections model from the agents' corrections,
//     hourly (package learn);
//   - sends one satisfaction survey by DM per resolved case the customer can get
//     DMs for, unless they opted out (surveys.go; the answers are read by the
//     processor);
//   - computes and stores the daily service metrics, and emits the closed day's
//     (rollup.go; GET /v1/metrics reads them);
//   - alerts the team, once a day, to the encrypted X Chat messages that
//     arrived and could not be read (xchat.go).
//
// Every step runs even when another failed; the run then reports all the errors.
//
// A run is idempotent: running twice in the same minute changes nothing more than
// running once, so the scheduler's at-least-once delivery is harmless.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/learn"
)

// Crises is the crisis detector (*protocol.Monitor implements it).
type Crises interface {
	// Sweep closes the automatic crises that calmed down and returns the active ones.
	Sweep(ctx context.Context, now time.Time) ([]care.CrisisState, error)
}

// Learner retrains the corrections model (*learn.Trainer implements it).
type Learner interface {
	Train(ctx context.Context, now time.Time) (learn.TrainReport, error)
}

// Cases counts cases (*store.Store implements it).
type Cases interface {
	CountCases(ctx context.Context, status care.Status) (int, error)
}

// Monitor runs the scheduled checks. Crises is required.
type Monitor struct {
	Crises Crises
	// Cases, when set, is counted for OpenCases.
	Cases Cases
	// Learner, when set, retrains the corrections model.
	Learner Learner
	// SLA, when set, escalates the cases past their first-response target (sla.go).
	SLA *SLA
	// Surveys, when set, sends the satisfaction surveys of resolved cases (surveys.go).
	Surveys *Surveys
	// Rollups, when set, computes and stores the daily service metrics (rollup.go).
	Rollups *Rollups
	// XChat, when set, alerts to the X Chat messages that could not be read
	// (xchat.go).
	XChat *XChat
	// Approvals, when set, alerts to the replies that wait too long for an
	// approval (approvals.go).
	Approvals *Approvals
	// FollowUps, when set, tells the customers of a closed crisis it is over
	// (followups.go).
	FollowUps *FollowUps
	// Topics are the configured crisis topics: each gets an ActiveCrises value
	// every run, 0 included, so that its graph and alarm have data.
	Topics []string
	// Metrics receives the Embedded Metric Format lines; nil means os.Stdout.
	Metrics io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Report is what a run did; it is the function's result (visible in the Lambda
// console and the scheduler's logs).
type Report struct {
	At time.Time `json:"at"`
	// ActiveCrises are the crises open after the sweep.
	ActiveCrises []care.CrisisState `json:"active_crises"`
	// OpenCases counts the open cases (when Cases is set).
	OpenCases *int `json:"open_cases,omitempty"`
	// Learning is what the Learner did.
	Learning *learn.TrainReport `json:"learning,omitempty"`
	// SLA is what the first-response check found and escalated (when SLA is set).
	SLA *SLAReport `json:"sla,omitempty"`
	// Surveys is what the survey step did (when Surveys is set).
	Surveys *SurveyReport `json:"surveys,omitempty"`
	// Rollups is what the roll-up step computed (when Rollups is set).
	Rollups *RollupReport `json:"rollups,omitempty"`
	// XChat is what the unread X Chat check found (when XChat is set).
	XChat *XChatReport `json:"xchat,omitempty"`
	// Approvals is what the approval check found (when Approvals is set).
	Approvals *ApprovalReport `json:"approvals,omitempty"`
	// FollowUps is what the crisis follow-ups did (when FollowUps is set).
	FollowUps *FollowUpReport `json:"follow_ups,omitempty"`
}

// Run runs the checks once.
func (m *Monitor) Run(ctx context.Context) (Report, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	now = now.UTC()
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	rep := Report{At: now, ActiveCrises: []care.CrisisState{}}
	// Each step runs even when an earlier one failed (a throttled sweep must not
	// stop the SLA escalations); the run then fails with every step's error.
	var errs []error
	active, err := m.Crises.Sweep(ctx, now)
	if err != nil {
		errs = append(errs, fmt.Errorf("monitor: crisis sweep: %w", err))
	} else {
		rep.ActiveCrises = append(rep.ActiveCrises, active...)
		m.emitCrises(active, now, log)
	}
	topics := make([]string, len(active))
	for i, c := range active {
		topics[i] = c.Topic
	}
	if m.Cases != nil {
		if n, err := m.Cases.CountCases(ctx, care.Open); err != nil {
			errs = append(errs, fmt.Errorf("monitor: count open cases: %w", err))
		} else {
			rep.OpenCases = &n
			m.emit(log, now, nil, emf.Metric{Name: "OpenCases", Unit: emf.Count, Value: float64(n)})
		}
	}
	if m.SLA != nil {
		if rep.SLA, err = m.checkSLA(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Learner != nil {
		if lr, err := m.Learner.Train(ctx, now); err != nil {
			errs = append(errs, fmt.Errorf("monitor: %w", err))
		} else {
			rep.Learning = &lr
		}
	}
	if m.Surveys != nil {
		if rep.Surveys, err = m.sendSurveys(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Rollups != nil {
		if rep.Rollups, err = m.rollUp(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if m.XChat != nil {
		if rep.XChat, err = m.checkXChat(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if m.Approvals != nil {
		if rep.Approvals, err = m.checkApprovals(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if m.FollowUps != nil {
		if rep.FollowUps, err = m.sendFollowUps(ctx, now, log); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		log.ErrorContext(ctx, "monitor: run failed", "error", err.Error())
		return rep, err
	}
	log.InfoContext(ctx, "monitor: run", "active_crises", len(active), "topics", topics)
	return rep, nil
}

func (m *Monitor) emit(log *slog.Logger, now time.Time, dims map[string]string, metrics ...emf.Metric) {
	w := m.Metrics
	if w == nil {
		w = os.Stdout
	}
	if err := emf.Write(w, now, dims, metrics...); err != nil {
		log.Error("monitor: write metrics", "error", err)
	}
}

func (m *Monitor) emitCrises(active []care.CrisisState, now time.Time, log *slog.Logger) {
	open := map[string]bool{}
	for _, c := range active {
		open[c.Topic] = true
	}
	write := func(dims map[string]string, n int) {
		m.emit(log, now, dims, emf.Metric{Name: "ActiveCrises", Unit: emf.Count, Value: float64(n)})
	}
	write(nil, len(active))
	for _, t := range m.Topics {
		n := 0
		if open[t] {
			n = 1
		}
		write(map[string]string{"Topic": t}, n)
	}
}

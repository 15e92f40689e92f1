package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/csat"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Satisfaction surveys (issue 7).
//
// Every resolution of a case puts it on the due list (store.MarkSurveyDue). Each
// run reads the due cases resolved between MaxAge and Grace ago, oldest first (at
// most Scan), and sends at most PerRun surveys: a DM, "¿Del 1 al 5, cómo te
// atendimos?" in the case's language (package csat), put on the outbound queue as
// a care.ReplySurvey request for the reply sender, which lints it again and posts
// it once per idempotency key.
//
// A case is surveyed once, and only when: it is still resolved at the resolution
// its due item records (a case reopened within Grace gets none; resolved again,
// it is due again); it had an answer from the brand (a first response, an
// agent's or an automatic one); the customer can receive the brand's DMs (the
// case is a DM case, or the customer has a DM thread with the brand: the thread
// pointer dm#<customer id>); the customer has not opted out of surveys. A
// customer is not surveyed while their DM thread holds a conversation in
// progress (its case open or pending: a "5" there would be ambiguous), while
// another survey of theirs awaits its answer (store.SurveyAnswerWindow), or while
// one of their cases is an open complaint (a survey then would be tone-deaf; a
// complaint about the surveys themselves is an opt-out, see package protocol's
// pipeline): the case stays due, and is tried again by later runs until MaxAge.
// The other cases are handled for good (store.FinishDueSurvey, with the reason).
//
// Exactly once: the run sets survey_sent_at on the case on condition that it is
// not set and the case is still resolved (store.MarkSurveySent); of overlapping
// runs one wins and sends, the others leave the case. The winner then records the
// customer's pending survey (what their answer is matched to), enqueues the
// request and marks the due item handled. Should it stop in between, a later run
// finds survey_sent_at older than Lease on a due item still unhandled and does
// those steps again: the request has a deterministic key
// (care.ReplyKey(case, "survey", care.ReplySurvey)), so the sender posts it once.
//
// Surveys share X's DM limit (15 per 15 minutes) with the agents' DMs: no survey
// is sent while the current send window holds DMsPerWindow DMs or more, so that
// a morning of resolutions does not make the agents' DMs wait. Each run emits
// SurveysSent (Count), 0 included.

// Defaults of Surveys.
const (
	DefaultSurveyGrace        = 10 * time.Minute
	DefaultSurveyMaxAge       = 3 * 24 * time.Hour
	DefaultSurveyLease        = 5 * time.Minute
	DefaultSurveysPerRun      = 5
	DefaultSurveyScan         = 100
	DefaultSurveyDMsPerWindow = 5
)

// SurveyTrigger is the TriggerID of survey requests.
const SurveyTrigger = "survey"

const (
	// dmSends is the send-budget kind of DMs (sender.KindDM).
	dmSends = "dm"
	// complaintLookback and maxComplaintCases bound the search for the
	// customer's open complaints: their cases opened in the last 30 days, the 10
	// newest.
	complaintLookback = 30 * 24 * time.Hour
	maxComplaintCases = 10
)

// Outcomes of a due case, as counted in SurveyReport.
const (
	SurveySent          = "sent"
	SurveyGone          = "gone"             // the case does not exist
	SurveyAnswered      = "answered"         // it has a score already
	SurveyReopened      = "reopened"         // not resolved at that resolution any more
	SurveyUnanswered    = "unanswered"       // the brand never answered the case
	SurveyNoCustomer    = "no_customer"      // no X user id to DM
	SurveyOptedOut      = "opted_out"        // the customer opted out of surveys
	SurveyNoDM          = "no_dm"            // the customer has no DM thread with the brand
	SurveyLintFailed    = "lint_failed"      // the survey text fails the reply linter
	SurveyInProgress    = "in_progress"      // another run is sending it (waits)
	SurveyDMActive      = "dm_active"        // a DM conversation is in progress (waits)
	SurveyPending       = "survey_pending"   // another survey awaits its answer (waits)
	SurveyOpenComplaint = "open_complaint"   // the customer has an open complaint (waits)
	surveyBudgetPaused  = "dm_budget_in_use" // SurveyReport.Paused
)

// SurveyStore is what the survey step reads and writes (*store.Store implements
// it).
type SurveyStore interface {
	DueSurveys(ctx context.Context, from, to time.Time, limit int) ([]store.DueSurvey, error)
	FinishDueSurvey(ctx context.Context, d store.DueSurvey, outcome string, at time.Time) error
	GetCaseItem(ctx context.Context, id string) (*care.Case, error)
	DMThreadCase(ctx context.Context, customerID string) (*care.Case, error)
	CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error)
	OptedOut(ctx context.Context, customerID string) (bool, error)
	LatestSurvey(ctx context.Context, customerID string) (*store.SentSurvey, error)
	MarkSurveySent(ctx context.Context, caseID string, resolvedAt, at time.Time) (bool, error)
	RecordSurveySent(ctx context.Context, sv store.SentSurvey) error
	SendsIn(ctx context.Context, kind string, windowStart time.Time) (int, error)
}

// Outbox is the outbound queue of reply requests (*queue.Sender implements it).
type Outbox interface {
	EnqueueReplies(ctx context.Context, replies []care.ReplyRequest) error
}

// Surveys sends the satisfaction surveys of resolved cases. Store and Outbox are
// required; the other fields have defaults.
type Surveys struct {
	Store  SurveyStore
	Outbox Outbox
	// Langs are the languages surveys are written in (the protocol's langs); a
	// case in another language is surveyed in DefaultLang.
	Langs       []string
	DefaultLang string
	// Signature signs the surveys, per language (the protocol's signatures).
	Signature map[string]string
	// Linter, when set, checks each survey as the sender will (a survey failing
	// it is not sent, and the error logged).
	Linter *protocol.Linter
	// Grace is how long after its resolution a case is surveyed (a case reopened
	// within it gets no survey); MaxAge how long it stays due.
	Grace, MaxAge time.Duration
	// Lease is how long a survey marked sent may take to be enqueued before a
	// later run finishes it; keep it above the function's timeout.
	Lease time.Duration
	// PerRun bounds the surveys sent per run, Scan the due cases read per run.
	PerRun, Scan int
	// DMsPerWindow is the number of DMs in the current send window (of X's 15)
	// from which surveys wait for the next window.
	DMsPerWindow int
	// Now, when set, is the clock of this step instead of the run's (the local
	// dev system's cases live on the fake X clock).
	Now func() time.Time
}

// SurveyReport is what a run's survey step did.
type SurveyReport struct {
	// Due counts the due cases read.
	Due int `json:"due"`
	// Sent lists the cases surveyed by this run.
	Sent []string `json:"sent"`
	// Skipped counts, by outcome, the due cases handled for good without a survey;
	// Waiting those left due for a later run.
	Skipped map[string]int `json:"skipped,omitempty"`
	Waiting map[string]int `json:"waiting,omitempty"`
	// Paused says why the run sent no survey at all ("" when it tried).
	Paused string `json:"paused,omitempty"`
}

// sendSurveys runs the survey step and emits SurveysSent.
func (m *Monitor) sendSurveys(ctx context.Context, now time.Time, log *slog.Logger) (*SurveyReport, error) {
	s := m.Surveys
	if s.Now != nil {
		now = s.Now().UTC()
	}
	rep, err := s.run(ctx, now, log)
	m.emit(log, now, nil, emf.Metric{Name: "SurveysSent", Unit: emf.Count, Value: float64(len(rep.Sent))})
	if err != nil {
		return rep, fmt.Errorf("monitor: surveys: %w", err)
	}
	return rep, nil
}

func (s *Surveys) run(ctx context.Context, now time.Time, log *slog.Logger) (*SurveyReport, error) {
	rep := &SurveyReport{Sent: []string{}, Skipped: map[string]int{}, Waiting: map[string]int{}}
	if s.Store == nil || s.Outbox == nil {
		return rep, errors.New("the survey step needs a store and an outbox")
	}
	dms, err := s.Store.SendsIn(ctx, dmSends, store.SendWindowStart(now))
	if err != nil {
		return rep, err
	}
	if dms >= positive(s.DMsPerWindow, DefaultSurveyDMsPerWindow) {
		rep.Paused = surveyBudgetPaused
		log.InfoContext(ctx, "monitor: surveys wait for the next send window", "dms_in_window", dms)
		return rep, nil
	}
	due, err := s.Store.DueSurveys(ctx, now.Add(-orDuration(s.MaxAge, DefaultSurveyMaxAge)), now.Add(-orDuration(s.Grace, DefaultSurveyGrace)), positive(s.Scan, DefaultSurveyScan))
	if err != nil {
		return rep, err
	}
	rep.Due = len(due)
	var errs []error
	for _, d := range due {
		if len(rep.Sent) >= positive(s.PerRun, DefaultSurveysPerRun) {
			break
		}
		outcome, final, err := s.one(ctx, d, now, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", d.CaseID, err))
			continue
		}
		if !final {
			rep.Waiting[outcome]++
			continue
		}
		if err := s.Store.FinishDueSurvey(ctx, d, outcome, now); err != nil {
			errs = append(errs, err) // the case is due again next run, and settled again
		}
		if outcome == SurveySent {
			rep.Sent = append(rep.Sent, d.CaseID)
		} else {
			rep.Skipped[outcome]++
		}
	}
	if len(rep.Sent) > 0 {
		log.InfoContext(ctx, "monitor: surveys sent", "cases", rep.Sent)
	}
	return rep, errors.Join(errs...)
}

// one settles a due case: it returns the outcome, and whether it is final (the
// due item is handled) or the case waits for a later run.
func (s *Surveys) one(ctx context.Context, d store.DueSurvey, now time.Time, log *slog.Logger) (string, bool, error) {
	c, err := s.Store.GetCaseItem(ctx, d.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return SurveyGone, true, nil
	}
	if err != nil {
		return "", false, err
	}
	switch {
	case c.CSAT != nil:
		return SurveyAnswered, true, nil
	case c.SurveySentAt != nil:
		if now.Sub(*c.SurveySentAt) < orDuration(s.Lease, DefaultSurveyLease) {
			return SurveyInProgress, false, nil
		}
		// A run marked it and stopped before finishing: finish it.
		req, ok := s.request(c, *c.SurveySentAt, log)
		if !ok {
			return SurveyLintFailed, true, nil
		}
		return SurveySent, true, s.send(ctx, c, req)
	case c.Status != care.Resolved || c.ResolvedAt == nil || !c.ResolvedAt.Equal(d.ResolvedAt):
		return SurveyReopened, true, nil
	case c.FirstResponseAt == nil:
		return SurveyUnanswered, true, nil
	case !care.IsID(c.CustomerID):
		return SurveyNoCustomer, true, nil
	}
	if out, ok, err := s.reachable(ctx, c, now); err != nil || !ok {
		return out, out != SurveyDMActive && out != SurveyPending && out != SurveyOpenComplaint, err
	}
	req, ok := s.request(c, now, log)
	if !ok {
		return SurveyLintFailed, true, nil
	}
	won, err := s.Store.MarkSurveySent(ctx, c.ID, d.ResolvedAt, now)
	if err != nil {
		return "", false, err
	}
	if !won {
		return SurveyInProgress, false, nil // another run, or the case changed: read again next run
	}
	return SurveySent, true, s.send(ctx, c, req)
}

// reachable checks that the customer can and may be surveyed now. It returns the
// outcome and false when not.
func (s *Surveys) reachable(ctx context.Context, c *care.Case, now time.Time) (string, bool, error) {
	out, err := s.Store.OptedOut(ctx, c.CustomerID)
	if err != nil || out {
		return SurveyOptedOut, false, err
	}
	dm, err := s.Store.DMThreadCase(ctx, c.CustomerID)
	switch {
	case err != nil:
		return "", false, err
	case dm == nil && c.Channel != care.DM:
		return SurveyNoDM, false, nil
	case dm != nil && dm.ID != c.ID && dm.Status != care.Resolved:
		return SurveyDMActive, false, nil
	}
	sv, err := s.Store.LatestSurvey(ctx, c.CustomerID)
	if err != nil {
		return "", false, err
	}
	if sv != nil && sv.CaseID != c.ID && sv.AnsweredAt == nil && now.Sub(sv.SentAt) < store.SurveyAnswerWindow {
		return SurveyPending, false, nil
	}
	ids, err := s.Store.CustomerCases(ctx, c.CustomerID, now.Add(-complaintLookback))
	if err != nil {
		return "", false, err
	}
	read := 0
	for i := len(ids) - 1; i >= 0 && read < maxComplaintCases; i-- {
		if ids[i] == c.ID {
			continue
		}
		read++
		o, err := s.Store.GetCaseItem(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		if o.Status != care.Resolved && o.Intent == string(classify.IntentComplaint) {
			return SurveyOpenComplaint, false, nil
		}
	}
	return "", true, nil
}

// request returns the survey of case c, sent at at; false when it fails the
// linter.
func (s *Surveys) request(c *care.Case, at time.Time, log *slog.Logger) (care.ReplyRequest, bool) {
	lang := c.Lang
	if lang == "" || (len(s.Langs) > 0 && !slices.Contains(s.Langs, lang)) {
		lang = s.DefaultLang
	}
	text := csat.Survey(lang, s.DefaultLang, s.Signature[lang])
	req := care.ReplyRequest{
		Version:        care.ReplyVersion,
		IdempotencyKey: care.ReplyKey(c.ID, SurveyTrigger, care.ReplySurvey),
		CaseID:         c.ID,
		TriggerID:      SurveyTrigger,
		Channel:        care.DM,
		RecipientID:    c.CustomerID,
		Text:           text,
		Lang:           lang,
		Kind:           care.ReplySurvey,
		Author:         care.AuthorAuto,
		TemplateID:     "survey." + lang,
		CreatedAt:      at.UTC(),
	}
	if s.Linter != nil {
		res := s.Linter.Lint(protocol.ReplyDraft{Text: text, Channel: care.DM, Lang: lang, Automatic: true, CustomerID: c.CustomerID})
		req.Warnings = res.WarningStrings()
		if !res.OK() {
			log.Error("monitor: the survey fails the reply linter: fix the signature or the linter's words", "case_id", c.ID, "lang", lang, "text", text, "errors", fmt.Sprint(res.Errors))
			return req, false
		}
	}
	if err := req.Validate(); err != nil {
		log.Error("monitor: invalid survey", "case_id", c.ID, "error", err.Error())
		return req, false
	}
	return req, true
}

// send records the customer's pending survey, then enqueues it.
func (s *Surveys) send(ctx context.Context, c *care.Case, req care.ReplyRequest) error {
	sv := store.SentSurvey{CustomerID: c.CustomerID, CaseID: c.ID, Lang: req.Lang, SentAt: req.CreatedAt}
	if err := s.Store.RecordSurveySent(ctx, sv); err != nil {
		return err
	}
	if err := s.Outbox.EnqueueReplies(ctx, []care.ReplyRequest{req}); err != nil {
		return fmt.Errorf("enqueue the survey: %w", err)
	}
	return nil
}

func positive(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

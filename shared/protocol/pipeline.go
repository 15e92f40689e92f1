package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/csat"
	"github.com/pajarito-care/pajarito/shared/emf"
)

// CaseStore is what the pipeline reads and writes about cases (store.Store
// implements it).
type CaseStore interface {
	GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error)
	// SetTriage records the protocol's triage of the case's newest message:
	// priority, department, labels and crisis topic (the agents' queue filters on
	// them); fields an agent overrode keep the agent's value.
	SetTriage(ctx context.Context, caseID string, t care.Triage) (*care.Case, error)
	// RecordDecision stores a decision record with its case (idempotent per message).
	RecordDecision(ctx context.Context, d *care.DecisionRecord) error
	// LastAutoReply returns when the case last got an automatic reply (zero: never)
	// and the message that triggered it.
	LastAutoReply(ctx context.Context, caseID string) (time.Time, string, error)
	// ClaimAutoReply records an automatic reply to the case at at, triggered by
	// messageID, unless another was recorded within cooldown before at (a
	// conditional write: of concurrent claims, one wins). Claiming again for the
	// same message succeeds (redelivery).
	ClaimAutoReply(ctx context.Context, caseID, messageID string, at time.Time, cooldown time.Duration) (bool, error)
	// TrackCustomerCase records that the customer has the case (idempotent).
	TrackCustomerCase(ctx context.Context, customerID, caseID string, at time.Time) error
	// CustomerCases returns the ids of the customer's cases opened since since.
	CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error)
}

// SurveyAnswers recognises the customers' answers to satisfaction surveys
// (package monitor sends them). The pipeline uses it when its CaseStore
// implements it too (store.Store does).
type SurveyAnswers interface {
	// PendingSurvey returns the case whose survey the customer may be answering
	// with a message written at at, and the language it was written in; "" when
	// none.
	PendingSurvey(ctx context.Context, customerID string, at time.Time) (caseID, lang string, err error)
	// AnswerSurvey takes message m, just stored in case c, as the answer (score
	// 1–5) to the survey of case surveyed, unless m belongs to a conversation in
	// progress (answer false). An answer stores the score on the surveyed case
	// when it is the first (recorded) and puts c back as it was before m (still
	// resolved).
	AnswerSurvey(ctx context.Context, surveyed string, c *care.Case, m *care.StoredMessage, score int) (answer, recorded bool, err error)
	// OptOutOfSurveys records that the customer never wants a survey again.
	OptOutOfSurveys(ctx context.Context, customerID, messageID string, at time.Time) error
}

// Labeler classifies messages: the rules combined with the model learned from
// the agents' corrections (*learn.Labeler, which may read the model from the
// store with ctx), or the rules alone (Rules).
type Labeler interface {
	Classify(ctx context.Context, in classify.Input) classify.Result
}

// Rules is the Labeler of c's rules alone.
func Rules(c *classify.Classifier) Labeler { return rules{c} }

type rules struct{ c *classify.Classifier }

func (r rules) Classify(_ context.Context, in classify.Input) classify.Result {
	return r.c.Classify(in)
}

// Outbox is the outbound queue of reply requests.
type Outbox interface {
	EnqueueReplies(ctx context.Context, replies []care.ReplyRequest) error
}

// Pipeline classifies, prioritises, routes and applies the protocol to each message
// newly stored in a case: it is what follows the processor's store (its Handle
// method implements intake.Pipeline). Engine and Cases are required.
type Pipeline struct {
	Engine *Engine
	// Classifier labels messages; nil means classify.Default().
	Classifier Labeler
	Cases      CaseStore
	// Crisis detects crises; nil turns detection off.
	Crisis *Monitor
	// Outbox receives the reply requests; nil records them without sending.
	Outbox Outbox
	// Notifier receives escalations; nil logs them.
	Notifier care.Notifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics receives the Embedded Metric Format lines (Messages by Intent, one
	// per message decided); nil means os.Stdout, where Lambda's log is.
	Metrics io.Writer
}

// Handle implements the processor's seam (intake.Pipeline): Process, whose
// decision is in the store.
func (p *Pipeline) Handle(ctx context.Context, c *care.Case, m *care.StoredMessage) error {
	_, err := p.Process(ctx, c, m)
	return err
}

// Process decides on message m of case c and carries the decision out: crisis
// counters, the automatic-reply claim, the decision record, the case's priority and
// department, the reply requests, the escalation. The brand's own messages are
// skipped (a zero Decision). Each step that fails is reported; the steps after a
// failed one still run when they can, so that a message is never left without a
// decision record when the record can be written.
//
// A DM from a customer whose survey awaits an answer (SurveyAnswers) is read as
// an answer first, in the survey's language (csat.Parse). A score, in a DM thread
// that was quiet (the DM reopened its resolved case, or opened one), is the
// answer: it is stored on the surveyed case, the case the DM landed in is put
// back as resolved (an answer is no reopen: store.Store.AnswerSurvey), the CSAT
// and SurveyAnswers metrics are emitted, and the decision record says so; nothing
// else is done (no automatic reply, no triage, no crisis count). An opt-out ("no
// more surveys") is stored, and the message then goes through the protocol like
// any other, for the agents to see; so does a DM without a score.
func (p *Pipeline) Process(ctx context.Context, c *care.Case, m *care.StoredMessage) (Decision, error) {
	if p.Engine == nil || p.Cases == nil {
		return Decision{}, errors.New("protocol: the pipeline needs an engine and a case store")
	}
	if c == nil || m == nil {
		return Decision{}, fmt.Errorf("%w: no case or message", ErrBadInput)
	}
	if m.Direction == care.Outbound {
		return Decision{}, nil
	}
	now := p.now()
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	var errs []error
	fail := func(step string, err error) {
		errs = append(errs, fmt.Errorf("protocol: %s (case %s, message %s): %w", step, c.ID, m.ID, err))
	}

	labels := p.labels(ctx, &m.Message)

	if sa, ok := p.Cases.(SurveyAnswers); ok && m.Channel == care.DM {
		if d, answered := p.surveyAnswer(ctx, sa, c, m, &labels, now, log, fail); answered {
			return d, errors.Join(errs...)
		}
	}

	in := Input{Case: *c, Message: *m, Labels: labels, Now: now}
	p.readHistory(ctx, c, &in, fail)
	p.trackCustomer(ctx, c, &in, fail)
	p.observeCrisis(ctx, &in, fail)
	d, err := p.decide(ctx, c, &in, fail)
	if err != nil {
		return d, errors.Join(append(errs, err)...)
	}
	p.carryOut(ctx, c, &in, &d, log, fail)
	return d, errors.Join(errs...)
}

// readHistory reads what Decide needs to know of case c into in: the case as
// stored, its messages, and when it last got an automatic reply.
func (p *Pipeline) readHistory(ctx context.Context, c *care.Case, in *Input, fail func(string, error)) {
	if cs, msgs, err := p.Cases.GetCase(ctx, c.ID); err != nil {
		fail("read the case", err)
	} else {
		in.Case, in.History.Messages = *cs, msgs
	}
	if at, trigger, err := p.Cases.LastAutoReply(ctx, c.ID); err != nil {
		fail("read the last automatic reply", err)
		in.History.LastAutoReplyAt = in.Now // unknown: do not risk a second reply
	} else if trigger != in.Message.ID {
		// This message's own claim (a redelivery after a crash between the claim
		// and the reply's queueing) is no earlier reply: decide it again, and
		// the reply's idempotency key keeps it from going out twice.
		in.History.LastAutoReplyAt = at
	}
}

// trackCustomer counts the customer's other cases of the repeat window into in,
// and records that the customer has case c.
func (p *Pipeline) trackCustomer(ctx context.Context, c *care.Case, in *Input, fail func(string, error)) {
	customer := c.CustomerID
	if customer == "" {
		return
	}
	// The case is tracked once: a follow-up finds it among the customer's
	// cases and writes nothing (a case older than the window is tracked
	// again, which writes the same item).
	tracked := false
	if ids, err := p.Cases.CustomerCases(ctx, customer, in.Now.Add(-p.Engine.Config().RepeatWindow.Std())); err != nil {
		fail("read the customer's cases", err)
	} else {
		for _, id := range ids {
			if id != c.ID {
				in.History.PreviousCases++
			} else {
				tracked = true
			}
		}
	}
	if !tracked {
		if err := p.Cases.TrackCustomerCase(ctx, customer, c.ID, c.CreatedAt); err != nil {
			fail("track the customer's case", err)
		}
	}
}

// observeCrisis counts the message towards the crisis topics it is about, and
// puts the crisis states into in.
func (p *Pipeline) observeCrisis(ctx context.Context, in *Input, fail func(string, error)) {
	if p.Crisis == nil {
		return
	}
	m := &in.Message
	states, err := p.Crisis.Observe(ctx, in.Now, m.CreatedAt, p.Engine.CrisisTopics(&m.Message, &in.Labels))
	if err != nil {
		fail("crisis detection", err)
	}
	in.Crises = states
}

// decide decides on the message of in, and claims its automatic reply: a crisis
// reply from the crisis window's allowance, and the case's cooldown. A claim that
// fails makes it decide again, without the reply.
func (p *Pipeline) decide(ctx context.Context, c *care.Case, in *Input, fail func(string, error)) (Decision, error) {
	d, err := p.Engine.Decide(ctx, *in)
	if err != nil {
		return d, err
	}
	if len(d.Replies) > 0 && d.Replies[0].Kind == care.ReplyCrisis && p.Crisis != nil {
		ok, err := p.Crisis.ClaimReply(ctx, d.CrisisTopic, in.Now)
		if err != nil || !ok {
			if err != nil {
				fail("claim a crisis reply", err)
			}
			in.CrisisRepliesFull = true
			if d, err = p.Engine.Decide(ctx, *in); err != nil {
				return d, err
			}
		}
	}
	if len(d.Replies) > 0 {
		ok, err := p.Cases.ClaimAutoReply(ctx, c.ID, in.Message.ID, in.Now, p.Engine.Config().AutoReplyCooldown.Std())
		if err != nil || !ok {
			if err != nil {
				fail("claim the automatic reply", err)
			}
			// Another message of the case got its automatic reply first (or the
			// claim could not be made): decide again knowing it.
			in.History.LastAutoReplyAt = in.Now
			if d, err = p.Engine.Decide(ctx, *in); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

// carryOut carries decision d on the message of in, of case c, out: it records
// the decision, writes the metrics, sets the case's triage, enqueues the replies
// and notifies an escalation.
func (p *Pipeline) carryOut(ctx context.Context, c *care.Case, in *Input, d *Decision, log *slog.Logger, fail func(string, error)) {
	recorded := true
	if err := p.Cases.RecordDecision(ctx, &d.Record); err != nil {
		fail("record the decision", err)
		recorded = false
	}
	if err := emf.Write(p.metrics(), in.Now, map[string]string{"Intent": string(in.Labels.Intent)}, emf.Metric{Name: "Messages", Unit: emf.Count, Value: 1}); err != nil {
		log.ErrorContext(ctx, "protocol: write metrics", "error", err.Error())
	}
	if _, err := p.Cases.SetTriage(ctx, c.ID, triageOf(*d, &in.Labels, c)); err != nil {
		fail("set the triage", err)
	}
	// A reply goes out with its decision on record (the agents see why it was
	// sent): without it, the processor's retry decides again and sends it.
	if len(d.Replies) > 0 && p.Outbox != nil && recorded {
		if err := p.Outbox.EnqueueReplies(ctx, d.Replies); err != nil {
			fail("enqueue the replies", err)
		}
	}
	if d.Escalate {
		n := p.Notifier
		if n == nil {
			n = care.LogNotifier{Log: log}
		}
		a := care.Alert{Kind: care.AlertEscalation, CaseID: c.ID, Message: in.Message.ID, At: in.Now, Summary: fmt.Sprintf("grave case %s (priority %d, %s): %s", c.ID, d.Priority.Score, d.Route.Department, actionWhy(d.Actions, care.ActionEscalate))}
		if err := n.Notify(ctx, a); err != nil {
			fail("notify the escalation", err)
		}
	}
}

// metrics is where the pipeline writes its metrics: Metrics, else os.Stdout.
func (p *Pipeline) metrics() io.Writer {
	if p.Metrics != nil {
		return p.Metrics
	}
	return os.Stdout
}

// now is the pipeline's clock, in UTC.
func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// labels classifies m; an X Chat message Pajarito cannot read has no words to
// classify, and no labels.
func (p *Pipeline) labels(ctx context.Context, m *care.Message) classify.Result {
	if m.Encrypted() {
		return classify.Result{}
	}
	return p.labeler().Classify(ctx, classify.InputFrom(m))
}

// labeler is the pipeline's classifier: Classifier, else classify.Default().
func (p *Pipeline) labeler() Labeler {
	if p.Classifier != nil {
		return p.Classifier
	}
	return Rules(classify.Default())
}

// triageOf is what decision d on a message labelled labels sets on case c. The
// case keeps its most serious intent; its sentiment is the latest. A message that
// matches no routing rule ("gracias") leaves the case in its department: the
// default queue is for cases that have none.
func triageOf(d Decision, labels *classify.Result, c *care.Case) care.Triage {
	intent := labels.Intent
	if was := classify.Intent(c.Intent); was.Severity() > intent.Severity() {
		intent = was
	}
	dept := d.Route.Department
	if d.Route.Rule == "" && c.Department != "" {
		dept = ""
	}
	priority := d.Priority.Score
	return care.Triage{Priority: &priority, Department: dept,
		Intent: string(intent), Sentiment: string(labels.Sentiment), CrisisTopic: d.CrisisTopic}
}

// InitialTriage is the triage of the case that inbound message m opens, decided
// from m, the customer's other cases and the open crises (two Queries; nothing
// written). The processor creates the case with it (store.Store.AppendTriaged),
// so that the case enters the agents' queue at its place, and Process, which
// decides again, most often has nothing to change: a case ranked after its
// creation costs three write units more (the item, and its queue index entry
// moved). It returns the zero Triage (the store's defaults) for the brand's own
// messages or when the engine cannot decide.
func (p *Pipeline) InitialTriage(ctx context.Context, m *care.Message) care.Triage {
	if p.Engine == nil || m == nil || m.Direction != care.Inbound {
		return care.Triage{}
	}
	now := p.now()
	labels := p.labels(ctx, m)
	c := care.Case{
		ID: "initial", Channel: m.Channel, Status: care.Open, ThreadKey: care.ThreadKey(m, m.ConversationID),
		CustomerID: m.Customer(), CustomerHandle: m.AuthorHandle, Lang: m.Lang, Priority: care.DefaultPriority,
		MessagesIn: 1, CreatedAt: now, UpdatedAt: now, FirstInboundAt: m.CreatedAt, LastInboundAt: m.CreatedAt,
		WaitingSince: m.CreatedAt, Summoned: m.Summoned,
	}
	sm := care.StoredMessage{Message: *m, CaseID: c.ID, StoredAt: now}
	in := Input{Case: c, Message: sm, Labels: labels, Now: now, History: History{Messages: []care.StoredMessage{sm}}}
	// What Process will know too; a read that fails only makes the estimate
	// rougher, and Process ranks the case again.
	if p.Cases != nil && c.CustomerID != "" {
		if ids, err := p.Cases.CustomerCases(ctx, c.CustomerID, now.Add(-p.Engine.Config().RepeatWindow.Std())); err == nil {
			in.History.PreviousCases = len(ids)
		}
	}
	if p.Crisis != nil {
		if states, err := p.Crisis.States(ctx); err == nil {
			in.Crises = active(states)
		}
	}
	d, err := p.Engine.Decide(ctx, in)
	if err != nil {
		return care.Triage{}
	}
	return triageOf(d, &labels, &c)
}

func actionWhy(as []care.Action, k care.ActionKind) string {
	for _, a := range as {
		if a.Kind == k {
			return a.Why
		}
	}
	return ""
}

// surveyAnswer reads DM m as an answer to the customer's pending survey. It
// reports whether m was the answer, and then what was decided.
func (p *Pipeline) surveyAnswer(ctx context.Context, sa SurveyAnswers, c *care.Case, m *care.StoredMessage, labels *classify.Result, now time.Time, log *slog.Logger, fail func(string, error)) (Decision, bool) {
	surveyed, lang, err := sa.PendingSurvey(ctx, m.AuthorID, m.CreatedAt)
	if err != nil {
		fail("read the customer's pending survey", err)
		return Decision{}, false
	}
	if surveyed == "" {
		return Decision{}, false
	}
	if lang == "" {
		lang = m.Lang
	}
	a := csat.Parse(m.Text, lang)
	if a.OptOut {
		if err := sa.OptOutOfSurveys(ctx, m.AuthorID, m.ID, m.CreatedAt); err != nil {
			fail("record the opt-out of surveys", err)
		}
		log.InfoContext(ctx, "protocol: the customer opted out of surveys", "case_id", c.ID, "message_id", m.ID, "surveyed_case", surveyed)
		return Decision{}, false
	}
	if a.Score < 1 || a.Score > 5 {
		return Decision{}, false
	}
	answer, recorded, err := sa.AnswerSurvey(ctx, surveyed, c, m, a.Score)
	if err != nil {
		fail("record the survey answer", err)
	}
	if !answer {
		return Decision{}, false
	}
	var why string
	if recorded {
		why = fmt.Sprintf("the customer's answer to the satisfaction survey of case %s: %d of 5, stored with that case", surveyed, a.Score)
		if err := emf.Write(p.metrics(), now, nil,
			emf.Metric{Name: "CSAT", Unit: emf.None, Value: float64(a.Score)},
			emf.Metric{Name: "SurveyAnswers", Unit: emf.Count, Value: 1}); err != nil {
			log.ErrorContext(ctx, "protocol: write metrics", "error", err.Error())
		}
	} else {
		why = fmt.Sprintf("another answer to the satisfaction survey of case %s (%d of 5); the first answer is kept", surveyed, a.Score)
	}
	d := Decision{
		Priority: Priority{Score: c.Priority},
		Route:    Route{Department: c.Department, Why: "unchanged: a survey answer"},
		Actions:  []care.Action{{Kind: care.ActionNone, Why: why}},
	}
	d.Record = care.DecisionRecord{
		CaseID: c.ID, MessageID: m.ID, DecidedAt: now, Tier: string(p.Engine.Config().Tier),
		Labels: Labels(labels), Priority: c.Priority, Department: c.Department, DepartmentWhy: d.Route.Why,
		Actions: d.Actions,
		Explanation: []string{
			"Survey answer: " + why + ".",
			"No automatic reply, no triage: the case the answer landed in is put back as resolved, not reopened for the agents.",
		},
	}
	if err := p.Cases.RecordDecision(ctx, &d.Record); err != nil {
		fail("record the decision", err)
	}
	return d, true
}

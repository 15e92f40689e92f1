package protocol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// Engine applies the care protocol. Build it once with New; it is read-only and
// safe for concurrent use.
type Engine struct {
	cp *compiled
}

// New validates cfg and returns its engine.
func New(cfg Config) (*Engine, error) {
	cp, errs := compile(&cfg)
	if len(errs) > 0 {
		return nil, joinFieldErrors(errs)
	}
	return &Engine{cp: cp}, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cp.cfg }

// Linter returns the engine's reply linter.
func (e *Engine) Linter() *Linter { return e.cp.linter }

// Hours returns the brand's business hours.
func (e *Engine) Hours() *Hours { return e.cp.hours }

// Router returns the engine's router.
func (e *Engine) Router() *Router { return e.cp.router }

// Priority computes a priority with the configured weights.
func (e *Engine) Priority(in PriorityInput) Priority { return e.cp.cfg.Priority.Priority(in) }

// History is what the protocol needs to know of a case's past.
type History struct {
	// LastAutoReplyAt is when the case last got an automatic reply (zero: never).
	LastAutoReplyAt time.Time
	// PreviousCases counts the customer's other cases within the repeat window.
	PreviousCases int
	// Messages of the case, oldest first (the linter looks in them for personal
	// data and DM text). May be empty.
	Messages []care.StoredMessage
}

// Input is one message to decide on.
type Input struct {
	Case    care.Case
	History History
	// Message is the message newly stored in the case.
	Message care.StoredMessage
	// Labels is the message's classification.
	Labels classify.Result
	Now    time.Time
	// Tier overrides the configured tier when set.
	Tier Tier
	// Crises are the crisis states (only the active ones matter).
	Crises []care.CrisisState
	// CrisisRepliesFull is true when the automatic crisis replies of the current
	// window are all taken (see Monitor.ClaimReply): a related case then waits for
	// an agent.
	CrisisRepliesFull bool
}

// Decision is what the protocol decided about a message.
type Decision struct {
	Priority Priority
	Route    Route
	// Actions decided, each with why.
	Actions []care.Action
	// Replies to put on the outbound queue (automatic replies that passed the
	// linter).
	Replies []care.ReplyRequest
	// Escalate is true for grave cases: notify the team.
	Escalate bool
	// CrisisTopic is the open crisis the message belongs to.
	CrisisTopic string
	// Withheld says why an automatic reply the protocol would send was not ("" when
	// none was withheld).
	Withheld string
	// Record is the human-readable record to store with the case.
	Record care.DecisionRecord
}

// ErrBadInput is returned (wrapped) by Decide for an input it cannot decide on.
var ErrBadInput = errors.New("protocol: bad input")

// Labels converts a classification into care.Labels.
func Labels(r *classify.Result) care.Labels {
	l := care.Labels{
		Lang: r.Lang, Intent: string(r.Intent), Sentiment: string(r.Sentiment), Score: r.Score,
		Urgency: string(r.Urgency.Level),
	}
	for _, k := range r.Urgency.Kinds {
		l.UrgencyKinds = append(l.UrgencyKinds, string(k))
	}
	for _, k := range r.PIIKinds() {
		l.PII = append(l.PII, string(k))
	}
	for _, p := range r.PII {
		l.PIIMasked = append(l.PIIMasked, p.Masked)
	}
	for _, x := range r.Reasons {
		l.Reasons = append(l.Reasons, care.LabelReason{Label: x.Label, Value: x.Value, Because: x.Because})
	}
	return l
}

// replyLang is the language of the reply to a message in lang.
func (e *Engine) replyLang(lang string) (string, bool) {
	if slices.Contains(e.cp.cfg.Langs, lang) {
		return lang, false
	}
	return e.cp.cfg.DefaultLang, true
}

// CrisisTopics returns the crisis topics a message counts towards: an inbound
// message of a crisis intent (complaint, incident by default) that mentions a
// topic's keywords.
func (e *Engine) CrisisTopics(m *care.Message, r *classify.Result) []string {
	if m.Direction != care.Inbound || !e.cp.crisisFrom[string(r.Intent)] {
		return nil
	}
	return e.matchTopics(words(m.Text), nil)
}

// matchTopics returns the topics whose keywords ws mentions; only is, when not nil,
// the topics to consider.
func (e *Engine) matchTopics(ws []word, only map[string]bool) []string {
	var out []string
	for i := range e.cp.topics {
		t := &e.cp.topics[i]
		if only != nil && !only[t.Name] {
			continue
		}
		if _, ok := t.keywords.first(ws); ok {
			out = append(out, t.Name)
		}
	}
	return out
}

// Decide applies the protocol to a message newly stored in a case: priority,
// department, and the actions, replies included. It is deterministic: the same
// input gives the same decision (and the same reply idempotency keys). It does not
// write anything: the caller stores the record, sets the priority, claims the
// automatic-reply cooldown and enqueues the replies (see Pipeline).
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	m := &in.Message
	switch {
	case in.Case.ID == "":
		return Decision{}, fmt.Errorf("%w: the case has no id", ErrBadInput)
	case m.ID == "":
		return Decision{}, fmt.Errorf("%w: the message has no id", ErrBadInput)
	case in.Now.IsZero():
		return Decision{}, fmt.Errorf("%w: no time given", ErrBadInput)
	}
	b := decisionBuilder{e: e, cfg: &e.cp.cfg, in: &in, m: m, lbl: &in.Labels, tier: in.Tier}
	if b.tier == "" {
		b.tier = b.cfg.Tier
	}
	if m.Direction == care.Outbound {
		b.d.Priority = Priority{Score: in.Case.Priority}
		b.d.Route = Route{Department: in.Case.Department, Why: "unchanged: a message of the brand"}
		b.act(care.ActionNone, "written by the brand (an agent or an automatic reply): nothing to do")
		b.note("No action: the message was written by the brand.")
		return b.finish(), nil
	}
	if m.Encrypted() {
		b.encrypted()
		return b.finish(), nil
	}

	b.ws = words(m.Text)
	b.public = m.Channel != care.DM
	b.note("Labels: %s.", describeLabels(b.lbl))
	b.priority()
	b.department()
	if b.lbl.Intent == classify.IntentSpam {
		b.act(care.ActionNone, "spam: %s", orElse(b.lbl.Reason("intent"), "the classifier's verdict"))
		b.note("No action: spam (%s). The case stays on record; nobody is notified and nothing is posted.", orElse(b.lbl.Reason("intent"), "the classifier's verdict"))
		return b.finish(), nil
	}
	b.escalate()
	b.crisis()
	b.moveToDM()
	b.chooseReply()
	b.sendReply()
	b.queue()
	return b.finish(), nil
}

// autoReply renders and lints the automatic reply of kind.
func (e *Engine) autoReply(in *Input, kind care.ReplyKind, tmplKind, lang string, grave bool, crisisTopic string) (care.ReplyRequest, LintResult, error) {
	cfg := &e.cp.cfg
	t, ok := cfg.Templates[tmplKind]
	if !ok {
		return care.ReplyRequest{}, LintResult{}, fmt.Errorf("no %s template", tmplKind)
	}
	var tones []string
	if grave {
		tones = append(tones, ToneSerious)
	}
	if in.Labels.Intent == classify.IntentComplaint || in.Labels.Intent == classify.IntentIncident || grave {
		tones = append(tones, ToneApology)
	}
	text, id, usedLang, ok := t.pick(tones, lang, cfg.DefaultLang)
	if !ok {
		return care.ReplyRequest{}, LintResult{}, fmt.Errorf("the %s template has no text in %s or %s", tmplKind, lang, cfg.DefaultLang)
	}
	req, lint := e.renderAuto(in, kind, tmplKind, id, text, usedLang, crisisTopic)
	if lint.OK() {
		if err := req.Validate(); err != nil {
			return req, lint, err
		}
	}
	return req, lint, nil
}

// renderAuto renders text, the text id of the template of tmplKind in
// usedLang, as the automatic reply of kind to in's message, and lints it.
func (e *Engine) renderAuto(in *Input, kind care.ReplyKind, tmplKind, id, text, usedLang, crisisTopic string) (care.ReplyRequest, LintResult) {
	cfg := &e.cp.cfg
	m := &in.Message
	t := cfg.Templates[tmplKind]
	topic := ""
	if kind == care.ReplyCrisis || kind == care.ReplyCrisisFollowUp {
		for _, tp := range cfg.Crisis.Topics {
			if tp.Name == crisisTopic {
				topic = tp.Label[usedLang]
			}
		}
	}
	var statementTime string
	if at := statementAt(in.Crises, crisisTopic); !at.IsZero() {
		statementTime = at.In(e.cp.hours.Location()).Format("15:04")
	}
	body := render(text, values{
		handle: m.AuthorHandle, firstName: firstName(m.AuthorName), hours: e.cp.hoursText(usedLang),
		channels: cfg.Channels[usedLang], signature: cfg.Signature[usedLang], topic: topic, statementTime: statementTime,
	})
	ch := care.Public
	if m.Channel == care.DM {
		ch = care.DM
	}
	msgs := in.History.Messages
	if !slices.ContainsFunc(msgs, func(x care.StoredMessage) bool { return x.ID == m.ID }) {
		msgs = append(slices.Clip(msgs), *m)
	}
	lint := e.cp.linter.Lint(ReplyDraft{
		Text: body, Channel: ch, Lang: usedLang, Intent: in.Labels.Intent, Automatic: true,
		AllowLinks: t.AllowLinks || cfg.AllowLinks, CustomerID: m.AuthorID,
		Messages: msgs, Known: map[string]*classify.Result{m.ID: &in.Labels},
	})
	req := care.ReplyRequest{
		Version:        care.ReplyVersion,
		IdempotencyKey: care.ReplyKey(in.Case.ID, m.ID, kind),
		CaseID:         in.Case.ID,
		TriggerID:      m.ID,
		Channel:        ch,
		Text:           body,
		Lang:           usedLang,
		Kind:           kind,
		Author:         care.AuthorAuto,
		TemplateID:     tmplKind + "." + id,
		Summoned:       m.Summoned,
		CreatedAt:      in.Now.UTC(),
	}
	if ch == care.Public {
		req.InReplyToID = m.ID
	} else {
		req.RecipientID = m.AuthorID
	}
	req.Warnings = lint.WarningStrings()
	return req, lint
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func describeLabels(r *classify.Result) string {
	s := fmt.Sprintf("language %s, intent %s, sentiment %s (%.2f), urgency %s", orElse(r.Lang, "?"), orElse(string(r.Intent), "?"), orElse(string(r.Sentiment), "?"), r.Score, orElse(string(r.Urgency.Level), "none"))
	if len(r.Urgency.Kinds) > 0 {
		kinds := make([]string, len(r.Urgency.Kinds))
		for i, k := range r.Urgency.Kinds {
			kinds[i] = string(k)
		}
		s += " (" + strings.Join(kinds, ", ") + ")"
	}
	if len(r.PII) > 0 {
		kinds := make([]string, 0, len(r.PII))
		for _, k := range r.PIIKinds() {
			kinds = append(kinds, string(k))
		}
		s += ", personal data: " + strings.Join(kinds, ", ")
	}
	return s
}

func describeFactors(fs []care.Factor) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		if f.Factor == "base" {
			parts[i] = fmt.Sprintf("base %d", f.Points)
			continue
		}
		parts[i] = fmt.Sprintf("%s %+d", f.Because, f.Points)
	}
	return strings.Join(parts, ", ")
}

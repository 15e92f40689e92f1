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
	cfg := &e.cp.cfg
	tier := in.Tier
	if tier == "" {
		tier = cfg.Tier
	}
	lbl := &in.Labels
	var d Decision
	var why []string
	note := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }
	act := func(k care.ActionKind, format string, args ...any) {
		d.Actions = append(d.Actions, care.Action{Kind: k, Why: fmt.Sprintf(format, args...)})
	}
	finish := func() (Decision, error) {
		d.Record = care.DecisionRecord{
			CaseID: in.Case.ID, MessageID: m.ID, DecidedAt: in.Now.UTC(), Tier: string(tier),
			Labels: Labels(lbl), Priority: d.Priority.Score, PriorityFactors: d.Priority.Factors,
			Department: d.Route.Department, DepartmentWhy: d.Route.Why, Actions: d.Actions,
			Replies: d.Replies, CrisisTopic: d.CrisisTopic, Explanation: why,
		}
		return d, nil
	}

	if m.Direction == care.Outbound {
		d.Priority = Priority{Score: in.Case.Priority}
		d.Route = Route{Department: in.Case.Department, Why: "unchanged: a message of the brand"}
		act(care.ActionNone, "written by the brand (an agent or an automatic reply): nothing to do")
		note("No action: the message was written by the brand.")
		return finish()
	}

	ws := words(m.Text)
	public := m.Channel != care.DM
	note("Labels: %s.", describeLabels(lbl))

	// Priority.
	waitFrom := m.CreatedAt
	if in.Case.Status == care.Open && !in.Case.WaitingSince.IsZero() && in.Case.WaitingSince.Before(waitFrom) {
		waitFrom = in.Case.WaitingSince
	}
	d.Priority = cfg.Priority.Priority(PriorityInput{
		Intent: lbl.Intent, Sentiment: lbl.Sentiment, Score: lbl.Score, Urgency: lbl.Urgency,
		Waiting: max(0, in.Now.Sub(waitFrom)), Followers: m.AuthorFollowers, Verified: m.AuthorVerified,
		PreviousCases: in.History.PreviousCases, PublicPII: public && len(lbl.PII) > 0,
	})
	note("Priority %d: %s.", d.Priority.Score, describeFactors(d.Priority.Factors))

	// Department.
	d.Route = e.cp.router.Route(RouteInput{Text: m.Text, Channel: m.Channel, Labels: lbl, words: ws})
	note("Department %s: %s.", d.Route.Department, d.Route.Why)

	if lbl.Intent == classify.IntentSpam {
		act(care.ActionNone, "spam: %s", orElse(lbl.Reason("intent"), "the classifier's verdict"))
		note("No action: spam (%s). The case stays on record; nobody is notified and nothing is posted.", orElse(lbl.Reason("intent"), "the classifier's verdict"))
		return finish()
	}

	grave, graveWhy := e.cp.isGrave(lbl)
	if grave {
		d.Escalate = true
		act(care.ActionEscalate, "grave case: %s", graveWhy)
		note("Escalated: grave case (%s); the team is notified.", graveWhy)
	}

	// An open crisis this message is about.
	if lbl.Intent != classify.IntentPraise && lbl.Intent != classify.IntentSales {
		active := map[string]bool{}
		since := map[string]time.Time{}
		for _, c := range in.Crises {
			if c.Active {
				active[c.Topic] = true
				since[c.Topic] = c.Since
			}
		}
		if len(active) > 0 {
			if ts := e.matchTopics(ws, active); len(ts) > 0 {
				d.CrisisTopic = ts[0]
				note("Crisis: the message is about %q, in crisis since %s: it gets the crisis template, not an individual acknowledgement.", ts[0], since[ts[0]].UTC().Format(time.RFC3339))
			}
		}
	}

	// Move to DM? Personal data and grave cases always; a private matter (by
	// department or keyword) when the customer asks something of the team: a
	// thank-you for a quick refund gets thanks, not an invitation to DM.
	moveWhy := ""
	asks := lbl.Intent != classify.IntentPraise && lbl.Intent != classify.IntentSpam && lbl.Intent != classify.IntentOther
	if public {
		switch {
		case cfg.MoveToDM.PII && len(lbl.PII) > 0:
			kinds := make([]string, 0, len(lbl.PII))
			for _, k := range lbl.PIIKinds() {
				kinds = append(kinds, string(k))
			}
			moveWhy = "personal data posted in public (" + strings.Join(kinds, ", ") + ")"
		case cfg.MoveToDM.Grave && grave:
			moveWhy = "grave case (" + graveWhy + ")"
		case !asks:
		case slices.Contains(cfg.MoveToDM.Departments, d.Route.Department):
			moveWhy = "a private matter for " + d.Route.Department + " (account, payment or booking)"
		default:
			if mt, ok := e.cp.moveToDM.first(ws); ok {
				moveWhy = fmt.Sprintf("a private matter (%q)", m.Text[mt.start:mt.end])
			}
		}
	}

	// Which automatic reply.
	lang, fellBack := e.replyLang(lbl.Lang)
	if fellBack {
		note("Language %q has no templates: replies are in %s.", lbl.Lang, lang)
	}
	open := e.cp.hours.Open(in.Now)
	var kind care.ReplyKind
	var tmplKind string
	var actionKind care.ActionKind
	var actionWhy string
	switch {
	case moveWhy != "":
		kind, tmplKind, actionKind = care.ReplyMoveToDM, TemplateMoveToDM, care.ActionMoveToDM
		actionWhy = moveWhy + ": the public reply invites the customer to DM and repeats none of it"
	case d.CrisisTopic != "":
		kind, tmplKind, actionKind = care.ReplyCrisis, TemplateCrisis, care.ActionCrisisReply
		actionWhy = "about the open crisis " + d.CrisisTopic
	case !open && lbl.Intent != classify.IntentPraise:
		kind, tmplKind, actionKind = care.ReplyOutOfHours, TemplateOutOfHours, care.ActionOutOfHours
		local := in.Now.In(e.cp.hours.Location())
		actionWhy = fmt.Sprintf("closed at %s %s", local.Format("Mon 15:04"), e.cp.hours.Location())
		if e.cp.hours.Holiday(in.Now) {
			actionWhy += " (a holiday)"
		}
		actionWhy += "; business hours " + e.cp.hoursText(lang)
	default:
		switch lbl.Intent {
		case classify.IntentComplaint, classify.IntentIncident, classify.IntentQuestion, classify.IntentSales, classify.IntentPraise:
			kind, tmplKind, actionKind = care.ReplyAutoAck, string(lbl.Intent), care.ActionAutoAck
			actionWhy = "acknowledges the " + string(lbl.Intent)
			if lbl.Intent == classify.IntentPraise {
				actionWhy = "thanks the customer for the praise"
			}
		}
	}
	if moveWhy != "" && kind != care.ReplyMoveToDM {
		note("Move to DM: %s.", moveWhy)
	}

	// May it be sent?
	withhold := func(format string, args ...any) {
		d.Withheld = fmt.Sprintf(format, args...)
		note("No automatic reply: %s.", d.Withheld)
	}
	if kind != "" {
		cooldown := cfg.AutoReplyCooldown.Std()
		switch {
		case !e.cp.autoReply[string(lbl.Intent)] && kind != care.ReplyMoveToDM:
			withhold("intent %s is not in auto_reply %v", lbl.Intent, cfg.AutoReply)
		case kind == care.ReplyCrisis && in.CrisisRepliesFull:
			withhold("the %d automatic crisis replies of this %s window are taken (X allows the account 100 posts per 15 minutes); the case waits for an agent", cfg.Crisis.MaxRepliesPerWindow, cfg.Crisis.Window)
		case tier == SelfServe && !m.Summoned:
			withhold("on the self-serve tier X allows automatic replies only to posts that mention or quote the brand, and this one does not")
		case cfg.AutoReplyMaxAge.Std() > 0 && in.Now.Sub(m.CreatedAt) > cfg.AutoReplyMaxAge.Std():
			withhold("the message was written %s ago, longer than auto_reply_max_age (%s): an automatic acknowledgement would come too late; an agent answers", FormatDuration(in.Now.Sub(m.CreatedAt)), cfg.AutoReplyMaxAge)
		case !in.History.LastAutoReplyAt.IsZero() && in.Now.Sub(in.History.LastAutoReplyAt) < cooldown:
			withhold("the case got an automatic reply at %s, within the %s cooldown", in.History.LastAutoReplyAt.UTC().Format(time.RFC3339), cfg.AutoReplyCooldown)
		default:
			if req, lint, err := e.autoReply(&in, kind, tmplKind, lang, grave, d.CrisisTopic); err != nil {
				withhold("%v", err)
			} else if !lint.OK() {
				withhold("the reply linter blocked the %s template: %s", tmplKind, strings.Join(lint.Strings(), "; "))
			} else {
				d.Replies = append(d.Replies, req)
				act(actionKind, "%s", actionWhy)
				where := "public reply to post " + req.InReplyToID
				if req.Channel == care.DM {
					where = "DM to the customer"
				}
				note("Automatic reply (%s, template %s, %s): %s.", kind, req.TemplateID, where, actionWhy)
				for _, w := range req.Warnings {
					note("Linter warning: %s.", w)
				}
			}
		}
	} else {
		note("No automatic reply: no template answers intent %s.", lbl.Intent)
	}

	queueWhy := fmt.Sprintf("a person answers in %s (priority %d)", d.Route.Department, d.Priority.Score)
	if d.Withheld != "" {
		queueWhy += "; the automatic reply was withheld: " + d.Withheld
	}
	if moveWhy != "" && len(d.Replies) == 0 {
		queueWhy += "; move the conversation to DM: " + moveWhy
	}
	act(care.ActionQueue, "%s", queueWhy)
	note("Queued for an agent in %s.", d.Route.Department)
	return finish()
}

// autoReply renders and lints the automatic reply of kind.
func (e *Engine) autoReply(in *Input, kind care.ReplyKind, tmplKind, lang string, grave bool, crisisTopic string) (care.ReplyRequest, LintResult, error) {
	cfg := &e.cp.cfg
	m := &in.Message
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
	topic := ""
	if kind == care.ReplyCrisis {
		for _, tp := range cfg.Crisis.Topics {
			if tp.Name == crisisTopic {
				topic = tp.Label[usedLang]
			}
		}
	}
	body := render(text, values{
		handle: m.AuthorHandle, firstName: firstName(m.AuthorName), hours: e.cp.hoursText(usedLang),
		channels: cfg.Channels[usedLang], signature: cfg.Signature[usedLang], topic: topic,
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
	for _, w := range lint.Warnings {
		req.Warnings = append(req.Warnings, w.Rule+": "+w.Message)
	}
	if lint.OK() {
		if err := req.Validate(); err != nil {
			return req, lint, err
		}
	}
	return req, lint, nil
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

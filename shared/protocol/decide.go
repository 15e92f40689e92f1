package protocol

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// A decisionBuilder is one Decide in progress: the input, the decision built so
// far with its explanation, and what the steps find out for the steps after
// them. Each step of the protocol is a method; Decide runs them in order.
type decisionBuilder struct {
	e    *Engine
	cfg  *Config
	in   *Input
	m    *care.StoredMessage
	lbl  *classify.Result
	tier Tier
	// ws are the words of the message; public is true when it was posted in
	// public.
	ws     []word
	public bool

	d   Decision
	why []string // the explanation, one sentence each

	grave    bool
	graveWhy string
	// moveWhy says why the conversation moves to DM ("" when it does not).
	moveWhy string
	// The automatic reply chosen, in lang: kind is "" when there is none.
	lang       string
	kind       care.ReplyKind
	tmplKind   string
	actionKind care.ActionKind
	actionWhy  string
}

// note adds a sentence to the explanation.
func (b *decisionBuilder) note(format string, args ...any) {
	b.why = append(b.why, fmt.Sprintf(format, args...))
}

// act adds an action, with why.
func (b *decisionBuilder) act(k care.ActionKind, format string, args ...any) {
	b.d.Actions = append(b.d.Actions, care.Action{Kind: k, Why: fmt.Sprintf(format, args...)})
}

// withhold records why the automatic reply is not sent.
func (b *decisionBuilder) withhold(format string, args ...any) {
	b.d.Withheld = fmt.Sprintf(format, args...)
	b.note("No automatic reply: %s.", b.d.Withheld)
}

// finish returns the decision with its record.
func (b *decisionBuilder) finish() Decision {
	d := &b.d
	d.Record = care.DecisionRecord{
		CaseID: b.in.Case.ID, MessageID: b.m.ID, DecidedAt: b.in.Now.UTC(), Tier: string(b.tier),
		Labels: Labels(b.lbl), Priority: d.Priority.Score, PriorityFactors: d.Priority.Factors,
		Department: d.Route.Department, DepartmentWhy: d.Route.Why, Actions: d.Actions,
		Replies: d.Replies, CrisisTopic: d.CrisisTopic, Explanation: b.why,
	}
	return *d
}

// priority computes the message's priority, its wait counted from when the case
// started waiting.
func (b *decisionBuilder) priority() {
	in, m, lbl := b.in, b.m, b.lbl
	waitFrom := m.CreatedAt
	if in.Case.Status == care.Open && !in.Case.WaitingSince.IsZero() && in.Case.WaitingSince.Before(waitFrom) {
		waitFrom = in.Case.WaitingSince
	}
	b.d.Priority = b.cfg.Priority.Priority(PriorityInput{
		Intent: lbl.Intent, Sentiment: lbl.Sentiment, Score: lbl.Score, Urgency: lbl.Urgency,
		Waiting: max(0, in.Now.Sub(waitFrom)), Followers: m.AuthorFollowers, Verified: m.AuthorVerified,
		PreviousCases: in.History.PreviousCases, PublicPII: b.public && len(lbl.PII) > 0,
	})
	b.note("Priority %d: %s.", b.d.Priority.Score, describeFactors(b.d.Priority.Factors))
}

// department routes the message to its department.
func (b *decisionBuilder) department() {
	b.d.Route = b.e.cp.router.Route(RouteInput{Text: b.m.Text, Channel: b.m.Channel, Labels: b.lbl, words: b.ws})
	b.note("Department %s: %s.", b.d.Route.Department, b.d.Route.Why)
}

// escalate escalates a grave case: the team is notified.
func (b *decisionBuilder) escalate() {
	b.grave, b.graveWhy = b.e.cp.isGrave(b.lbl)
	if b.grave {
		b.d.Escalate = true
		b.act(care.ActionEscalate, "grave case: %s", b.graveWhy)
		b.note("Escalated: grave case (%s); the team is notified.", b.graveWhy)
	}
}

// crisis finds an open crisis this message is about (praise and sales are about
// none).
func (b *decisionBuilder) crisis() {
	if b.lbl.Intent == classify.IntentPraise || b.lbl.Intent == classify.IntentSales {
		return
	}
	active := map[string]bool{}
	since := map[string]time.Time{}
	for _, c := range b.in.Crises {
		if c.Active {
			active[c.Topic] = true
			since[c.Topic] = c.Since
		}
	}
	if len(active) > 0 {
		if ts := b.e.matchTopics(b.ws, active); len(ts) > 0 {
			b.d.CrisisTopic = ts[0]
			b.note("Crisis: the message is about %q, in crisis since %s: it gets the crisis template, not an individual acknowledgement.", ts[0], since[ts[0]].UTC().Format(time.RFC3339))
		}
	}
}

// moveToDM decides whether to move the conversation to DM. Personal data and
// grave cases always; a private matter (by department or keyword) when the
// customer asks something of the team: a thank-you for a quick refund gets
// thanks, not an invitation to DM.
func (b *decisionBuilder) moveToDM() {
	cfg, lbl := b.cfg, b.lbl
	if !b.public {
		return
	}
	asks := lbl.Intent != classify.IntentPraise && lbl.Intent != classify.IntentSpam && lbl.Intent != classify.IntentOther
	switch {
	case cfg.MoveToDM.PII && len(lbl.PII) > 0:
		kinds := make([]string, 0, len(lbl.PII))
		for _, k := range lbl.PIIKinds() {
			kinds = append(kinds, string(k))
		}
		b.moveWhy = "personal data posted in public (" + strings.Join(kinds, ", ") + ")"
	case cfg.MoveToDM.Grave && b.grave:
		b.moveWhy = "grave case (" + b.graveWhy + ")"
	case !asks:
	case slices.Contains(cfg.MoveToDM.Departments, b.d.Route.Department):
		b.moveWhy = "a private matter for " + b.d.Route.Department + " (account, payment or booking)"
	default:
		if mt, ok := b.e.cp.moveToDM.first(b.ws); ok {
			b.moveWhy = fmt.Sprintf("a private matter (%q)", b.m.Text[mt.start:mt.end])
		}
	}
}

// chooseReply chooses which automatic reply, in which language.
func (b *decisionBuilder) chooseReply() {
	e, in, lbl := b.e, b.in, b.lbl
	lang, fellBack := e.replyLang(lbl.Lang)
	if fellBack {
		b.note("Language %q has no templates: replies are in %s.", lbl.Lang, lang)
	}
	b.lang = lang
	open := e.cp.hours.Open(in.Now)
	switch {
	case b.moveWhy != "":
		b.kind, b.tmplKind, b.actionKind = care.ReplyMoveToDM, TemplateMoveToDM, care.ActionMoveToDM
		b.actionWhy = b.moveWhy + ": the public reply invites the customer to DM and repeats none of it"
	case b.d.CrisisTopic != "":
		b.kind, b.tmplKind, b.actionKind = care.ReplyCrisis, TemplateCrisis, care.ActionCrisisReply
		b.actionWhy = "about the open crisis " + b.d.CrisisTopic
		if at := statementAt(in.Crises, b.d.CrisisTopic); !at.IsZero() {
			if _, ok := b.cfg.Templates[TemplateCrisisStatement]; ok {
				b.tmplKind = TemplateCrisisStatement
				b.actionWhy += fmt.Sprintf("; it points to the crisis's public statement, out since %s", at.UTC().Format(time.RFC3339))
			}
		}
	case !open && lbl.Intent != classify.IntentPraise:
		b.kind, b.tmplKind, b.actionKind = care.ReplyOutOfHours, TemplateOutOfHours, care.ActionOutOfHours
		local := in.Now.In(e.cp.hours.Location())
		b.actionWhy = fmt.Sprintf("closed at %s %s", local.Format("Mon 15:04"), e.cp.hours.Location())
		if e.cp.hours.Holiday(in.Now) {
			b.actionWhy += " (a holiday)"
		}
		b.actionWhy += "; business hours " + e.cp.hoursText(lang)
	default:
		switch lbl.Intent {
		case classify.IntentComplaint, classify.IntentIncident, classify.IntentQuestion, classify.IntentSales, classify.IntentPraise:
			b.kind, b.tmplKind, b.actionKind = care.ReplyAutoAck, string(lbl.Intent), care.ActionAutoAck
			b.actionWhy = "acknowledges the " + string(lbl.Intent)
			if lbl.Intent == classify.IntentPraise {
				b.actionWhy = "thanks the customer for the praise"
			}
		}
	}
	if b.moveWhy != "" && b.kind != care.ReplyMoveToDM {
		b.note("Move to DM: %s.", b.moveWhy)
	}
}

// sendReply decides whether the automatic reply chosen may be sent, and sends it
// when it may (and the linter passes it).
func (b *decisionBuilder) sendReply() {
	cfg, in, m, lbl := b.cfg, b.in, b.m, b.lbl
	if b.kind == "" {
		b.note("No automatic reply: no template answers intent %s.", lbl.Intent)
		return
	}
	cooldown := cfg.AutoReplyCooldown.Std()
	switch {
	case !b.e.cp.autoReply[string(lbl.Intent)] && b.kind != care.ReplyMoveToDM:
		b.withhold("intent %s is not in auto_reply %v", lbl.Intent, cfg.AutoReply)
	case b.kind == care.ReplyCrisis && in.CrisisRepliesFull:
		b.withhold("the %d automatic crisis replies of this %s window are taken (X allows the account 100 posts per 15 minutes); the case waits for an agent", cfg.Crisis.MaxRepliesPerWindow, cfg.Crisis.Window)
	case b.tier == SelfServe && !m.Summoned:
		b.withhold("on the self-serve tier X allows automatic replies only to posts that mention or quote the brand, and this one does not")
	case cfg.AutoReplyMaxAge.Std() > 0 && in.Now.Sub(m.CreatedAt) > cfg.AutoReplyMaxAge.Std():
		b.withhold("the message was written %s ago, longer than auto_reply_max_age (%s): an automatic acknowledgement would come too late; an agent answers", FormatDuration(in.Now.Sub(m.CreatedAt)), cfg.AutoReplyMaxAge)
	case !in.History.LastAutoReplyAt.IsZero() && in.Now.Sub(in.History.LastAutoReplyAt) < cooldown:
		b.withhold("the case got an automatic reply at %s, within the %s cooldown", in.History.LastAutoReplyAt.UTC().Format(time.RFC3339), cfg.AutoReplyCooldown)
	default:
		b.reply()
	}
}

// reply renders and lints the automatic reply, and adds it to the decision
// unless the linter blocks it.
func (b *decisionBuilder) reply() {
	req, lint, err := b.e.autoReply(b.in, b.kind, b.tmplKind, b.lang, b.grave, b.d.CrisisTopic)
	if err != nil {
		b.withhold("%v", err)
		return
	}
	if !lint.OK() {
		b.withhold("the reply linter blocked the %s template: %s", b.tmplKind, strings.Join(lint.Strings(), "; "))
		return
	}
	b.d.Replies = append(b.d.Replies, req)
	b.act(b.actionKind, "%s", b.actionWhy)
	where := "public reply to post " + req.InReplyToID
	if req.Channel == care.DM {
		where = "DM to the customer"
	}
	b.note("Automatic reply (%s, template %s, %s): %s.", b.kind, req.TemplateID, where, b.actionWhy)
	for _, w := range req.Warnings {
		b.note("Linter warning: %s.", w)
	}
}

// queue queues the case for an agent, saying why.
func (b *decisionBuilder) queue() {
	queueWhy := fmt.Sprintf("a person answers in %s (priority %d)", b.d.Route.Department, b.d.Priority.Score)
	if b.d.Withheld != "" {
		queueWhy += "; the automatic reply was withheld: " + b.d.Withheld
	}
	if b.moveWhy != "" && len(b.d.Replies) == 0 {
		queueWhy += "; move the conversation to DM: " + b.moveWhy
	}
	b.act(care.ActionQueue, "%s", queueWhy)
	b.note("Queued for an agent in %s.", b.d.Route.Department)
}

// XChatUnreadable is why an X Chat message gets no automatic reply and no
// labels while Pajarito holds no X Chat keys (the decision's withheld reason,
// which the console and the API show).
const XChatUnreadable = "encrypted X Chat message: Pajarito holds no X Chat keys and cannot read it; answer it in X's app (X Chat set-up: README, \"X Chat\")"

// encrypted decides an X Chat message Pajarito cannot read: its words are
// unknown, so nothing is classified and nothing is posted; the case waits,
// unanswered, for a person who answers it in X's app (the brand's chat.sent
// then answers the case).
func (b *decisionBuilder) encrypted() {
	b.note("Labels: none: the message is encrypted (X Chat).")
	b.priority()
	b.department()
	b.withhold("%s", XChatWithheld(b.m.XChat))
	b.queue()
}

// XChatWithheld is why an X Chat message Pajarito could not read gets no
// automatic reply: XChatUnreadable when Pajarito holds no X Chat keys, else
// the problem it met opening the message.
func XChatWithheld(x *care.XChat) string {
	switch {
	case x == nil || x.Problem == "":
		return XChatUnreadable
	case x.Unverified():
		return "X Chat message that could not be verified: " + strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(x.Problem, care.XChatUnverifiedPrefix), ":")) +
			"; its text is not shown, as it may not be the sender's: answer it in X's app"
	}
	return "X Chat message that could not be opened: " + x.Problem + "; answer it in X's app"
}

// statementAt is when the latest post of the public statement of topic's open
// crisis went out; zero when none did.
func statementAt(crises []care.CrisisState, topic string) time.Time {
	for _, c := range crises {
		if c.Topic == topic && c.Active && c.StatementID != "" {
			return c.StatementAt
		}
	}
	return time.Time{}
}

package protocol

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// FollowUpInput is a case to tell that the crisis it was affected by is over.
type FollowUpInput struct {
	Case     care.Case
	Messages []care.StoredMessage
	// Topic is the crisis's topic, Opened when it opened (one crisis of the
	// topic from another).
	Topic  string
	Opened time.Time
	// Texts, by language, replace the crisis_followup template where they
	// have the case's language: the text an admin wrote for this crisis
	// (checked with CheckFollowUpText).
	Texts map[string]string
	Now   time.Time
}

// ErrNothingToAnswer is wrapped by CrisisFollowUp's error for a case with no
// customer message left to answer (deleted, say).
var ErrNothingToAnswer = errors.New("the case has no customer message to answer")

// CrisisFollowUp makes the follow-up of in: the crisis_followup template, in
// the case's language, as a reply to the customer's latest post (a DM in a DM
// case), linted as any automatic reply. Its idempotency key is the case's and
// the crisis's (FollowUpKey): one follow-up per case and crisis, however often
// it is made.
func (e *Engine) CrisisFollowUp(in FollowUpInput) (care.ReplyRequest, LintResult, error) {
	var target *care.StoredMessage
	for i := len(in.Messages) - 1; i >= 0; i-- {
		m := &in.Messages[i]
		if m.Direction == care.Inbound && m.AuthorID == in.Case.CustomerID && m.DeletedAt == nil && (m.Channel == in.Case.Channel) {
			target = m
			break
		}
	}
	if target == nil {
		return care.ReplyRequest{}, LintResult{}, fmt.Errorf("protocol: case %s: %w", in.Case.ID, ErrNothingToAnswer)
	}
	lang, _ := e.replyLang(in.Case.Lang)
	pin := &Input{Case: in.Case, Message: *target, Now: in.Now, History: History{Messages: in.Messages},
		Labels: classify.Result{Intent: classify.Intent(in.Case.Intent), Lang: lang}}
	var (
		req  care.ReplyRequest
		lint LintResult
		err  error
	)
	if text := in.Texts[lang]; text != "" {
		req, lint = e.renderAuto(pin, care.ReplyCrisisFollowUp, TemplateCrisisFollowUp, "custom."+lang, text, lang, in.Topic)
	} else {
		req, lint, err = e.autoReply(pin, care.ReplyCrisisFollowUp, TemplateCrisisFollowUp, lang, false, in.Topic)
	}
	if err != nil {
		return req, lint, fmt.Errorf("protocol: case %s: %w", in.Case.ID, err)
	}
	trigger := FollowUpTrigger(in.Topic, in.Opened)
	req.TriggerID, req.IdempotencyKey = trigger, care.ReplyKey(in.Case.ID, trigger, care.ReplyCrisisFollowUp)
	if lint.OK() {
		if err := req.Validate(); err != nil {
			return req, lint, fmt.Errorf("protocol: case %s: %w", in.Case.ID, err)
		}
	}
	return req, lint, nil
}

// CheckFollowUpText returns what is wrong with text as the follow-up of a
// crisis in lang, by the crisis_followup template's rules (placeholders, an
// apology first, the forbidden words, no links unless allowed, X's length
// with the longest name and topic); none when it may go.
func (e *Engine) CheckFollowUpText(lang, text string) []string {
	cfg := &e.cp.cfg
	if !slices.Contains(cfg.Langs, lang) {
		return []string{fmt.Sprintf("%s is not a language of the protocol (langs: %v)", lang, cfg.Langs)}
	}
	if strings.TrimSpace(text) == "" {
		return []string{"the text is empty"}
	}
	topic := ""
	for _, tp := range cfg.Crisis.Topics {
		if len(tp.Label[lang]) > len(topic) {
			topic = tp.Label[lang]
		}
	}
	var problems []string
	e.cp.checkTemplateText(TemplateCrisisFollowUp, cfg.Templates[TemplateCrisisFollowUp], templateText{path: lang, lang: lang, s: text}, topic,
		func(_, format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) })
	return problems
}

// FollowUpTrigger names a crisis in the follow-ups' keys: its topic and when
// it opened.
func FollowUpTrigger(topic string, opened time.Time) string {
	return "crisis:" + topic + ":" + strconv.FormatInt(opened.UnixMilli(), 10)
}

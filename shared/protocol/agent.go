package protocol

import (
	"fmt"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// AgentReplyInput is a reply an agent wrote, to check and sign.
type AgentReplyInput struct {
	Case care.Case
	// Messages of the case, oldest first (for the linter).
	Messages []care.StoredMessage
	// ReplyTo is the message answered: a public reply answers its post; a DM goes to
	// the case's customer.
	ReplyTo care.StoredMessage
	Channel care.Channel
	// Text is what the agent wrote, without signature.
	Text string
	// AgentID and AgentName identify the agent; the signature uses the first name.
	AgentID   string
	AgentName string
	// DraftID identifies the draft (the agent API's request id): sending the same
	// draft twice produces one reply.
	DraftID string
	// Lang of the reply ("" : the case's language, else the default).
	Lang string
	// Intent of the case (from its latest decision): complaints need an apology first.
	Intent classify.Intent
	Now    time.Time
}

// Sign appends the agent signature ("^Ana") to text, unless text already ends with it.
func (e *Engine) Sign(text, agentName string) string {
	sig := strings.ReplaceAll(e.cp.cfg.AgentSignature, "{agent}", firstName(agentName))
	if firstName(agentName) == "" {
		sig = strings.ReplaceAll(e.cp.cfg.AgentSignature, "{agent}", strings.TrimSpace(agentName))
	}
	text = strings.TrimSpace(text)
	if strings.HasSuffix(text, sig) || strings.TrimSpace(sig) == "" || strings.TrimSpace(sig) == "^" {
		return text
	}
	return text + " " + sig
}

// AgentReply signs an agent's reply and lints it. The request is returned when the
// linter found no error (its warnings travel with it); otherwise only the lint
// result, for the agent to fix the draft.
func (e *Engine) AgentReply(in AgentReplyInput) (*care.ReplyRequest, LintResult, error) {
	if in.Case.ID == "" || in.AgentID == "" || in.DraftID == "" || in.Now.IsZero() {
		return nil, LintResult{}, fmt.Errorf("%w: an agent reply needs the case, the agent's id, a draft id and the time", ErrBadInput)
	}
	lang := in.Lang
	if lang == "" {
		lang = in.Case.Lang
	}
	lang, _ = e.replyLang(lang)
	text := e.Sign(in.Text, in.AgentName)
	ch := in.Channel
	if ch == "" {
		ch = in.ReplyTo.Channel
	}
	lint := e.cp.linter.Lint(ReplyDraft{
		Text: text, Channel: ch, Lang: lang, Intent: in.Intent, CustomerID: in.Case.CustomerID,
		Messages: in.Messages,
	})
	if !lint.OK() {
		return nil, lint, nil
	}
	req := &care.ReplyRequest{
		Version:        care.ReplyVersion,
		IdempotencyKey: care.ReplyKey(in.Case.ID, in.DraftID, care.ReplyAgent),
		CaseID:         in.Case.ID,
		TriggerID:      in.DraftID,
		Channel:        ch,
		Text:           text,
		Lang:           lang,
		Kind:           care.ReplyAgent,
		Author:         in.AgentID,
		AuthorName:     in.AgentName,
		Summoned:       in.Case.Summoned,
		CreatedAt:      in.Now.UTC(),
	}
	if ch == care.DM {
		req.RecipientID = in.Case.CustomerID
	} else {
		req.InReplyToID = in.ReplyTo.ID
	}
	req.Warnings = lint.WarningStrings()
	if err := req.Validate(); err != nil {
		return nil, lint, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return req, lint, nil
}

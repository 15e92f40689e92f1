package protocol

import (
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// StatementInput is a post of a crisis's public statement thread, as an admin
// wrote it: the statement (the thread's first post) or an update to it.
type StatementInput struct {
	// Topic and Since name the crisis (care.CrisisThreadID).
	Topic string
	Since time.Time
	// DraftID identifies the post (the agent API's request id): writing the
	// same draft twice makes one post.
	DraftID string
	// Text is what the admin wrote, without signature; Lang its language (""
	// or one the protocol does not speak: the default).
	Text string
	Lang string
	// AgentID and AgentName are the author; the signature uses the first name.
	AgentID   string
	AgentName string
	// First is true for the statement itself, false for an update.
	First bool
	Now   time.Time
}

// Statement signs a crisis statement's post and lints it as LintStatement
// does. The request is returned when the linter found no error; otherwise
// only the lint result, for the author to fix the text.
func (e *Engine) Statement(in StatementInput) (*care.ReplyRequest, LintResult, error) {
	if in.Topic == "" || in.Since.IsZero() || in.AgentID == "" || in.DraftID == "" || in.Now.IsZero() {
		return nil, LintResult{}, fmt.Errorf("%w: a crisis statement needs its crisis, the author's id, a draft id and the time", ErrBadInput)
	}
	lang, _ := e.replyLang(in.Lang)
	text := e.Sign(in.Text, in.AgentName)
	lint := e.LintStatement(text, lang, in.First)
	if !lint.OK() {
		return nil, lint, nil
	}
	thread := care.CrisisThreadID(in.Topic, in.Since)
	req := &care.ReplyRequest{
		Version:        care.ReplyVersion,
		IdempotencyKey: care.ReplyKey(thread, in.DraftID, care.ReplyStatement),
		CaseID:         thread,
		TriggerID:      in.DraftID,
		Channel:        care.Public,
		Text:           text,
		Lang:           lang,
		Kind:           care.ReplyStatement,
		Author:         in.AgentID,
		AuthorName:     in.AgentName,
		CreatedAt:      in.Now.UTC(),
	}
	req.Warnings = lint.WarningStrings()
	if err := req.Validate(); err != nil {
		return nil, lint, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return req, lint, nil
}

// LintStatement lints a post of a crisis's statement thread (signed): a
// public post of the brand's, in the protocol's words, and, for the
// statement itself (first), the brand's word on an incident, which starts
// with an apology. Updates need none.
func (e *Engine) LintStatement(text, lang string, first bool) LintResult {
	d := ReplyDraft{Text: text, Channel: care.Public, Lang: lang}
	if first {
		d.Intent = classify.IntentIncident
	}
	return e.cp.linter.Lint(d)
}

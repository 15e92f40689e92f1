package agentapi

import (
	"net/http"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

// LintResult is the body of POST /v1/cases/{id}/lint: what the linter says of a
// reply the agent is writing, as sending it would.
type LintResult struct {
	// OK is true when the reply has no errors: sending it would queue it.
	OK bool `json:"ok"`
	// Text is the reply as it would be sent, signature included.
	Text    string       `json:"text"`
	Channel care.Channel `json:"channel"`
	// Length is Text's length as X counts it on Channel (see replyLength); Limit
	// the channel's limit.
	Length int `json:"length"`
	Limit  int `json:"limit"`
	// Errors block the send (422 lint_failed); Warnings travel with it.
	Errors   []protocol.LintIssue `json:"errors"`
	Warnings []protocol.LintIssue `json:"warnings"`
}

// lintDraftID is the draft id of a dry run: the protocol's reply needs one, and
// nothing made with it is kept.
const lintDraftID = "lint"

// lint is the dry run of reply: the same body (the draft id ignored), checked,
// signed and linted the same way, but nothing is stored, queued or audited. The
// case's assignee does not matter: an agent may check a reply to any case.
func (a *API) lint(w http.ResponseWriter, r *http.Request) {
	var req ReplyRequest
	if !decode(w, r, &req) || !checkReply(w, req, false) {
		return
	}
	req.DraftID = lintDraftID
	id := r.PathValue("id")
	c, msgs, err := a.Store.GetCase(r.Context(), id)
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	in, out, lint, ok := a.agentReply(w, r, c, msgs, callerFrom(r.Context()), req)
	if !ok {
		return
	}
	// Refused, the reply is not returned: it is signed as AgentReply signs it.
	text, ch := a.Engine.Sign(in.Text, in.AgentName), in.Channel
	if out != nil {
		text, ch = out.Text, out.Channel
	}
	n, limit := replyLength(text, ch)
	httpjson.Write(w, http.StatusOK, LintResult{
		OK: lint.OK(), Text: text, Channel: ch, Length: n, Limit: limit,
		Errors: nonNil(lint.Errors), Warnings: nonNil(lint.Warnings),
	})
}

// replyLength returns the length of a signed reply on channel ch and the
// channel's limit, as the protocol's linter counts them: a public post in X's
// weighted characters (protocol.Length) up to protocol.MaxPostLength, a DM in
// characters up to care.MaxDMLength.
func replyLength(text string, ch care.Channel) (n, limit int) {
	if ch == care.DM {
		return utf8.RuneCountInString(text), care.MaxDMLength
	}
	return protocol.Length(text), protocol.MaxPostLength
}

package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// While a crisis is open, an admin writes its public statement, posted from
// the brand account, then updates to it, a thread (care.ReplyStatement). Each
// post is a draft of the crisis's thread (care.CrisisThreadID), approved like
// any reply (protocol.approval.during_crisis makes it wait for another agent's
// approval) and sent by the reply sender, once. One post at a time: the next
// is written once the one before it is out.

// StatementRequest is the body of POST /v1/crisis/{topic}/statement: the
// statement, or an update once it is posted.
type StatementRequest struct {
	// DraftID is the client's id of this post: writing the same draft again
	// returns the same post, and one goes out.
	DraftID string `json:"draft_id"`
	// Text is the post, without signature: the API signs it with the
	// author's. The statement starts with an apology.
	Text string `json:"text"`
	// Lang is its language; empty means the protocol's default.
	Lang string `json:"lang,omitempty"`
}

// Kinds of a statement thread's post (StatementPost.Kind).
const (
	PostStatement = "statement"
	PostUpdate    = "update"
)

// StatementPost is one post of a crisis's statement thread.
type StatementPost struct {
	DraftID string `json:"draft_id"`
	// Kind is "statement" (the thread's first post that is not gone) or
	// "update".
	Kind       string `json:"kind"`
	Text       string `json:"text"`
	Lang       string `json:"lang"`
	Author     string `json:"author"`
	AuthorName string `json:"author_name,omitempty"`
	// State is pending (awaiting approval), rejected, queued, or the reply
	// states: waiting, sending, sent, failed, unknown.
	State string `json:"state"`
	// Why it needed an approval; who decided it (DecidedByName) and, for a
	// rejection, the reason.
	Why           string `json:"why,omitempty"`
	DecidedByName string `json:"decided_by_name,omitempty"`
	Reason        string `json:"reason,omitempty"`
	// XID is the post on X, once sent; InReplyToID the post it answers.
	XID         string `json:"x_id,omitempty"`
	InReplyToID string `json:"in_reply_to_id,omitempty"`
	// Problem says why it failed, is unknown, or waits.
	Problem   string     `json:"problem,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Statement is the statement thread of a crisis (the open one, or the last).
type Statement struct {
	ThreadID string          `json:"thread_id"`
	Posts    []StatementPost `json:"posts"`
}

// statementOf returns the thread's posts as the API shows them.
func statementOf(thread string, posts []store.CrisisPost) *Statement {
	st := &Statement{ThreadID: thread, Posts: make([]StatementPost, 0, len(posts))}
	statement := false
	for i := range posts {
		p := &posts[i]
		sp := StatementPost{DraftID: p.DraftID, Kind: PostUpdate, Text: p.Request.Text, Lang: p.Request.Lang,
			Author: p.Request.Author, AuthorName: p.Request.AuthorName, State: p.State(), CreatedAt: p.CreatedAt}
		if !statement && !p.Gone() {
			sp.Kind, statement = PostStatement, true
		}
		if ap := p.Approval; ap != nil {
			sp.Why, sp.DecidedByName, sp.Reason = ap.Why, ap.ByName, ap.Reason
		}
		if rep := p.Reply; rep != nil {
			sp.Text, sp.XID, sp.InReplyToID, sp.Problem, sp.SentAt = rep.Text, rep.XID, rep.InReplyToID, rep.Reason, rep.SentAt
		}
		st.Posts = append(st.Posts, sp)
	}
	return st
}

// statement reads the statement thread of crisis c; nil when the crisis never
// opened.
func (a *API) statement(ctx context.Context, c care.CrisisState) (*Statement, error) {
	if c.Since.IsZero() {
		return nil, nil
	}
	thread := care.CrisisThreadID(c.Topic, c.Since)
	posts, err := a.Store.CrisisPosts(ctx, thread)
	if err != nil {
		return nil, err
	}
	return statementOf(thread, posts), nil
}

// statementCrisis returns the crisis of topic a post of its statement
// belongs to: the open one or, once it closed, the last one (closed), whose
// statement may still get updates ("it is fixed"). It writes the error (404
// unknown topic, 409 never in crisis) when there is none.
func (a *API) statementCrisis(w http.ResponseWriter, r *http.Request, topic string) (c care.CrisisState, closed, ok bool) {
	if !a.knownTopic(w, topic) {
		return care.CrisisState{}, false, false
	}
	c, err := a.crisisOf(r.Context(), topic)
	if err != nil {
		a.internal(w, r, err)
		return care.CrisisState{}, false, false
	}
	if c.Since.IsZero() {
		noCrisis(w, topic)
		return care.CrisisState{}, false, false
	}
	return c, !c.Active, true
}

// noCrisis writes the 409 of a statement with no open crisis to belong to.
func noCrisis(w http.ResponseWriter, topic string) {
	httpjson.WriteError(w, http.StatusConflict, "no_crisis", "no crisis is open on "+topic+": a statement is written while one is (open it first); once it closes, its statement still takes updates")
}

// postStatement writes the statement of an open crisis, or an update to it
// (still after the crisis closed: the last word), posted once (after an
// approval, when the protocol asks for one).
func (a *API) postStatement(w http.ResponseWriter, r *http.Request) {
	var body StatementRequest
	if !decode(w, r, &body) || !checkReply(w, ReplyRequest{DraftID: body.DraftID, Text: body.Text, Lang: body.Lang}, true) {
		return
	}
	ctx := r.Context()
	crisis, closed, ok := a.statementCrisis(w, r, r.PathValue("topic"))
	if !ok {
		return
	}
	thread := care.CrisisThreadID(crisis.Topic, crisis.Since)
	input := digest(ReplyRequest{DraftID: body.DraftID, Text: body.Text, Lang: body.Lang})
	me := callerFrom(ctx)
	for range 2 {
		if a.sentBefore(w, r, thread, body.DraftID, input) {
			return
		}
		first, ok := a.nextPost(w, r, thread)
		if !ok {
			return
		}
		if first && closed {
			noCrisis(w, crisis.Topic)
			return
		}
		out, lint, ok := a.makeStatement(w, protocol.StatementInput{Topic: crisis.Topic, Since: crisis.Since, DraftID: body.DraftID,
			Text: body.Text, Lang: body.Lang, AgentID: me.ID, AgentName: a.signatureName(ctx, me), First: first, Now: a.now()}, me.DisplayName)
		if !ok {
			return
		}
		d, stored, err := a.putPost(ctx, thread, body.DraftID, input, out, lint)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		if !stored {
			continue // a concurrent write of the same draft stored it first
		}
		kind := PostUpdate
		if first {
			kind = PostStatement
		}
		warnings := nonNil(lint.Warnings)
		if d.Approval != nil {
			a.audit(r, "crisis "+kind+" awaits approval", "case_id", thread, "topic", crisis.Topic, "draft_id", body.DraftID)
			ap := approvalOf(*d)
			httpjson.Write(w, http.StatusAccepted, ReplyResult{Reply: *out, Warnings: warnings, Approval: &ap})
			return
		}
		if !a.enqueue(w, r, d) {
			return
		}
		a.audit(r, "crisis "+kind+" queued", "case_id", thread, "topic", crisis.Topic, "draft_id", body.DraftID, "idempotency_key", out.IdempotencyKey)
		httpjson.Write(w, http.StatusAccepted, ReplyResult{Reply: *out, Warnings: warnings})
		return
	}
	a.internal(w, r, errors.New("post "+body.DraftID+" of "+thread+" is neither stored nor storable"))
}

// nextPost reports whether the next post of the thread is its statement
// (first), writing a 409 when the post before it has not gone out yet.
func (a *API) nextPost(w http.ResponseWriter, r *http.Request, thread string) (first, ok bool) {
	posts, err := a.Store.CrisisPosts(r.Context(), thread)
	if err != nil {
		a.internal(w, r, err)
		return false, false
	}
	p := store.LastPost(posts)
	switch {
	case p == nil:
		return true, true
	case !p.Sent():
		httpjson.WriteError(w, http.StatusConflict, "post_in_progress",
			fmt.Sprintf("the statement's post %s is %s: write the next update once it is out", p.DraftID, p.State()))
		return false, false
	}
	return false, true
}

// putPost stores a statement's post as a draft of the thread: awaiting an
// approval when the protocol asks for one in a crisis, else leased to be
// queued. stored is false when a draft of that id exists already.
func (a *API) putPost(ctx context.Context, thread, draftID, input string, out *care.ReplyRequest, lint protocol.LintResult) (*store.Draft, bool, error) {
	wj, err := json.Marshal(nonNil(lint.Warnings))
	if err != nil {
		return nil, false, err
	}
	now := a.now()
	d := &store.Draft{CaseID: thread, DraftID: draftID, Input: input, Request: *out, Warnings: wj, CreatedAt: now, LeaseUntil: now.Add(DraftLease)}
	if a.Engine.Config().Approval.DuringCrisis {
		d.LeaseUntil, d.Approval = time.Time{}, &store.DraftApproval{State: store.ApprovalPending, Why: whyStatement}
	}
	stored, err := a.Store.PutDraft(ctx, *d)
	return d, stored, err
}

// whyStatement is why a statement's post waits for an approval.
const whyStatement = "a crisis statement, posted from the brand account"

// reviseStatement makes the post of d with text instead, as its author's,
// through the linter; it writes the error (422 for the linter) and reports
// false when it cannot.
func (a *API) reviseStatement(w http.ResponseWriter, r *http.Request, d *store.Draft, text string) (*care.ReplyRequest, bool) {
	ctx := r.Context()
	topic, since, _ := care.ParseCrisisThreadID(d.CaseID)
	posts, err := a.Store.CrisisPosts(ctx, d.CaseID)
	if err != nil {
		a.internal(w, r, err)
		return nil, false
	}
	who, ok := a.draftAuthor(w, r, d)
	if !ok {
		return nil, false
	}
	out, _, ok := a.makeStatement(w, protocol.StatementInput{Topic: topic, Since: since, DraftID: d.DraftID, Text: text, Lang: d.Request.Lang,
		AgentID: who.ID, AgentName: a.signatureName(ctx, who), First: store.PostBefore(posts, d.DraftID) == nil, Now: d.Request.CreatedAt},
		d.Request.AuthorName)
	return out, ok
}

// makeStatement signs and lints a statement's post (Engine.Statement) as
// authorName's, writing the 400 or the linter's 422 when it cannot be made.
func (a *API) makeStatement(w http.ResponseWriter, in protocol.StatementInput, authorName string) (*care.ReplyRequest, protocol.LintResult, bool) {
	out, lint, err := a.Engine.Statement(in)
	if err != nil {
		badRequest(w, "bad_statement", "the statement cannot be made: %v", err)
		return nil, lint, false
	}
	if out == nil {
		writeLintFailed(w, lint)
		return nil, lint, false
	}
	out.AuthorName = authorName
	return out, lint, true
}

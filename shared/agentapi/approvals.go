package agentapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Approval is a reply that waits, or waited, for an agent's approval before
// it goes: the request as it will go (signed by its author), why it needs the
// approval, and the decision.
type Approval struct {
	CaseID  string            `json:"case_id"`
	DraftID string            `json:"draft_id"`
	Reply   care.ReplyRequest `json:"reply"`
	// CustomerHandle is the case's customer (in GET /v1/approvals), so that
	// an agent sees whom the reply answers; CrisisTopic is set instead on a
	// crisis's statement (its CaseID is the crisis's thread).
	CustomerHandle string `json:"customer_handle,omitempty"`
	CrisisTopic    string `json:"crisis_topic,omitempty"`
	// State is pending, approved or rejected.
	State string `json:"state"`
	// Why says why it needs an approval: its author's role, an open crisis on
	// the case's topic, the customer's reach.
	Why       string    `json:"why"`
	CreatedAt time.Time `json:"created_at"`
	// DecidedBy, DecidedByName and DecidedAt say who approved or rejected it,
	// and when; Reason is a rejection's, for the author; Edited says the
	// approver changed the text (Original is the author's).
	DecidedBy     string     `json:"decided_by,omitempty"`
	DecidedByName string     `json:"decided_by_name,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Edited        bool       `json:"edited,omitempty"`
	Original      string     `json:"original,omitempty"`
}

func approvalOf(d store.Draft) Approval {
	a := Approval{CaseID: d.CaseID, DraftID: d.DraftID, Reply: d.Request, CreatedAt: d.CreatedAt}
	if p := d.Approval; p != nil {
		a.State, a.Why, a.DecidedBy, a.DecidedByName, a.DecidedAt = p.State, p.Why, p.By, p.ByName, p.At
		a.Reason, a.Edited, a.Original = p.Reason, p.Edited, p.Original
	}
	return a
}

// ApprovalList is the body of GET /v1/approvals: the replies awaiting an
// approval, oldest first.
type ApprovalList struct {
	Approvals []Approval `json:"approvals"`
}

// ApproveRequest is the body of POST .../approve: the text, when the
// approver changes it (without signature: the author's is added).
type ApproveRequest struct {
	Text string `json:"text,omitempty"`
}

// RejectRequest is the body of POST .../reject: why, for the author.
type RejectRequest struct {
	Reason string `json:"reason"`
}

// maxApprovals bounds GET /v1/approvals.
const maxApprovals = 200

// approvalWhy says why me's reply on case c must wait for an approval, ""
// when it need not: a contributor's always does; an agent's where the
// protocol says so (an open crisis on the case's topic, a customer with more
// followers than its threshold).
func (a *API) approvalWhy(ctx context.Context, me caller, c *care.Case, msgs []care.StoredMessage) (string, error) {
	if !me.Role.Allows(RoleAgent) {
		return "written by a contributor", nil
	}
	rule := a.Engine.Config().Approval
	if rule.DuringCrisis && c.CrisisTopic != "" {
		states, err := a.Crisis.States(ctx)
		if err != nil {
			return "", err
		}
		for _, st := range states {
			if st.Topic == c.CrisisTopic && st.Active {
				return "a crisis is open on " + c.CrisisTopic, nil
			}
		}
	}
	if rule.FollowersOver > 0 {
		for _, m := range msgs {
			if m.Direction == care.Inbound && m.AuthorID == c.CustomerID && m.AuthorFollowers > rule.FollowersOver {
				return fmt.Sprintf("the customer has %d followers (over %d)", m.AuthorFollowers, rule.FollowersOver), nil
			}
		}
	}
	return "", nil
}

func (a *API) listApprovals(w http.ResponseWriter, r *http.Request) {
	drafts, err := a.Store.PendingApprovals(r.Context(), maxApprovals)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	list := ApprovalList{Approvals: make([]Approval, 0, len(drafts))}
	handles := map[string]string{} // case id → customer handle
	for _, d := range drafts {
		ap := approvalOf(d)
		if topic, _, ok := care.ParseCrisisThreadID(d.CaseID); ok {
			ap.CrisisTopic = topic
			list.Approvals = append(list.Approvals, ap)
			continue
		}
		h, ok := handles[d.CaseID]
		if !ok {
			c, err := a.Store.GetCaseItem(r.Context(), d.CaseID)
			if err != nil {
				a.internal(w, r, err)
				return
			}
			h = c.CustomerHandle
			handles[d.CaseID] = h
		}
		ap.CustomerHandle = h
		list.Approvals = append(list.Approvals, ap)
	}
	httpjson.Write(w, http.StatusOK, list)
}

// pending returns the pending draft of the route, writing the error (404,
// 409 decided already, 403 one's own) when there is none to decide.
func (a *API) pending(w http.ResponseWriter, r *http.Request) (*store.Draft, bool) {
	caseID, draftID := r.PathValue("id"), r.PathValue("draft")
	d, err := a.Store.GetDraft(r.Context(), caseID, draftID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, "no_such_reply", "case "+caseID+" has no reply "+draftID+" awaiting approval")
		return nil, false
	case err != nil:
		a.internal(w, r, err)
		return nil, false
	case d.Approval == nil:
		httpjson.WriteError(w, http.StatusConflict, "not_awaiting_approval", "reply "+draftID+" of case "+caseID+" needed no approval: it was sent")
		return nil, false
	case d.Approval.State != store.ApprovalPending:
		decidedConflict(w, d)
		return nil, false
	case d.Request.Author == callerFrom(r.Context()).ID:
		httpjson.WriteError(w, http.StatusForbidden, "own_reply", "you wrote this reply: another agent approves or rejects it")
		return nil, false
	}
	return d, true
}

// decision returns the pending draft of the route and the caller's decision
// on it (state, by whom, now), writing the error when there is none to decide.
func (a *API) decision(w http.ResponseWriter, r *http.Request, state string) (*store.Draft, store.DraftApproval, bool) {
	d, ok := a.pending(w, r)
	if !ok {
		return nil, store.DraftApproval{}, false
	}
	me := callerFrom(r.Context())
	now := a.now()
	return d, store.DraftApproval{State: state, Why: d.Approval.Why, By: me.ID, ByName: me.DisplayName, At: &now}, true
}

func decidedConflict(w http.ResponseWriter, d *store.Draft) {
	httpjson.WriteError(w, http.StatusConflict, "already_decided",
		fmt.Sprintf("reply %s of case %s was %s by %s already", d.DraftID, d.CaseID, d.Approval.State, d.Approval.ByName))
}

// approve sends a pending reply, once, signed by its author, with the
// approver recorded; a changed text goes through the linter again.
func (a *API) approve(w http.ResponseWriter, r *http.Request) {
	var body ApproveRequest
	if !decode(w, r, &body) {
		return
	}
	d, decision, ok := a.decision(w, r, store.ApprovalApproved)
	if !ok {
		return
	}
	ctx := r.Context()
	me := callerFrom(ctx)
	now := *decision.At
	req := d.Request
	if text := strings.TrimSpace(body.Text); text != "" {
		edited, ok := a.reviseDraft(w, r, d, text)
		if !ok {
			return
		}
		if edited.Text != req.Text {
			decision.Edited, decision.Original = true, req.Text
		}
		req = *edited
	}
	req.ApprovedBy, req.ApprovedByName = me.ID, me.DisplayName
	lease := now.Add(DraftLease)
	won, err := a.Store.DecideDraft(ctx, d.CaseID, d.DraftID, decision, &req, lease)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !won {
		if again, err := a.Store.GetDraft(ctx, d.CaseID, d.DraftID); err == nil && again.Approval != nil {
			decidedConflict(w, again)
			return
		}
		httpjson.WriteError(w, http.StatusConflict, "already_decided", "reply "+d.DraftID+" was decided by someone else meanwhile")
		return
	}
	d.Request, d.LeaseUntil, d.Approval = req, lease, &decision
	if !a.enqueue(w, r, d) {
		return
	}
	a.audit(r, "reply approved", "case_id", d.CaseID, "draft_id", d.DraftID, "author", req.Author, "edited", decision.Edited, "idempotency_key", req.IdempotencyKey)
	ap := approvalOf(*d)
	httpjson.Write(w, http.StatusAccepted, ReplyResult{Reply: req, Warnings: []protocol.LintIssue{}, Approval: &ap})
}

// reviseDraft makes the reply of d with text instead, as its author's (their
// signature), through the linter; it writes the error (422 for the linter)
// and reports false when it cannot.
func (a *API) reviseDraft(w http.ResponseWriter, r *http.Request, d *store.Draft, text string) (*care.ReplyRequest, bool) {
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > care.MaxDMLength {
		badRequest(w, "bad_text", "text must be the reply, at most %d characters, without signature", care.MaxDMLength)
		return nil, false
	}
	if d.Request.Kind == care.ReplyStatement {
		return a.reviseStatement(w, r, d, text)
	}
	ctx := r.Context()
	c, msgs, err := a.Store.GetCase(ctx, d.CaseID)
	if err != nil {
		a.caseError(w, r, d.CaseID, err)
		return nil, false
	}
	who, ok := a.draftAuthor(w, r, d)
	if !ok {
		return nil, false
	}
	_, out, lint, ok := a.agentReply(w, r, c, msgs, who, ReplyRequest{DraftID: d.DraftID, Text: text, Channel: d.Request.Channel,
		ReplyTo: d.Request.InReplyToID, Lang: d.Request.Lang})
	if !ok {
		return nil, false
	}
	if out == nil {
		writeLintFailed(w, lint)
		return nil, false
	}
	out.AuthorName = d.Request.AuthorName
	return out, true
}

// reject turns a pending reply down, with the reason its author sees.
func (a *API) reject(w http.ResponseWriter, r *http.Request) {
	var body RejectRequest
	if !decode(w, r, &body) {
		return
	}
	reason := strings.TrimSpace(body.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		badRequest(w, "bad_reason", "reason is required (at most 500 characters): it tells the author what to change")
		return
	}
	d, decision, ok := a.decision(w, r, store.ApprovalRejected)
	if !ok {
		return
	}
	ctx := r.Context()
	decision.Reason = reason
	won, err := a.Store.DecideDraft(ctx, d.CaseID, d.DraftID, decision, nil, time.Time{})
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !won {
		httpjson.WriteError(w, http.StatusConflict, "already_decided", "reply "+d.DraftID+" was decided by someone else meanwhile")
		return
	}
	d.Approval = &decision
	a.audit(r, "reply rejected", "case_id", d.CaseID, "draft_id", d.DraftID, "author", d.Request.Author)
	httpjson.Write(w, http.StatusOK, approvalOf(*d))
}

// draftAuthor returns the author of draft d as the caller their reply is
// signed by, writing the error when they cannot be read.
func (a *API) draftAuthor(w http.ResponseWriter, r *http.Request, d *store.Draft) (caller, bool) {
	author, err := a.Store.GetAgent(r.Context(), d.Request.Author)
	if err != nil {
		a.internal(w, r, err)
		return caller{}, false
	}
	return caller{Agent: Agent{ID: author.ID}, DisplayName: author.DisplayName, Signature: author.Signature}, true
}

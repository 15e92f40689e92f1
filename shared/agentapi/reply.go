package agentapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// draftIDRE is what a draft id may be: the client's id of the reply it is writing.
var draftIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// ReplyRequest is the body of POST /v1/cases/{id}/replies, and of its dry run
// POST /v1/cases/{id}/lint (where the draft id is optional and ignored).
type ReplyRequest struct {
	// DraftID is the client's id of this reply (1 to 64 letters, digits, ".",
	// "_", ":" or "-"): sending the same draft again returns the same reply
	// request, and one reply is sent.
	DraftID string `json:"draft_id"`
	// Text is the reply, without signature: the API signs it with the agent's.
	Text string `json:"text"`
	// Channel is "public" (a reply to a post of the case) or "dm" (a DM to the
	// case's customer); empty means the case's channel.
	Channel care.Channel `json:"channel,omitempty"`
	// ReplyTo is the X id of the post answered (public replies only); empty
	// means the case's latest inbound public post that was not deleted.
	ReplyTo string `json:"reply_to,omitempty"`
	// Lang is the reply's language; empty means the case's.
	Lang string `json:"lang,omitempty"`
}

// ReplyResult is the body of an accepted reply (202): the request on the
// outbound queue (or awaiting approval), and the linter's warnings.
type ReplyResult struct {
	Reply    care.ReplyRequest    `json:"reply"`
	Warnings []protocol.LintIssue `json:"warnings"`
	// Duplicate is true when the draft had been sent already: nothing new was
	// queued.
	Duplicate bool `json:"duplicate"`
	// Approval is set on a reply that waits (or waited) for an agent's
	// approval: nothing is queued until an agent approves it.
	Approval *Approval `json:"approval,omitempty"`
}

// lintError is the 422 detail of a reply the linter refused.
type lintError struct {
	httpjson.ErrorDetail
	// Rules are the rules broken; Issues explain each.
	Rules  []string             `json:"rules"`
	Issues []protocol.LintIssue `json:"issues"`
}

// reply signs and lints an agent's reply and puts it on the outbound queue, once
// per draft id.
func (a *API) reply(w http.ResponseWriter, r *http.Request) {
	var req ReplyRequest
	if !decode(w, r, &req) || !checkReply(w, req, true) {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	me := callerFrom(ctx)
	c, msgs, err := a.Store.GetCase(ctx, id)
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	input := digest(req)
	// Twice at most: a send that loses the race to store the draft answers from
	// the winner's record.
	for range 2 {
		if a.sentBefore(w, r, id, req.DraftID, input) {
			return
		}
		why, err := a.approvalWhy(ctx, me, c, msgs)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		// A case another agent holds is theirs to answer (a draft for
		// approval waits for them, or another agent, to approve it).
		if why == "" && c.Assignee != "" && c.Assignee != me.ID {
			writeAssigned(w, &store.AssignedError{CaseID: id, Assignee: c.Assignee, AssigneeName: c.AssigneeName})
			return
		}
		_, out, lint, ok := a.agentReply(w, r, c, msgs, me, req)
		if !ok {
			return
		}
		if out == nil {
			writeLintFailed(w, lint)
			return
		}
		out.AuthorName = me.DisplayName
		warnings := nonNil(lint.Warnings)
		wj, err := json.Marshal(warnings)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		now := a.now()
		d := &store.Draft{CaseID: id, DraftID: req.DraftID, Input: input, Request: *out, Warnings: wj, CreatedAt: now, LeaseUntil: now.Add(DraftLease)}
		if why != "" {
			d.LeaseUntil, d.Approval = time.Time{}, &store.DraftApproval{State: store.ApprovalPending, Why: why}
		}
		stored, err := a.Store.PutDraft(ctx, *d)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		if !stored {
			continue // a concurrent send of the same draft stored it first
		}
		if d.Approval != nil {
			a.audit(r, "reply awaits approval", "case_id", id, "draft_id", req.DraftID, "why", why)
			ap := approvalOf(*d)
			httpjson.Write(w, http.StatusAccepted, ReplyResult{Reply: *out, Warnings: warnings, Approval: &ap})
			return
		}
		if !a.enqueue(w, r, d) {
			return
		}
		a.audit(r, "reply queued", "case_id", id, "draft_id", req.DraftID, "channel", out.Channel, "idempotency_key", out.IdempotencyKey)
		httpjson.Write(w, http.StatusAccepted, ReplyResult{Reply: *out, Warnings: warnings})
		return
	}
	a.internal(w, r, errors.New("draft "+req.DraftID+" of case "+id+" is neither stored nor storable"))
}

// checkReply reports whether req is a reply body the API takes, writing the 400
// when it is not: the reply route and its dry run (the lint route) check bodies
// this one way. withDraft requires the draft id; the dry run sends nothing, so it
// needs none.
func checkReply(w http.ResponseWriter, req ReplyRequest, withDraft bool) bool {
	switch {
	case withDraft && !draftIDRE.MatchString(req.DraftID):
		badRequest(w, "bad_draft_id", `draft_id is required: 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`)
		return false
	case strings.TrimSpace(req.Text) == "" || !utf8.ValidString(req.Text):
		badRequest(w, "bad_text", "text is required: the reply, without signature")
		return false
	case utf8.RuneCountInString(req.Text) > care.MaxDMLength:
		badRequest(w, "bad_text", "text is over %d characters", care.MaxDMLength)
		return false
	case req.Channel != "" && req.Channel != care.Public && req.Channel != care.DM:
		badRequest(w, "bad_channel", `channel must be "public" or "dm"`)
		return false
	case req.ReplyTo != "" && !care.IsID(req.ReplyTo):
		badRequest(w, "bad_reply_to", "reply_to %q is not an X post id", req.ReplyTo)
		return false
	case req.Lang != "" && !langRE.MatchString(req.Lang):
		badRequest(w, "bad_lang", "lang %q is not a language tag like es or en", req.Lang)
		return false
	}
	return true
}

// DraftLease is how long a send of a draft has to put it on the outbound queue
// before another send of the same draft may do it instead.
const DraftLease = 15 * time.Second

// sentBefore answers a draft sent before from its record (replyAgain), and
// reports whether it did so or wrote an error; false: the draft is new.
func (a *API) sentBefore(w http.ResponseWriter, r *http.Request, caseID, draftID, input string) bool {
	d, err := a.Store.GetDraft(r.Context(), caseID, draftID)
	switch {
	case err == nil:
		a.replyAgain(w, r, d, input)
		return true
	case !errors.Is(err, store.ErrNotFound):
		a.internal(w, r, err)
		return true
	}
	return false
}

// replyAgain answers a draft sent before: the same request; enqueued now if the
// outbound queue did not take it then and no other send is enqueueing it (409
// draft_in_progress while one is); a conflict if the draft id now carries another
// reply.
func (a *API) replyAgain(w http.ResponseWriter, r *http.Request, d *store.Draft, input string) {
	if d.Input != input {
		httpjson.WriteError(w, http.StatusConflict, "draft_conflict", "draft "+d.DraftID+" was sent already with another reply; give a new draft a new draft_id")
		return
	}
	var warnings []protocol.LintIssue
	if len(d.Warnings) > 0 {
		if err := json.Unmarshal(d.Warnings, &warnings); err != nil {
			a.internal(w, r, err)
			return
		}
	}
	res := ReplyResult{Reply: d.Request, Warnings: nonNil(warnings), Duplicate: d.QueuedAt != nil}
	if d.Approval != nil {
		ap := approvalOf(*d)
		res.Approval = &ap
		if d.Approval.State != store.ApprovalApproved {
			// Waiting, or rejected: nothing to queue; the author sees where it stands.
			httpjson.Write(w, http.StatusAccepted, res)
			return
		}
	}
	if d.QueuedAt == nil {
		now := a.now()
		taken := false
		if !now.Before(d.LeaseUntil) {
			var err error
			if taken, err = a.Store.LeaseDraft(r.Context(), d.CaseID, d.DraftID, d.LeaseUntil, now.Add(DraftLease)); err != nil {
				a.internal(w, r, err)
				return
			}
		}
		if !taken {
			w.Header().Set("Retry-After", strconv.Itoa(int(DraftLease.Seconds())))
			httpjson.WriteError(w, http.StatusConflict, "draft_in_progress", "draft "+d.DraftID+" is being sent by another request; send it again in a few seconds")
			return
		}
		d.LeaseUntil = now.Add(DraftLease)
		if !a.enqueue(w, r, d) {
			return
		}
		a.audit(r, "reply queued", "case_id", d.CaseID, "draft_id", d.DraftID, "channel", d.Request.Channel, "idempotency_key", d.Request.IdempotencyKey)
	}
	httpjson.Write(w, http.StatusAccepted, res)
}

// enqueue puts a draft's request on the outbound queue and records that it is
// there. When the queue refuses it, it gives the draft's lease back, writes a 503
// (sending the draft again enqueues it) and reports false.
func (a *API) enqueue(w http.ResponseWriter, r *http.Request, d *store.Draft) bool {
	ctx := r.Context()
	if err := a.Outbox.EnqueueReplies(ctx, []care.ReplyRequest{d.Request}); err != nil {
		a.Log.ErrorContext(ctx, "agent API: the outbound queue refused a reply", "case_id", d.CaseID, "draft_id", d.DraftID, "error", err.Error())
		if _, err := a.Store.LeaseDraft(ctx, d.CaseID, d.DraftID, d.LeaseUntil, a.now()); err != nil {
			a.Log.WarnContext(ctx, "agent API: a draft's lease was not given back; a resend waits for it to end", "case_id", d.CaseID, "draft_id", d.DraftID, "error", err.Error())
		}
		httpjson.WriteError(w, http.StatusServiceUnavailable, "outbox_unavailable", "the reply could not be queued; send the same draft again")
		return false
	}
	if err := a.Store.MarkDraftQueued(ctx, d.CaseID, d.DraftID, a.now()); err != nil {
		// The request is queued; a resend after the lease would queue it again,
		// and the reply sender posts it once (same idempotency key).
		a.Log.WarnContext(ctx, "agent API: a queued reply's draft is not marked queued", "case_id", d.CaseID, "draft_id", d.DraftID, "error", err.Error())
	}
	return true
}

// digest identifies a reply's input, so that a draft id sent again with another
// reply is told apart.
func digest(req ReplyRequest) string {
	b, _ := json.Marshal(req) // strings only: cannot fail
	h := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// replyInput builds the protocol's input for req on case c: the post answered
// (public) or the customer (DM), the case's intent, the agent's name as their
// signature needs it. It writes a 400 and reports false for a reply the case cannot
// take.
func (a *API) replyInput(w http.ResponseWriter, r *http.Request, c *care.Case, msgs []care.StoredMessage, me caller, req ReplyRequest) (protocol.AgentReplyInput, bool) {
	ctx := r.Context()
	in := protocol.AgentReplyInput{
		Case: *c, Messages: msgs, Channel: req.Channel, Text: req.Text, Lang: req.Lang,
		AgentID: me.ID, AgentName: a.signatureName(ctx, me), DraftID: req.DraftID, Now: a.now(),
	}
	if in.Channel == "" {
		in.Channel = c.Channel
	}
	switch in.Channel {
	case care.DM:
		if req.ReplyTo != "" {
			badRequest(w, "bad_reply_to", "reply_to is for public replies; a DM goes to the case's customer")
			return in, false
		}
		if !care.IsID(c.CustomerID) {
			badRequest(w, "bad_channel", "case %s has no customer to send a DM to", c.ID)
			return in, false
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Direction == care.Inbound {
				in.ReplyTo = msgs[i]
				break
			}
		}
	case care.Public:
		found := false
		for i := len(msgs) - 1; i >= 0 && !found; i-- {
			m := msgs[i]
			if m.Channel != care.Public || m.DeletedAt != nil {
				continue
			}
			if req.ReplyTo == m.ID || req.ReplyTo == "" && m.Direction == care.Inbound {
				in.ReplyTo, found = m, true
			}
		}
		if !found {
			if req.ReplyTo != "" {
				badRequest(w, "bad_reply_to", "reply_to %s is not a post of case %s still on X", req.ReplyTo, c.ID)
			} else {
				badRequest(w, "bad_reply_to", "case %s has no customer post to answer in public; reply by DM (channel \"dm\")", c.ID)
			}
			return in, false
		}
	}
	in.Intent = classify.Intent(c.Intent)
	if in.Intent == "" {
		// Cases triaged before the case carried its intent: the latest decision's.
		decisions, err := a.Store.ListDecisions(ctx, c.ID)
		if err != nil {
			a.internal(w, r, err)
			return in, false
		}
		if n := len(decisions); n > 0 {
			in.Intent = classify.Intent(decisions[n-1].Labels.Intent)
		}
	}
	return in, true
}

// signatureName is the name to sign the agent's replies with: the one their
// profile's signature needs, else their display name.
func (a *API) signatureName(ctx context.Context, me caller) string {
	if me.Signature == "" {
		return me.DisplayName
	}
	name, err := a.Engine.SignatureName(me.Signature)
	if err != nil {
		// The protocol's signature changed since the agent set theirs.
		a.Log.WarnContext(ctx, "agent API: the agent's signature no longer fits the protocol; signing with their display name", "agent", me.ID, "error", err.Error())
		return me.DisplayName
	}
	return name
}

// agentReply signs and lints req on case c as the protocol makes an agent's
// reply (replyInput, then Engine.AgentReply): the reply route sends what it
// returns, the lint route shows it. It writes a 400 and reports false for a
// reply the case cannot take or the protocol cannot make; out is nil when the
// linter refused the reply.
func (a *API) agentReply(w http.ResponseWriter, r *http.Request, c *care.Case, msgs []care.StoredMessage, author caller, req ReplyRequest) (in protocol.AgentReplyInput, out *care.ReplyRequest, lint protocol.LintResult, ok bool) {
	if in, ok = a.replyInput(w, r, c, msgs, author, req); !ok {
		return in, nil, lint, false
	}
	out, lint, err := a.Engine.AgentReply(in)
	if err != nil {
		badRequest(w, "bad_reply", "the reply cannot be made: %s", strings.TrimPrefix(err.Error(), protocol.ErrBadInput.Error()+": "))
		return in, nil, lint, false
	}
	return in, out, lint, true
}

// writeLintFailed writes the 422 of a reply the linter refused.
func writeLintFailed(w http.ResponseWriter, lint protocol.LintResult) {
	var rules, msgs []string
	for _, e := range lint.Errors {
		if !slices.Contains(rules, e.Rule) {
			rules = append(rules, e.Rule)
		}
		msgs = append(msgs, e.Rule+": "+e.Message)
	}
	httpjson.Write(w, http.StatusUnprocessableEntity, errorWith[lintError]{lintError{
		ErrorDetail: httpjson.ErrorDetail{Code: "lint_failed", Message: "the reply breaks the protocol: " + strings.Join(msgs, "; ")},
		Rules:       rules,
		Issues:      slices.Concat(lint.Errors, lint.Warnings),
	}})
}

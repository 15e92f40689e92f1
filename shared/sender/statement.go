package sender

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// A crisis's public statement (care.ReplyStatement) goes out as any reply,
// through the same claim, send budget, rate limits and settling of an
// interrupted send, with three differences: it belongs to no case (its CaseID
// is the crisis's thread, store.CrisisPosts), so nothing is appended to a case;
// it answers no customer: the statement is a post of its own and each update a
// reply to the post before it in the thread, which must have gone out first
// (the update waits for it); and the linter reads it as the brand's word on an
// incident, so the statement starts with an apology (updates need not).

// statementReady checks a statement's post before it is scheduled: approved,
// its place in the thread known (r.req.InReplyToID is set to the X id of the
// post before it, "" for the statement) and taken by the reply linter. ok is
// false when it is not, the record then settled (failed, waiting or retried).
func (s *Sender) statementReady(ctx context.Context, r *record) (lint protocol.LintResult, ok bool) {
	req := &r.req
	place, err := s.threadPlace(ctx, req)
	switch {
	case err != nil:
		r.outcome, r.err = OutcomeRetry, err
		return lint, false
	case place.refused != "":
		s.fail(ctx, r, 0, place.refused)
		return lint, false
	case place.wait != "":
		s.wait(ctx, r, OutcomeDelayed, RetryFloor(r.receives())+spread(req.IdempotencyKey), place.wait)
		return lint, false
	}
	req.InReplyToID = place.inReplyTo
	lint = s.Engine.LintStatement(req.Text, req.Lang, place.inReplyTo == "")
	if !lint.OK() {
		s.fail(ctx, r, 0, lintRefusal(lint))
		return lint, false
	}
	return lint, true
}

// threadSpot is where a statement's post stands in its thread.
type threadSpot struct {
	// inReplyTo is the X id of the post it answers; "" for the statement.
	inReplyTo string
	// wait says why it cannot go yet (the post before it has not gone out);
	// refused why it never goes (not approved, gone from the thread).
	wait, refused string
}

// threadPlace finds the place of req, a statement's post, in its thread.
func (s *Sender) threadPlace(ctx context.Context, req *care.ReplyRequest) (threadSpot, error) {
	posts, err := s.Store.CrisisPosts(ctx, req.CaseID)
	if err != nil {
		return threadSpot{}, err
	}
	i := slices.IndexFunc(posts, func(p store.CrisisPost) bool { return p.DraftID == req.TriggerID })
	if i < 0 {
		return threadSpot{refused: fmt.Sprintf("crisis thread %s has no post %s", req.CaseID, req.TriggerID)}, nil
	}
	if st := posts[i].State(); st == store.PostPending || st == store.PostRejected {
		return threadSpot{refused: fmt.Sprintf("post %s of crisis thread %s is %s, not approved", req.TriggerID, req.CaseID, st)}, nil
	}
	before := store.PostBefore(posts, req.TriggerID)
	switch {
	case before == nil:
		return threadSpot{}, nil
	case before.Sent():
		return threadSpot{inReplyTo: before.Reply.XID}, nil
	}
	return threadSpot{wait: fmt.Sprintf("waits for the post before it in the statement thread, %s (%s), to go out", before.DraftID, before.State())}, nil
}

// interrupted reads what settling an interrupted send of r looks at: its case
// and the case's messages, where X's copy may have arrived; for a statement's
// post, which has no case, nothing, but its place in the thread, which the
// copy on X answers (r.req.InReplyToID).
func (s *Sender) interrupted(ctx context.Context, r *record) (*care.Case, []care.StoredMessage, error) {
	if r.req.Kind != care.ReplyStatement {
		return s.Store.GetCase(ctx, r.req.CaseID)
	}
	place, err := s.threadPlace(ctx, &r.req)
	if err != nil {
		return nil, nil, err
	}
	r.req.InReplyToID = place.inReplyTo
	return nil, nil, nil
}

// statementOut records a statement's post that went out on its crisis
// (care.CrisisState.StatementID), for the crisis template to point to: once,
// the latest post winning.
func (s *Sender) statementOut(ctx context.Context, r *record, xid string, at time.Time) error {
	topic, since, ok := care.ParseCrisisThreadID(r.req.CaseID)
	if !ok {
		return fmt.Errorf("sender: %q is not a crisis thread id", r.req.CaseID)
	}
	ok, err := s.Store.SetCrisisStatement(ctx, topic, since, xid, at)
	if err == nil && !ok {
		s.log().InfoContext(ctx, "sender: a statement's post is not the crisis's latest: a later one is recorded, or the crisis is over and another opened",
			"topic", topic, "thread", r.req.CaseID, "x_id", xid)
	}
	return err
}

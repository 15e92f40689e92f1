package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pajarito-care/pajarito/shared/care"
)

// A crisis's public statement thread (care.ReplyStatement) is kept like a
// case's replies, under the crisis's thread id (care.CrisisThreadID): each
// post is a draft (written by an admin, approved like any reply) and, once
// queued, a reply item of the sender's. The thread's order is the drafts'
// creation order; the statement is its first post that is not gone (rejected,
// failed or unknown), and every later one is an update, posted as a reply to
// the one before it.

// The states of a post of a statement thread (CrisisPost.State) besides the
// reply states (care.ReplyState: waiting, sending, sent, failed, unknown).
const (
	// PostPending: it awaits an approval (ApprovalPending).
	PostPending = ApprovalPending
	// PostRejected: an approver turned it down (ApprovalRejected).
	PostRejected = ApprovalRejected
	// PostQueued: on the outbound queue, not yet seen by the sender.
	PostQueued = "queued"
)

// CrisisPost is one post of a crisis's statement thread: its draft and, once
// the sender saw it, its reply item.
type CrisisPost struct {
	Draft
	// Reply is where it stands on its way to X; nil until the sender saw it.
	Reply *care.ReplyStatus `json:"reply,omitempty"`
}

// State is where the post stands: PostPending, PostRejected, PostQueued or
// its reply's state.
func (p *CrisisPost) State() string {
	switch {
	case p.Approval != nil && p.Approval.State != ApprovalApproved:
		return p.Approval.State
	case p.Reply == nil:
		return PostQueued
	}
	return string(p.Reply.State)
}

// Gone reports whether the post is out of the thread: rejected, or refused
// by X for good (failed), or lost (unknown).
func (p *CrisisPost) Gone() bool {
	switch p.State() {
	case PostRejected, string(care.ReplyFailed), string(care.ReplyUnknown):
		return true
	}
	return false
}

// Sent reports whether X holds the post (its id is Reply.XID).
func (p *CrisisPost) Sent() bool { return p.Reply != nil && p.Reply.State == care.ReplySent }

// CrisisPosts returns the posts of a crisis's statement thread, oldest first.
func (s *Store) CrisisPosts(ctx context.Context, threadID string) ([]CrisisPost, error) {
	if !care.IsCrisisThreadID(threadID) {
		return nil, fmt.Errorf("store: crisis posts: %q is not a crisis thread id", threadID)
	}
	drafts, err := s.drafts(ctx, threadID, false)
	if err != nil {
		return nil, err
	}
	replies, err := s.ListReplies(ctx, threadID)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*care.ReplyStatus{}
	for i := range replies {
		byKey[replies[i].Key] = &replies[i]
	}
	posts := make([]CrisisPost, 0, len(drafts))
	for _, d := range drafts {
		posts = append(posts, CrisisPost{Draft: d, Reply: byKey[d.Request.IdempotencyKey]})
	}
	slices.SortStableFunc(posts, func(a, b CrisisPost) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.DraftID, b.DraftID))
	})
	return posts, nil
}

// PostBefore returns the post that the post draftID of a thread follows: the
// latest one before it that is not gone; nil when draftID's is the statement
// (or is not in posts).
func PostBefore(posts []CrisisPost, draftID string) *CrisisPost {
	i := slices.IndexFunc(posts, func(p CrisisPost) bool { return p.DraftID == draftID })
	if i < 0 {
		return nil
	}
	return LastPost(posts[:i])
}

// LastPost returns the latest post of a thread that is not gone (the one
// the next post follows); nil when there is none.
func LastPost(posts []CrisisPost) *CrisisPost {
	for i := len(posts) - 1; i >= 0; i-- {
		if !posts[i].Gone() {
			return &posts[i]
		}
	}
	return nil
}

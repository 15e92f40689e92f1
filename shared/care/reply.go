package care

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// ReplyKind says why a reply is sent.
type ReplyKind string

const (
	// ReplyAutoAck is an automatic acknowledgement (or thank-you, for praise).
	ReplyAutoAck ReplyKind = "auto_ack"
	// ReplyMoveToDM is a public reply inviting the customer to continue by DM.
	ReplyMoveToDM ReplyKind = "move_to_dm"
	// ReplyOutOfHours is the automatic answer outside business hours.
	ReplyOutOfHours ReplyKind = "out_of_hours"
	// ReplyCrisis is the crisis template, sent to cases related to an open crisis.
	ReplyCrisis ReplyKind = "crisis"
	// ReplyCrisisFollowUp tells a customer the crisis they were affected by is
	// over (package monitor, once per customer and crisis).
	ReplyCrisisFollowUp ReplyKind = "crisis_followup"
	// ReplySurvey is the satisfaction survey, a DM sent once a case is resolved
	// (package monitor); its TriggerID is "survey".
	ReplySurvey ReplyKind = "survey"
	// ReplyAgent is written by an agent.
	ReplyAgent ReplyKind = "agent"
	// ReplyStatement is a post of a crisis's public statement thread, written
	// by an admin and posted from the brand account: the statement, a post of
	// its own, then its updates, each a reply to the one before it (the
	// sender finds which when it sends). Its CaseID is the crisis's
	// (CrisisThreadID) and its TriggerID the post's draft id.
	ReplyStatement ReplyKind = "crisis_statement"
)

// ReplyKinds lists every reply kind.
var ReplyKinds = []ReplyKind{ReplyAutoAck, ReplyMoveToDM, ReplyOutOfHours, ReplyCrisis, ReplyCrisisFollowUp, ReplySurvey, ReplyAgent, ReplyStatement}

// Automatic reports whether replies of this kind are written by the protocol.
func (k ReplyKind) Automatic() bool { return k != ReplyAgent && k != ReplyStatement && k != "" }

// AuthorAuto is the Author of automatic replies.
const AuthorAuto = "auto"

// ReplyVersion is the current version of the outbound queue format.
const ReplyVersion = 1

// MaxDMLength is the longest DM X accepts, in characters. Public posts are limited
// to 280 weighted characters; the protocol's reply linter counts them.
const MaxDMLength = 10000

// ReplyRequest is the unit on the outbound queue: one reply to post on X, publicly
// (a reply to a post) or by DM, already written and signed. The reply sender posts
// it at most once per IdempotencyKey.
type ReplyRequest struct {
	Version int `json:"v"`
	// IdempotencyKey is deterministic (ReplyKey): a decision made again for the same
	// message (a redelivery) produces the same key, and the sender posts it once.
	IdempotencyKey string `json:"idempotency_key"`
	CaseID         string `json:"case_id"`
	// TriggerID is the X id of the message the reply answers (automatic replies) or
	// the id of the agent's draft.
	TriggerID string  `json:"trigger_id"`
	Channel   Channel `json:"channel"`
	// InReplyToID is the post replied to (Public); RecipientID the DM's recipient
	// (DM).
	InReplyToID string `json:"in_reply_to_id,omitempty"`
	RecipientID string `json:"recipient_id,omitempty"`
	// Text is the complete text to post, signature included.
	Text string    `json:"text"`
	Lang string    `json:"lang,omitempty"`
	Kind ReplyKind `json:"kind"`
	// Author is AuthorAuto or the agent's id; AuthorName the agent's name.
	Author     string `json:"author"`
	AuthorName string `json:"author_name,omitempty"`
	// ApprovedBy and ApprovedByName are the agent who approved a reply that
	// waited for an approval (a contributor's, say); the reply is signed by
	// its author.
	ApprovedBy     string `json:"approved_by,omitempty"`
	ApprovedByName string `json:"approved_by_name,omitempty"`
	// TemplateID names the template of an automatic reply: "<template>.<lang>" or
	// "<template>.<tone>.<lang>".
	TemplateID string `json:"template_id,omitempty"`
	// Summoned is true when the customer addressed the brand (X prices those replies
	// lower, and self-serve tiers may auto-reply to them only).
	Summoned  bool      `json:"summoned,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Warnings are the reply linter's warnings (errors block a reply, so a request
	// never carries any).
	Warnings []string `json:"warnings,omitempty"`
}

// ReplyKey returns the idempotency key of the reply of kind to the message trigger
// of a case: a hash of the three, so that deciding again produces the same key.
func ReplyKey(caseID, trigger string, kind ReplyKind) string {
	h := sha256.Sum256([]byte(caseID + "\x00" + trigger + "\x00" + string(kind)))
	return "r" + hex.EncodeToString(h[:16])
}

// Validate reports the first field that makes the request unusable.
func (r *ReplyRequest) Validate() error {
	known := false
	for _, k := range ReplyKinds {
		known = known || r.Kind == k
	}
	switch {
	case r.Version != ReplyVersion:
		return fmt.Errorf("reply request version %d is not supported (this build reads %d)", r.Version, ReplyVersion)
	case r.IdempotencyKey == "":
		return fmt.Errorf("reply request for case %q has no idempotency key", r.CaseID)
	case r.CaseID == "":
		return fmt.Errorf("reply request %s has no case id", r.IdempotencyKey)
	case r.TriggerID == "":
		return fmt.Errorf("reply request %s has no trigger id", r.IdempotencyKey)
	case !known:
		return fmt.Errorf("reply request %s: kind %q is unknown", r.IdempotencyKey, r.Kind)
	case r.Kind == ReplyStatement && !IsCrisisThreadID(r.CaseID):
		return fmt.Errorf("reply request %s: a crisis statement's case id %q is not a crisis's", r.IdempotencyKey, r.CaseID)
	case r.Kind != ReplyStatement && IsCrisisThreadID(r.CaseID):
		return fmt.Errorf("reply request %s: a %s reply goes to a customer's case, not to crisis %s", r.IdempotencyKey, r.Kind, r.CaseID)
	case r.Kind == ReplyStatement && (r.Channel != Public || r.RecipientID != ""):
		return fmt.Errorf("reply request %s: a crisis statement is a public post", r.IdempotencyKey)
	case r.Kind == ReplyStatement && r.InReplyToID != "" && !IsID(r.InReplyToID):
		return fmt.Errorf("reply request %s: a statement's update answers the X id of the post before it, got %q", r.IdempotencyKey, r.InReplyToID)
	case r.Channel == Public && r.Kind != ReplyStatement && !IsID(r.InReplyToID):
		return fmt.Errorf("reply request %s: public reply needs the X id of the post it answers, got %q", r.IdempotencyKey, r.InReplyToID)
	case r.Channel == Public && r.RecipientID != "":
		return fmt.Errorf("reply request %s: a public reply has no DM recipient", r.IdempotencyKey)
	case r.Channel == DM && !IsID(r.RecipientID):
		return fmt.Errorf("reply request %s: DM needs the recipient's X user id, got %q", r.IdempotencyKey, r.RecipientID)
	case r.Channel != Public && r.Channel != DM:
		return fmt.Errorf("reply request %s: channel %q is neither %q nor %q", r.IdempotencyKey, r.Channel, Public, DM)
	case r.Channel == DM && r.Kind == ReplyMoveToDM:
		return fmt.Errorf("reply request %s: an invitation to DM is a public reply", r.IdempotencyKey)
	case r.Channel != DM && r.Kind == ReplySurvey:
		return fmt.Errorf("reply request %s: a survey is a DM", r.IdempotencyKey)
	case r.Text == "" || !utf8.ValidString(r.Text):
		return fmt.Errorf("reply request %s: text is empty or not UTF-8", r.IdempotencyKey)
	case utf8.RuneCountInString(r.Text) > MaxDMLength:
		return fmt.Errorf("reply request %s: text is longer than %d characters", r.IdempotencyKey, MaxDMLength)
	case r.Author == "":
		return fmt.Errorf("reply request %s has no author", r.IdempotencyKey)
	case r.Kind.Automatic() && r.Author != AuthorAuto:
		return fmt.Errorf("reply request %s: an automatic reply (%s) has author %q, want %q", r.IdempotencyKey, r.Kind, r.Author, AuthorAuto)
	case !r.Kind.Automatic() && r.Author == AuthorAuto:
		return fmt.Errorf("reply request %s: an agent reply needs the agent's id as author", r.IdempotencyKey)
	case r.CreatedAt.IsZero():
		return fmt.Errorf("reply request %s: created time is missing", r.IdempotencyKey)
	}
	return nil
}

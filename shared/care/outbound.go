package care

import (
	"strconv"
	"time"
)

// ReplyState is where a reply request stands on its way to X (see package sender).
type ReplyState string

const (
	// ReplyWaiting: not sent yet. The request waits for the send budget's window or
	// for X's rate limit to reset (NotBefore), or X answered with an error that is
	// worth retrying.
	ReplyWaiting ReplyState = "waiting"
	// ReplySending: a sender claimed the request and is calling X.
	ReplySending ReplyState = "sending"
	// ReplySent: X accepted it; XID is the post or DM event X created.
	ReplySent ReplyState = "sent"
	// ReplyFailed: never sent, and never retried: X refused it for good (deleted
	// post, blocked, not allowed to reply, duplicate content), or the request was
	// invalid or failed the reply linter. Reason says which.
	ReplyFailed ReplyState = "failed"
	// ReplyUnknown: a sender was interrupted while calling X and no copy of the
	// reply was found afterwards. It is not sent again: an agent checks the
	// conversation on X.
	ReplyUnknown ReplyState = "unknown"
)

// Terminal reports whether the sender is done with replies in this state.
func (s ReplyState) Terminal() bool {
	return s == ReplySent || s == ReplyFailed || s == ReplyUnknown
}

// ReplyStatus is what is known of one reply request of a case, for agents: the
// request, where it stands, and what X said.
type ReplyStatus struct {
	// Key is the request's IdempotencyKey.
	Key     string     `json:"key"`
	CaseID  string     `json:"case_id"`
	Kind    ReplyKind  `json:"kind"`
	Channel Channel    `json:"channel"`
	State   ReplyState `json:"state"`
	// XID is the post id or DM event id X returned (sent).
	XID string `json:"x_id,omitempty"`
	// Reason says why the reply failed, is unknown, or waits; for a sent reply,
	// how it went out when not as asked (found posted after an interruption,
	// posted with a reference after X refused its text as duplicate content).
	Reason string `json:"reason,omitempty"`
	// Author is AuthorAuto or the agent's id.
	Author      string `json:"author"`
	AuthorName  string `json:"author_name,omitempty"`
	TriggerID   string `json:"trigger_id"`
	InReplyToID string `json:"in_reply_to_id,omitempty"`
	RecipientID string `json:"recipient_id,omitempty"`
	TemplateID  string `json:"template_id,omitempty"`
	// Text is the reply's text: once sent, the text X took (see Reason).
	Text string `json:"text"`
	// Attempts counts the calls to X.
	Attempts int `json:"attempts"`
	// CostUSD is X's price of the reply (DESIGN.md), set when it is sent.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// RequestedAt is when the reply was decided (the request's CreatedAt).
	RequestedAt time.Time `json:"requested_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// SendingAt is when the last call to X started; SentAt when X accepted it.
	SendingAt *time.Time `json:"sending_at,omitempty"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	// NotBefore is when a waiting reply is tried again.
	NotBefore *time.Time `json:"not_before,omitempty"`
}

// twitterEpoch is the time of snowflake id 0, in Unix milliseconds.
const twitterEpoch = 1288834974657

// Snowflake returns the X snowflake id of something created at t, with sequence
// seq (its low 22 bits) telling apart ids of the same millisecond. Times before
// the epoch of X's ids give a sequence alone.
func Snowflake(t time.Time, seq uint64) uint64 {
	ms := max(t.UnixMilli()-twitterEpoch, 0)
	return uint64(ms)<<22 | seq&(1<<22-1)
}

// IDTime returns the creation time encoded in an X snowflake id (posts and DM
// events); ok is false for ids that are not snowflakes.
func IDTime(id string) (t time.Time, ok bool) {
	if !IsID(id) {
		return time.Time{}, false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n>>22 == 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(n>>22) + twitterEpoch).UTC(), true
}

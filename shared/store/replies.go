package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// The reply sender's items (package sender): one reply item per reply request,
// in a partition per case, and the send budget, one counter per kind of send and
// 15-minute window.
//
//	item       PK                 SK                         GSI1PK  GSI1SK  attributes
//	reply      REPLIES#<caseId>   <idempotency key>          -       -       care.ReplyStatus (attempts added with ADD),
//	                                                                         slot (sortable, while waiting), task_spend_at,
//	                                                                         task_notify_at
//	sendwindow SENDS#<kind>       <window start,             -       -       kind, window, sends (ADD, conditional), limit,
//	                              yyyy-mm-ddThh:mm UTC>                      expires_at
//
// A reply item moves between states (care.ReplyState) by single-item conditional
// updates only:
//
//	(none) or waiting ──ClaimReply──► sending ──FinishReply──► sent | failed | unknown
//	(none) or waiting ──DeferReply──► waiting
//	sending ──ReleaseReply──► waiting (X refused the call: nothing was sent)
//	unknown ──FinishReply(sent)──► sent (X's copy of that attempt turned up)
//	(none) or waiting ──FinishReply(attempt 0)──► failed (an invalid request)
//
// ClaimReply adds one to attempts; the other moves out of sending name the attempt
// they finish, so that a sender whose claim was taken over cannot overwrite what
// the next attempt wrote. Of concurrent claims of one request exactly one wins.
// Reply items are kept, like decisions.
//
// A send-budget window holds at most its limit of sends: ReserveSend adds one on
// condition that the count is below the limit, so that concurrent senders never
// take more. Windows expire (TTL) a day after they end.

// SendWindow is the length of a send-budget window: X's rate-limit window.
const SendWindow = 15 * time.Minute

// sendWindowRetention is how long a send-budget window is kept after it starts.
const sendWindowRetention = 24*time.Hour + SendWindow

// Follow-up tasks of a reply, each done once (ClaimReplyTask).
const (
	// TaskSpend: the reply's X cost was added to the month's spend.
	TaskSpend = "spend"
	// TaskNotify: the team was told that the reply failed or is unknown.
	TaskNotify = "notify"
)

// Reply is a reply item: what agents see (care.ReplyStatus) and the sender's
// bookkeeping.
type Reply struct {
	care.ReplyStatus
	// Slot is the start of the send-budget window in which a waiting reply holds a
	// reserved send; zero when it holds none.
	Slot time.Time
	// SpendAt and NotifiedAt say when the follow-up tasks were claimed (nil: not
	// yet).
	SpendAt    *time.Time
	NotifiedAt *time.Time
}

// replyItem is a reply item as stored.
type replyItem struct {
	care.ReplyStatus
	Slot         string     `json:"slot,omitempty"`
	TaskSpendAt  *time.Time `json:"task_spend_at,omitempty"`
	TaskNotifyAt *time.Time `json:"task_notify_at,omitempty"`
}

// ReplyOutcome is how a reply ended (FinishReply).
type ReplyOutcome struct {
	// State is care.ReplySent, care.ReplyFailed or care.ReplyUnknown.
	State care.ReplyState
	// XID is the post or DM event id X created (sent).
	XID string
	// Reason says why it failed or is unknown, or how a sent reply went out
	// when not as asked.
	Reason string
	// CostUSD is X's price of a sent reply.
	CostUSD float64
	// SentAt is when X created it (sent).
	SentAt time.Time
	// ClaimSpend claims the reply's spend task (TaskSpend) with the write that
	// finishes it as sent: one write fewer than ClaimReplyTask.
	ClaimSpend bool
}

func repliesPK(caseID string) string { return "REPLIES#" + caseID }

func replyKey(caseID, idempotencyKey string) map[string]types.AttributeValue {
	return key(repliesPK(caseID), idempotencyKey)
}

func taskAttr(task string) string { return "task_" + task + "_at" }

// checkRequest reports a request the reply items cannot be keyed by.
func checkRequest(r *care.ReplyRequest) error {
	if r == nil || r.CaseID == "" || r.IdempotencyKey == "" {
		return errors.New("the reply request needs a case id and an idempotency key")
	}
	return nil
}

// setRequest sets the attributes of a reply item that come from its request.
func setRequest(e *expr, r *care.ReplyRequest) {
	e.set("key", str(r.IdempotencyKey))
	e.set("case_id", str(r.CaseID))
	e.set("kind", str(string(r.Kind)))
	e.set("channel", str(string(r.Channel)))
	e.set("author", str(r.Author))
	e.set("trigger_id", str(r.TriggerID))
	e.set("text", str(r.Text))
	e.set("requested_at", str(stamp(r.CreatedAt)))
	for name, v := range map[string]string{
		"author_name": r.AuthorName, "in_reply_to_id": r.InReplyToID,
		"recipient_id": r.RecipientID, "template_id": r.TemplateID,
	} {
		if v != "" {
			e.set(name, str(v))
		}
	}
}

// GetReply returns the reply item of request key in case caseID (strongly
// consistent); nil when there is none.
func (s *Store) GetReply(ctx context.Context, caseID, key string) (*Reply, error) {
	item, err := s.get(ctx, replyKey(caseID, key))
	if err != nil {
		return nil, fmt.Errorf("store: get reply %s of case %s: %w", key, caseID, err)
	}
	if item == nil {
		return nil, nil
	}
	r, err := decodeReply(item)
	if err != nil {
		return nil, fmt.Errorf("store: get reply %s of case %s: %w", key, caseID, err)
	}
	return r, nil
}

func decodeReply(item map[string]types.AttributeValue) (*Reply, error) {
	var it replyItem
	if err := unmarshal(item, &it); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	r := &Reply{ReplyStatus: it.ReplyStatus, SpendAt: it.TaskSpendAt, NotifiedAt: it.TaskNotifyAt}
	if it.Slot != "" {
		t, err := time.Parse(sortableTime, it.Slot)
		if err != nil {
			return nil, fmt.Errorf("decode reply: slot %q: %w", it.Slot, err)
		}
		r.Slot = t
	}
	return r, nil
}

// ListReplies returns the state of every reply request of a case, oldest request
// first (one Query).
func (s *Store) ListReplies(ctx context.Context, caseID string) ([]care.ReplyStatus, error) {
	var out []care.ReplyStatus
	err := s.queryPartition(ctx, repliesPK(caseID), true, func(it map[string]types.AttributeValue) (bool, error) {
		r, err := decodeReply(it)
		if err != nil {
			return false, fmt.Errorf("%s: %w", stringAttr(it, KeySK), err)
		}
		out = append(out, r.ReplyStatus)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list replies of case %s: %w", caseID, err)
	}
	slices.SortStableFunc(out, func(a, b care.ReplyStatus) int {
		if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}

// notStartedCond is the condition of a reply that no sender has called X for, or
// whose last call X refused: no item yet, or waiting.
func notStartedCond(e *expr) string {
	return fmt.Sprintf("attribute_not_exists(%s) OR %s = %s",
		e.name(KeyPK), e.name("state"), e.value(str(string(care.ReplyWaiting))))
}

// sendingCond is the condition of a reply whose attempt is in progress.
func sendingCond(e *expr, attempt int) string {
	return fmt.Sprintf("%s = %s AND %s = %s",
		e.name("state"), e.value(str(string(care.ReplySending))), e.name("attempts"), e.value(num(int64(attempt))))
}

// ClaimReply claims request r for a call to X: it moves its reply item (created
// from r if needed) to sending, adds one to its attempts and clears its wait, on
// condition that it does not exist or is waiting. It returns the item after the
// claim and true when this call won; nil and false when the request is claimed
// already or finished (read it with GetReply).
func (s *Store) ClaimReply(ctx context.Context, r *care.ReplyRequest) (*Reply, bool, error) {
	if err := checkRequest(r); err != nil {
		return nil, false, fmt.Errorf("store: claim reply: %w", err)
	}
	now := s.now()
	e := newExpr()
	setRequest(e, r)
	e.set("state", str(string(care.ReplySending)))
	e.set("sending_at", str(stamp(now)))
	e.set("updated_at", str(stamp(now)))
	e.add("attempts", 1)
	e.remove("not_before")
	e.remove("slot")
	e.remove("reason")
	var mt meter
	after, err := s.update(ctx, &mt, e.input(replyKey(r.CaseID, r.IdempotencyKey), notStartedCond(e)), nil, false)
	if err != nil {
		return nil, false, fmt.Errorf("store: claim reply %s of case %s: %w", r.IdempotencyKey, r.CaseID, err)
	}
	if after == nil {
		return nil, false, nil
	}
	rep, err := decodeReply(after)
	if err != nil {
		return nil, false, fmt.Errorf("store: claim reply %s of case %s: %w", r.IdempotencyKey, r.CaseID, err)
	}
	return rep, true, nil
}

// DeferReply records that request r waits until notBefore, for reason, holding a
// reserved send of the send-budget window starting at slot (zero: none), on
// condition that its item does not exist or is waiting. It reports whether it
// wrote.
func (s *Store) DeferReply(ctx context.Context, r *care.ReplyRequest, notBefore, slot time.Time, reason string) (bool, error) {
	if err := checkRequest(r); err != nil {
		return false, fmt.Errorf("store: defer reply: %w", err)
	}
	e := newExpr()
	setRequest(e, r)
	e.set("state", str(string(care.ReplyWaiting)))
	e.set("not_before", str(stamp(notBefore)))
	e.set("reason", str(reason))
	e.set("updated_at", str(stamp(s.now())))
	if slot.IsZero() {
		e.remove("slot")
	} else {
		e.set("slot", str(sortable(slot)))
	}
	var mt meter
	after, err := s.update(ctx, &mt, e.input(replyKey(r.CaseID, r.IdempotencyKey), notStartedCond(e)), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: defer reply %s of case %s: %w", r.IdempotencyKey, r.CaseID, err)
	}
	return after != nil, nil
}

// ReleaseReply moves a reply back from sending to waiting, after X refused its
// attempt without creating anything (a 429, a 5xx, a request that never left):
// it is tried again from notBefore. It reports false when the reply is no longer
// in that attempt.
func (s *Store) ReleaseReply(ctx context.Context, caseID, key string, attempt int, notBefore time.Time, reason string) (bool, error) {
	e := newExpr()
	e.set("state", str(string(care.ReplyWaiting)))
	e.set("not_before", str(stamp(notBefore)))
	e.set("reason", str(reason))
	e.set("updated_at", str(stamp(s.now())))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(replyKey(caseID, key), sendingCond(e, attempt)), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: release reply %s of case %s: %w", key, caseID, err)
	}
	return after != nil, nil
}

// FinishReply records how request r ended: sent (with X's id), failed or unknown
// (with the reason). With o.ClaimSpend, finishing a reply as sent also claims
// its spend task (TaskSpend), in the same write: a caller that gets true adds
// the reply's price to the month's spend (and gives the task back with
// ReleaseReplyTask if it cannot). With attempt > 0 it finishes that attempt: on condition that
// the reply is sending in that attempt (for sent, also unknown in that attempt:
// X's copy turned up after all). With attempt 0 it fails a request before any
// call to X (invalid, or refused by the linter): on condition that its item does
// not exist or is waiting. It reports whether it wrote.
func (s *Store) FinishReply(ctx context.Context, r *care.ReplyRequest, attempt int, o ReplyOutcome) (bool, error) {
	if err := checkRequest(r); err != nil {
		return false, fmt.Errorf("store: finish reply: %w", err)
	}
	switch {
	case o.State == care.ReplySent && !care.IsID(o.XID):
		return false, fmt.Errorf("store: finish reply %s of case %s: a sent reply needs X's id, got %q", r.IdempotencyKey, r.CaseID, o.XID)
	case o.State == care.ReplySent && attempt == 0:
		return false, fmt.Errorf("store: finish reply %s of case %s: a reply is sent by an attempt (attempt 0)", r.IdempotencyKey, r.CaseID)
	case !o.State.Terminal():
		return false, fmt.Errorf("store: finish reply %s of case %s: state %q is not an end (sent, failed, unknown)", r.IdempotencyKey, r.CaseID, o.State)
	case attempt < 0:
		return false, fmt.Errorf("store: finish reply %s of case %s: attempt %d is negative", r.IdempotencyKey, r.CaseID, attempt)
	}
	now := s.now()
	e := newExpr()
	setRequest(e, r)
	e.set("state", str(string(o.State)))
	e.set("updated_at", str(stamp(now)))
	if o.XID != "" {
		e.set("x_id", str(o.XID))
	}
	if o.Reason != "" {
		e.set("reason", str(o.Reason))
	} else {
		e.remove("reason")
	}
	if o.State == care.ReplySent {
		at := o.SentAt
		if at.IsZero() {
			at = now
		}
		e.set("sent_at", str(stamp(at)))
		e.set("cost_usd", &types.AttributeValueMemberN{Value: dollars(o.CostUSD)})
		if o.ClaimSpend {
			e.set(taskAttr(TaskSpend), str(stamp(now)))
		}
	}
	e.remove("not_before")
	e.remove("slot")
	var cond string
	switch {
	case attempt == 0:
		cond = notStartedCond(e)
	case o.State == care.ReplySent:
		// X's copy found after the attempt was declared unknown also counts.
		cond = fmt.Sprintf("%s IN (%s, %s) AND %s = %s", e.name("state"),
			e.value(str(string(care.ReplySending))), e.value(str(string(care.ReplyUnknown))),
			e.name("attempts"), e.value(num(int64(attempt))))
	default:
		cond = sendingCond(e, attempt)
	}
	var mt meter
	after, err := s.update(ctx, &mt, e.input(replyKey(r.CaseID, r.IdempotencyKey), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: finish reply %s of case %s as %s: %w", r.IdempotencyKey, r.CaseID, o.State, err)
	}
	return after != nil, nil
}

// ClaimReplyTask claims a follow-up task of a reply (TaskSpend, TaskNotify): it
// records the time on condition that the reply exists and the task was not
// claimed, so that of concurrent senders one does it. It reports whether this call
// claimed it. A claimer that then fails gives the task back (ReleaseReplyTask).
func (s *Store) ClaimReplyTask(ctx context.Context, caseID, key, task string) (bool, error) {
	e := newExpr()
	e.set(taskAttr(task), str(stamp(s.now())))
	cond := fmt.Sprintf("attribute_exists(%s) AND attribute_not_exists(%s)", e.name(KeyPK), e.name(taskAttr(task)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(replyKey(caseID, key), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: claim task %s of reply %s of case %s: %w", task, key, caseID, err)
	}
	return after != nil, nil
}

// ReleaseReplyTask gives back a task claimed with ClaimReplyTask that could not be
// done, so that a later delivery does it.
func (s *Store) ReleaseReplyTask(ctx context.Context, caseID, key, task string) error {
	e := newExpr()
	e.remove(taskAttr(task))
	cond := fmt.Sprintf("attribute_exists(%s)", e.name(KeyPK))
	var mt meter
	if _, err := s.update(ctx, &mt, e.input(replyKey(caseID, key), cond), nil, false); err != nil {
		return fmt.Errorf("store: release task %s of reply %s of case %s: %w", task, key, caseID, err)
	}
	return nil
}

// sendWindowFmt names a send-budget window by its start.
const sendWindowFmt = "2006-01-02T15:04"

// SendWindowStart returns the start of the send-budget window holding t.
func SendWindowStart(t time.Time) time.Time { return t.UTC().Truncate(SendWindow) }

// ReserveSend takes one send of kind ("post", "dm") from the send budget: from the
// window holding from, then from each following window, at most windows of them,
// it adds one to the first window holding fewer than limit sends (a conditional
// ADD per window tried). It returns that window's start, or ok false when the
// windows tried are all full.
func (s *Store) ReserveSend(ctx context.Context, kind string, from time.Time, limit, windows int) (time.Time, bool, error) {
	if kind == "" || limit <= 0 || windows <= 0 {
		return time.Time{}, false, fmt.Errorf("store: reserve a send: kind %q, limit %d and windows %d must be set and positive", kind, limit, windows)
	}
	w := SendWindowStart(from)
	for range windows {
		e := newExpr()
		e.set("kind", str(kind))
		e.set("window", str(stamp(w)))
		e.set("limit", num(int64(limit)))
		e.set(TTLAttribute, num(w.Add(sendWindowRetention).Unix()))
		e.add("sends", 1)
		n := e.name("sends")
		cond := fmt.Sprintf("attribute_not_exists(%s) OR %s < %s", n, n, e.value(num(int64(limit))))
		var mt meter
		after, err := s.update(ctx, &mt, e.input(key("SENDS#"+kind, w.Format(sendWindowFmt)), cond), nil, false)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("store: reserve a %s send in the window of %s: %w", kind, w.Format(sendWindowFmt), err)
		}
		if after != nil {
			return w, true, nil
		}
		w = w.Add(SendWindow)
	}
	return time.Time{}, false, nil
}

// SendsIn returns how many sends of kind the window starting at windowStart holds.
func (s *Store) SendsIn(ctx context.Context, kind string, windowStart time.Time) (int, error) {
	item, err := s.get(ctx, key("SENDS#"+kind, SendWindowStart(windowStart).Format(sendWindowFmt)))
	if err != nil {
		return 0, fmt.Errorf("store: sends of %s in %s: %w", kind, windowStart.Format(sendWindowFmt), err)
	}
	var rec struct {
		Sends int `json:"sends"`
	}
	if item != nil {
		if err := unmarshal(item, &rec); err != nil {
			return 0, fmt.Errorf("store: sends of %s in %s: decode: %w", kind, windowStart.Format(sendWindowFmt), err)
		}
	}
	return rec.Sends, nil
}

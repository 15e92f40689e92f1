package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Delayer postpones the next delivery of a record by d (queue.Visibility
// implements it) and returns the delay it set.
type Delayer interface {
	Delay(ctx context.Context, r events.SQSMessage, d time.Duration) (time.Duration, error)
}

var _ Delayer = (*queue.Visibility)(nil)

// Finder reads the brand's own posts and DMs on X (*xapi.Client implements it):
// the reads that settle an interrupted send whose copy did not reach the case (see
// "An interrupted send"). They are X's User Posts timeline (GET
// /2/users/{id}/tweets) and the DM conversation with a customer (GET
// /2/dm_conversations/with/{participant_id}/dm_events), billed per post or event
// read: the sender reads them only for an interrupted send, at most findPages
// pages of findPageSize.
type Finder interface {
	// UserPosts reads one page of userID's posts, newest first (replies to
	// customers as outbound messages).
	UserPosts(ctx context.Context, userID string, q xapi.PageQuery) (*xapi.Page, error)
	// DMEvents reads one page of the brand's DM conversation with participantID,
	// newest first.
	DMEvents(ctx context.Context, participantID string, q xapi.PageQuery) (*xapi.DMPage, error)
}

var _ Finder = (*xapi.Client)(nil)

// ChatWriter sends the brand's DMs in X Chat conversations
// (*xchatopen.Sender implements it). Its errors are xapi's; those wrapping
// xapi.ErrUnsendable fail the reply for good.
type ChatWriter interface {
	// SendChat sends text to the one-to-one conversation with recipientID as
	// the message messageID; Sent.ID is the X id Pajarito gives it.
	SendChat(ctx context.Context, recipientID, messageID, text string) (*xapi.Sent, error)
}

// Store is the part of the case store the sender reads and writes (*store.Store
// implements it).
type Store interface {
	// GetCase, ListDecisions, ListReplies and CustomerCases read what the linter
	// and the settling of an interrupted send look at.
	GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error)
	ListDecisions(ctx context.Context, caseID string) ([]care.DecisionRecord, error)
	ListReplies(ctx context.Context, caseID string) ([]care.ReplyStatus, error)
	CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error)
	// CrisisPosts reads the thread of a crisis's statement, where a post of
	// it finds the post it answers.
	CrisisPosts(ctx context.Context, threadID string) ([]store.CrisisPost, error)
	// SetCrisisStatement records the latest post out of a crisis's
	// statement, which the crisis template then points to.
	SetCrisisStatement(ctx context.Context, topic string, since time.Time, xid string, at time.Time) (bool, error)

	// GetReply, ClaimReply, ReleaseReply, DeferReply and FinishReply move a reply
	// item through its states (waiting, sending, sent, failed, unknown).
	GetReply(ctx context.Context, caseID, key string) (*store.Reply, error)
	ClaimReply(ctx context.Context, r *care.ReplyRequest) (*store.Reply, bool, error)
	ReleaseReply(ctx context.Context, caseID, key string, attempt int, notBefore time.Time, reason string) (bool, error)
	DeferReply(ctx context.Context, r *care.ReplyRequest, notBefore, slot time.Time, reason string) (bool, error)
	FinishReply(ctx context.Context, r *care.ReplyRequest, attempt int, o store.ReplyOutcome) (bool, error)

	// ClaimReplyTask and ReleaseReplyTask make a reply's follow-up tasks (the
	// spend, the notification) happen once; RecordReplyIssue lists a reply that
	// failed or is unknown.
	ClaimReplyTask(ctx context.Context, caseID, key, task string) (bool, error)
	ReleaseReplyTask(ctx context.Context, caseID, key, task string) error
	RecordReplyIssue(ctx context.Context, ri store.ReplyIssue) error

	// AppendOutbound appends a sent reply to its case; AddSpend adds its price
	// to the month's spend.
	AppendOutbound(ctx context.Context, caseID string, env *care.Envelope, delivery string) (store.AppendResult, error)
	AddSpend(ctx context.Context, at time.Time, d store.SourceSpend) error
	// PutAudit keeps the automatic replies that went out in their case's
	// audit trail.
	PutAudit(ctx context.Context, e care.AuditEntry) (care.AuditEntry, error)

	// GetBackoff and SetBackoff read and record X's rate limits; ReserveSend
	// takes a send from the send budget.
	GetBackoff(ctx context.Context, endpoint string) (*store.Backoff, error)
	SetBackoff(ctx context.Context, b store.Backoff) error
	ReserveSend(ctx context.Context, kind string, from time.Time, limit, windows int) (time.Time, bool, error)
}

var _ Store = (*store.Store)(nil)

// Limits are the send budget: the most sends of each kind per 15-minute window
// (store.SendWindow), shared by every sender.
type Limits struct {
	// Posts is the most public replies per window (DefaultPostsPerWindow when 0).
	Posts int
	// DMs is the most DMs per window (DefaultDMsPerWindow when 0).
	DMs int
}

// Defaults.
const (
	// DefaultPostsPerWindow and DefaultDMsPerWindow are X's per-user limits of
	// POST /2/tweets (100 per 15 minutes) and of DMs (15 per 15 minutes).
	DefaultPostsPerWindow = 100
	DefaultDMsPerWindow   = 15
	// DefaultLease is how long a claimed send may take before another delivery
	// settles it (see "An interrupted send"). Keep it above the function's
	// timeout.
	DefaultLease = 5 * time.Minute
	// DefaultCallTime is the time an invocation must have left to start a call to
	// X: the X client's timeout and the writes after it.
	DefaultCallTime = 40 * time.Second
)

// Retry floors (RetryFloor).
const (
	retryBase = 2 * time.Minute
	retryCap  = 15 * time.Minute
	// maxSpread is the most a wait is lengthened, by a fraction fixed per request,
	// so that replies due at the same time do not all come back at once.
	maxSpread = time.Minute
)

// PriceDMUSD is X's price of a DM (DESIGN.md). The prices of posts are the
// protocol's (protocol.PricePostUSD and the others).
const PriceDMUSD = 0.015

// Kinds of send, as named in the send budget and the spend.
const (
	KindPost = "post"
	KindDM   = "dm"
)

// Outcomes of a record, as logged.
const (
	OutcomeSent        = "sent"         // posted now
	OutcomeReconciled  = "reconciled"   // an interrupted send found posted
	OutcomeAlreadySent = "already_sent" // a redelivery of a sent reply
	OutcomeFailed      = "failed"       // failed for good now (not retried)
	OutcomeUnknown     = "unknown"      // an interrupted send not found: an agent checks
	OutcomeDone        = "already_done" // a redelivery of a failed or unknown reply
	OutcomeDelayed     = "delayed"      // waits for the send budget or X's rate limit
	OutcomeInFlight    = "in_flight"    // another delivery is sending it
	OutcomeUncertain   = "uncertain"    // X's answer never came: settled after Lease
	OutcomeRetry       = "retry"        // failed transiently: SQS redelivers it
	OutcomeUnreadable  = "unreadable"   // not a reply request: to the DLQ in time
	OutcomeNotStarted  = "not_started"  // the invocation had no time left
)

// Sender sends the reply requests of the outbound queue. Store, X, Engine and
// Brand are required; the other fields have defaults. It is safe for concurrent
// use.
type Sender struct {
	Store Store
	// X posts as the brand (*xapi.Client).
	X xapi.Writer
	// Engine supplies the reply linter and the templates' link settings.
	Engine *protocol.Engine
	// Brand is the account replies are posted as.
	Brand care.Brand
	// Delayer sets a waiting record's visibility (queue.Visibility on the
	// outbound queue). nil: a waiting record is failed without a delay, and comes
	// back after the queue's visibility timeout.
	Delayer Delayer
	// Notifier is told of replies that failed or are unknown; nil logs them
	// (care.LogNotifier).
	Notifier care.Notifier
	// Limits is the send budget.
	Limits Limits
	// Finder, when set, looks on X for the reply of an interrupted send whose copy
	// did not reach the case: found, it is recorded sent; missing, it is sent
	// again (see "An interrupted send"). nil: such a reply is marked unknown and
	// the team checks it by hand.
	Finder Finder
	// Chat, when set, sends the DMs of cases whose conversation with the
	// recipient is in X Chat (their latest DM there is an X Chat message):
	// encrypted, signed, under the reply's own X Chat message id
	// (care.XChatReplyMessageID), priced and budgeted as DMs. nil: every DM
	// goes through X's DM route.
	Chat ChatWriter
	// Lease is DefaultLease when 0.
	Lease time.Duration
	// Epoch, when set, is when this sender's process started, on the clock the
	// Store writes its claims with (store.Reply.SendingAt), and says that it is
	// the only process sending from the Store: a claim made before Epoch belongs
	// to a process that is gone (killed, crashed), and its interrupted send is
	// settled at once instead of after Lease. The local system (one process on
	// its data folder) sets it to its start; leave it zero where several
	// processes send at once (Lambda instances in AWS).
	Epoch time.Time
	// CallTime is DefaultCallTime when 0.
	CallTime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per record; nil means slog.Default().
	Log *slog.Logger
	// Metrics receives the Embedded Metric Format lines (FirstResponseSeconds when a
	// reply is its case's first response; EstimatedCostUSD by Source per reply
	// sent); nil means os.Stdout, where Lambda's log is.
	Metrics io.Writer
	// metricsMu serialises writes to Metrics (records are handled concurrently).
	metricsMu sync.Mutex
}

// record is the handling of one SQS record.
type record struct {
	msg      events.SQSMessage
	req      care.ReplyRequest
	readable bool
	outcome  string
	xid      string
	reason   string
	attempt  int
	text     string // the text sent, when not the request's (protocol.Distinct)
	// chat is the X Chat message id of a DM sent in X Chat, and
	// chatConversation its conversation (route); "" for the other replies.
	chat, chatConversation string
	delay                  time.Duration // the wait set on the record's visibility
	err                    error         // set: the record is reported as a batch item failure
}

// sentText is the text X accepted for the record's request.
func (r *record) sentText() string {
	if r.text != "" {
		return r.text
	}
	return r.req.Text
}

// Handle sends the reply requests of one SQS event. It returns as batch item
// failures the records to deliver again (those that wait, with their visibility
// set to the wait); its error is non-nil only when the sender is misconfigured.
func (s *Sender) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if err := s.check(); err != nil {
		return events.SQSEventResponse{}, err
	}
	var failures queue.BatchFailures
	for _, msg := range ev.Records {
		r := &record{msg: msg}
		switch {
		case queue.Stopped(ctx) != nil:
			r.outcome, r.err = OutcomeNotStarted, queue.Stopped(ctx)
		case !s.timeLeft(ctx):
			r.outcome, r.err = OutcomeNotStarted, errors.New("the invocation is about to time out")
		default:
			s.process(ctx, r)
		}
		s.logRecord(ctx, r)
		failures.Report(msg.MessageId, r.err)
	}
	return failures.Response(), nil
}

func (s *Sender) check() error {
	switch {
	case s.Store == nil || s.X == nil || s.Engine == nil:
		return errors.New("sender: the Sender needs a Store, an X client and a protocol Engine")
	case !care.IsID(s.Brand.ID):
		return fmt.Errorf("sender: the brand's user id %q is not a decimal X id", s.Brand.ID)
	case s.Limits.Posts < 0 || s.Limits.DMs < 0:
		return fmt.Errorf("sender: send limits %+v must not be negative", s.Limits)
	}
	return nil
}

// timeLeft reports whether the invocation has time for a call to X.
func (s *Sender) timeLeft(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) >= orDefault(s.CallTime, DefaultCallTime)
}

// process handles one record, filling in r.
func (s *Sender) process(ctx context.Context, r *record) {
	if err := json.Unmarshal([]byte(r.msg.Body), &r.req); err != nil {
		r.outcome, r.err = OutcomeUnreadable, fmt.Errorf("the body is not a JSON reply request: %w", err)
		return
	}
	if r.req.CaseID == "" || r.req.IdempotencyKey == "" {
		r.outcome, r.err = OutcomeUnreadable, fmt.Errorf("the reply request has no case id or no idempotency key: %w", r.req.Validate())
		return
	}
	r.readable = true
	for read := 0; ; read++ {
		rep, err := s.Store.GetReply(ctx, r.req.CaseID, r.req.IdempotencyKey)
		if err != nil {
			r.outcome, r.err = OutcomeRetry, err
			return
		}
		switch {
		case rep == nil || rep.State == care.ReplyWaiting:
			if lost := s.send(ctx, r, rep); !lost {
				return
			}
			if read > 0 {
				// Claimed twice under our feet: let the winner finish.
				s.wait(ctx, r, OutcomeInFlight, s.lease(), "another delivery claimed it")
				return
			}
		case rep.State == care.ReplySending:
			if again := s.sending(ctx, r, rep); !again {
				return
			}
			// Back to waiting, X having no copy of the interrupted attempt: sent
			// now, or by the next delivery at once.
			if read > 0 || !s.timeLeft(ctx) {
				s.wait(ctx, r, OutcomeRetry, 0, r.reason+"; to be sent again by the next delivery")
				return
			}
			r.reason += "; sent again"
		default:
			s.finished(ctx, r, rep)
			return
		}
	}
}

// RetryFloor is the shortest wait after the n-th receive of a record whose call X
// refused (a 429, a 5xx, a network error): 2 minutes doubling with each receive,
// at most 15.
func RetryFloor(n int) time.Duration {
	d := retryBase
	for i := 1; i < n && d < retryCap; i++ {
		d *= 2
	}
	return min(d, retryCap)
}

// receives is how many times SQS delivered the record (1 the first time).
func (r *record) receives() int {
	n, err := strconv.Atoi(r.msg.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// spread returns the request's share of maxSpread: a fixed fraction per
// idempotency key.
func spread(key string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(key))
	return time.Duration(h.Sum32()%uint32(maxSpread/time.Second)) * time.Second
}

// wait fails the record with a delay of d (set on its visibility by the Delayer).
func (s *Sender) wait(ctx context.Context, r *record, outcome string, d time.Duration, reason string) {
	r.outcome, r.reason = outcome, reason
	r.err = errors.New(reason)
	if s.Delayer == nil {
		return
	}
	set, err := s.Delayer.Delay(ctx, r.msg, d)
	if err != nil {
		// The record comes back after the queue's visibility timeout instead.
		s.log().WarnContext(ctx, "sender: could not delay the record", "message_id", r.msg.MessageId, "delay", d.String(), "error", err.Error())
		return
	}
	r.delay = set
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sender) lease() time.Duration { return orDefault(s.Lease, DefaultLease) }

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Sender) notifier() care.Notifier {
	if s.Notifier != nil {
		return s.Notifier
	}
	return care.LogNotifier{Log: s.log()}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// logRecord writes the record's one log line.
func (s *Sender) logRecord(ctx context.Context, r *record) {
	attrs := []slog.Attr{
		slog.String("outcome", r.outcome),
		slog.String("message_id", r.msg.MessageId),
		slog.Int("receives", r.receives()),
	}
	if r.readable {
		attrs = append(attrs,
			slog.String("case_id", r.req.CaseID),
			slog.String("key", r.req.IdempotencyKey),
			slog.String("kind", string(r.req.Kind)),
			slog.String("channel", string(r.req.Channel)))
	}
	if r.attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", r.attempt))
	}
	if r.xid != "" {
		attrs = append(attrs, slog.String("x_id", r.xid))
	}
	if r.reason != "" {
		attrs = append(attrs, slog.String("reason", r.reason))
	}
	if r.delay > 0 {
		attrs = append(attrs, slog.String("delay", r.delay.String()))
	}
	level := slog.LevelInfo
	switch r.outcome {
	case OutcomeFailed, OutcomeUnknown, OutcomeUncertain, OutcomeRetry, OutcomeNotStarted:
		level = slog.LevelWarn
	case OutcomeUnreadable:
		level = slog.LevelError
	}
	if r.err != nil && r.reason == "" {
		attrs = append(attrs, slog.String("error", r.err.Error()))
	}
	s.log().LogAttrs(ctx, level, "reply "+r.outcome, attrs...)
}

// Package intake is the processor of the inbound queue: the logic of the
// SQS-triggered Lambda function that stores what the listeners (webhook, mentions
// poll, keyword search) enqueue.
//
// Each SQS record carries one care.Envelope as JSON. Records are handled one by one
// and independently:
//
//   - an X Chat message that arrives without its text (care.Message.XChat) is
//     first opened, when the processor has an Opener (xchatopen.Opener, with
//     the brand's X Chat keys): verified and decrypted, its text then goes
//     through the pipeline as any DM's; one that could not be opened is kept,
//     without text, saying why (care.XChat.Problem); the Opener's error (X,
//     DynamoDB or KMS unreachable) is a retry;
//   - a message is appended to its case (deduplicated, threaded, counted; see package
//     store), then, if it was newly stored, handed to the Pipeline (the care
//     protocol: classify, rank, route, decide and queue the replies);
//   - a deletion marks the message deleted;
//   - a revocation records the brand account's lost authorisation and logs an
//     error telling the operator to authorise Pajarito again;
//   - an event of a type Pajarito does not handle (care.KindIgnored) is counted
//     by type, per day (store.SignalIgnoredEvent), and dropped; an inbound X
//     Chat message Pajarito cannot read (care.Message.Encrypted) is stored like
//     any message and counted too (store.SignalUnreadChat), so that neither
//     vanishes quietly: the monitor alerts on the unread messages, and pajarito
//     doctor reports both;
//   - a record that cannot be decoded, or whose envelope is invalid (including the
//     listeners' KindUnparsed), is quarantined: a quarantine record in the table, then
//     its body on the dead-letter queue. It is then handled: SQS does not retry it.
//
// Records that fail for a transient reason (DynamoDB errors, throttling, a message
// another delivery is still storing, a failed quarantine) are returned as batch item
// failures, so that SQS redelivers only them; the event source mapping must enable
// ReportBatchItemFailures. Every record gets one JSON log line with its outcome.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
)

// DeadLetter is the dead-letter queue of the inbound queue.
type DeadLetter interface {
	// SendBodies enqueues the bodies; it receives all the bodies quarantined from one
	// SQS event, and splits them into SQS batches itself.
	SendBodies(ctx context.Context, bodies []string) error
}

// Pipeline is what follows the store for a message newly stored in case c: in
// Pajarito, the care protocol (protocol.Pipeline) classifies the message, ranks
// and routes the case, and decides and queues the replies.
type Pipeline interface {
	Handle(ctx context.Context, c *care.Case, m *care.StoredMessage) error
}

// Opener opens an X Chat message that arrives without its text
// (xchatopen.Opener): it fills the message's text, or says in its
// XChat.Problem why it could not; an error is a transient failure, retried.
type Opener interface {
	Open(ctx context.Context, env *care.Envelope) error
}

// InitialTriager is a Pipeline that also ranks, from a message alone, the
// case the message opens (protocol.Pipeline): the processor then creates the
// case ranked (store.Store.AppendTriaged), and Classify most often has nothing
// to change on it.
type InitialTriager interface {
	InitialTriage(ctx context.Context, m *care.Message) care.Triage
}

// Store is the part of the case store the processor writes (*store.Store
// implements it).
type Store interface {
	// AppendTriaged appends a message to its case, creating the case ranked by
	// triage (when not nil) if the message opens it.
	AppendTriaged(ctx context.Context, env *care.Envelope, delivery string, triage func(*care.Message) care.Triage) (store.AppendResult, error)
	// MarkDeleted marks a message deleted, or records the deletion of a message
	// not yet arrived.
	MarkDeleted(ctx context.Context, d *care.Deletion) (store.DeleteResult, error)
	// SetRevoked records that a user revoked Pajarito's access.
	SetRevoked(ctx context.Context, r care.Revocation) error
	// Quarantine records an unprocessable record and returns the write units used.
	Quarantine(ctx context.Context, q store.Quarantined) (float64, error)
	// AddSignal counts one occurrence of a signal (store.SignalIgnoredEvent,
	// store.SignalUnreadChat) on the UTC day of at.
	AddSignal(ctx context.Context, signal, key string, at time.Time) error
}

// Processor handles batches of the inbound queue. Store is required; the other fields
// are optional.
type Processor struct {
	Store Store
	// DeadLetter receives the bodies of quarantined records; nil keeps them in the
	// quarantine records only.
	DeadLetter DeadLetter
	// Pipeline, when set, is called for each newly stored message.
	Pipeline Pipeline
	// Opener, when set, opens X Chat messages that arrive without their text,
	// before they are stored.
	Opener Opener
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per record; nil means slog.Default().
	Log *slog.Logger
	// Metrics receives the Embedded Metric Format lines of what is counted
	// (IgnoredEvents by EventType, XChatUnread); nil means os.Stdout, where
	// Lambda's log is.
	Metrics io.Writer
}

// Outcomes of a record, as logged.
const (
	OutcomeStored       = "stored"
	OutcomeDuplicate    = "duplicate"
	OutcomeDeleted      = "deleted"
	OutcomeDeleteAhead  = "deleted_before_arrival" // a message deleted before it arrived
	OutcomeUnknown      = "delete_unknown"         // a deletion of a message never stored
	OutcomeRevoked      = "revoked"
	OutcomeIgnored      = "ignored" // an X event type Pajarito does not handle: counted, dropped
	OutcomeQuarantined  = "quarantined"
	OutcomeRetry        = "retry" // failed transiently: SQS redelivers it
	OutcomeNotProcessed = "not_processed"
)

// errInFlight reports a message that another delivery is storing.
var errInFlight = errors.New("another delivery is storing this message; retry later")

// record is the handling of one SQS record.
type record struct {
	msg        events.SQSMessage
	env        *care.Envelope
	outcome    string
	caseID     string
	xid        string
	created    bool
	writeUnits float64
	problem    string // why it was quarantined
	classify   error  // the Pipeline's error, if any
	err        error  // a transient failure: SQS redelivers the record
}

// Handle processes one SQS event. It returns the records to redeliver as batch item
// failures; its error is non-nil only when it cannot process the batch at all.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if p.Store == nil {
		return events.SQSEventResponse{}, errors.New("intake: the processor has no store")
	}
	var all, quarantined []*record
	for _, msg := range ev.Records {
		r := &record{msg: msg}
		if err := queue.Stopped(ctx); err != nil {
			r.outcome, r.err = OutcomeNotProcessed, err
		} else {
			p.process(ctx, r)
		}
		all = append(all, r)
		if r.outcome == OutcomeQuarantined {
			quarantined = append(quarantined, r)
		}
	}
	// Quarantined bodies go to the dead-letter queue in one call; the records are
	// logged, and counted as handled, only once it has them.
	if len(quarantined) > 0 && p.DeadLetter != nil {
		bodies := make([]string, len(quarantined))
		for i, r := range quarantined {
			bodies[i] = r.msg.Body
		}
		if err := p.DeadLetter.SendBodies(ctx, bodies); err != nil {
			for _, r := range quarantined {
				r.outcome, r.err = OutcomeRetry, fmt.Errorf("send to the dead-letter queue: %w", err)
			}
		}
	}
	var failures queue.BatchFailures
	for _, r := range all {
		p.logRecord(ctx, r)
		failures.Report(r.msg.MessageId, r.err)
	}
	return failures.Response(), nil
}

// process handles one record, filling in r.
func (p *Processor) process(ctx context.Context, r *record) {
	var env care.Envelope
	if err := json.Unmarshal([]byte(r.msg.Body), &env); err != nil {
		p.quarantine(ctx, r, fmt.Sprintf("body is not a JSON envelope: %v", err))
		return
	}
	r.env = &env
	if err := env.Validate(); err != nil {
		p.quarantine(ctx, r, err.Error())
		return
	}
	switch {
	case env.Kind == care.KindDeletion && env.Deletion.Channel != care.Public && env.Deletion.Channel != care.DM:
		p.quarantine(ctx, r, fmt.Sprintf("deletion of %s: channel %q is neither %q nor %q", env.Deletion.ID, env.Deletion.Channel, care.Public, care.DM))
		return
	case env.Kind == care.KindRevocation && !care.IsID(env.Revocation.UserID):
		p.quarantine(ctx, r, fmt.Sprintf("revocation: user id %q is not a decimal X id", env.Revocation.UserID))
		return
	}
	switch env.Kind {
	case care.KindMessage:
		p.message(ctx, r)
	case care.KindDeletion:
		p.deletion(ctx, r)
	case care.KindRevocation:
		p.revocation(ctx, r)
	case care.KindIgnored:
		p.ignored(ctx, r)
	default:
		// Validate knows every kind; one it let through unhandled is a bug to
		// see, not a record to drop.
		p.quarantine(ctx, r, fmt.Sprintf("kind %q has no handler", env.Kind))
	}
}

func (p *Processor) message(ctx context.Context, r *record) {
	r.xid = r.env.Message.ID
	if m := r.env.Message; p.Opener != nil && m.XChat != nil && m.Text == "" {
		if err := p.Opener.Open(ctx, r.env); err != nil {
			r.outcome, r.err = OutcomeRetry, fmt.Errorf("open the X Chat message: %w", err)
			return
		}
	}
	var triage func(*care.Message) care.Triage
	if t, ok := p.Pipeline.(InitialTriager); ok {
		triage = func(m *care.Message) care.Triage { return t.InitialTriage(ctx, m) }
	}
	res, err := p.Store.AppendTriaged(ctx, r.env, r.msg.MessageId, triage)
	r.caseID, r.created, r.writeUnits = res.CaseID, res.Created, res.WriteUnits
	switch {
	case err != nil:
		r.outcome, r.err = OutcomeRetry, err
	case res.InFlight:
		r.outcome, r.err = OutcomeRetry, errInFlight
	case res.Deleted:
		r.outcome = OutcomeDeleteAhead
	case res.Duplicate:
		r.outcome = OutcomeDuplicate
		if !res.Redelivered {
			break
		}
		// Our own message again, after a crash that may have come before its
		// count or its decision: count and decide now.
		if r.err = p.countUnread(ctx, r.env); r.err != nil {
			r.outcome = OutcomeRetry
		} else if p.Pipeline != nil {
			// The decision's writes and the replies' claims are the message's
			// own, so none happens twice.
			r.classify = p.Pipeline.Handle(ctx, res.Case, res.Message)
		}
	default:
		r.outcome = OutcomeStored
		if r.err = p.countUnread(ctx, r.env); r.err != nil {
			r.outcome = OutcomeRetry // the redelivery is Redelivered: it counts and decides
		} else if p.Pipeline != nil {
			r.classify = p.Pipeline.Handle(ctx, res.Case, res.Message)
		}
	}
	if r.classify != nil && r.err == nil {
		// Part of the decision was not carried out (its record, the triage, the
		// replies' queueing: DynamoDB or SQS failing). The message is stored:
		// SQS's redelivery of this very record is Redelivered, and decides
		// again; the decision's writes and the replies' claims are the
		// message's own, so none happens twice. A classification that keeps
		// failing ends in the dead-letter queue, where the operator sees it.
		r.err = fmt.Errorf("decide: %w", r.classify)
	}
}

// countUnread counts env's message when it is an inbound X Chat message
// Pajarito could not read (store.SignalUnreadChat), on the day it arrived: the
// team is told of what comes in, however late X or the listener delivers it. It counts on the
// delivery that stored m and again on SQS's redelivery of that delivery
// (Redelivered), which comes after a crash or a failure that may have been
// before the count: a redelivery after the count counts m twice, the one
// double count, which a signal (a count to act on, not billing) can bear.
func (p *Processor) countUnread(ctx context.Context, env *care.Envelope) error {
	if m := env.Message; m.Direction != care.Inbound || !m.Encrypted() {
		return nil
	}
	at := env.ReceivedAt
	if at.IsZero() {
		at = p.now()
	}
	if err := p.Store.AddSignal(ctx, store.SignalUnreadChat, store.SignalKeyAll, at); err != nil {
		return fmt.Errorf("count the unread X Chat message: %w", err)
	}
	p.metric(ctx, nil, "XChatUnread")
	return nil
}

// metric writes one count of the metric name, with dims, for CloudWatch.
func (p *Processor) metric(ctx context.Context, dims map[string]string, name string) {
	w := p.Metrics
	if w == nil {
		w = os.Stdout
	}
	if err := emf.Write(w, p.now(), dims, emf.Metric{Name: name, Unit: emf.Count, Value: 1}); err != nil {
		p.logger().ErrorContext(ctx, "intake: write metrics", "error", err.Error())
	}
}

// ignored counts an event of a type Pajarito does not handle, on the day it
// arrived, and drops it. A failed count is retried.
func (p *Processor) ignored(ctx context.Context, r *record) {
	at := r.env.ReceivedAt
	if at.IsZero() {
		at = p.now()
	}
	if err := p.Store.AddSignal(ctx, store.SignalIgnoredEvent, r.env.Ignored.EventType, at); err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return
	}
	p.metric(ctx, map[string]string{"EventType": r.env.Ignored.EventType}, "IgnoredEvents")
	r.outcome = OutcomeIgnored
}

func (p *Processor) deletion(ctx context.Context, r *record) {
	r.xid = r.env.Deletion.ID
	res, err := p.Store.MarkDeleted(ctx, r.env.Deletion)
	r.caseID, r.writeUnits = res.CaseID, res.WriteUnits
	switch {
	case err != nil:
		r.outcome, r.err = OutcomeRetry, err
	case res.InFlight:
		r.outcome, r.err = OutcomeRetry, errInFlight
	case res.Found:
		r.outcome = OutcomeDeleted
	default:
		r.outcome = OutcomeUnknown
	}
}

func (p *Processor) revocation(ctx context.Context, r *record) {
	rev := r.env.Revocation
	if rev.RevokedAt.IsZero() {
		rev.RevokedAt = r.env.ReceivedAt
	}
	if rev.RevokedAt.IsZero() {
		rev.RevokedAt = p.now()
	}
	if err := p.Store.SetRevoked(ctx, *rev); err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return
	}
	r.outcome = OutcomeRevoked
}

// quarantine records r as unprocessable. On failure r becomes a batch item failure,
// so that the body is never lost.
func (p *Processor) quarantine(ctx context.Context, r *record, problem string) {
	r.problem = problem
	q := store.Quarantined{
		SQSMessageID: r.msg.MessageId,
		SentAt:       p.sentAt(r.msg),
		ReceiveCount: receiveCount(r.msg),
		Body:         r.msg.Body,
		Problem:      problem,
	}
	units, err := p.Store.Quarantine(ctx, q)
	r.writeUnits = units
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return
	}
	r.outcome = OutcomeQuarantined
}

func (p *Processor) logger() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// logRecord writes the record's log line.
func (p *Processor) logRecord(ctx context.Context, r *record) {
	log := p.logger()
	attrs := []slog.Attr{
		slog.String("sqs_message_id", r.msg.MessageId),
		slog.String("outcome", r.outcome),
	}
	if r.env != nil {
		attrs = append(attrs, slog.String("kind", string(r.env.Kind)), slog.String("source", string(r.env.Source)))
		if r.env.EventID != "" {
			attrs = append(attrs, slog.String("event_id", r.env.EventID))
		}
		if r.env.Ignored != nil {
			attrs = append(attrs, slog.String("event_type", r.env.Ignored.EventType))
		}
	}
	if x := r.xchat(); x != nil && (x.Verified || x.Problem != "") {
		attrs = append(attrs, slog.Bool("xchat_verified", x.Verified))
		if x.Problem != "" {
			attrs = append(attrs, slog.String("xchat_problem", x.Problem))
		}
	}
	if r.caseID != "" {
		attrs = append(attrs, slog.String("case_id", r.caseID))
	}
	if r.xid != "" {
		attrs = append(attrs, slog.String("xid", r.xid))
	}
	if r.created {
		attrs = append(attrs, slog.Bool("case_created", true))
	}
	attrs = append(attrs, slog.Float64("write_units", r.writeUnits), slog.Int("receive_count", receiveCount(r.msg)))
	if r.problem != "" {
		attrs = append(attrs, slog.String("problem", r.problem))
	}
	if r.err != nil {
		attrs = append(attrs, slog.String("error", r.err.Error()))
	}
	if r.classify != nil {
		attrs = append(attrs, slog.String("classify_error", r.classify.Error()))
	}

	level, text := slog.LevelInfo, "inbound record processed"
	switch {
	case r.problem != "" && r.err == nil:
		level, text = slog.LevelError, "inbound record quarantined: "+r.problem
	case r.problem != "":
		level, text = slog.LevelError, "inbound record could not be quarantined, SQS will redeliver it"
	case r.classify != nil:
		level, text = slog.LevelError, "inbound message stored, deciding on it failed: SQS will redeliver it to decide again"
	case r.err != nil:
		level, text = slog.LevelWarn, "inbound record failed, SQS will redeliver it"
	case r.outcome == OutcomeRevoked:
		rev := r.env.Revocation
		level = slog.LevelError
		text = fmt.Sprintf("X access revoked for user %s at %s: re-authorise Pajarito with that X account, or it can neither read nor reply", rev.UserID, rev.RevokedAt.UTC().Format(time.RFC3339))
		attrs = append(attrs, slog.String("user_id", rev.UserID))
	}
	log.LogAttrs(ctx, level, text, attrs...)
}

// xchat is what the record's message says of X Chat, or nil.
func (r *record) xchat() *care.XChat {
	if r.env == nil || r.env.Message == nil {
		return nil
	}
	return r.env.Message.XChat
}

// sentAt is when SQS accepted the message (its SentTimestamp attribute), which is
// stable across redeliveries; the clock when it is missing.
func (p *Processor) sentAt(m events.SQSMessage) time.Time {
	if ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	return p.now()
}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func receiveCount(m events.SQSMessage) int {
	n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	return n
}

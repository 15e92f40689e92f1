package eventsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pajarito-care/pajarito/shared/queue"
)

// Handler handles a batch the way a Lambda function subscribed to SQS with
// ReportBatchItemFailures does: it returns the ids of the records it failed, or an
// error when the whole batch failed.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Poller defaults.
const (
	DefaultBatchSize   = 10
	DefaultWaitTime    = time.Second
	DefaultBackoff     = time.Second
	DefaultMaxReceives = 5

	// settleTimeout bounds the deletes, moves and visibility changes after a batch.
	settleTimeout = 30 * time.Second
)

// Poller stands in, locally, for Lambda's SQS event source mapping with
// ReportBatchItemFailures. Each cycle it receives up to BatchSize messages, calls
// Handler with them as an events.SQSEvent, then:
//
//   - deletes every record not listed in the response's BatchItemFailures;
//   - deletes nothing when Handler returns an error (or panics), and nothing when a
//     listed ItemIdentifier is empty or not in the batch — Lambda treats both as a
//     failure of the whole batch;
//   - makes each failed record visible again after Backoff (rather than after the
//     queue's visibility timeout, so local retries are quick without spinning),
//     except a record whose visibility the handler set itself (queue.Visibility.Delay):
//     as SQS does for Lambda, that record stays invisible as long as the handler
//     asked;
//   - moves a record that has failed MaxReceives times to DeadLetterURL, when set,
//     as SQS's redrive policy would.
//
// It counts attempts itself, by MessageId, because goaws's ApproximateReceiveCount
// stays 1; the records carry the larger of the two counts. Batches are handled one
// at a time.
type Poller struct {
	Client queue.API
	// URL is the queue URL.
	URL string
	// Handler handles each batch.
	Handler Handler

	// BatchSize is the most records per batch, 1–10 (DefaultBatchSize when 0).
	BatchSize int
	// WaitTime is the long-poll wait of each receive, in whole seconds up to 20
	// (DefaultWaitTime when 0).
	WaitTime time.Duration
	// VisibilityTimeout, when set, overrides the queue's for received messages
	// (whole seconds). As in Lambda, a handler running longer than it may see its
	// messages delivered again.
	VisibilityTimeout time.Duration
	// Backoff is how long a failed record stays invisible before its next attempt
	// (whole seconds, at least one; DefaultBackoff when 0).
	Backoff time.Duration

	// DeadLetterURL, when set, is the queue failed records move to after MaxReceives
	// attempts. The moved message has the same body, a new MessageId and no
	// message attributes.
	DeadLetterURL string
	// MaxReceives is the number of failed attempts after which a record moves to
	// DeadLetterURL (DefaultMaxReceives when 0). Without DeadLetterURL records are
	// retried until they succeed.
	MaxReceives int

	// QueueARN is put in each record's EventSourceARN. When empty it is derived from
	// URL and Region.
	QueueARN string
	// Region is put in each record's AWSRegion. When empty it is the client's
	// region (when Client is an *sqs.Client), else the one in URL's host, else
	// "us-east-1".
	Region string

	// Log receives the Poller's logs; nil means slog.Default().
	Log *slog.Logger

	mu       sync.Mutex
	attempts map[string]int // failed-or-running attempts by MessageId
}

// Run polls until ctx is done, then returns nil. Errors of one cycle are logged and
// followed by a pause; Run returns an error only when the Poller is misconfigured.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.check(); err != nil {
		return err
	}
	log := p.log().With("queue", p.URL)
	log.InfoContext(ctx, "queue: polling")
	pause := time.Duration(0)
	for ctx.Err() == nil {
		_, err := p.PollOnce(ctx)
		switch {
		case err == nil:
			pause = 0
			continue
		case ctx.Err() != nil:
		default:
			pause = min(max(2*pause, 500*time.Millisecond), 10*time.Second)
			log.ErrorContext(ctx, "queue: poll failed", "err", err, "retry_in", pause.String())
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	}
	log.InfoContext(ctx, "queue: stopped polling")
	return nil
}

// PollOnce runs one cycle: a receive, the handler, the deletes and the retries. It
// returns how many messages it received. Handler failures are the normal path of a
// retry and are logged, not returned; the error reports what went wrong talking to
// SQS.
func (p *Poller) PollOnce(ctx context.Context) (n int, err error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	msgs, err := p.receive(ctx)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	ev := p.event(msgs)
	log := p.log().With("queue", p.URL)

	ctx, delayed := queue.WatchDelays(ctx)
	failed := p.handle(ctx, log, ev)

	// Settle the batch even when ctx ends now: the handler's work is done, and a
	// shutdown should not make it run again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()

	if err := p.settle(ctx, log, ev.Records, failed, delayed); err != nil {
		return len(ev.Records), fmt.Errorf("queue: %s: %w", p.URL, err)
	}
	return len(ev.Records), nil
}

// receive receives up to BatchSize messages, long-polling for WaitTime, with
// their attributes, invisible for VisibilityTimeout when set.
func (p *Poller) receive(ctx context.Context) ([]types.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.URL),
		MaxNumberOfMessages:         int32(p.batchSize()),
		WaitTimeSeconds:             seconds(p.WaitTime, DefaultWaitTime, 0, 20),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if p.VisibilityTimeout > 0 {
		in.VisibilityTimeout = seconds(p.VisibilityTimeout, 0, 1, 43200)
	}
	out, err := p.Client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("queue: receive from %s: %w", p.URL, err)
	}
	return out.Messages, nil
}

// handle calls Handler with the batch and returns the MessageIds of the records
// that failed: those its response lists, or all of them when the whole batch
// failed (Handler returned an error or panicked, or the response lists an id not
// in the batch). It logs the failures.
func (p *Poller) handle(ctx context.Context, log *slog.Logger, ev events.SQSEvent) (failed map[string]bool) {
	resp, herr := p.call(ctx, ev)
	failed = make(map[string]bool)
	if herr == nil {
		inBatch := make(map[string]bool, len(ev.Records))
		for _, r := range ev.Records {
			inBatch[r.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				herr = fmt.Errorf("batch item failure names %q, which is not in the batch; the whole batch failed", f.ItemIdentifier)
				break
			}
			failed[f.ItemIdentifier] = true
		}
	}
	if herr != nil {
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
		log.WarnContext(ctx, "queue: batch failed", "records", len(ev.Records), "err", herr)
	} else if len(failed) > 0 {
		log.WarnContext(ctx, "queue: records failed", "records", len(ev.Records), "failed", len(failed))
	}
	return failed
}

// settle settles a handled batch: it moves the failed records that reached
// MaxReceives to DeadLetterURL (when set), deletes them and the records that
// succeeded, and makes the other failed records visible again after Backoff,
// except those delayed by their handler. It returns what went wrong talking to
// SQS.
func (p *Poller) settle(ctx context.Context, log *slog.Logger, records []events.SQSMessage, failed map[string]bool, delayed func(id string) bool) error {
	var done, retry, dead []events.SQSMessage
	for _, r := range records {
		switch {
		case !failed[r.MessageId]:
			done = append(done, r)
		case p.DeadLetterURL != "" && p.attempt(r.MessageId) >= p.maxReceives():
			dead = append(dead, r)
		default:
			retry = append(retry, r)
		}
	}

	var errs []error
	if len(dead) > 0 {
		if err := p.deadLetter(ctx, log, dead); err != nil {
			errs = append(errs, err)
			retry = append(retry, dead...)
		} else {
			done = append(done, dead...)
		}
	}
	if err := p.delete(ctx, done); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, p.retryLater(ctx, log, retry, delayed)...)
	return errors.Join(errs...)
}

// deadLetter sends the bodies of dead to DeadLetterURL, as SQS's redrive policy
// would, and logs each record moved. The caller deletes them.
func (p *Poller) deadLetter(ctx context.Context, log *slog.Logger, dead []events.SQSMessage) error {
	bodies := make([]string, len(dead))
	for i, r := range dead {
		bodies[i] = r.Body
	}
	dlq := queue.Sender{Client: p.Client, URL: p.DeadLetterURL, Log: p.Log}
	if err := dlq.SendBodies(ctx, bodies); err != nil {
		return fmt.Errorf("move %d records to the dead-letter queue: %w", len(dead), err)
	}
	for _, r := range dead {
		log.ErrorContext(ctx, "queue: moved to the dead-letter queue", "message_id", r.MessageId, "attempts", p.attempt(r.MessageId), "dead_letter_queue", p.DeadLetterURL)
	}
	return nil
}

// retryLater makes each failed record visible again after Backoff, except one
// whose visibility its handler set itself (delayed). It returns the changes that
// failed.
func (p *Poller) retryLater(ctx context.Context, log *slog.Logger, retry []events.SQSMessage, delayed func(id string) bool) []error {
	var errs []error
	backoff := seconds(p.Backoff, DefaultBackoff, 1, 43200)
	for _, r := range retry {
		if delayed(r.MessageId) {
			log.DebugContext(ctx, "queue: record delayed by its handler", "message_id", r.MessageId, "attempts", p.attempt(r.MessageId))
			continue
		}
		_, err := p.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(p.URL), ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: backoff,
		})
		if err != nil {
			// The message comes back after its visibility timeout anyway.
			errs = append(errs, fmt.Errorf("change visibility of %s: %w", r.MessageId, err))
		}
	}
	return errs
}

// call runs the handler, turning a panic into an error as Lambda would.
func (p *Poller) call(ctx context.Context, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log().ErrorContext(ctx, "queue: handler panicked", "queue", p.URL, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return p.Handler(ctx, ev)
}

// delete deletes records and forgets their attempts.
func (p *Poller) delete(ctx context.Context, records []events.SQSMessage) error {
	var errs []error
	for start := 0; start < len(records); start += queue.MaxBatchEntries {
		chunk := records[start:min(start+queue.MaxBatchEntries, len(records))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, r := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)}
		}
		out, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.URL), Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %d messages: %w", len(chunk), err))
			continue
		}
		notDeleted := make(map[int]bool, len(out.Failed))
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			notDeleted[i] = true
			// Usually a stale receipt handle: the message outlived its visibility
			// timeout and was delivered again, so it will be handled again.
			errs = append(errs, fmt.Errorf("delete %s: %s: %s", chunk[i].MessageId, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
		for i, r := range chunk {
			if !notDeleted[i] {
				p.forget(r.MessageId)
			}
		}
	}
	return errors.Join(errs...)
}

// event builds the event Lambda would pass for msgs, counting one more attempt for
// each.
func (p *Poller) event(msgs []types.Message) events.SQSEvent {
	region := p.region()
	arn := p.QueueARN
	if arn == "" {
		arn = arnFromURL(p.URL, region)
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		attrs := make(map[string]string, len(m.Attributes)+1)
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		n := p.count(id)
		if c, err := strconv.Atoi(attrs["ApproximateReceiveCount"]); err == nil && c > n {
			n = c
		}
		attrs["ApproximateReceiveCount"] = strconv.Itoa(n)
		ev.Records[i] = events.SQSMessage{
			MessageId:              id,
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      messageAttributes(m.MessageAttributes),
			EventSourceARN:         arn,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		}
	}
	return ev
}

func messageAttributes(in map[string]types.MessageAttributeValue) map[string]events.SQSMessageAttribute {
	out := make(map[string]events.SQSMessageAttribute, len(in))
	for k, v := range in {
		out[k] = events.SQSMessageAttribute{
			DataType:         aws.ToString(v.DataType),
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: v.StringListValues,
			BinaryListValues: v.BinaryListValues,
		}
	}
	return out
}

// count records one more attempt of the message id and returns the total.
func (p *Poller) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.attempts == nil {
		p.attempts = make(map[string]int)
	}
	p.attempts[id]++
	return p.attempts[id]
}

func (p *Poller) attempt(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts[id]
}

func (p *Poller) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.attempts, id)
}

func (p *Poller) check() error {
	switch {
	case p.Client == nil || p.URL == "" || p.Handler == nil:
		return errors.New("queue: Poller needs a Client, a URL and a Handler")
	case p.BatchSize < 0 || p.BatchSize > 10:
		return fmt.Errorf("queue: Poller batch size %d is outside 1–10", p.BatchSize)
	case p.MaxReceives < 0:
		return fmt.Errorf("queue: Poller MaxReceives %d is negative", p.MaxReceives)
	}
	return nil
}

func (p *Poller) batchSize() int {
	if p.BatchSize == 0 {
		return DefaultBatchSize
	}
	return p.BatchSize
}

func (p *Poller) maxReceives() int {
	if p.MaxReceives == 0 {
		return DefaultMaxReceives
	}
	return p.MaxReceives
}

func (p *Poller) region() string {
	if p.Region != "" {
		return p.Region
	}
	if c, ok := p.Client.(interface{ Options() sqs.Options }); ok && c.Options().Region != "" {
		return c.Options().Region
	}
	if u, err := url.Parse(p.URL); err == nil {
		// https://sqs.<region>.amazonaws.com/<account>/<name>
		if parts := strings.Split(u.Hostname(), "."); len(parts) >= 4 && parts[0] == "sqs" {
			return parts[1]
		}
	}
	return "us-east-1"
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// arnFromURL turns .../<account>/<name> into arn:aws:sqs:<region>:<account>:<name>.
func arnFromURL(queueURL, region string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return "arn:aws:sqs:" + region + ":" + parts[len(parts)-2] + ":" + parts[len(parts)-1]
}

// seconds converts d to whole seconds, rounding up, with def for 0 and the result
// kept within [lo, hi].
func seconds(d, def time.Duration, lo, hi int32) int32 {
	if d == 0 {
		d = def
	}
	s := int32(min(math.Ceil(d.Seconds()), float64(hi)))
	return min(max(s, lo), hi)
}

package queue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// API is the part of the SQS API that receives and settles messages, as an
// event source mapping does (the local one is package localsqs's Poller). *sqs.Client implements it.
type API interface {
	BatchSender
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// MaxVisibility is the longest SQS keeps a received message invisible: 12 hours,
// counted from the receive.
const MaxVisibility = 12 * time.Hour

// visibilityMargin is kept below MaxVisibility by Visibility.Delay: SQS counts the
// 12 hours from the receive, and the handler has run since.
const visibilityMargin = time.Minute

// VisibilityChanger is the part of the SQS API Visibility uses. *sqs.Client
// implements it.
type VisibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Visibility postpones the next delivery of records received from one queue, for
// a handler that knows when a record is worth trying again (a rate limit's reset):
// it changes the message's visibility timeout (ChangeMessageVisibility). The
// handler must also report the record as a batch item failure, or it is deleted.
//
// In AWS the event source mapping leaves such a record alone: it comes back when
// its visibility timeout ends. Locally, a Poller sees the change (through the
// handler's context) and does not reset it to its Backoff. Either way each
// delivery counts as a receive towards the queue's redrive policy.
type Visibility struct {
	Client VisibilityChanger
	// URL is the queue URL (the records carry only its ARN).
	URL string
}

// Delay makes record r invisible for d from now, in whole seconds rounded up, at
// most MaxVisibility less a minute (SQS counts its 12 hours from the receive); 0
// makes it visible at once. It returns the delay set.
func (v *Visibility) Delay(ctx context.Context, r events.SQSMessage, d time.Duration) (time.Duration, error) {
	if v.Client == nil || v.URL == "" {
		return 0, errors.New("queue: Visibility needs a Client and a URL")
	}
	if r.ReceiptHandle == "" {
		return 0, fmt.Errorf("queue: delay %s: the record has no receipt handle", r.MessageId)
	}
	d = min(max(d, 0), MaxVisibility-visibilityMargin)
	secs := int32(math.Ceil(d.Seconds()))
	if _, err := v.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(v.URL), ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: secs,
	}); err != nil {
		return 0, fmt.Errorf("queue: delay %s by %ds: %w", r.MessageId, secs, err)
	}
	markDelayed(ctx, r.MessageId)
	return time.Duration(secs) * time.Second, nil
}

// delays are the records of the batch in progress whose visibility the handler
// set.
type delays struct {
	mu  sync.Mutex
	ids map[string]bool
}

type delaysKey struct{}

// WatchDelays returns ctx carrying a new set of delayed records, and the test of
// that set: a stand-in for the event source mapping (package localsqs's Poller)
// calls the handler with ctx, and then leaves alone the records whose visibility
// the handler set with Visibility.Delay.
func WatchDelays(ctx context.Context) (context.Context, func(id string) bool) {
	d := &delays{ids: map[string]bool{}}
	return context.WithValue(ctx, delaysKey{}, d), d.has
}

// markDelayed notes, for the Poller running the handler (if any), that the
// handler set the record's visibility.
func markDelayed(ctx context.Context, id string) {
	if d, ok := ctx.Value(delaysKey{}).(*delays); ok {
		d.mu.Lock()
		d.ids[id] = true
		d.mu.Unlock()
	}
}

func (d *delays) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ids[id]
}

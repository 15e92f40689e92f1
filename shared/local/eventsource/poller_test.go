package eventsource

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"

	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/queue"
)

// sqsServer is the one goaws of this test binary (goaws is global).
var sqsServer *localsqs.Server

func TestMain(m *testing.M) {
	var qs []localsqs.Queue
	for _, name := range []string{"partial", "handler-error", "unknown-id", "panic", "dead", "dead-dlq", "run", "record"} {
		qs = append(qs, localsqs.Queue{Name: name})
	}
	var err error
	sqsServer, err = localsqs.Start(qs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	sqsServer.Close()
	os.Exit(code)
}

// testClient is a client of sqsServer that logs the SDK's retries, which should
// not happen locally.
func testClient() *sqs.Client {
	return sqs.New(sqsServer.Client(context.Background()).Options(), func(o *sqs.Options) {
		o.ClientLogMode = aws.LogRetries
		o.Logger = logging.NewStandardLogger(os.Stderr)
	})
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder is a Handler that records the bodies of each batch and fails the records
// whose body fail says.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	records []events.SQSMessage
	fail    func(body string, attempt int) bool
	// resp, when set, replaces the response.
	resp func(ev events.SQSEvent) (events.SQSEventResponse, error)
}

func (r *recorder) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	r.mu.Lock()
	var bodies []string
	for _, rec := range ev.Records {
		bodies = append(bodies, rec.Body)
		r.records = append(r.records, rec)
	}
	r.batches = append(r.batches, bodies)
	r.mu.Unlock()
	if r.resp != nil {
		return r.resp(ev)
	}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		var n int
		fmt.Sscan(rec.Attributes["ApproximateReceiveCount"], &n)
		if r.fail != nil && r.fail(rec.Body, n) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (r *recorder) seen() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func newPoller(t *testing.T, name string, h Handler) *Poller {
	t.Helper()
	return &Poller{
		Client:   testClient(),
		URL:      sqsServer.QueueURL(name),
		Handler:  h,
		WaitTime: 3 * time.Second, // longer than Backoff, so a retry is received in one poll
		Backoff:  time.Second,
		Log:      slog.New(slog.DiscardHandler),
	}
}

func send(t *testing.T, name string, bodies ...string) {
	t.Helper()
	s := &queue.Sender{Client: testClient(), URL: sqsServer.QueueURL(name)}
	if err := s.SendBodies(testContext(t), bodies); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func pollOnce(t *testing.T, ctx context.Context, p *Poller, want int) {
	t.Helper()
	n, err := p.PollOnce(ctx)
	if err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	if n != want {
		t.Fatalf("PollOnce received %d, want %d", n, want)
	}
}

// pollUntil polls until it has received want messages in all. Messages made
// visible again at slightly different times may come back in separate batches.
func pollUntil(t *testing.T, ctx context.Context, p *Poller, want int) {
	t.Helper()
	got := 0
	for got < want {
		n, err := p.PollOnce(ctx)
		if err != nil {
			t.Fatalf("PollOnce: %v", err)
		}
		if n == 0 {
			t.Fatalf("PollOnce received nothing after %d messages, want %d", got, want)
		}
		got += n
	}
	if got != want {
		t.Fatalf("received %d messages, want %d", got, want)
	}
}

func counts(t *testing.T, name string) string {
	t.Helper()
	v, f, err := sqsServer.Counts(name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d visible, %d in flight", v, f)
}

func TestPollerPartialFailure(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := &recorder{fail: func(body string, attempt int) bool { return body == "b" && attempt == 1 }}
	p := newPoller(t, "partial", h.handle)
	send(t, "partial", "a", "b", "c")

	pollOnce(t, ctx, p, 3)
	if got := counts(t, "partial"); got != "0 visible, 1 in flight" {
		t.Fatalf("after a partial failure: %s; want only the failed record left, in flight", got)
	}
	pollOnce(t, ctx, p, 1) // b, visible again after Backoff
	if got := counts(t, "partial"); got != "0 visible, 0 in flight" {
		t.Fatalf("after the retry succeeded: %s", got)
	}
	if got := fmt.Sprint(h.seen()); got != "[[a b c] [b]]" {
		t.Errorf("batches = %s", got)
	}
	if last := h.records[len(h.records)-1]; last.Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("retry's ApproximateReceiveCount = %q, want 2", last.Attributes["ApproximateReceiveCount"])
	}
	if len(p.attempts) != 0 {
		t.Errorf("attempts not forgotten: %v", p.attempts)
	}
}

func TestPollerWholeBatchFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		queue string
		resp  func(ev events.SQSEvent) (events.SQSEventResponse, error)
	}{
		{"handler-error", func(events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("store unavailable")
		}},
		{"unknown-id", func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}, {ItemIdentifier: "not-in-batch"}}}, nil
		}},
		{"panic", func(events.SQSEvent) (events.SQSEventResponse, error) {
			panic("nil map")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.queue, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			h := &recorder{resp: tt.resp}
			p := newPoller(t, tt.queue, h.handle)
			send(t, tt.queue, "x", "y")

			pollOnce(t, ctx, p, 2)
			if got := counts(t, tt.queue); got != "0 visible, 2 in flight" {
				t.Fatalf("after the batch failed: %s; want nothing deleted", got)
			}
			h.resp = nil // succeed now
			pollUntil(t, ctx, p, 2)
			if got := counts(t, tt.queue); got != "0 visible, 0 in flight" {
				t.Fatalf("after the retry: %s", got)
			}
			seen := h.seen()
			if got := fmt.Sprint(seen[0], slices.Concat(seen[1:]...)); got != "[x y] [x y]" {
				t.Errorf("batches = %v", seen)
			}
		})
	}
}

func TestPollerDeadLetter(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := &recorder{fail: func(body string, _ int) bool { return body == "poison" }}
	p := newPoller(t, "dead", h.handle)
	p.MaxReceives = 2
	p.DeadLetterURL = sqsServer.QueueURL("dead-dlq")
	send(t, "dead", "poison", "fine")

	pollOnce(t, ctx, p, 2)
	if got := counts(t, "dead"); got != "0 visible, 1 in flight" {
		t.Fatalf("after attempt 1: %s", got)
	}
	pollOnce(t, ctx, p, 1)
	if got := counts(t, "dead"); got != "0 visible, 0 in flight" {
		t.Fatalf("after attempt 2: %s; want the poison message gone", got)
	}
	if got, _ := sqsServer.Bodies("dead-dlq"); fmt.Sprint(got) != "[poison]" {
		t.Errorf("dead-letter queue = %v, want [poison]", got)
	}
	if got := fmt.Sprint(h.seen()); got != "[[poison fine] [poison]]" {
		t.Errorf("batches = %s", got)
	}
}

func TestPollerRecords(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := &recorder{}
	p := newPoller(t, "record", h.handle)
	p.BatchSize = 2
	send(t, "record", `{"v":1}`, "2", "3")

	pollOnce(t, ctx, p, 2)
	pollOnce(t, ctx, p, 1)
	r := h.records[0]
	if r.EventSource != "aws:sqs" || r.EventSourceARN != localsqs.ARN("record") || r.AWSRegion != localsqs.Region {
		t.Errorf("source = %q %q %q", r.EventSource, r.EventSourceARN, r.AWSRegion)
	}
	if r.MessageId == "" || r.ReceiptHandle == "" || r.Body != `{"v":1}` || r.Md5OfBody != fmt.Sprintf("%x", md5.Sum([]byte(r.Body))) {
		t.Errorf("record = %+v", r)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if r.Attributes[k] == "" {
			t.Errorf("attribute %s missing: %v", k, r.Attributes)
		}
	}
	if got := fmt.Sprint(h.seen()); got != `[[{"v":1} 2] [3]]` {
		t.Errorf("batches = %s", got)
	}
}

func TestPollerRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan string, 10)
	p := newPoller(t, "run", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, r := range ev.Records {
			done <- r.Body
		}
		return events.SQSEventResponse{}, nil
	})
	p.WaitTime = 20 * time.Second // the most SQS allows: long polls end only when messages come or Run is cancelled
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	send(t, "run", "one", "two")
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not deliver the messages")
		}
	}
	// Run is in a 20 s long poll when cancelled: it must stop without waiting
	// the poll out (in milliseconds; half the poll leaves room for a loaded
	// machine).
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(p.WaitTime / 2):
		t.Fatal("Run did not stop within 10 s of cancel: its 20 s long poll was not interrupted")
	}
	if got := counts(t, "run"); got != "0 visible, 0 in flight" {
		t.Errorf("after Run: %s", got)
	}
}

func TestPollerConfig(t *testing.T) {
	h := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	client := testClient()
	tests := []struct {
		name string
		p    *Poller
	}{
		{"no handler", &Poller{Client: client, URL: "u"}},
		{"no URL", &Poller{Client: client, Handler: h}},
		{"batch too big", &Poller{Client: client, URL: "u", Handler: h, BatchSize: 11}},
		{"negative max receives", &Poller{Client: client, URL: "u", Handler: h, MaxReceives: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Run(context.Background()); err == nil {
				t.Error("Run accepted a misconfigured Poller")
			}
		})
	}
}

func TestRegionAndARN(t *testing.T) {
	tests := []struct {
		url, region, arn string
	}{
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/inbound", "eu-west-1", "arn:aws:sqs:eu-west-1:123456789012:inbound"},
		{"http://127.0.0.1:4100/000000000000/inbound", "us-east-1", "arn:aws:sqs:us-east-1:000000000000:inbound"},
	}
	for _, tt := range tests {
		p := &Poller{URL: tt.url, Client: &fakeBatchSenderAPI{}}
		if got := p.region(); got != tt.region {
			t.Errorf("region(%s) = %q, want %q", tt.url, got, tt.region)
		}
		if got := arnFromURL(tt.url, p.region()); got != tt.arn {
			t.Errorf("arnFromURL(%s) = %q, want %q", tt.url, got, tt.arn)
		}
	}
}

// fakeBatchSenderAPI is an API with no Options method.
type fakeBatchSenderAPI struct{ queue.API }

// TestPollerLeavesHandlerDelays: a record whose visibility the handler set with
// Visibility.Delay comes back when the handler said, not after the Poller's
// Backoff, and the receive still counts.
func TestPollerLeavesHandlerDelays(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	out, err := testClient().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("handler-delays")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	vis := &queue.Visibility{Client: testClient(), URL: url}
	var (
		set     time.Duration
		records []events.SQSMessage
	)
	handle := func(hctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			records = append(records, r)
			if r.Body != "wait" || r.Attributes["ApproximateReceiveCount"] != "1" {
				continue
			}
			d, err := vis.Delay(hctx, r, 3500*time.Millisecond)
			if err != nil {
				return resp, err
			}
			set = d
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
		return resp, nil
	}
	p := &Poller{Client: testClient(), URL: url, Handler: handle, WaitTime: 2 * time.Second, Backoff: time.Second, Log: slog.New(slog.DiscardHandler)}
	if err := (&queue.Sender{Client: testClient(), URL: url}).SendBodies(ctx, []string{"wait", "go"}); err != nil {
		t.Fatal(err)
	}

	pollUntil(t, ctx, p, 2)
	delayedAt := time.Now()
	if set != 4*time.Second {
		t.Errorf("Delay set %v; want 4s (whole seconds, rounded up)", set)
	}
	// Reset to the Poller's Backoff, the record would be back within this poll.
	if n, err := p.PollOnce(ctx); err != nil || n != 0 {
		t.Fatalf("PollOnce within the handler's delay received %d (%v); want nothing", n, err)
	}
	p.WaitTime = 5 * time.Second
	pollOnce(t, ctx, p, 1)
	if waited := time.Since(delayedAt); waited < 3500*time.Millisecond {
		t.Errorf("the delayed record came back after %v; want at least the 4 s asked", waited)
	}
	last := records[len(records)-1]
	if last.Body != "wait" || last.Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("second delivery: %s, receive count %s; want the delayed record, 2", last.Body, last.Attributes["ApproximateReceiveCount"])
	}
	if got := counts(t, "handler-delays"); got != "0 visible, 0 in flight" {
		t.Errorf("queue after the retry: %s", got)
	}
}

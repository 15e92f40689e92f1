package sender_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/eventsource"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// fastClock runs scale times faster than real time from base.
type fastClock struct {
	base  time.Time
	start time.Time
	scale float64
}

func (c *fastClock) Now() time.Time {
	return c.base.Add(time.Duration(float64(time.Since(c.start)) * c.scale))
}

// scaledDelayer sets real visibility timeouts scale times shorter than the waits
// asked, so that SQS (goaws, in real time) and the fast clock agree.
type scaledDelayer struct {
	v     *queue.Visibility
	scale float64
}

func (d scaledDelayer) Delay(ctx context.Context, r events.SQSMessage, wait time.Duration) (time.Duration, error) {
	set, err := d.v.Delay(ctx, r, time.Duration(float64(wait)/d.scale))
	return time.Duration(float64(set) * d.scale), err
}

// TestStorm: X answers 429 to every post for 10 minutes. The replies queued
// meanwhile wait (their visibility set to X's reset, through SQS) and are all
// posted after it, once each, with nothing dropped and nothing in the
// dead-letter queue of a redrive policy like the stack's.
func TestStorm(t *testing.T) {
	const (
		scale   = 120 // 10 minutes of the fake clock are 5 s
		replies = 6
		storm   = 10 * time.Minute
	)
	e := newEnv(t)
	clk := &fastClock{base: t0, start: time.Now(), scale: scale}
	e.now = clk.Now
	e.st.Now, e.s.Now = clk.Now, clk.Now
	e.x.SetClock(clk.Now)
	e.s.X = e.newClient(5 * time.Second)

	ctx := t.Context()
	sqsClient := sqsServer.Client(ctx)
	url := sqsServer.QueueURL(stormQueue)
	e.s.Delayer = scaledDelayer{v: &queue.Visibility{Client: sqsClient, URL: url}, scale: scale}

	var reqs []care.ReplyRequest
	for i := range replies {
		post, caseID := e.customerPost("@PajaritoAir my flight is delayed, any news?")
		reqs = append(reqs, agentReply(caseID, post, "draft-1", fmt.Sprintf("@mariagv_viajes We're sorry for the wait: new departure at 18:4%d. ^Ana", i)))
	}
	e.x.Storm(xapi.EndpointCreatePost, storm)
	stormEnd := clk.Now().Add(storm)
	if err := (&queue.Sender{Client: sqsClient, URL: url}).EnqueueReplies(ctx, reqs); err != nil {
		t.Fatal(err)
	}

	p := &eventsource.Poller{
		Client: sqsClient, URL: url, Handler: e.s.Handle, BatchSize: 4,
		WaitTime: time.Second, Backoff: time.Second,
		DeadLetterURL: sqsServer.QueueURL(stormDLQ), MaxReceives: 5, // infra.MaxReceiveCount
		Log: slog.New(slog.DiscardHandler),
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		done := len(e.posted("post")) == replies
		if visible, inFlight, _ := sqsServer.Counts(stormQueue); done && visible+inFlight == 0 {
			break
		}
	}

	posts := e.posted("post")
	if len(posts) != replies {
		t.Fatalf("%d of %d replies posted; log:\n%s", len(posts), replies, e.logs.String())
	}
	seen := map[string]bool{}
	for _, p := range posts {
		if p.At.Before(stormEnd) {
			t.Errorf("post %s created at %v, during the storm (until %v)", p.ID, p.At, stormEnd)
		}
		if seen[p.InReplyToID] {
			t.Errorf("post %s replied twice", p.InReplyToID)
		}
		seen[p.InReplyToID] = true
	}
	for _, req := range reqs {
		if r := e.reply(req.CaseID, req.IdempotencyKey); r.State != care.ReplySent || r.Attempts > 2 {
			t.Errorf("reply of %s: %s after %d attempts; want sent in at most 2", req.CaseID, r.State, r.Attempts)
		}
	}
	if visible, inFlight, err := sqsServer.Counts(stormDLQ); err != nil || visible+inFlight != 0 {
		t.Errorf("dead-letter queue holds %d messages (%v); want none", visible+inFlight, err)
	}
	if visible, inFlight, _ := sqsServer.Counts(stormQueue); visible+inFlight != 0 {
		t.Errorf("outbound queue still holds %d messages", visible+inFlight)
	}
	// The storm's 429s reached X once per receive at most; the backoff kept the
	// others from calling.
	if n := e.x.Calls(xapi.EndpointCreatePost); n > 2*replies {
		t.Errorf("%d calls to X for %d replies", n, replies)
	}
	for id, lines := range e.outcomes() {
		if len(lines) > 3 {
			t.Errorf("record %s was received %d times; a 10-minute storm should cost at most 3", id, len(lines))
		}
	}
}

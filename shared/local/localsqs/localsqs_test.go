package localsqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

var srv *Server

func TestMain(m *testing.M) {
	var err error
	srv, err = Start(
		Queue{Name: "roundtrip"},
		Queue{Name: "batch"},
		Queue{Name: "longpoll"},
		Queue{Name: "visibility", VisibilityTimeout: 1},
		Queue{Name: "attrs"},
		Queue{Name: "redrive", DeadLetter: "redrive-dlq", MaxReceiveCount: 2},
		Queue{Name: "redrive-dlq"},
		Queue{Name: "journal"},
		Queue{Name: "journal-dlq"},
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	if code == 0 {
		// Close frees goaws for another Start, with no queue left over.
		again, err := Start(Queue{Name: "again"})
		if err != nil {
			fmt.Fprintln(os.Stderr, "Start after Close:", err)
			os.Exit(1)
		}
		if _, err := again.Bodies("roundtrip"); err == nil {
			fmt.Fprintln(os.Stderr, "a queue survived Close")
			code = 1
		}
		again.Close()
	}
	os.Exit(code)
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func receive(t *testing.T, ctx context.Context, c *sqs.Client, queue string, wait int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(srv.QueueURL(queue)),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage %s: %v", queue, err)
	}
	return out.Messages
}

func TestRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	url := aws.String(srv.QueueURL("roundtrip"))

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(`{"hola":"mundo ñ"}`)})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	msgs := receive(t, ctx, c, "roundtrip", 1)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != `{"hola":"mundo ñ"}` {
		t.Errorf("received id %q body %q; sent id %q", aws.ToString(m.MessageId), aws.ToString(m.Body), aws.ToString(sent.MessageId))
	}
	if got := m.Attributes["ApproximateReceiveCount"]; got != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", got)
	}
	if again := receive(t, ctx, c, "roundtrip", 0); len(again) != 0 {
		t.Errorf("an in-flight message was received again: %d messages", len(again))
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if v, f, _ := srv.Counts("roundtrip"); v+f != 0 {
		t.Errorf("after delete: %d visible, %d in flight; want none", v, f)
	}
}

// TestSendMessageBatchQuirk pins goaws's empty Successful list: if goaws ever fixes
// it, package queue keeps working, but this test tells us the quirk is gone.
func TestSendMessageBatchQuirk(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("m" + strconv.Itoa(i))})
	}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(srv.QueueURL("batch")), Entries: entries})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(out.Successful) != 0 || len(out.Failed) != 0 {
		t.Logf("goaws now reports %d successful, %d failed", len(out.Successful), len(out.Failed))
	}
	bodies, _ := srv.Bodies("batch")
	if strings.Join(bodies, ",") != "m0,m1,m2,m3,m4,m5,m6,m7,m8,m9" {
		t.Errorf("queued bodies = %v", bodies)
	}

	// DeleteMessageBatch reports both lists properly.
	msgs := receive(t, ctx, c, "batch", 1)
	if len(msgs) != 10 {
		t.Fatalf("received %d, want 10", len(msgs))
	}
	del := []types.DeleteMessageBatchRequestEntry{{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle}, {Id: aws.String("b"), ReceiptHandle: aws.String("nope")}}
	dout, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(srv.QueueURL("batch")), Entries: del})
	if err != nil {
		t.Fatalf("DeleteMessageBatch: %v", err)
	}
	if len(dout.Successful) != 1 || aws.ToString(dout.Successful[0].Id) != "a" || len(dout.Failed) != 1 || aws.ToString(dout.Failed[0].Id) != "b" {
		t.Errorf("DeleteMessageBatch: successful %+v failed %+v", dout.Successful, dout.Failed)
	}
	if err := srv.Purge("batch"); err != nil {
		t.Fatal(err)
	}
}

// pollWaiting reports whether a goaws ReceiveMessage is waiting in its long
// poll: goaws runs in this process, and its handler (gosqs.ReceiveMessageV1)
// blocks in a select between looks at the queue only after a look found no
// message.
func pollWaiting() bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(" [select")) && bytes.Contains(g, []byte("gosqs.ReceiveMessageV1(")) {
			return true
		}
	}
	return false
}

func TestLongPoll(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	const wait = 20 // s, SQS's longest long poll
	pollCtx, cancel := context.WithTimeout(context.Background(), 2*wait*time.Second)
	defer cancel()
	type answer struct {
		msgs []types.Message
		took time.Duration
	}
	polled := make(chan answer, 1)
	go func() {
		start := time.Now()
		out, err := c.ReceiveMessage(pollCtx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.QueueURL("longpoll")), MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
		if err != nil {
			t.Errorf("ReceiveMessage longpoll: %v", err)
			polled <- answer{took: time.Since(start)}
			return
		}
		polled <- answer{out.Messages, time.Since(start)}
	}()
	// Send once the poll waits on the empty queue, so that the message is what
	// ends it.
	for deadline := time.Now().Add(10 * time.Second); !pollWaiting(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the long poll never started waiting (no goaws ReceiveMessage blocked in its select)")
		}
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL("longpoll")), MessageBody: aws.String("late")}); err != nil {
		t.Fatal(err)
	}
	// goaws looks at the queue every 100 ms, so the poll ends with the message
	// within moments; one waited out lasts at least its 20 s (goaws counts
	// 100 ms timers, which never fire early) and returns it only then. Half the
	// poll tells the two apart however loaded the machine.
	a := <-polled
	if len(a.msgs) != 1 || a.took >= wait*time.Second/2 {
		t.Errorf("long poll: %d messages after %v; want 1, long before the poll's %d s", len(a.msgs), a.took, wait)
	}

	// An empty long poll lasts WaitTimeSeconds and ends early when the caller gives up.
	start := time.Now()
	if msgs := receive(t, ctx, c, "longpoll", 1); len(msgs) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("empty long poll: %d messages after %v; want 0 after ~1 s", len(msgs), time.Since(start))
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := c.ReceiveMessage(short, &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.QueueURL("longpoll")), WaitTimeSeconds: 20})
	if err == nil || time.Since(start) > 10*time.Second { // cancelled after 0.2 s, long before the poll's 20 s
		t.Errorf("cancelled long poll: err %v after %v", err, time.Since(start))
	}
	_ = srv.Purge("longpoll")
}

func TestVisibility(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	url := aws.String(srv.QueueURL("visibility"))
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("v")}); err != nil {
		t.Fatal(err)
	}

	// The queue's 1 s visibility timeout ends; the message comes back. (start is
	// taken before the first receive, whose 1 s starts after it: goaws cannot
	// give the message back sooner than 1 s after start, however loaded the
	// machine. The long poll ends when it comes, so a long one costs nothing.)
	start := time.Now()
	first := receive(t, ctx, c, "visibility", 1)
	if len(first) != 1 {
		t.Fatalf("received %d, want 1", len(first))
	}
	second := receive(t, ctx, c, "visibility", 10)
	if len(second) != 1 || time.Since(start) < time.Second {
		t.Fatalf("after the 1 s visibility timeout: %d messages %v after the first receive began", len(second), time.Since(start))
	}
	if got := second[0].Attributes["ApproximateReceiveCount"]; got != "1" {
		t.Logf("goaws now counts receives: ApproximateReceiveCount = %s", got)
	}

	// ChangeMessageVisibility(0) makes it visible at once.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility(0): %v", err)
	}
	third := receive(t, ctx, c, "visibility", 0)
	if len(third) != 1 {
		t.Fatalf("after ChangeMessageVisibility(0): %d messages", len(third))
	}

	// ChangeMessageVisibility(n) hides it for n seconds.
	hidden := time.Now()
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: third[0].ReceiptHandle, VisibilityTimeout: 2}); err != nil {
		t.Fatalf("ChangeMessageVisibility(2): %v", err)
	}
	// Past the queue's own 1 s timeout, still within the 2 s asked for: hidden.
	// This sleep is inherent: goaws's visibility timeouts are whole seconds of
	// wall time, with no event to wait for, so real time must pass beyond the
	// queue's own 1 s (and a 100 ms housekeeping tick) before the look. The
	// check cannot flake: goaws reveals the message only 2 s after the
	// ChangeMessageVisibility call, itself after hidden, so a message seen again
	// less than 2 s after hidden (measured after the receive returned) is a real
	// fault; a machine too slow to look within the 2 s makes the check moot,
	// and the test says so.
	time.Sleep(1200 * time.Millisecond)
	if got := receive(t, ctx, c, "visibility", 0); len(got) != 0 && time.Since(hidden) < 2*time.Second {
		t.Fatalf("visible again %v after it was hidden for 2 s: %d messages", time.Since(hidden), len(got))
	} else if len(got) != 0 {
		t.Logf("received again %v after hidden for 2 s (a slow machine): the hidden span was not observed", time.Since(hidden))
		return
	}
	// The long poll ends when the message comes back, 2 s after hidden.
	if got := receive(t, ctx, c, "visibility", 10); len(got) != 1 {
		t.Fatalf("not visible again %v after it was hidden for 2 s: %d messages", time.Since(hidden), len(got))
	}
	_ = srv.Purge("visibility")
}

func TestQueueAttributes(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	url := aws.String(srv.QueueURL("attrs"))
	for _, b := range []string{"a", "b", "c"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 1}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	want := map[string]string{
		"ApproximateNumberOfMessages":           "3", // quirk: SQS would say 2
		"ApproximateNumberOfMessagesNotVisible": "1",
		"QueueArn":                              ARN("attrs"),
		"VisibilityTimeout":                     "30",
	}
	for k, v := range want {
		if out.Attributes[k] != v {
			t.Errorf("%s = %q, want %q", k, out.Attributes[k], v)
		}
	}
	if v, f, _ := srv.Counts("attrs"); v != 2 || f != 1 {
		t.Errorf("Counts = %d visible, %d in flight; want 2, 1", v, f)
	}
	_ = srv.Purge("attrs")
}

func TestRedrive(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	url := aws.String(srv.QueueURL("redrive"))
	// Empty for the next run (go test -count): the server lives as long as the binary.
	t.Cleanup(func() {
		_ = srv.Purge("redrive")
		_ = srv.Purge("redrive-dlq")
	})
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		msgs := receive(t, ctx, c, "redrive", 1)
		if len(msgs) != 1 {
			t.Fatalf("attempt %d: received %d", i+1, len(msgs))
		}
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := srv.Bodies("redrive-dlq"); len(got) != 1 || got[0] != "poison" {
		t.Errorf("dead-letter queue holds %v, want [poison]", got)
	}
	if got, _ := srv.Bodies("redrive"); len(got) != 0 {
		t.Errorf("source queue still holds %v", got)
	}
}

func TestErrors(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL("missing")), MessageBody: aws.String("x")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("SendMessage to a missing queue: %v (%T), want a smithy.APIError", err, err)
	}
	var typed *types.QueueDoesNotExist
	t.Logf("missing queue: code %q, message %q, typed QueueDoesNotExist: %v", apiErr.ErrorCode(), apiErr.ErrorMessage(), errors.As(err, &typed))
}

func TestCreateQueue(t *testing.T) {
	ctx := ctxT(t)
	c := srv.Client(ctx)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("created")})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Cleanup(func() { _ = srv.Purge("created") }) // for the next run (go test -count)
	if got := aws.ToString(out.QueueUrl); got != srv.QueueURL("created") {
		t.Errorf("QueueUrl = %q, want %q", got, srv.QueueURL("created"))
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if msgs := receive(t, ctx, c, "created", 1); len(msgs) != 1 {
		t.Errorf("received %d, want 1", len(msgs))
	}
}

func TestSecondStart(t *testing.T) {
	if s, err := Start(Queue{Name: "x"}); err == nil {
		s.Close()
		t.Fatal("a second Start succeeded")
	}
}

func TestStartValidation(t *testing.T) {
	tests := []struct {
		name   string
		queues []Queue
		want   string
	}{
		{"fifo", []Queue{{Name: "a.fifo"}}, "FIFO"},
		{"duplicate", []Queue{{Name: "a"}, {Name: "a"}}, "twice"},
		{"empty name", []Queue{{Name: ""}}, "empty"},
		{"unknown dead letter", []Queue{{Name: "a", DeadLetter: "b", MaxReceiveCount: 1}}, "dead-letter"},
		{"no max receive", []Queue{{Name: "a", DeadLetter: "b"}, {Name: "b"}}, "MaxReceiveCount"},
		{"visibility", []Queue{{Name: "a", VisibilityTimeout: -1}}, "visibility"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(tt.queues)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validate = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

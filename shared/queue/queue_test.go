package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/logging"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
)

// sqsServer is the one goaws of this test binary (goaws is global).
var sqsServer *localsqs.Server

var testQueues = []string{"enqueue",
	"redrive-src", "redrive-dlq", "redrive-fail-src", "redrive-fail-dlq", "redrive-task-src", "redrive-task-dlq"}

func TestMain(m *testing.M) {
	qs := make([]localsqs.Queue, len(testQueues))
	for i, name := range testQueues {
		qs[i] = localsqs.Queue{Name: name}
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

func TestBatches(t *testing.T) {
	kib := func(n int) string { return strings.Repeat("x", n<<10) }
	repeat := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	tests := []struct {
		name    string
		bodies  []string
		sizes   []int  // entries per batch
		wantErr string // substring
	}{
		{name: "none", bodies: nil, sizes: nil},
		{name: "one", bodies: []string{"a"}, sizes: []int{1}},
		{name: "ten", bodies: repeat(10, "a"), sizes: []int{10}},
		{name: "eleven", bodies: repeat(11, "a"), sizes: []int{10, 1}},
		{name: "twenty-five", bodies: repeat(25, "a"), sizes: []int{10, 10, 5}},
		{name: "size limit", bodies: repeat(5, kib(100)), sizes: []int{2, 2, 1}},
		{name: "exactly the limit", bodies: []string{kib(128), kib(128), "y"}, sizes: []int{2, 1}},
		{name: "single at the limit", bodies: []string{kib(256)}, sizes: []int{1}},
		{name: "mixed", bodies: append(repeat(9, "a"), kib(256)[5:], "b"), sizes: []int{9, 2}},
		{name: "mixed fits", bodies: append(repeat(9, "a"), kib(256)[9:], "b"), sizes: []int{10, 1}},
		{name: "oversized single", bodies: []string{"a", "b", kib(256) + "z"}, wantErr: "message 2: body is 262145 bytes"},
		{name: "empty body", bodies: []string{"a", ""}, wantErr: "message 1: body is empty"},
		{name: "NUL", bodies: []string{"a\x00"}, wantErr: "message 0: body has character U+0000"},
		{name: "invalid UTF-8", bodies: []string{"ok", "\xff"}, wantErr: "message 1: body has invalid UTF-8"},
		{name: "real U+FFFD", bodies: []string{"\uFFFD ñ 🐦 \t\n"}, sizes: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Batches(tt.bodies)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			next := 0
			for _, batch := range got {
				sizes = append(sizes, len(batch))
				ids, total := map[string]bool{}, 0
				for _, e := range batch {
					id := aws.ToString(e.Id)
					if ids[id] {
						t.Errorf("id %s repeated in a batch", id)
					}
					ids[id] = true
					if id != strconv.Itoa(next) || aws.ToString(e.MessageBody) != tt.bodies[next] {
						t.Errorf("entry %s is not body %d in order", id, next)
					}
					next++
					total += len(aws.ToString(e.MessageBody))
				}
				if len(batch) > MaxBatchEntries || total > MaxBatchBytes {
					t.Errorf("batch of %d entries, %d bytes is over the limits", len(batch), total)
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.sizes) {
				t.Errorf("batch sizes = %v, want %v", sizes, tt.sizes)
			}
		})
	}
}

// fakeBatchSender answers each SendMessageBatch call with the next of replies.
type fakeBatchSender struct {
	replies []func(in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	calls   [][]string // entry ids per call
}

func (f *fakeBatchSender) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	var ids []string
	for _, e := range in.Entries {
		ids = append(ids, aws.ToString(e.Id))
	}
	f.calls = append(f.calls, ids)
	if len(f.replies) == 0 {
		return &sqs.SendMessageBatchOutput{}, nil
	}
	r := f.replies[0]
	f.replies = f.replies[1:]
	return r(in)
}

func failIDs(senderFault bool, ids ...string) func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
	return func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		out := &sqs.SendMessageBatchOutput{}
		for _, id := range ids {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String("InternalError"), Message: aws.String("try again"), SenderFault: senderFault})
		}
		return out, nil
	}
}

func TestSenderRetries(t *testing.T) {
	callErr := func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return nil, errors.New("connection refused")
	}
	tests := []struct {
		name    string
		bodies  int
		replies []func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
		calls   string // entry ids of each call
		wantErr string
	}{
		{name: "all sent", bodies: 3, calls: "[[0 1 2]]"},
		{name: "retry succeeds", bodies: 3, replies: replies(failIDs(false, "0", "2")), calls: "[[0 1 2] [0 2]]"},
		{name: "retry fails", bodies: 3, replies: replies(failIDs(false, "1", "2"), failIDs(false, "2")), calls: "[[0 1 2] [1 2]]",
			wantErr: "batch 1 of 1: after one retry: 1 entries not queued; first: id 2: InternalError: try again"},
		{name: "sender fault not retried", bodies: 3, replies: replies(failIDs(true, "1")), calls: "[[0 1 2]]",
			wantErr: "1 entries not queued; first: id 1: InternalError"},
		{name: "second batch fails", bodies: 12, replies: replies(nil, callErr), calls: "[[0 1 2 3 4 5 6 7 8 9] [10 11]]",
			wantErr: "batch 2 of 2: SendMessageBatch of 2: connection refused (10 of 12 messages were queued before it)"},
		{name: "unknown failed id", bodies: 2, replies: replies(failIDs(false, "7")), calls: "[[0 1]]", wantErr: "not sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeBatchSender{replies: tt.replies}
			s := &Sender{Client: fake, URL: "http://q/000000000000/x", RetryDelay: time.Millisecond, Log: slog.New(slog.DiscardHandler)}
			bodies := make([]string, tt.bodies)
			for i := range bodies {
				bodies[i] = "m" + strconv.Itoa(i)
			}
			err := s.SendBodies(testContext(t), bodies)
			if got := fmt.Sprint(fake.calls); got != tt.calls {
				t.Errorf("calls = %s, want %s", got, tt.calls)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// replies turns nil into "all sent".
func replies(fs ...func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)) []func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
	for i, f := range fs {
		if f == nil {
			fs[i] = func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				return &sqs.SendMessageBatchOutput{}, nil
			}
		}
	}
	return fs
}

func TestEnqueue(t *testing.T) {
	ctx := testContext(t)
	client := testClient()
	s := &Sender{Client: client, URL: sqsServer.QueueURL("enqueue")}
	at := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	var envs []care.Envelope
	for i := range 23 {
		envs = append(envs, care.Envelope{
			Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, EventID: "ev" + strconv.Itoa(i), ReceivedAt: at,
			Message: &care.Message{Channel: care.Public, Direction: care.Inbound, ID: strconv.Itoa(1000 + i), AuthorID: "42", Text: "hola @marca 🐦", CreatedAt: at},
		})
	}
	if err := s.Enqueue(ctx, envs); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}

	var got []string
	for len(got) < len(envs) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var env care.Envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("body %q: %v", aws.ToString(m.Body), err)
			}
			if err := env.Validate(); err != nil || env.Message.Text != "hola @marca 🐦" {
				t.Errorf("envelope %s: %v, text %q", env.EventID, err, env.Message.Text)
			}
			got = append(got, env.EventID)
		}
	}
	want := make([]string, len(envs))
	for i := range envs {
		want[i] = envs[i].EventID
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		v, f, _ := sqsServer.Counts("enqueue")
		t.Errorf("received %v, want %v in order (queue: %d visible, %d in flight)", got, want, v, f)
	}
}

func send(t *testing.T, queue string, bodies ...string) {
	t.Helper()
	s := &Sender{Client: testClient(), URL: sqsServer.QueueURL(queue)}
	if err := s.SendBodies(testContext(t), bodies); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func counts(t *testing.T, queue string) string {
	t.Helper()
	v, f, err := sqsServer.Counts(queue)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d visible, %d in flight", v, f)
}

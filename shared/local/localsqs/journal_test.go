package localsqs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func journalURLs() map[string]string {
	return map[string]string{"journal": srv.QueueURL("journal"), "journal-dlq": srv.QueueURL("journal-dlq")}
}

func sendBodies(t *testing.T, ctx context.Context, c API, queue string, bodies ...string) {
	t.Helper()
	entries := make([]types.SendMessageBatchRequestEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)}
	}
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(srv.QueueURL(queue)), Entries: entries}); err != nil {
		t.Fatal(err)
	}
}

func receiveVia(t *testing.T, ctx context.Context, c API, queue string) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.QueueURL(queue)), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func bodiesOf(msgs []types.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.Body))
	}
	slices.Sort(out)
	return out
}

// TestJournalKeepsWhatWasNotDone: what was sent and not deleted survives the
// loss of goaws's memory (a crash), DLQ included, once; what was deleted does
// not come back.
func TestJournalKeepsWhatWasNotDone(t *testing.T) {
	ctx := ctxT(t)
	t.Cleanup(func() { _ = srv.Purge("journal"); _ = srv.Purge("journal-dlq") })
	dir := t.TempDir()
	j, rec, err := OpenJournal(ctx, dir, srv.Client(ctx), journalURLs())
	if err != nil || len(rec) != 0 {
		t.Fatalf("a new journal: %v, recovered %v", err, rec)
	}
	sendBodies(t, ctx, j, "journal", `{"n":1}`, `{"n":2}`, `{"n":3}`)
	sendBodies(t, ctx, j, "journal-dlq", `{"dead":1}`)
	got := receiveVia(t, ctx, j, "journal")
	if b := bodiesOf(got); !slices.Equal(b, []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}) {
		t.Fatalf("received %q: want the bodies as sent", b)
	}
	// The handler took one of them.
	var first types.Message
	for _, m := range got {
		if aws.ToString(m.Body) == `{"n":1}` {
			first = m
		}
	}
	if _, err := j.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(srv.QueueURL("journal")),
		Entries: []types.DeleteMessageBatchRequestEntry{{Id: aws.String("a"), ReceiptHandle: first.ReceiptHandle}}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// The process dies: goaws forgets. The journal sends back what was not done.
	_ = srv.Purge("journal")
	_ = srv.Purge("journal-dlq")
	j, rec, err = OpenJournal(ctx, dir, srv.Client(ctx), journalURLs())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if rec["journal"] != 2 || rec["journal-dlq"] != 1 {
		t.Errorf("recovered %v, want 2 in journal and 1 in journal-dlq", rec)
	}
	again := receiveVia(t, ctx, j, "journal")
	if b := bodiesOf(again); !slices.Equal(b, []string{`{"n":2}`, `{"n":3}`}) {
		t.Errorf("after the restart the queue holds %q, want n 2 and 3", b)
	}
	// Each keeps its MessageId through the restart.
	before := map[string]string{}
	for _, m := range got {
		before[aws.ToString(m.Body)] = aws.ToString(m.MessageId)
	}
	for _, m := range again {
		if id := aws.ToString(m.MessageId); id != before[aws.ToString(m.Body)] || !strings.HasPrefix(id, MessageIDPrefix) {
			t.Errorf("%s has MessageId %s after the restart, %s before", aws.ToString(m.Body), id, before[aws.ToString(m.Body)])
		}
	}
	if b := bodiesOf(receiveVia(t, ctx, j, "journal-dlq")); !slices.Equal(b, []string{`{"dead":1}`}) {
		t.Errorf("after the restart the DLQ holds %q", b)
	}
	// The file holds only the live messages.
	data, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 3 || strings.Contains(string(data), `done`) {
		t.Errorf("the journal after its rewrite:\n%s", data)
	}
}

// failing refuses every send, as an SQS that is down.
type failing struct{ API }

func (failing) SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return nil, errors.New("connection refused")
}

// TestJournalForgetsWhatTheQueueRefused: a send that failed is the caller's to
// retry; the journal does not send it again later.
func TestJournalForgetsWhatTheQueueRefused(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	j, _, err := OpenJournal(ctx, dir, failing{srv.Client(ctx)}, journalURLs())
	if err != nil {
		t.Fatal(err)
	}
	entries := []types.SendMessageBatchRequestEntry{{Id: aws.String("0"), MessageBody: aws.String("x")}}
	if _, err := j.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(srv.QueueURL("journal")), Entries: entries}); err == nil {
		t.Fatal("the failed send reported no error")
	}
	j.Close()
	j, rec, err := OpenJournal(ctx, dir, srv.Client(ctx), journalURLs())
	if err != nil || len(rec) != 0 {
		t.Errorf("reopened: %v, recovered %v; want nothing", err, rec)
	}
	j.Close()
}

func TestJournalFiles(t *testing.T) {
	ctx := ctxT(t)
	put := `{"put":{"id":"a","queue":"journal","body":"x"}}` + "\n"
	tests := []struct {
		name, content, wantErr string
		want                   int
	}{
		{"torn last line", put + `{"put":{"id":"b","que`, "", 1},
		{"damaged", put + "garbage\n" + put, "line 2 is not a journal record", 0},
		{"done", put + `{"done":"a"}` + "\n", "", 0},
		{"a queue no longer here", `{"put":{"id":"c","queue":"gone","body":"x"}}` + "\n", "queues this system no longer has (gone)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() { _ = srv.Purge("journal") })
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			j, rec, err := OpenJournal(ctx, dir, srv.Client(ctx), journalURLs())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if rec["journal"] != tt.want {
				t.Errorf("recovered %v, want %d", rec, tt.want)
			}
		})
	}
}

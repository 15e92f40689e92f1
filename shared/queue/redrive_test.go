package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pajarito-care/pajarito/shared/local/localsqs"
)

// localDLQ is the dead-letter queue dlq of source on the test's goaws.
func localDLQ(name, source, dlq string) DeadLetterQueue {
	return DeadLetterQueue{
		Name: name, URL: sqsServer.QueueURL(dlq), ARN: localsqs.ARN(dlq),
		SourceURL: sqsServer.QueueURL(source), SourceARN: localsqs.ARN(source),
	}
}

// TestRedriveByHand moves dead letters back against goaws, as the local system
// does: every message, more than a batch, once; a second redrive moves nothing.
func TestRedriveByHand(t *testing.T) {
	ctx := testContext(t)
	q := localDLQ("inbound", "redrive-src", "redrive-dlq")
	r := &Redrive{Client: testClient(), Queues: []DeadLetterQueue{q}, Log: slog.New(slog.DiscardHandler)}
	var bodies []string
	for i := range 23 {
		bodies = append(bodies, "dead letter "+strconv.Itoa(i))
	}
	send(t, "redrive-dlq", bodies...)

	tests := []struct {
		name              string
		before, moved     int
		source, remaining string
	}{
		{"first redrive moves all", 23, 23, "23 visible, 0 in flight", "0 visible, 0 in flight"},
		{"second redrive moves nothing", 0, 0, "23 visible, 0 in flight", "0 visible, 0 in flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := r.Depths(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(d) != 1 || d[0].Queue != "inbound" || d[0].Visible != int64(tt.before) || d[0].InFlight != 0 || d[0].MoveTask != nil {
				t.Errorf("depths %+v, want %d visible in inbound's", d, tt.before)
			}
			res, err := r.Redrive(ctx, "inbound")
			if err != nil {
				t.Fatal(err)
			}
			want := Redriven{Queue: "inbound", DepthBefore: int64(tt.before), Method: MethodByHand, Moved: tt.moved}
			if res != want {
				t.Errorf("redrive %+v, want %+v", res, want)
			}
			if got := counts(t, "redrive-src"); got != tt.source {
				t.Errorf("source queue: %s, want %s", got, tt.source)
			}
			if sd, err := r.SourceDepths(ctx); err != nil || len(sd) != 1 || sd[0].Queue != "inbound" || sd[0].Visible != 23 || sd[0].InFlight != 0 {
				t.Errorf("source depths %+v (%v), want inbound's 23 visible", sd, err)
			}
			if got := counts(t, "redrive-dlq"); got != tt.remaining {
				t.Errorf("dead-letter queue: %s, want %s", got, tt.remaining)
			}
		})
	}
	got, err := sqsServer.Bodies("redrive-src")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(bodies)
	if !slices.Equal(got, bodies) {
		t.Errorf("the source queue holds %q, want %q", got, bodies)
	}
	if _, err := r.Redrive(ctx, "outbound"); !errors.Is(err, ErrUnknownQueue) {
		t.Errorf("redrive of a queue it does not have: %v", err)
	}
}

// failingSends fails every SendMessageBatch; the rest goes to goaws.
type failingSends struct{ *sqs.Client }

func (failingSends) SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return nil, errors.New("connection refused")
}

// TestRedriveByHandSendFails: a batch the source queue does not take stays in the
// dead-letter queue, visible at once.
func TestRedriveByHandSendFails(t *testing.T) {
	ctx := testContext(t)
	q := localDLQ("outbound", "redrive-fail-src", "redrive-fail-dlq")
	send(t, "redrive-fail-dlq", "a", "b", "c")
	r := &Redrive{Client: failingSends{testClient()}, Queues: []DeadLetterQueue{q}, Log: slog.New(slog.DiscardHandler)}
	res, err := r.Redrive(ctx, "outbound")
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "stay in the dead-letter queue") {
		t.Errorf("err = %v", err)
	}
	if res.Moved != 0 || res.DepthBefore != 3 {
		t.Errorf("redrive %+v, want nothing moved of 3", res)
	}
	if got := counts(t, "redrive-fail-dlq"); got != "3 visible, 0 in flight" {
		t.Errorf("dead-letter queue: %s", got)
	}
	if got := counts(t, "redrive-fail-src"); got != "0 visible, 0 in flight" {
		t.Errorf("source queue: %s", got)
	}
}

// TestGoawsHasNoMoveTasks is why the local system moves by hand: goaws refuses
// the call with an error that names nothing.
func TestGoawsHasNoMoveTasks(t *testing.T) {
	_, err := testClient().StartMessageMoveTask(testContext(t), &sqs.StartMessageMoveTaskInput{
		SourceArn: aws.String(localsqs.ARN("redrive-dlq")), DestinationArn: aws.String(localsqs.ARN("redrive-src")),
	})
	if err == nil {
		t.Fatal("goaws started a message move task: the local system could use them")
	}
}

// fakeTasks is SQS's move tasks: running is the latest task's status ("" for
// none); startErr fails StartMessageMoveTask, after which the latest task becomes
// afterFail.
type fakeTasks struct {
	mu        sync.Mutex
	running   string
	startErr  error
	afterFail string
	started   []sqs.StartMessageMoveTaskInput
}

func (f *fakeTasks) StartMessageMoveTask(_ context.Context, in *sqs.StartMessageMoveTaskInput, _ ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, *in)
	if f.startErr != nil {
		f.running = f.afterFail
		return nil, f.startErr
	}
	f.running = TaskRunning
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-" + strconv.Itoa(len(f.started)))}, nil
}

func (f *fakeTasks) ListMessageMoveTasks(_ context.Context, in *sqs.ListMessageMoveTasksInput, _ ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running == "" {
		return &sqs.ListMessageMoveTasksOutput{}, nil
	}
	e := types.ListMessageMoveTasksResultEntry{
		SourceArn: in.SourceArn, Status: aws.String(f.running), StartedTimestamp: 1_786_000_000_000,
		ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: aws.Int64(9),
	}
	if f.running == TaskRunning {
		e.TaskHandle = aws.String("running-task")
	}
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{e}}, nil
}

// TestRedriveMoveTask: in AWS, a redrive starts SQS's move task from the DLQ to
// its source queue, unless one runs.
func TestRedriveMoveTask(t *testing.T) {
	q := localDLQ("inbound", "redrive-task-src", "redrive-task-dlq")
	tests := []struct {
		name      string
		dead      int    // messages in the DLQ
		latest    string // the latest task's status
		startErr  error
		afterFail string
		starts    int
		running   bool   // already running
		handle    string // of the task reported
		wantErr   string
	}{
		{name: "no task yet", dead: 2, starts: 1, handle: "task-1"},
		{name: "the last task completed", dead: 2, latest: "COMPLETED", starts: 1, handle: "task-1"},
		{name: "a task runs", dead: 2, latest: TaskRunning, running: true, handle: "running-task"},
		{name: "nothing to move", dead: 0},
		{name: "another call started one meanwhile", dead: 2, startErr: errors.New("AWS.SimpleQueueService.UnsupportedOperation"), afterFail: TaskRunning,
			starts: 1, running: true, handle: "running-task"},
		{name: "start refused", dead: 2, startErr: errors.New("AccessDenied"), starts: 1, wantErr: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sqsServer.Purge("redrive-task-dlq"); err != nil {
				t.Fatal(err)
			}
			for i := range tt.dead {
				send(t, "redrive-task-dlq", "m"+strconv.Itoa(i))
			}
			tasks := &fakeTasks{running: tt.latest, startErr: tt.startErr, afterFail: tt.afterFail}
			r := &Redrive{Client: testClient(), MoveTasks: tasks, Queues: []DeadLetterQueue{q}, Log: slog.New(slog.DiscardHandler)}
			res, err := r.Redrive(testContext(t), "inbound")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), q.ARN) {
					t.Errorf("err = %v, want one with %q and the queue", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(tasks.started) != tt.starts {
				t.Fatalf("%d tasks started, want %d", len(tasks.started), tt.starts)
			}
			for _, in := range tasks.started {
				if aws.ToString(in.SourceArn) != q.ARN || aws.ToString(in.DestinationArn) != q.SourceARN {
					t.Errorf("task from %s to %s, want %s to %s", aws.ToString(in.SourceArn), aws.ToString(in.DestinationArn), q.ARN, q.SourceARN)
				}
			}
			if res.Method != MethodMoveTask || res.DepthBefore != int64(tt.dead) || res.Moved != 0 || res.AlreadyRunning != tt.running {
				t.Errorf("redrive %+v", res)
			}
			switch {
			case tt.handle == "" && res.MoveTask != nil:
				t.Errorf("task %+v, want none", res.MoveTask)
			case tt.handle != "" && (res.MoveTask == nil || res.MoveTask.Handle != tt.handle || res.MoveTask.Status != TaskRunning):
				t.Errorf("task %+v, want %s running", res.MoveTask, tt.handle)
			}
			// Nothing was moved by hand: the messages stay for SQS to move.
			if got := counts(t, "redrive-task-dlq"); got != fmt.Sprintf("%d visible, 0 in flight", tt.dead) {
				t.Errorf("dead-letter queue: %s", got)
			}
			// The depths show the latest task.
			d, err := r.Depths(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if tasks.running != "" && (d[0].MoveTask == nil || d[0].MoveTask.Status != tasks.running || d[0].MoveTask.Moved != 4 || *d[0].MoveTask.ToMove != 9) {
				t.Errorf("depths %+v, want the latest task", d[0].MoveTask)
			}
		})
	}
}

package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DeadLetterQueue is a dead-letter queue and the queue whose messages it keeps.
type DeadLetterQueue struct {
	// Name is how operators name the source queue: "inbound", "outbound".
	Name string
	// URL and ARN are the dead-letter queue's.
	URL, ARN string
	// SourceURL and SourceARN are the source queue's, where a redrive sends the
	// messages back.
	SourceURL, SourceARN string
}

// RedriveAPI is the part of the SQS API a Redrive reads depths and moves messages
// by hand with. *sqs.Client implements it; locally, a localsqs.Journal (which
// keeps what moves on disk) with goaws's GetQueueAttributes.
type RedriveAPI interface {
	API
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// MoveTaskAPI is SQS's message move tasks. *sqs.Client implements it; goaws does
// not.
type MoveTaskAPI interface {
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, optFns ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

// Ways a Redrive moves messages (Redriven.Method).
const (
	// MethodMoveTask: SQS's own message move task, which moves the messages in the
	// background.
	MethodMoveTask = "move_task"
	// MethodByHand: received from the dead-letter queue, sent to the source queue,
	// then deleted, before the call returns.
	MethodByHand = "by_hand"
)

// Move task statuses, as SQS reports them.
const (
	TaskRunning = "RUNNING"
)

// handVisibility is how long a message received for a move by hand stays
// invisible: far more than sending and deleting a batch takes, and it is made
// visible again at once when the send fails.
const handVisibility = 60

// Redrive moves the messages of dead-letter queues back to their source queues,
// once whatever failed them is fixed.
//
// With MoveTasks set (AWS) it starts SQS's own message move task on the
// dead-letter queue's ARN, destination the source queue's, and returns at once;
// SQS moves the messages present when the task started. While a task runs it
// starts none (SQS allows one per queue): it reports the running one, so calling
// again is harmless and shows the progress.
//
// Without MoveTasks (goaws, the local system: it does not implement move tasks)
// it moves them itself: receive a batch from the dead-letter queue, send it to the
// source queue, delete it, until a receive finds nothing or it has moved as many
// as the queue held when it began (as SQS's task does: a message that fails again
// and comes back is not moved twice in one call). A batch whose send fails is
// made visible again and left in the dead-letter queue; a delete that fails after
// the send leaves a copy behind, which a later redrive would queue again (the
// consumers deduplicate). Through a localsqs.Journal as Client, the journal keeps
// what moves.
//
// Which way is chosen by the construction (MoveTasks set or not), not by falling
// back on an error: goaws answers an action it does not know with a plain-text
// 400 that the SDK reports as an error with no code, like a real refusal would
// look (AccessDenied, a wrong ARN, throttling). Falling back on it in AWS would
// hide a missing permission behind a slow move by hand inside an API request; the
// code that builds a Redrive knows which SQS it talks to.
type Redrive struct {
	Client RedriveAPI
	// MoveTasks, when set, moves messages with SQS's message move tasks; nil moves
	// them by hand through Client.
	MoveTasks MoveTaskAPI
	Queues    []DeadLetterQueue
	// Log receives the Redrive's logs; nil means slog.Default().
	Log *slog.Logger
}

// Depth is what a dead-letter queue holds (SQS's approximate counts).
type Depth struct {
	// Queue is the source queue's name (DeadLetterQueue.Name).
	Queue string `json:"queue"`
	// Visible are waiting to be received (ApproximateNumberOfMessages); InFlight
	// were received and are neither deleted nor visible again
	// (ApproximateNumberOfMessagesNotVisible).
	Visible  int64 `json:"visible"`
	InFlight int64 `json:"in_flight"`
	// MoveTask is the latest message move task of the queue, when move tasks are
	// used and there is one.
	MoveTask *MoveTask `json:"move_task,omitempty"`
}

// MoveTask is an SQS message move task.
type MoveTask struct {
	// Handle identifies the task; SQS gives it only while the task runs.
	Handle string `json:"handle,omitempty"`
	// Status is RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED.
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	// Moved are the messages moved so far; ToMove those the task found when it
	// started (absent until SQS knows).
	Moved  int64  `json:"moved"`
	ToMove *int64 `json:"to_move,omitempty"`
	// FailureReason says why a FAILED task failed.
	FailureReason string `json:"failure_reason,omitempty"`
}

// Redriven is what a redrive of one dead-letter queue did.
type Redriven struct {
	// Queue is the source queue's name (DeadLetterQueue.Name).
	Queue string `json:"queue"`
	// DepthBefore is what the dead-letter queue held before (visible and in
	// flight, approximate).
	DepthBefore int64 `json:"depth_before"`
	// Method is MethodMoveTask or MethodByHand.
	Method string `json:"method"`
	// Moved are the messages moved by hand.
	Moved int `json:"moved"`
	// MoveTask is the task started, or the one already running
	// (AlreadyRunning); absent when nothing was to move.
	MoveTask       *MoveTask `json:"move_task,omitempty"`
	AlreadyRunning bool      `json:"already_running"`
}

// ErrUnknownQueue is returned (wrapped) for a queue name the Redrive does not have.
var ErrUnknownQueue = errors.New("unknown queue")

// Depths returns the depth of each dead-letter queue, in the order of Queues.
func (r *Redrive) Depths(ctx context.Context) ([]Depth, error) {
	out := make([]Depth, 0, len(r.Queues))
	for _, q := range r.Queues {
		d, err := r.depth(ctx, q)
		if err != nil {
			return nil, err
		}
		if r.MoveTasks != nil {
			if d.MoveTask, err = r.latestTask(ctx, q); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// Redrive moves the messages of the dead-letter queue of the source queue name
// back to it (see the type's doc for how).
func (r *Redrive) Redrive(ctx context.Context, name string) (Redriven, error) {
	var q DeadLetterQueue
	found := false
	for _, c := range r.Queues {
		if c.Name == name {
			q, found = c, true
		}
	}
	if !found {
		return Redriven{}, fmt.Errorf("queue: redrive %q: %w", name, ErrUnknownQueue)
	}
	d, err := r.depth(ctx, q)
	if err != nil {
		return Redriven{}, err
	}
	res := Redriven{Queue: name, DepthBefore: d.Visible + d.InFlight, Method: MethodByHand}
	if r.MoveTasks != nil {
		res.Method = MethodMoveTask
		return r.startTask(ctx, q, res)
	}
	res.Moved, err = r.byHand(ctx, q, res.DepthBefore)
	if res.Moved > 0 {
		r.log().InfoContext(ctx, "queue: redriven by hand", "queue", name, "dead_letter_queue", q.URL, "moved", res.Moved, "depth_before", res.DepthBefore)
	}
	return res, err
}

// startTask starts a move task on q's dead-letter queue, unless one runs.
func (r *Redrive) startTask(ctx context.Context, q DeadLetterQueue, res Redriven) (Redriven, error) {
	running := func() (bool, error) {
		t, err := r.latestTask(ctx, q)
		if err != nil {
			return false, err
		}
		if t != nil && t.Status == TaskRunning {
			res.MoveTask, res.AlreadyRunning = t, true
			return true, nil
		}
		return false, nil
	}
	if ok, err := running(); ok || err != nil {
		return res, err
	}
	if res.DepthBefore == 0 {
		return res, nil // nothing to move (the counts lag by about a minute: call again later)
	}
	out, err := r.MoveTasks.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn: aws.String(q.ARN), DestinationArn: aws.String(q.SourceARN),
	})
	if err != nil {
		// Another call may have started one meanwhile: SQS refuses a second.
		if ok, lerr := running(); ok && lerr == nil {
			return res, nil
		}
		return res, fmt.Errorf("queue: start the move task of %s to %s: %w", q.ARN, q.SourceARN, err)
	}
	res.MoveTask = &MoveTask{Handle: aws.ToString(out.TaskHandle), Status: TaskRunning, StartedAt: time.Now().UTC()}
	r.log().InfoContext(ctx, "queue: move task started", "queue", q.Name, "dead_letter_queue", q.ARN, "destination", q.SourceARN, "task", res.MoveTask.Handle, "depth_before", res.DepthBefore)
	return res, nil
}

// latestTask returns the latest move task of q's dead-letter queue, nil when it
// has had none.
func (r *Redrive) latestTask(ctx context.Context, q DeadLetterQueue) (*MoveTask, error) {
	out, err := r.MoveTasks.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(q.ARN), MaxResults: aws.Int32(1)})
	if err != nil {
		return nil, fmt.Errorf("queue: list the move tasks of %s: %w", q.ARN, err)
	}
	if len(out.Results) == 0 {
		return nil, nil
	}
	e := out.Results[0]
	return &MoveTask{
		Handle:        aws.ToString(e.TaskHandle),
		Status:        aws.ToString(e.Status),
		StartedAt:     time.UnixMilli(e.StartedTimestamp).UTC(),
		Moved:         e.ApproximateNumberOfMessagesMoved,
		ToMove:        e.ApproximateNumberOfMessagesToMove,
		FailureReason: aws.ToString(e.FailureReason),
	}, nil
}

// byHand moves up to limit messages from q's dead-letter queue to its source
// queue, a batch at a time, and returns how many it moved.
func (r *Redrive) byHand(ctx context.Context, q DeadLetterQueue, limit int64) (int, error) {
	send := Sender{Client: r.Client, URL: q.SourceURL, Log: r.Log}
	moved := 0
	for int64(moved) < limit {
		out, err := r.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(q.URL),
			MaxNumberOfMessages: int32(min(int64(MaxBatchEntries), limit-int64(moved))),
			VisibilityTimeout:   handVisibility,
		})
		if err != nil {
			return moved, fmt.Errorf("queue: receive from %s: %w (%d moved before)", q.URL, err, moved)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		bodies := make([]string, len(out.Messages))
		for i, m := range out.Messages {
			bodies[i] = aws.ToString(m.Body)
		}
		if err := send.SendBodies(ctx, bodies); err != nil {
			r.release(ctx, q, out.Messages)
			return moved, fmt.Errorf("queue: move %d messages from %s: %w (%d moved before; these stay in the dead-letter queue)", len(bodies), q.URL, err, moved)
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		del, err := r.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		moved += len(out.Messages)
		if err == nil && len(del.Failed) > 0 {
			f := del.Failed[0]
			err = fmt.Errorf("%d not deleted; first: %s: %s", len(del.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
		}
		if err != nil {
			return moved, fmt.Errorf("queue: %d messages moved from %s to %s, but deleting them from the dead-letter queue failed: %w (a later redrive queues them again; the consumers deduplicate)", len(entries), q.URL, q.SourceURL, err)
		}
	}
	return moved, nil
}

// release makes messages received from q's dead-letter queue visible again (best
// effort: they come back after handVisibility anyway).
func (r *Redrive) release(ctx context.Context, q DeadLetterQueue, msgs []types.Message) {
	for _, m := range msgs {
		if _, err := r.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(q.URL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			r.log().WarnContext(ctx, "queue: could not make a message visible again", "queue", q.URL, "message_id", aws.ToString(m.MessageId), "err", err)
		}
	}
}

// SourceDepths returns the depth of each source queue (the inbound and outbound
// queues themselves), in the order of Queues: what the operator's health check
// compares with its backlog threshold.
func (r *Redrive) SourceDepths(ctx context.Context) ([]Depth, error) {
	out := make([]Depth, 0, len(r.Queues))
	for _, q := range r.Queues {
		d, err := r.depthOf(ctx, q.Name, q.SourceURL)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// depth reads the depth of q's dead-letter queue.
func (r *Redrive) depth(ctx context.Context, q DeadLetterQueue) (Depth, error) {
	return r.depthOf(ctx, q.Name, q.URL)
}

// depthOf reads the depth of the queue at url, reported as name's.
func (r *Redrive) depthOf(ctx context.Context, name, url string) (Depth, error) {
	visible, inFlight := types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible
	out, err := r.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{visible, inFlight},
	})
	if err != nil {
		return Depth{}, fmt.Errorf("queue: depth of %s: %w", url, err)
	}
	d := Depth{Queue: name}
	for _, a := range []struct {
		name types.QueueAttributeName
		n    *int64
	}{{visible, &d.Visible}, {inFlight, &d.InFlight}} {
		if *a.n, err = strconv.ParseInt(out.Attributes[string(a.name)], 10, 64); err != nil {
			return Depth{}, fmt.Errorf("queue: depth of %s: %s is %q", url, a.name, out.Attributes[string(a.name)])
		}
	}
	return d, nil
}

func (r *Redrive) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

package queue

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestBatchFailures(t *testing.T) {
	type outcome struct {
		id  string
		err error
	}
	failed := errors.New("failed")
	tests := []struct {
		name     string
		outcomes []outcome
		want     []events.SQSBatchItemFailure
	}{
		{name: "no records"},
		{name: "all handled", outcomes: []outcome{{"m-1", nil}, {"m-2", nil}}},
		{
			name:     "only the failed, in order",
			outcomes: []outcome{{"m-1", nil}, {"m-2", failed}, {"m-3", nil}, {"m-4", context.Canceled}},
			want:     []events.SQSBatchItemFailure{{ItemIdentifier: "m-2"}, {ItemIdentifier: "m-4"}},
		},
		{
			name:     "all failed",
			outcomes: []outcome{{"m-1", failed}, {"m-2", failed}},
			want:     []events.SQSBatchItemFailure{{ItemIdentifier: "m-1"}, {ItemIdentifier: "m-2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f BatchFailures
			for _, o := range tt.outcomes {
				f.Report(o.id, o.err)
			}
			// No failure is a nil list, as an SQSEventResponse left untouched.
			if got := f.Response(); !reflect.DeepEqual(got, events.SQSEventResponse{BatchItemFailures: tt.want}) {
				t.Errorf("Response() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStopped(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"running", context.Background(), nil},
		{"deadline ahead", future, nil},
		{"cancelled", cancelled, context.Canceled},
		{"out of time", past, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Stopped(tt.ctx); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Stopped() = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBatchFailuresStopped: once the context ends, the records left are
// reported failed, so SQS delivers them again.
func TestBatchFailuresStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	records := []string{"m-1", "m-2", "m-3"}
	var f BatchFailures
	for i, id := range records {
		err := Stopped(ctx)
		if err == nil && i == 0 {
			cancel() // the invocation ends while the first record is handled
		}
		f.Report(id, err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m-2"}, {ItemIdentifier: "m-3"}}
	if got := f.Response().BatchItemFailures; !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %+v, want %+v", got, want)
	}
}

package queue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// visibilityRecorder is a VisibilityChanger that records the timeouts asked.
type visibilityRecorder struct{ timeouts []int32 }

func (v *visibilityRecorder) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	v.timeouts = append(v.timeouts, in.VisibilityTimeout)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func TestVisibilityDelay(t *testing.T) {
	rec := &visibilityRecorder{}
	v := &Visibility{Client: rec, URL: "http://sqs.local/000000000000/q"}
	ctx, delayed := WatchDelays(context.Background())
	tests := []struct {
		d    time.Duration
		want time.Duration
	}{
		{1200 * time.Millisecond, 2 * time.Second},
		{-time.Minute, 0},
		{24 * time.Hour, MaxVisibility - time.Minute},
	}
	for i, tt := range tests {
		got, err := v.Delay(ctx, events.SQSMessage{MessageId: fmt.Sprint(i), ReceiptHandle: "rh"}, tt.d)
		if err != nil || got != tt.want || rec.timeouts[i] != int32(tt.want/time.Second) {
			t.Errorf("Delay(%v) = %v, %v (asked SQS for %ds); want %v", tt.d, got, err, rec.timeouts[i], tt.want)
		}
		if !delayed(fmt.Sprint(i)) {
			t.Errorf("Delay(%v) did not tell the Poller", tt.d)
		}
	}
	if _, err := v.Delay(ctx, events.SQSMessage{MessageId: "x"}, time.Second); err == nil {
		t.Error("Delay accepted a record without a receipt handle")
	}
	if _, err := (&Visibility{Client: rec}).Delay(ctx, events.SQSMessage{ReceiptHandle: "rh"}, time.Second); err == nil {
		t.Error("Delay worked without a queue URL")
	}
}

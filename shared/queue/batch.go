package queue

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// BatchFailures collects the outcomes of the records of one SQS event for the
// event's partial batch response, as AWS Lambda Powertools' batch utility does:
// the event source mapping must enable ReportBatchItemFailures, and then SQS
// deletes the records handled and delivers again only those reported failed.
//
// A handler reports every record it was given, once, with Report: those it did
// not start because its invocation was ending (Stopped) as failed, so that none
// is dropped. The zero value holds no failure. It is not safe for concurrent
// use.
type BatchFailures struct {
	items []events.SQSBatchItemFailure
}

// Report records the outcome of the record with messageID (its
// events.SQSMessage.MessageId): failed when err is not nil, so that SQS delivers
// it again; handled when err is nil.
func (f *BatchFailures) Report(messageID string, err error) {
	if err != nil {
		f.items = append(f.items, events.SQSBatchItemFailure{ItemIdentifier: messageID})
	}
}

// Response is the event's response: the records reported failed, in the order
// reported; a nil BatchItemFailures when none failed.
func (f *BatchFailures) Response() events.SQSEventResponse {
	return events.SQSEventResponse{BatchItemFailures: f.items}
}

// Stopped returns, when ctx has ended (cancelled, or past its deadline: the
// invocation is out of time), ctx's error: the handler must not start another
// record, and reports each one left failed with that error, so that SQS delivers
// it again. It returns nil while ctx runs.
func Stopped(ctx context.Context) error {
	return ctx.Err()
}

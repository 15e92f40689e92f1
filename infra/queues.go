package main

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// Receives before a message moves to its dead-letter queue.
const (
	// InboundMaxReceives: the processor reports per-message failures, so only the
	// message that fails is retried; five tries ride out a few minutes of DynamoDB
	// trouble.
	InboundMaxReceives = 5
	// OutboundMaxReceives: the reply sender also uses receives to wait (each rate
	// limit or send-budget wait is one: a 10-minute 429 storm costs a reply at most
	// 4) and retries X's 5xx; fifteen ride out about three hours of X errors
	// before a reply needs a person.
	OutboundMaxReceives = 15
)

// queueWithDLQ is a work queue and its dead-letter queue.
type queueWithDLQ struct {
	Queue awssqs.Queue
	DLQ   awssqs.Queue
}

// newQueueWithDLQ creates a queue consumed by a Lambda function with timeout
// consumerTimeout through an event source that waits up to batchWindow, whose
// messages go to the DLQ after maxReceives receives: its
// visibility timeout is 6x the timeout plus the window, as AWS advises for Lambda
// consumers (a batch can be retried by Lambda while its messages are invisible).
// Both queues are encrypted with SQS-managed keys (SSE-SQS: nothing to manage,
// and a KMS key would need grants for every producer and consumer) and refuse
// requests without TLS.
func (b *builder) newQueueWithDLQ(id string, consumerTimeout, batchWindow time.Duration, maxReceives int) queueWithDLQ {
	dlq := awssqs.NewQueue(b.stack, jsii.String(id+"DLQ"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL: jsii.Bool(true),
		// The maximum. A standard queue's message expires by its first enqueue
		// time, so the DLQ must keep messages longer than the source queue does.
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	visibility := 6*consumerTimeout + batchWindow
	q := awssqs.NewQueue(b.stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibility.Seconds())),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(maxReceives),
		},
	})
	return queueWithDLQ{Queue: q, DLQ: dlq}
}

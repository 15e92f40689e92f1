// Command reply is the Lambda function subscribed to the outbound SQS queue (with
// ReportBatchItemFailures): it posts each reply request on X, as a public reply or
// a DM, at most once, within X's rate limits, and records it in its case.
package main

import (
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/wire/reply"
)

func main() {
	boot.Run("reply", reply.Build, func(s *sender.Sender) any { return s.Handle })
}

// Command process is the Lambda function subscribed to the inbound SQS queue (with
// ReportBatchItemFailures): it deduplicates each message, threads it into a case in
// DynamoDB and quarantines what it cannot read.
package main

import (
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/intake"
	"github.com/pajarito-care/pajarito/shared/wire/process"
)

func main() {
	boot.Run("process", process.Build, func(p *intake.Processor) any { return p.Handle })
}

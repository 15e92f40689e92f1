// Command webhook is the Lambda function behind API Gateway's /webhooks/x routes: it
// answers X's CRC checks, verifies each delivery's signature, parses it and queues
// what it carries on the inbound queue before answering 200.
package main

import (
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/wire/webhook"
)

func main() {
	boot.Run("webhook", webhook.Build, boot.APIGateway)
}

// Command agentapi is the Lambda function behind API Gateway's /v1/ routes: the
// agents' API, whose callers API Gateway's JWT authorizer has authenticated.
package main

import (
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/wire/agentapi"
)

func main() {
	boot.Run("agentapi", agentapi.Build, boot.APIGateway)
}

package wire

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Builder builds a Lambda handler from the environment.
type Builder[H any] func(ctx context.Context, getenv func(string) string, log *slog.Logger) (H, error)

// Run is a Lambda function's main: it builds the handler once, at init, and hands
// it to lambda.Start. A function that cannot be built logs why (naming the setting
// at fault) and exits, which Lambda reports as an init error.
func Run[H any](name string, build Builder[H], start func(H) any) {
	log, err := Logger(os.Stdout, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error(name+": cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(start(h))
}

// APIGateway adapts an HTTP handler to API Gateway HTTP API (payload 2.0) events.
func APIGateway(h http.Handler) any {
	return httpadapter.NewV2(h).ProxyWithContext
}

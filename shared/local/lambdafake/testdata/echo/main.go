// Command echo is a Lambda function for lambdafake's tests. It answers
// {"echo": <payload>, "request_id", "function_arn", "function_name", "deadline_ms"},
// and, when the payload asks, fails ({"fail": "message"}), panics ({"panic":
// "message"}) or sleeps first ({"sleep_ms": n}). With ECHO_INIT_FAIL set it exits
// before starting, as a function whose initialisation fails does.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Fail    string `json:"fail"`
	Panic   string `json:"panic"`
	SleepMS int    `json:"sleep_ms"`
	// Stubborn sleeps through its deadline, as a stuck function would (one that
	// watches ctx may answer a millisecond before the runtime's timer fires).
	Stubborn bool `json:"stubborn"`
}

type reply struct {
	Echo         json.RawMessage `json:"echo"`
	RequestID    string          `json:"request_id"`
	FunctionARN  string          `json:"function_arn"`
	FunctionName string          `json:"function_name"`
	DeadlineMS   int64           `json:"deadline_ms"`
}

// refusedError is the error the function returns; its type name becomes errorType.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "refused: " + e.reason }

func handle(ctx context.Context, payload json.RawMessage) (reply, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		req = request{}
	}
	if req.SleepMS > 0 && req.Stubborn {
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	} else if req.SleepMS > 0 {
		select {
		case <-time.After(time.Duration(req.SleepMS) * time.Millisecond):
		case <-ctx.Done():
			return reply{}, ctx.Err()
		}
	}
	if req.Panic != "" {
		panic(req.Panic)
	}
	if req.Fail != "" {
		return reply{}, &refusedError{req.Fail}
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	return reply{
		Echo:         payload,
		RequestID:    lc.AwsRequestID,
		FunctionARN:  lc.InvokedFunctionArn,
		FunctionName: lambdacontext.FunctionName,
		DeadlineMS:   deadline.UnixMilli(),
	}, nil
}

func main() {
	if msg := os.Getenv("ECHO_INIT_FAIL"); msg != "" {
		log.Fatalf("init: %s", msg)
	}
	log.Printf("echo: cold start in %s", os.Getenv("AWS_REGION"))
	lambda.Start(handle)
}

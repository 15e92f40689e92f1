package main

import (
	"path/filepath"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Function describes one Lambda function: the folder functions/<Name> it is built
// from (dist/<Name>/bootstrap), its size and its timeout. What it may touch is
// granted where the stack wires it (stack.go), next to the resources.
type Function struct {
	Name        string
	ID          string // construct id
	Description string
	MemoryMB    float64
	Timeout     time.Duration
	// ReservedConcurrency, when above 0, caps (and reserves) concurrent runs.
	ReservedConcurrency int
	// OnErrors tells whoever gets the function's error alarm what is failing and
	// where to look.
	OnErrors string
}

// The functions and why they are sized as they are. All are Go binaries
// that spend their time waiting on APIs (SQS, DynamoDB, X), not computing, so
// more memory (Lambda's CPU share grows with it) would mostly buy idle time.
// 256 MB rather than the 128 MB minimum doubles the CPU share for the cold start
// (configuration, AWS SDK set-up at init), which the webhook's 3 s CRC deadline
// cares about, for well under a tenth of a cent per 10k messages (~50 ms each on
// arm64). Measure with the REPORT lines (Max Memory Used, Init Duration,
// Duration) and tune.
var (
	// WebhookFunction answers X: the CRC within 3 s, a delivery within 10 s, and
	// one delivery is an HMAC, a JSON parse and one SQS SendMessage (tens of ms).
	// 6 s leaves the AWS SDK room for its retries of a slow SendMessage (3 attempts
	// with backoff) plus a cold start, and still fails (500, which X retries)
	// before X gives up at 10 s, instead of running on after X has left.
	WebhookFunction = Function{
		Name: "webhook", ID: "Webhook",
		Description: "Pajarito webhook: X's CRC checks and signed deliveries, queued on the inbound queue",
		MemoryMB:    256,
		Timeout:     6 * time.Second,
		OnErrors: "X's deliveries fail with a 500 (X retries a few times, then drops them). Bad signatures are 401s, not errors: " +
			"look at the webhook's logs for the X secret (unreadable, not JSON, no api_secret) or the inbound queue's SendMessage.",
	}
	// ProcessFunction handles a batch of up to ProcessBatchSize messages, each a
	// handful of sequential single-item DynamoDB reads and conditional writes
	// (about 10-50 ms per message). 30 s covers a whole batch under DynamoDB
	// throttling and SDK backoff many times over, while keeping the inbound
	// queue's visibility timeout (6x) at about 3 minutes, so a crashed batch is
	// retried quickly. It must stay well below store.DefaultClaimLease (15 min).
	ProcessFunction = Function{
		Name: "process", ID: "Process",
		Description: "Pajarito processor: dedupes inbound messages and threads them into cases in DynamoDB",
		MemoryMB:    256,
		Timeout:     30 * time.Second,
		OnErrors: "Whole batches fail (a single bad message is reported and retried alone): messages are retried 5 times, then go to the inbound DLQ. " +
			"Look at the processor's logs for configuration (pajarito.json), DynamoDB throttling or AccessDenied, the outbound queue.",
	}
	// AgentAPIFunction serves the agents' HTTP API: a GetItem or a Query (one
	// page of 50 cases) per request. 10 s is far above that and below API
	// Gateway's 30 s integration limit; a stuck request fails fast for the agent.
	AgentAPIFunction = Function{
		Name: "agentapi", ID: "AgentApi",
		Description: "Pajarito agent API: cases for agents, behind the JWT authorizer",
		MemoryMB:    256,
		Timeout:     10 * time.Second,
		OnErrors:    "Agents get 5xx from /v1/: look at the agent API's logs (DynamoDB errors, configuration) and at the API access logs (status, integrationError).",
	}
	// ListenFunction is the scheduled listener: per run, a few pages of the
	// mentions timeline and of each keyword search (each X call a few hundred ms)
	// plus checkpoint writes. 60 s covers the configured page limits with X at its
	// slowest; it stays below the 1-minute poll interval's successor by the
	// reserved concurrency of 1, which keeps two runs from
	// reading the same pages twice (and paying twice).
	ListenFunction = Function{
		Name: "listen", ID: "Listen",
		Description:         "Pajarito listener: the brand's mentions and keyword searches on X, within the monthly X budget",
		MemoryMB:            256,
		Timeout:             60 * time.Second,
		ReservedConcurrency: 1,
		OnErrors: "Listener runs fail: mentions and keyword searches are not read (webhooks still arrive). Look at its logs for X's 401/403 (the X secret), " +
			"DynamoDB errors, pajarito.json's sources. Runs resume from their checkpoints once fixed.",
	}
	// ReplyFunction sends the replies waiting on the outbound queue to X: per
	// message a DynamoDB read and claim, one X API call (a few hundred ms, seconds
	// when X is slow) and a record. The sender starts a call to X only with
	// sender.DefaultCallTime (40 s: the X client's timeout and the writes after it)
	// left, so that no send is cut off half-way; 90 s gives a batch of
	// ReplyBatchSize that room with X at its slowest, stays well below the
	// sender's 5-minute lease, and puts the outbound queue's visibility timeout
	// (6x) at 9 minutes.
	ReplyFunction = Function{
		Name: "reply", ID: "Reply",
		Description: "Pajarito reply sender: posts the decided replies and DMs to X, within X's per-user limits",
		MemoryMB:    256,
		Timeout:     90 * time.Second,
		OnErrors: "Reply batches fail: replies are retried, then go to the outbound DLQ. Look at the reply sender's logs for X's 401/403 (the X secret) " +
			"and DynamoDB errors; before redriving, check on the case whether X posted the reply.",
	}
	// MonitorFunction is the scheduled monitor: SLA deadlines, crisis sweeps, the
	// open-case gauge (a few Queries over the queue index and conditional writes)
	// and SNS alerts. 60 s, like the listener, fits a run in its 1-minute schedule;
	// the reserved concurrency of 1 keeps two sweeps from overlapping and alerting
	// twice.
	MonitorFunction = Function{
		Name: "monitor", ID: "Monitor",
		Description:         "Pajarito monitor: SLA deadlines, crisis sweeps and service metrics, alerts on SNS",
		MemoryMB:            256,
		Timeout:             60 * time.Second,
		ReservedConcurrency: 1,
		OnErrors: "Monitor runs fail: SLA deadlines, crisis closing and the service gauges are not computed, and their alerts not sent. " +
			"Look at the monitor's logs for DynamoDB or SNS errors.",
	}
)

// Functions lists every function the stack deploys (one per functions/<name>).
func Functions() []Function {
	return []Function{WebhookFunction, ProcessFunction, ListenFunction, AgentAPIFunction, ReplyFunction, MonitorFunction}
}

// TagFunction is the tag naming the function (functions/<name>) on each Lambda
// function and its role: for cost allocation, and for tests to find them.
const TagFunction = "pajarito:function"

// newFunction creates f from <AssetDir>/<f.Name>: Amazon Linux 2023 OS-only runtime
// on Graviton (arm64, the cheaper architecture, which `make build` targets), JSON
// logs into its own log group with the stack's retention, and env as environment.
// Its role may write to its log group and nothing else (rather than the managed
// AWSLambdaBasicExecutionRole, which allows every log group of the account): the
// caller grants what f needs.
func (b *builder) newFunction(f Function, env map[string]*string) awslambda.Function {
	logs := awslogs.NewLogGroup(b.stack, jsii.String(f.ID+"Logs"), &awslogs.LogGroupProps{
		Retention:     b.props.LogRetention,
		RemovalPolicy: b.logRemovalPolicy(),
	})
	role := awsiam.NewRole(b.stack, jsii.String(f.ID+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Pajarito " + f.Name + " function"),
	})
	logs.GrantWrite(role)
	tracing := awslambda.Tracing_DISABLED
	if b.props.Tracing {
		tracing = awslambda.Tracing_ACTIVE
	}
	fn := awslambda.NewFunction(b.stack, jsii.String(f.ID), &awslambda.FunctionProps{
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(b.props.AssetDir, f.Name)), nil),
		Handler:      jsii.String("bootstrap"),
		Role:         role,
		MemorySize:   jsii.Number(f.MemoryMB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(f.Timeout.Seconds())),
		Environment:  &env,
		// The functions log JSON lines through slog already; with the JSON format
		// Lambda keeps them as they are and adds its own records (START, REPORT)
		// as JSON too. Lambda's application filter is left wide open (DEBUG) so
		// that PAJARITO_LOG_LEVEL (info by default) is the one knob.
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_DEBUG,
		LogGroup:              logs,
		Tracing:               tracing,
	})
	if f.ReservedConcurrency > 0 {
		fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(f.ReservedConcurrency))
	}
	awscdk.Tags_Of(fn).Add(jsii.String(TagFunction), jsii.String(f.Name), nil)
	awscdk.Tags_Of(role).Add(jsii.String(TagFunction), jsii.String(f.Name), nil)
	if b.props.Tracing {
		suppress(role, "AwsSolutions-IAM5",
			"X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: AWS requires Resource \"*\" (the tests allow it for X-Ray actions only).",
			"Resource::*")
	}
	b.functions = append(b.functions, deployed{Function: f, fn: fn})
	return fn
}

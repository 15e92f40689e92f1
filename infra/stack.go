package main

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/wire"
)

// The processor's SQS event source. Batches of 10 (the largest that needs no
// batching window, and one SQS receive) amortize the invocation; a 2 s window
// groups the messages of a burst at a latency nobody waiting for a human reply
// notices. At most 5 concurrent processors (a few hundred messages a second at
// 10-50 ms each) leave the account's Lambda concurrency to the webhook, which
// must answer X in time, and bound the DynamoDB write rate a backlog causes.
const (
	ProcessBatchSize      = 10
	ProcessBatchWindow    = 2 * time.Second
	ProcessMaxConcurrency = 5
)

// builder holds what the stack has built so far; each part is a method (one file
// each) that builds on the fields set before it.
type builder struct {
	stack   awscdk.Stack
	props   StackProps
	table   awsdynamodb.Table
	inbound queueWithDLQ
	// outbound holds the reply requests the protocol decides, for the reply
	// sender (next issue).
	outbound queueWithDLQ
	secret   awssecretsmanager.Secret
	alerts   awssns.Topic
}

// NewStack defines Pajarito's stack:
//
//	API Gateway HTTP API ─► webhook ─► SQS inbound (+DLQ) ─► process ─► DynamoDB table
//	EventBridge Scheduler ─► listen ──┘ (X API: mentions, searches)       │
//	           └─ /v1/ (JWT) ─► agentapi ───────────────────────────────────┘ (reads)
//
// plus the X credentials secret, the alert topic and the alarms. See StackProps
// for the settings.
func NewStack(scope constructs.Construct, id string, props StackProps) awscdk.Stack {
	props = props.withDefaults()
	if err := props.Validate(); err != nil {
		panic(err)
	}
	b := &builder{stack: awscdk.NewStack(scope, jsii.String(id), &props.StackProps), props: props}
	awscdk.Tags_Of(b.stack).Add(jsii.String("pajarito:env"), jsii.String(string(props.Environment)), nil)

	b.table = b.newTable()
	b.inbound = b.newQueueWithDLQ("Inbound", ProcessFunction.Timeout, ProcessBatchWindow)
	// Sized for the reply sender to come, whose timeout will be like the
	// processor's (a batch of X API calls).
	b.outbound = b.newQueueWithDLQ("Outbound", ProcessFunction.Timeout, ProcessBatchWindow)
	b.secret = b.newXSecret()
	b.alerts = b.newAlertTopic()

	webhook := b.newFunction(WebhookFunction, map[string]*string{
		wire.EnvInboundQueue: b.inbound.Queue.QueueUrl(),
	})
	b.inbound.Queue.Grant(webhook, jsii.String("sqs:SendMessage")) // SendMessageBatch too
	b.useXSecret(webhook)

	process := b.newFunction(ProcessFunction, map[string]*string{
		wire.EnvTable:         b.table.TableName(),
		wire.EnvInboundDLQ:    b.inbound.DLQ.QueueUrl(),
		wire.EnvOutboundQueue: b.outbound.Queue.QueueUrl(),
	})
	b.outbound.Queue.Grant(process, jsii.String("sqs:SendMessage"))
	b.table.Grant(process, *jsii.Strings(append(tableReadActions, tableWriteActions...)...)...)
	b.inbound.DLQ.Grant(process, jsii.String("sqs:SendMessage"))
	// Adds the receive/delete/change-visibility grants on the inbound queue.
	process.AddEventSource(awslambdaeventsources.NewSqsEventSource(b.inbound.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(ProcessBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(ProcessBatchWindow.Seconds())),
		MaxConcurrency:          jsii.Number(ProcessMaxConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	listen := b.newFunction(ListenFunction, map[string]*string{
		wire.EnvTable:        b.table.TableName(),
		wire.EnvInboundQueue: b.inbound.Queue.QueueUrl(),
	})
	// The schedule invokes it asynchronously: a run throttled by the reserved
	// concurrency (the previous one still going) is dropped, not queued for hours.
	listen.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(0),
		MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(60)),
	})
	b.table.Grant(listen, *jsii.Strings(append(tableReadActions, tableWriteActions...)...)...)
	b.inbound.Queue.Grant(listen, jsii.String("sqs:SendMessage"))
	b.useXSecret(listen)
	b.schedule("ListenSchedule", listen, props.PollInterval)

	agentAPI := b.newFunction(AgentAPIFunction, map[string]*string{
		wire.EnvTable: b.table.TableName(),
	})
	b.table.Grant(agentAPI, *jsii.Strings(tableReadActions...)...)

	auth := b.newAgentAuth()
	api := b.newHTTPAPI(webhook, agentAPI, auth)

	b.alarmOnDLQ("InboundDLQNotEmpty", b.inbound.DLQ)
	b.alarmOnDLQ("OutboundDLQNotEmpty", b.outbound.DLQ)

	b.output("WebhookUrl", "Register this URL with X (pajarito webhook register)", awscdk.Fn_Join(jsii.String(""), &[]*string{api.ApiEndpoint(), jsii.String(RouteWebhook)}))
	b.output("ApiUrl", "Base URL of the HTTP API: the agent API is under /v1/ (Authorization: Bearer <token>)", api.ApiEndpoint())
	if auth.UserPool != nil {
		b.output("UserPoolId", "Cognito user pool of the agents (create each agent there)", auth.UserPool.UserPoolId())
		b.output("UserPoolClientId", "Cognito app client the agents sign in with", auth.Client.UserPoolClientId())
	}
	b.output("XSecretName", "Secrets Manager secret to put the X credentials in", b.secret.SecretName())
	b.output("AlertTopicArn", "SNS topic of Pajarito's alerts", b.alerts.TopicArn())
	b.output("TableName", "DynamoDB table", b.table.TableName())
	return b.stack
}

// schedule runs fn every interval with EventBridge Scheduler. A missed or failed
// run is not retried: the next one comes within the interval and resumes from the
// checkpoints, and a retry could overlap it.
func (b *builder) schedule(id string, fn awslambda.Function, every time.Duration) {
	awsscheduler.NewSchedule(b.stack, jsii.String(id), &awsscheduler.ScheduleProps{
		Description: jsii.String("Pajarito: runs " + *fn.Node().Id() + " every " + every.String()),
		Schedule:    awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(every.Minutes()))),
		Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(0),
			MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(max(60, every.Seconds()))),
		}),
	})
}

// newXSecret creates the secret for the X credentials, empty: CloudFormation fills
// it with a random placeholder, never a value from the template, and the operator
// puts the real credentials in after deploying. Retained in production.
func (b *builder) newXSecret() awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(b.stack, jsii.String("XCredentials"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("Pajarito: the X app's credentials (consumer key and secret, brand account tokens). Created with a placeholder: put the real values in after deploying."),
		RemovalPolicy: b.statefulRemovalPolicy(),
	})
}

// useXSecret gives fn the X credentials: the secret's ARN in wire.EnvXSecretID
// and read access to it (the webhook now; the listener and the reply sender later).
func (b *builder) useXSecret(fn awslambda.Function) {
	fn.AddEnvironment(jsii.String(wire.EnvXSecretID), b.secret.SecretArn(), nil)
	b.secret.GrantRead(fn, nil)
}

// statefulRemovalPolicy is for resources holding data or identities (table, user
// pool, secret): kept when a production stack is deleted.
func (b *builder) statefulRemovalPolicy() awscdk.RemovalPolicy {
	if b.props.Environment == Prod {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

// logRemovalPolicy keeps production logs until their retention ends.
func (b *builder) logRemovalPolicy() awscdk.RemovalPolicy {
	return b.statefulRemovalPolicy()
}

func (b *builder) output(id, description string, value *string) {
	awscdk.NewCfnOutput(b.stack, jsii.String(id), &awscdk.CfnOutputProps{
		Description: jsii.String(description),
		Value:       value,
	})
}

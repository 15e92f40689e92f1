package main

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/pajarito-care/pajarito/shared/settings"
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

// The reply sender's SQS event source. X limits what the brand account may post
// per user, not per app: 100 posts and 15 DMs per 15 minutes. One sender covers
// that many times over (a reply is about a second), so more senders would only
// race for the same window, collect 429s and reorder replies; 2 is the lowest
// maximum concurrency an SQS event source accepts. Batches of 5 keep the replies
// a 429 sends back to the queue few, and no batching window: a reply leaves as
// soon as it is decided (first-response time).
const (
	ReplyBatchSize      = 5
	ReplyMaxConcurrency = 2
)

// builder holds what the stack has built so far; each part is a method (one file
// each) that builds on the fields set before it.
type builder struct {
	stack        awscdk.Stack
	props        StackProps
	table        awsdynamodb.Table
	tableIndexes []string // names of the table's global secondary indexes
	inbound      queueWithDLQ
	// outbound holds the reply requests the protocol decides, for the reply
	// sender.
	outbound queueWithDLQ
	secret   awssecretsmanager.Secret
	// xchatKey seals X Chat conversation keys in the table.
	xchatKey   awskms.Key
	alerts     awssns.Topic
	functions  []deployed // in the order they are created
	accessLogs awslogs.LogGroup
	alarms     []awscloudwatch.IAlarm
}

// deployed is a function of Functions() and its construct.
type deployed struct {
	Function
	fn awslambda.Function
}

// NewStack defines Pajarito's stack:
//
//	API Gateway HTTP API ─► webhook ─► SQS inbound (+DLQ) ─► process ─► DynamoDB table
//	EventBridge Scheduler ─► listen ──┘ (X API: mentions, searches)  │       │
//	           ├─ /v1/ (JWT) ─► agentapi ────────────────────────────│───────┤ (reads)
//	           └─ /console/ ───────┘ SQS outbound (+DLQ) ◄───────────┘       │
//	                                      └─► reply ─► X API                 │
//	EventBridge Scheduler ─► monitor (SLA, crises, gauges) ─► SNS alerts ◄───┘
//
// The JWT authorizer trusts the agents' Cognito user pool, whose domain serves
// the console's sign-in pages (managed login) and whose groups are the roles
// (RoleGroups), or an external OpenID Connect issuer. Plus the X credentials
// secret, the alert topic, the alarms and the dashboard.
// See StackProps for the settings.
func NewStack(scope constructs.Construct, id string, props StackProps) awscdk.Stack {
	props = props.withDefaults()
	if err := props.Validate(); err != nil {
		panic(err)
	}
	b := &builder{stack: awscdk.NewStack(scope, jsii.String(id), &props.StackProps), props: props}
	awscdk.Tags_Of(b.stack).Add(jsii.String("pajarito:env"), jsii.String(string(props.Environment)), nil)

	b.table = b.newTable()
	b.inbound = b.newQueueWithDLQ("Inbound", ProcessFunction.Timeout, ProcessBatchWindow, InboundMaxReceives)
	b.outbound = b.newQueueWithDLQ("Outbound", ReplyFunction.Timeout, 0, OutboundMaxReceives)
	b.secret = b.newXSecret()
	b.xchatKey = b.newXChatKey()
	b.alerts = b.newAlertTopic()

	// The API first, then the agents' sign-in (the console's address on the API
	// is its redirect URL), then the functions (the agent API serves the console
	// its sign-in settings), then the routes to them.
	api := b.newHTTPAPI()
	auth := b.newAgentAuth(api)

	webhook := b.newFunction(WebhookFunction, map[string]*string{
		settings.EnvInboundQueue: b.inbound.Queue.QueueUrl(),
	})
	b.inbound.Queue.Grant(webhook, jsii.String("sqs:SendMessage")) // SendMessageBatch too
	b.useXSecret(webhook)

	process := b.newFunction(ProcessFunction, map[string]*string{
		settings.EnvTable:         b.table.TableName(),
		settings.EnvInboundDLQ:    b.inbound.DLQ.QueueUrl(),
		settings.EnvOutboundQueue: b.outbound.Queue.QueueUrl(),
	})
	b.outbound.Queue.Grant(process, jsii.String("sqs:SendMessage"))
	b.grantTable(process, append(tableReadActions, tableWriteActions...)...)
	b.inbound.DLQ.Grant(process, jsii.String("sqs:SendMessage"))
	b.useAlerts(process)  // crisis alerts
	b.useXSecret(process) // the brand's X Chat keys and OAuth 2.0 token
	b.refreshOAuth2(process)
	b.useXChatKey(process, "kms:Encrypt", "kms:Decrypt") // keeps the conversation keys of key changes
	// Adds the receive/delete/change-visibility grants on the inbound queue.
	process.AddEventSource(awslambdaeventsources.NewSqsEventSource(b.inbound.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(ProcessBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(ProcessBatchWindow.Seconds())),
		MaxConcurrency:          jsii.Number(ProcessMaxConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	listen := b.newFunction(ListenFunction, map[string]*string{
		settings.EnvTable:        b.table.TableName(),
		settings.EnvInboundQueue: b.inbound.Queue.QueueUrl(),
	})
	b.grantTable(listen, append(tableReadActions, tableWriteActions...)...)
	b.inbound.Queue.Grant(listen, jsii.String("sqs:SendMessage"))
	b.useXSecret(listen)
	b.scheduled("ListenSchedule", listen, props.PollInterval)

	agentAPIEnv := map[string]*string{
		settings.EnvTable:         b.table.TableName(),
		settings.EnvOutboundQueue: b.outbound.Queue.QueueUrl(),
		// Quarantined deliveries go back to the inbound queue; the dead-letter
		// queues are redriven to their source queues (by ARN: SQS's move tasks).
		settings.EnvInboundQueue:     b.inbound.Queue.QueueUrl(),
		settings.EnvInboundQueueARN:  b.inbound.Queue.QueueArn(),
		settings.EnvInboundDLQ:       b.inbound.DLQ.QueueUrl(),
		settings.EnvInboundDLQARN:    b.inbound.DLQ.QueueArn(),
		settings.EnvOutboundQueueARN: b.outbound.Queue.QueueArn(),
		settings.EnvOutboundDLQ:      b.outbound.DLQ.QueueUrl(),
		settings.EnvOutboundDLQARN:   b.outbound.DLQ.QueueArn(),
		// The claim the person's role is in (admin, agent, contributor).
		settings.EnvRoleClaim: jsii.String(auth.RoleClaim),
	}
	if auth.Console != nil {
		agentAPIEnv[settings.EnvConsole] = auth.Console // how the console signs agents in
	}
	agentAPI := b.newFunction(AgentAPIFunction, agentAPIEnv)
	// Agents claim, triage, note, recategorise and reply: the table is written;
	// their replies go to the outbound queue; crises opened or closed by hand
	// alert the team.
	b.grantTable(agentAPI, append(tableReadActions, tableWriteActions...)...)
	b.outbound.Queue.Grant(agentAPI, jsii.String("sqs:SendMessage"))
	b.useAlerts(agentAPI)
	// Operators put quarantined deliveries back on the inbound queue, and move
	// dead letters back to their queue with SQS's message move task, which needs
	// the start and list calls, receive, delete and attributes on the dead-letter
	// queue (the depths the API reports, too) and send on the destination.
	b.inbound.Queue.Grant(agentAPI, jsii.String("sqs:SendMessage"))
	for _, q := range []queueWithDLQ{b.inbound, b.outbound} {
		q.DLQ.Grant(agentAPI, jsii.String("sqs:StartMessageMoveTask"), jsii.String("sqs:ListMessageMoveTasks"),
			jsii.String("sqs:ReceiveMessage"), jsii.String("sqs:DeleteMessage"), jsii.String("sqs:GetQueueAttributes"))
		// The health checks (GET /v1/health) read the queues' depth too.
		q.Queue.Grant(agentAPI, jsii.String("sqs:GetQueueAttributes"))
	}
	// The health checks ask X as the brand (a cheap owned read, the webhook and
	// its subscriptions) and list the stack's alarms in ALARM: CloudFormation
	// names them after the stack.
	b.useXSecret(agentAPI)
	b.refreshOAuth2(agentAPI) // the health check may refresh it
	agentAPI.AddEnvironment(jsii.String(settings.EnvAlarmPrefix), jsii.String(*b.stack.StackName()+"-"), nil)
	agentAPI.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("cloudwatch:DescribeAlarms"),
		Resources: &[]*string{b.stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String(*b.stack.StackName() + "-*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	}))
	suppress(agentAPI.Role(), "AwsSolutions-IAM5",
		"CloudFormation names the stack's alarms <stack name>-<logical id>-<suffix>: the agent API's health check may list those (cloudwatch:DescribeAlarms, read-only) and no other alarm.",
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:[A-Za-z][A-Za-z0-9-]*-\*$/g`)})

	reply := b.newFunction(ReplyFunction, map[string]*string{
		settings.EnvTable:         b.table.TableName(),
		settings.EnvOutboundQueue: b.outbound.Queue.QueueUrl(),
	})
	b.grantTable(reply, append(tableReadActions, tableWriteActions...)...)
	b.useXSecret(reply)
	b.refreshOAuth2(reply)
	b.useXChatKey(reply, "kms:Decrypt") // reads the conversation keys to encrypt X Chat replies
	b.useAlerts(reply)
	// Adds the receive/delete grants on the outbound queue, and the
	// ChangeMessageVisibility the sender uses to hold a reply until X's rate
	// limit window resets.
	reply.AddEventSource(awslambdaeventsources.NewSqsEventSource(b.outbound.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(ReplyBatchSize),
		MaxConcurrency:          jsii.Number(ReplyMaxConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	monitor := b.newFunction(MonitorFunction, map[string]*string{
		settings.EnvTable:         b.table.TableName(),
		settings.EnvOutboundQueue: b.outbound.Queue.QueueUrl(),
	})
	b.grantTable(monitor, append(tableReadActions, tableWriteActions...)...)
	b.outbound.Queue.Grant(monitor, jsii.String("sqs:SendMessage")) // satisfaction surveys, sent by the reply sender
	b.useAlerts(monitor)
	b.useXSecret(monitor)
	b.refreshOAuth2(monitor) // each run keeps the brand's OAuth 2.0 token fresh
	b.scheduled("MonitorSchedule", monitor, props.MonitorInterval)

	b.addRoutes(api, webhook, agentAPI, auth)

	b.alarmOnDLQ("InboundDLQNotEmpty", b.inbound.DLQ)
	b.alarmOnDLQ("OutboundDLQNotEmpty", b.outbound.DLQ)
	for _, f := range b.functions {
		b.alarmOnErrors(f)
	}
	b.alarmOnServerErrors(api)
	b.alarmOnQueueAge("Inbound", b.inbound.Queue, InboundMaxAge,
		"The processor is not keeping up: messages from X wait to become cases. "+
			"Look at the process function's errors, throttles and logs (DynamoDB throttling, a failing message retried until it reaches the DLQ), "+
			"and at its SQS trigger (enabled?). Cases appear once the queue drains.")
	b.alarmOnQueueAge("Outbound", b.outbound.Queue, OutboundMaxAge,
		"Replies are waiting: customers are not being answered. "+
			"Look at the reply function's logs: X's 429s and x-rate-limit-reset (more replies than X's 100 posts or 15 DMs per 15 minutes), "+
			"401/403 (the X secret's tokens), errors. Lower the volume (protocol) or fix the credentials.")
	b.alarmOnUnanswered()
	b.alarmOnThrottles(b.built(ListenFunction),
		"A run lasts longer than poll_interval, so the next one is dropped and posts are read late. "+
			"Look at the listener's Duration and logs (X's latency and 429s, pages read per source); raise poll_interval or lower the sources' max_pages in pajarito.json.")

	dashboard := b.newDashboard(api)

	b.output("WebhookUrl", "Register this URL with X (pajarito webhook register)", awscdk.Fn_Join(jsii.String(""), &[]*string{api.ApiEndpoint(), jsii.String(RouteWebhook)}))
	b.output("ApiUrl", "Base URL of the HTTP API: the agent API is under /v1/ (Authorization: Bearer <token>)", api.ApiEndpoint())
	b.output("ConsoleUrl", "The agents' web console (sign in there)", consoleURL(api))
	if auth.UserPool != nil {
		b.output("UserPoolId", "Cognito user pool of the agents (create each agent there)", auth.UserPool.UserPoolId())
		b.output("UserPoolClientId", "Cognito app client the agents sign in with", auth.Client.UserPoolClientId())
		b.output("SignInDomain", "Cognito domain where agents sign in to the console (managed login)", auth.Domain.BaseUrl(nil))
		b.output("AgentGroups", "Cognito groups of the roles: add each person to one", awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String(roleGroupNames() + ": add each person to one (aws cognito-idp admin-add-user-to-group --user-pool-id "),
			auth.UserPool.UserPoolId(), jsii.String(" --username <email> --group-name <group>)"),
		}))
	}
	b.output("XSecretName", "Secrets Manager secret to put the X credentials in", b.secret.SecretName())
	b.output("AlertTopicArn", "SNS topic of Pajarito's alerts", b.alerts.TopicArn())
	b.output("TableName", "DynamoDB table", b.table.TableName())
	b.output("DashboardUrl", "CloudWatch dashboard of the service", awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://console.aws.amazon.com/cloudwatch/home?region="), b.stack.Region(),
		jsii.String("#dashboards:name="), dashboard.DashboardName(),
	}))
	return b.stack
}

// built returns f and its construct, which must have been created.
func (b *builder) built(f Function) deployed {
	for _, d := range b.functions {
		if d.Name == f.Name {
			return d
		}
	}
	panic("infra: function " + f.Name + " is not created yet")
}

// scheduled runs fn every interval, one run at a time (fn has a reserved
// concurrency of 1): the schedule invokes it asynchronously, and a run throttled
// because the previous one is still going is dropped, not queued for hours.
func (b *builder) scheduled(id string, fn awslambda.Function, every time.Duration) {
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(0),
		MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(60)),
	})
	b.schedule(id, fn, every)
}

// schedule runs fn every interval with EventBridge Scheduler. A missed or failed
// run is not retried: the next one comes within the interval and resumes from the
// checkpoints, and a retry could overlap it.
//
// The schedule assumes a role of its own, which may invoke fn and nothing else,
// and only on behalf of a schedule of this account.
func (b *builder) schedule(id string, fn awslambda.Function, every time.Duration) {
	role := awsiam.NewRole(b.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": b.stack.Account()}},
		}),
		Description: jsii.String("Pajarito: " + id + " invokes " + *fn.Node().Id()),
	})
	awsscheduler.NewSchedule(b.stack, jsii.String(id), &awsscheduler.ScheduleProps{
		Description: jsii.String("Pajarito: runs " + *fn.Node().Id() + " every " + every.String()),
		Schedule:    awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(every.Minutes()))),
		Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
			Role:          role,
			RetryAttempts: jsii.Number(0),
			MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(max(60, every.Seconds()))),
		}),
	})
	suppress(role, "AwsSolutions-IAM5",
		"The CDK's grant to invoke a function also names its versions and aliases (<function ARN>:*); the functions publish none, so the role may invoke the function itself and nothing else.",
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<` + *b.stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement)) + `\.Arn>:\*$/g`)})
}

// newXSecret creates the secret for the X credentials, empty: CloudFormation fills
// it with a random placeholder, never a value from the template, and the operator
// puts the real credentials in after deploying. Retained in production.
func (b *builder) newXSecret() awssecretsmanager.Secret {
	secret := awssecretsmanager.NewSecret(b.stack, jsii.String("XCredentials"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("Pajarito: the X app's credentials (consumer key and secret, brand account tokens). Created with a placeholder: put the real values in after deploying."),
		RemovalPolicy: b.statefulRemovalPolicy(),
	})
	suppress(secret, "AwsSolutions-SMG4",
		"X issues these credentials (the app's consumer key and secret, the brand account's access tokens) and only X's developer portal regenerates them: "+
			"a Secrets Manager rotation function has nothing to call. The operator rotates them there and puts the new values in the secret.")
	return secret
}

// useXSecret gives fn the X credentials: the secret's ARN in settings.EnvXSecretID
// and read access to it.
func (b *builder) useXSecret(fn awslambda.Function) {
	fn.AddEnvironment(jsii.String(settings.EnvXSecretID), b.secret.SecretArn(), nil)
	b.secret.GrantRead(fn, nil)
}

// refreshOAuth2 lets fn refresh the brand's OAuth 2.0 token, which X Chat
// needs: read the secret and put the refreshed token in it (a new version; the
// OAuth 1.0a credentials beside it are kept).
// fn must use the secret already (useXSecret).
func (b *builder) refreshOAuth2(fn awslambda.Function) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:PutSecretValue"),
		Resources: &[]*string{b.secret.SecretArn()},
	}))
}

// newXChatKey creates the KMS key that seals the X Chat conversation keys kept
// in the table (package xchatopen), rotated yearly; retained in production
// (the keys it sealed open with no other).
func (b *builder) newXChatKey() awskms.Key {
	return awskms.NewKey(b.stack, jsii.String("XChatKeys"), &awskms.KeyProps{
		Description:       jsii.String("Pajarito: seals the X Chat conversation keys kept in the table (encryption context purpose=" + xchatKeyPurpose + ")."),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     b.statefulRemovalPolicy(),
	})
}

// xchatKeyPurpose is the encryption context's purpose of every use of the X
// Chat key (xchatopen's sealing context): the functions may use the key for
// nothing else.
const xchatKeyPurpose = "xchat-conversation-key"

// useXChatKey gives fn the X Chat key's id in settings.EnvXChatKey and the
// actions on it, only with the conversation keys' encryption context.
func (b *builder) useXChatKey(fn awslambda.Function, actions ...string) {
	fn.AddEnvironment(jsii.String(settings.EnvXChatKey), b.xchatKey.KeyArn(), nil)
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{b.xchatKey.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:EncryptionContext:purpose": xchatKeyPurpose},
		},
	}))
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

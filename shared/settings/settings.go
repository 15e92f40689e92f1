// Package settings names the environment variables the stack (infra) sets on each
// Lambda function and the functions read, and says what each holds. It is a leaf:
// the stack and the functions share these names without the stack linking the
// functions' runtime.
package settings

// Environment variables of the functions.
const (
	EnvTable          = "PAJARITO_TABLE"
	EnvInboundQueue   = "PAJARITO_INBOUND_QUEUE_URL"
	EnvInboundDLQ     = "PAJARITO_INBOUND_DLQ_URL"
	EnvOutboundQueue  = "PAJARITO_OUTBOUND_QUEUE_URL"
	EnvOutboundDLQ    = "PAJARITO_OUTBOUND_DLQ_URL"
	EnvAlertTopic     = "PAJARITO_ALERT_TOPIC_ARN"
	EnvConsumerSecret = "X_CONSUMER_SECRET"
	EnvXSecretID      = "PAJARITO_X_SECRET_ID"
	EnvLogLevel       = "PAJARITO_LOG_LEVEL"

	// The queues' ARNs, for the agent API's dead-letter redrive (SQS's message
	// move tasks name queues by ARN).
	EnvInboundQueueARN  = "PAJARITO_INBOUND_QUEUE_ARN"
	EnvInboundDLQARN    = "PAJARITO_INBOUND_DLQ_ARN"
	EnvOutboundQueueARN = "PAJARITO_OUTBOUND_QUEUE_ARN"
	EnvOutboundDLQARN   = "PAJARITO_OUTBOUND_DLQ_ARN"

	// EnvAlarmPrefix is the prefix of the stack's CloudWatch alarm names (the
	// stack name and a dash): GET /v1/health reports those in ALARM.
	EnvAlarmPrefix = "PAJARITO_ALARM_PREFIX"
	// EnvXBaseURL points the X client at an X-API-compatible server instead of X.
	EnvXBaseURL = "X_API_BASE_URL"
	// EnvConsole holds the console's sign-in settings, console.Config as JSON
	// (the stack sets it); unset, agents sign in with a token.
	EnvConsole = "PAJARITO_CONSOLE"
	// EnvXChatKey is the KMS key that seals X Chat conversation keys at rest
	// (the stack sets it for the process and reply functions).
	EnvXChatKey = "PAJARITO_XCHAT_KMS_KEY_ID"
	// EnvRoleClaim names the JWT claim that holds an agent's Pajarito role
	// or groups (admin, agent, contributor): cognito:groups with the stack's
	// user pool (the default), a claim of the external issuer's otherwise.
	EnvRoleClaim = "PAJARITO_ROLE_CLAIM"
)

// Help says what each required environment variable holds, for the error that
// names a missing one.
var Help = map[string]string{
	EnvTable:          "the name of Pajarito's DynamoDB table",
	EnvInboundQueue:   "the URL of the inbound SQS queue",
	EnvInboundDLQ:     "the URL of the inbound dead-letter queue, where unreadable messages are moved",
	EnvOutboundQueue:  "the URL of the outbound SQS queue, where decided replies wait for the reply sender",
	EnvAlertTopic:     "the ARN of the SNS topic for alerts (crisis, escalations, failed replies); the stack sets it from its AlertTopic",
	EnvConsumerSecret: "the X app's consumer secret (API secret), the key X signs webhooks with (or set " + EnvXSecretID + " to the Secrets Manager secret holding it)",

	EnvOutboundDLQ:      "the URL of the outbound dead-letter queue, where replies that failed every retry wait",
	EnvInboundQueueARN:  "the ARN of the inbound SQS queue, where a redrive moves the inbound dead letters back",
	EnvInboundDLQARN:    "the ARN of the inbound dead-letter queue, which a redrive empties",
	EnvOutboundQueueARN: "the ARN of the outbound SQS queue, where a redrive moves the outbound dead letters back",
	EnvOutboundDLQARN:   "the ARN of the outbound dead-letter queue, which a redrive empties",
}

// Functions lists, per function (functions/<name>), the environment variables its
// builder requires besides the X credentials; the stack sets them (infra's tests
// check it against this table). The functions of UsesX also read the X
// credentials: in AWS from the secret named by EnvXSecretID.
var Functions = map[string][]string{
	"webhook":  {EnvInboundQueue},
	"process":  {EnvTable, EnvInboundDLQ, EnvOutboundQueue, EnvAlertTopic},
	"agentapi": {EnvTable, EnvOutboundQueue, EnvAlertTopic, EnvInboundQueue, EnvInboundQueueARN, EnvInboundDLQ, EnvInboundDLQARN, EnvOutboundQueueARN, EnvOutboundDLQ, EnvOutboundDLQARN},
	"listen":   {EnvTable, EnvInboundQueue},
	"reply":    {EnvTable, EnvOutboundQueue, EnvAlertTopic},
	"monitor":  {EnvTable, EnvOutboundQueue, EnvAlertTopic},
}

// UsesX lists the functions that call X or verify its webhooks (the process
// function reads X Chat senders' keys).
// The agent API's health checks ask X too, with the same credentials.
var UsesX = []string{"webhook", "process", "listen", "reply", "agentapi"}

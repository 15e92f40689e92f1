// Package wire builds Pajarito's components from the configuration and the
// environment: the same construction for the Lambda functions (functions/*) and for
// the local dev system, so that what runs locally is what runs in AWS.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/console"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/intake"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Environment variables the functions read (the stack sets them).
const (
	EnvTable          = "PAJARITO_TABLE"
	EnvInboundQueue   = "PAJARITO_INBOUND_QUEUE_URL"
	EnvInboundDLQ     = "PAJARITO_INBOUND_DLQ_URL"
	EnvOutboundDLQ    = "PAJARITO_OUTBOUND_DLQ_URL"
	EnvConsumerSecret = "X_CONSUMER_SECRET"
	EnvXSecretID      = "PAJARITO_X_SECRET_ID"
	EnvLogLevel       = "PAJARITO_LOG_LEVEL"

	// The queues' ARNs, for the agent API's dead-letter redrive (SQS's message
	// move tasks name queues by ARN).
	EnvInboundQueueARN  = "PAJARITO_INBOUND_QUEUE_ARN"
	EnvInboundDLQARN    = "PAJARITO_INBOUND_DLQ_ARN"
	EnvOutboundQueueARN = "PAJARITO_OUTBOUND_QUEUE_ARN"
	EnvOutboundDLQARN   = "PAJARITO_OUTBOUND_DLQ_ARN"
)

// Logger returns the JSON logger every component logs through, at the level named
// by PAJARITO_LOG_LEVEL (debug, info, warn, error; info by default).
func Logger(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	var level slog.Level
	if v := getenv(EnvLogLevel); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("config: %s=%q: use debug, info, warn or error", EnvLogLevel, v)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// AWS loads the AWS SDK configuration the usual way (environment, Lambda role).
// AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS point the clients at local
// stand-ins.
func AWS(ctx context.Context) (aws.Config, error) {
	c, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return c, nil
}

// Clock is the time a server runs on: the wall clock in AWS, where the zero
// Clock stands for it; the local system's, which may run faster than the wall
// (pajarito dev --speed). GET /healthz reports it, and pajarito replay paces
// recorded conversations by it.
type Clock struct {
	Now   func() time.Time // nil: time.Now
	Speed float64          // clock seconds per real second; 0 means 1
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string    `json:"status"`
	Time   time.Time `json:"time"`
	// ClockSpeed is how many seconds the server's clock moves in one real second.
	ClockSpeed float64 `json:"clock_speed"`
}

// Routes mounts the public HTTP routes: the X webhook at /webhooks/x, the agent API
// under /v1/, its web console under /console/ (package console), and GET
// /healthz, which reports clock. A nil handler leaves its routes out (each Lambda
// function serves its own share; the local system serves all of them).
func Routes(webhook, api, con http.Handler, clock Clock) http.Handler {
	if clock.Now == nil {
		clock.Now = time.Now
	}
	if clock.Speed <= 0 {
		clock.Speed = 1
	}
	mux := http.NewServeMux()
	if webhook != nil {
		mux.Handle("/webhooks/x", webhook)
	}
	if api != nil {
		mux.Handle("/v1/", api)
	}
	if con != nil {
		mux.Handle(strings.TrimSuffix(console.Prefix, "/"), con)
		mux.Handle(console.Prefix, con)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, Health{Status: "ok", Time: clock.Now().UTC(), ClockSpeed: clock.Speed})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// WebhookHandler is the X webhook handler for the configured brand.
func WebhookHandler(cfg *config.Config, secret []byte, q xwebhook.Enqueuer, log *slog.Logger) *xwebhook.Handler {
	return &xwebhook.Handler{
		Secret: secret,
		Brand:  xwebhook.Brand{ID: cfg.Brand.ID, Handle: cfg.Brand.Handle},
		Queue:  q,
		Log:    log,
	}
}

// NewStore returns the store over table with the configuration's retention.
func NewStore(cfg *config.Config, client store.API, table string, log *slog.Logger) *store.Store {
	s := store.New(client, table)
	s.RawRetention = time.Duration(cfg.RawRetentionDays) * 24 * time.Hour
	s.Log = log
	return s
}

// settingHelp says what each environment variable the functions read holds, for
// the error that names a missing one.
var settingHelp = map[string]string{
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

// Settings lists, per function (functions/<name>), the environment variables its
// builder requires besides the X credentials; the stack sets them (infra's tests
// check it against this table). The functions of UsesX also read the X
// credentials: in AWS from the secret named by EnvXSecretID.
var Settings = map[string][]string{
	"webhook":  {EnvInboundQueue},
	"process":  {EnvTable, EnvInboundDLQ, EnvOutboundQueue, EnvAlertTopic},
	"agentapi": {EnvTable, EnvOutboundQueue, EnvAlertTopic, EnvInboundQueue, EnvInboundQueueARN, EnvInboundDLQ, EnvInboundDLQARN, EnvOutboundQueueARN, EnvOutboundDLQ, EnvOutboundDLQARN},
	"listen":   {EnvTable, EnvInboundQueue},
	"reply":    {EnvTable, EnvOutboundQueue, EnvAlertTopic},
	"monitor":  {EnvTable, EnvOutboundQueue, EnvAlertTopic},
}

// UsesX lists the functions that call X or verify its webhooks.
// The agent API's health checks ask X too, with the same credentials.
var UsesX = []string{"webhook", "listen", "reply", "agentapi"}

// setup is what every function is built from: the deployment's configuration, the
// environment settings it needs, and the AWS SDK configuration.
type setup struct {
	cfg *config.Config
	env map[string]string
	aws aws.Config
}

// load reads the configuration and the named environment variables (reporting
// every missing one at once, with what it holds), then the AWS configuration.
func load(ctx context.Context, getenv func(string) string, names ...string) (*setup, error) {
	cfg, err := config.FromEnvironment(getenv)
	if err != nil {
		return nil, err
	}
	env := make(map[string]string, len(names))
	var missing []string
	for _, name := range names {
		v, err := config.Setting(getenv, name, settingHelp[name])
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		env[name] = v
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, errors.New(strings.Join(missing, "; "))
	}
	awsCfg, err := AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &setup{cfg: cfg, env: env, aws: awsCfg}, nil
}

// Webhook builds the webhook function's HTTP handler from the environment. The
// webhook key is the X app's consumer secret, read from the Secrets Manager secret
// named by PAJARITO_X_SECRET_ID (in AWS) or from X_CONSUMER_SECRET.
func Webhook(ctx context.Context, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	names := slices.Clone(Settings["webhook"])
	secretID := strings.TrimSpace(getenv(EnvXSecretID))
	if secretID == "" {
		names = append(names, EnvConsumerSecret)
	}
	su, err := load(ctx, getenv, names...)
	if err != nil {
		return nil, err
	}
	secret := su.env[EnvConsumerSecret]
	if secretID != "" {
		creds, err := xapi.NewSecretCache(secretsmanager.NewFromConfig(su.aws), secretID).Credentials(ctx)
		if err != nil {
			return nil, err
		}
		if secret = creds.WebhookSecret(); secret == "" {
			return nil, fmt.Errorf("config: secret %s has no api_secret (or consumer_secret): the X app's consumer secret, the key X signs webhooks with", secretID)
		}
	}
	q := &queue.Sender{Client: sqs.NewFromConfig(su.aws), URL: su.env[EnvInboundQueue], Log: log}
	return Routes(WebhookHandler(su.cfg, []byte(secret), q, log), nil, nil, Clock{}), nil
}

// Processor builds the processor function's handler from the environment: each
// new message goes through the protocol pipeline, whose replies go to the outbound
// queue.
func Processor(ctx context.Context, getenv func(string) string, log *slog.Logger) (*intake.Processor, error) {
	su, err := load(ctx, getenv, Settings["process"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := su.alerts(log)
	if err != nil {
		return nil, err
	}
	sqsClient := sqs.NewFromConfig(su.aws)
	st := NewStore(su.cfg, dynamodb.NewFromConfig(su.aws), su.env[EnvTable], log)
	pipe, err := Pipeline(su.cfg, st, &queue.Sender{Client: sqsClient, URL: su.env[EnvOutboundQueue], Log: log}, alerts, log)
	if err != nil {
		return nil, err
	}
	return &intake.Processor{
		Store:      st,
		DeadLetter: &queue.Sender{Client: sqsClient, URL: su.env[EnvInboundDLQ], Log: log},
		Classifier: pipe,
		Log:        log,
	}, nil
}

// AgentAPI builds the agent API function's HTTP handler from the environment. Its
// requests are authenticated by API Gateway's JWT authorizer; agents' replies go
// to the outbound queue, and crises opened or closed by hand alert the team. The
// care protocol (engine and crisis monitor) is built as the processor's.
// Quarantined deliveries retried go to the inbound queue; the dead-letter queues
// are redriven with SQS's message move tasks.
func AgentAPI(ctx context.Context, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	su, err := load(ctx, getenv, Settings["agentapi"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := su.alerts(log)
	if err != nil {
		return nil, err
	}
	st := NewStore(su.cfg, dynamodb.NewFromConfig(su.aws), su.env[EnvTable], log)
	sqsClient := sqs.NewFromConfig(su.aws)
	outbox := &queue.Sender{Client: sqsClient, URL: su.env[EnvOutboundQueue], Log: log}
	pipe, err := Pipeline(su.cfg, st, outbox, alerts, log)
	if err != nil {
		return nil, err
	}
	deadLetters := &queue.Redrive{Client: sqsClient, MoveTasks: sqsClient, Log: log, Queues: []queue.DeadLetterQueue{
		{Name: agentapi.QueueInbound, URL: su.env[EnvInboundDLQ], ARN: su.env[EnvInboundDLQARN], SourceURL: su.env[EnvInboundQueue], SourceARN: su.env[EnvInboundQueueARN]},
		{Name: agentapi.QueueOutbound, URL: su.env[EnvOutboundDLQ], ARN: su.env[EnvOutboundDLQARN], SourceURL: su.env[EnvOutboundQueue], SourceARN: su.env[EnvOutboundQueueARN]},
	}}
	// The health checks ask X as the brand; credentials that cannot be loaded are
	// what they report, not a reason for the API not to start.
	var (
		x      *xapi.Client
		secret []byte
	)
	creds, xErr := XCredentials(ctx, getenv, su.aws)
	if xErr == nil {
		secret = []byte(creds.WebhookSecret())
		x, xErr = XClient(su.cfg, creds, strings.TrimSpace(getenv(EnvXBaseURL)), log)
	}
	var alarms func(context.Context) ([]string, error)
	if prefix := strings.TrimSpace(getenv(EnvAlarmPrefix)); prefix != "" {
		alarms = Alarms(cloudwatch.NewFromConfig(su.aws), prefix)
	}
	api, err := agentapi.New(agentapi.Deps{
		Store: st, Engine: pipe.Engine, Crisis: pipe.Crisis, Outbox: outbox, Auth: agentapi.GatewayJWT{}, Log: log,
		Inbox:       &queue.Sender{Client: sqsClient, URL: su.env[EnvInboundQueue], Log: log},
		DeadLetters: deadLetters,
		Health:      HealthChecks(su.cfg, st, x, xErr, secret, deadLetters, alarms),
		Staffing:    su.cfg.Staffing, Brand: su.cfg.Brand.Handle,
	})
	if err != nil {
		return nil, err
	}
	con, err := Console(getenv)
	if err != nil {
		return nil, err
	}
	return Routes(nil, api, con, Clock{}), nil
}

// EnvConsole holds the console's sign-in settings, console.Config as JSON (the
// stack sets it); unset, agents sign in with a token.
const EnvConsole = "PAJARITO_CONSOLE"

// Console builds the agent console's handler from EnvConsole.
func Console(getenv func(string) string) (*console.Handler, error) {
	var cfg console.Config
	if v := getenv(EnvConsole); v != "" {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("%s is not the console's settings (JSON with issuer, client_id, scopes, authorization_endpoint, token_endpoint, end_session_endpoint): %w", EnvConsole, err)
		}
	}
	h, err := console.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvConsole, err)
	}
	return h, nil
}

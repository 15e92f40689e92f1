// Package wire builds Pajarito's components from the configuration and the
// environment: the same construction for the Lambda functions (functions/*) and for
// the local dev system, so that what runs locally is what runs in AWS. The
// webhook function's builder is package wire/webhook, so that it links only what
// it uses; what every process starts with (logger, settings, routes, the Lambda
// main) is package boot, and the environment's names are package settings.
package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/console"
	"github.com/pajarito-care/pajarito/shared/intake"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// NewStore returns the store over table with the configuration's retention.
func NewStore(cfg *config.Config, client store.API, table string, log *slog.Logger) *store.Store {
	s := store.New(client, table)
	s.RawRetention = time.Duration(cfg.RawRetentionDays) * 24 * time.Hour
	s.Log = log
	return s
}

// Processor builds the processor function's handler from the environment: each
// new message goes through the protocol pipeline, whose replies go to the outbound
// queue.
func Processor(ctx context.Context, getenv func(string) string, log *slog.Logger) (*intake.Processor, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions["process"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := alerts(su, log)
	if err != nil {
		return nil, err
	}
	sqsClient := sqs.NewFromConfig(su.AWS)
	st := NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log)
	pipe, err := Pipeline(su.Config, st, &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvOutboundQueue], Log: log}, alerts, log)
	if err != nil {
		return nil, err
	}
	return &intake.Processor{
		Store:      st,
		DeadLetter: &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvInboundDLQ], Log: log},
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
	su, err := boot.Load(ctx, getenv, settings.Functions["agentapi"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := alerts(su, log)
	if err != nil {
		return nil, err
	}
	st := NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log)
	sqsClient := sqs.NewFromConfig(su.AWS)
	outbox := &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvOutboundQueue], Log: log}
	pipe, err := Pipeline(su.Config, st, outbox, alerts, log)
	if err != nil {
		return nil, err
	}
	deadLetters := &queue.Redrive{Client: sqsClient, MoveTasks: sqsClient, Log: log, Queues: []queue.DeadLetterQueue{
		{Name: agentapi.QueueInbound, URL: su.Env[settings.EnvInboundDLQ], ARN: su.Env[settings.EnvInboundDLQARN], SourceURL: su.Env[settings.EnvInboundQueue], SourceARN: su.Env[settings.EnvInboundQueueARN]},
		{Name: agentapi.QueueOutbound, URL: su.Env[settings.EnvOutboundDLQ], ARN: su.Env[settings.EnvOutboundDLQARN], SourceURL: su.Env[settings.EnvOutboundQueue], SourceARN: su.Env[settings.EnvOutboundQueueARN]},
	}}
	// The health checks ask X as the brand; credentials that cannot be loaded are
	// what they report, not a reason for the API not to start.
	var (
		x      *xapi.Client
		secret []byte
	)
	creds, xErr := XCredentials(ctx, getenv, su.AWS)
	if xErr == nil {
		secret = []byte(creds.WebhookSecret())
		x, xErr = XClient(su.Config, creds, strings.TrimSpace(getenv(settings.EnvXBaseURL)), log)
	}
	var alarms func(context.Context) ([]string, error)
	if prefix := strings.TrimSpace(getenv(settings.EnvAlarmPrefix)); prefix != "" {
		alarms = Alarms(cloudwatch.NewFromConfig(su.AWS), prefix)
	}
	api, err := agentapi.New(agentapi.Deps{
		Store: st, Engine: pipe.Engine, Crisis: pipe.Crisis, Outbox: outbox, Auth: agentapi.GatewayJWT{}, Log: log,
		Inbox:       &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvInboundQueue], Log: log},
		DeadLetters: deadLetters,
		Health:      HealthChecks(su.Config, st, x, xErr, secret, deadLetters, alarms),
		Staffing:    su.Config.Staffing, Brand: su.Config.Brand.Handle,
	})
	if err != nil {
		return nil, err
	}
	con, err := Console(getenv)
	if err != nil {
		return nil, err
	}
	return boot.Routes(nil, api, con, console.Prefix, boot.Clock{}), nil
}

// Console builds the agent console's handler from settings.EnvConsole.
func Console(getenv func(string) string) (*console.Handler, error) {
	var cfg console.Config
	if v := getenv(settings.EnvConsole); v != "" {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("%s is not the console's settings (JSON with issuer, client_id, scopes, authorization_endpoint, token_endpoint, end_session_endpoint): %w", settings.EnvConsole, err)
		}
	}
	h, err := console.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settings.EnvConsole, err)
	}
	return h, nil
}

// Package agentapi builds what the agentapi function (functions/agentapi) runs:
// package agentapi's HTTP API for the agents and the operator, with the console
// (package console) beside it.
package agentapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/console"
	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Deps are what the agent API is made of.
type Deps struct {
	wire.Common
	// Outbox receives the agents' replies: the outbound queue.
	Outbox protocol.Outbox
	// Alerts receives the alerts of crises opened or closed by hand; nil logs
	// them.
	Alerts care.Notifier
	// Inbox receives the quarantined deliveries retried: the inbound queue.
	Inbox agentapi.Inbox
	// DeadLetters redrives the dead-letter queues.
	DeadLetters *queue.Redrive
	// Health are the operator's checks (HealthChecks).
	Health *health.Checker
	// Auth says who calls.
	Auth agentapi.Authenticator
	// OAuth2 is the brand's OAuth 2.0 token, which the health checks report
	// (and refresh when due); nil when the brand has no secret.
	OAuth2 *xapi.OAuth2Keeper
}

// Build builds the agent API's HTTP handler, with the console's, from the
// environment. Its requests are authenticated by API Gateway's JWT authorizer;
// agents' replies go to the outbound queue, and crises opened or closed by hand
// alert the team. Quarantined deliveries retried go to the inbound queue; the
// dead-letter queues are redriven with SQS's message move tasks.
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	su, common, err := wire.Load(ctx, getenv, "agentapi", log)
	if err != nil {
		return nil, err
	}
	alerts, err := notify.NewSNS(sns.NewFromConfig(su.AWS), su.Env[settings.EnvAlertTopic], log)
	if err != nil {
		return nil, err
	}
	st := common.Store
	sqsClient := sqs.NewFromConfig(su.AWS)
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
	creds, xErr := xapi.LoadCredentials(ctx, getenv, su.AWS)
	if xErr == nil {
		secret = []byte(creds.WebhookSecret())
		x, xErr = xapi.New(creds, xapi.Options{Brand: su.Config.Brand, BaseURL: strings.TrimSpace(getenv(settings.EnvXBaseURL)), Log: log})
	}
	var alarms func(context.Context) ([]string, error)
	if prefix := strings.TrimSpace(getenv(settings.EnvAlarmPrefix)); prefix != "" {
		alarms = Alarms(cloudwatch.NewFromConfig(su.AWS), prefix)
	}
	checks := HealthChecks(su.Config, st, x, xErr, secret, deadLetters, alarms)
	if id := strings.TrimSpace(getenv(settings.EnvXSecretID)); id != "" {
		checks.XChatKeys = XChatKeys(secretsmanager.NewFromConfig(su.AWS), id, strings.TrimSpace(getenv(settings.EnvXBaseURL)), su.Config.Brand.ID)
	}
	api, err := New(Deps{
		Common:      common,
		Outbox:      &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvOutboundQueue], Log: log},
		Alerts:      alerts,
		Inbox:       &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvInboundQueue], Log: log},
		DeadLetters: deadLetters,
		Health:      checks,
		OAuth2:      xapi.OAuth2KeeperFromEnv(getenv, su.AWS, st, log),
		Auth:        agentapi.GatewayJWT{RoleClaim: strings.TrimSpace(getenv(settings.EnvRoleClaim))},
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

// New returns the agent API made of d. Its care protocol (the engine that lints
// the agents' replies, the crisis monitor) is built from the configuration as
// the processor's is (package wire/process).
func New(d Deps) (*agentapi.API, error) {
	eng, err := protocol.New(d.Config.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	if d.Health != nil && d.OAuth2 != nil { // a nil keeper must stay a nil interface
		d.Health.OAuth2 = d.OAuth2
	}
	return agentapi.New(agentapi.Deps{
		Store: d.Store, Engine: eng, Crisis: eng.Monitor(d.Store, d.Alerts, d.Log), Outbox: d.Outbox, Auth: d.Auth, Log: d.Log, Now: d.Now,
		Inbox:       d.Inbox,
		DeadLetters: d.DeadLetters,
		Health:      d.Health,
		Staffing:    d.Config.Staffing, Brand: d.Config.Brand.Handle,
	})
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

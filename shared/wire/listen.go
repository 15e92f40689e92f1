package wire

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/listen"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// EnvXBaseURL points the X client at an X-API-compatible server instead of X.
const EnvXBaseURL = "X_API_BASE_URL"

// XCredentials returns the brand account's X credentials: from the Secrets Manager
// secret named by PAJARITO_X_SECRET_ID when it is set (in AWS), else from X_API_KEY,
// X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET.
func XCredentials(ctx context.Context, getenv func(string) string, awsCfg aws.Config) (xapi.Credentials, error) {
	if id := strings.TrimSpace(getenv(EnvXSecretID)); id != "" {
		return xapi.NewSecretCache(secretsmanager.NewFromConfig(awsCfg), id).Credentials(ctx)
	}
	creds, err := xapi.CredentialsFromEnv(getenv)
	if err != nil {
		return creds, fmt.Errorf("%w\n(or set %s to the Secrets Manager secret that holds them)", err, EnvXSecretID)
	}
	return creds, nil
}

// XClient returns the X API client acting for the configured brand; baseURL, when
// set, sends it to that X-compatible server.
func XClient(cfg *config.Config, creds xapi.Credentials, baseURL string, log *slog.Logger) (*xapi.Client, error) {
	return xapi.New(creds, xapi.Options{
		Brand:   xwebhook.Brand{ID: cfg.Brand.ID, Handle: cfg.Brand.Handle},
		BaseURL: baseURL,
		Log:     log,
	})
}

// Listener builds the listen function's listener from the environment.
func Listener(ctx context.Context, getenv func(string) string, log *slog.Logger) (*listen.Listener, error) {
	su, err := load(ctx, getenv, Settings["listen"]...)
	if err != nil {
		return nil, err
	}
	creds, err := XCredentials(ctx, getenv, su.aws)
	if err != nil {
		return nil, err
	}
	x, err := XClient(su.cfg, creds, strings.TrimSpace(getenv(EnvXBaseURL)), log)
	if err != nil {
		return nil, err
	}
	return &listen.Listener{
		Reader: x,
		Store:  NewStore(su.cfg, dynamodb.NewFromConfig(su.aws), su.env[EnvTable], log),
		Queue:  &queue.Sender{Client: sqs.NewFromConfig(su.aws), URL: su.env[EnvInboundQueue], Log: log},
		Config: su.cfg,
		Log:    log,
	}, nil
}

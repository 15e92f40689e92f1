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

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/listen"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// XCredentials returns the brand account's X credentials: from the Secrets Manager
// secret named by PAJARITO_X_SECRET_ID when it is set (in AWS), else from X_API_KEY,
// X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET.
func XCredentials(ctx context.Context, getenv func(string) string, awsCfg aws.Config) (xapi.Credentials, error) {
	if id := strings.TrimSpace(getenv(settings.EnvXSecretID)); id != "" {
		return xapi.NewSecretCache(secretsmanager.NewFromConfig(awsCfg), id).Credentials(ctx)
	}
	creds, err := xapi.CredentialsFromEnv(getenv)
	if err != nil {
		return creds, fmt.Errorf("%w\n(or set %s to the Secrets Manager secret that holds them)", err, settings.EnvXSecretID)
	}
	return creds, nil
}

// XClient returns the X API client acting for the configured brand; baseURL, when
// set, sends it to that X-compatible server.
func XClient(cfg *config.Config, creds xapi.Credentials, baseURL string, log *slog.Logger) (*xapi.Client, error) {
	return xapi.New(creds, xapi.Options{
		Brand:   cfg.Brand,
		BaseURL: baseURL,
		Log:     log,
	})
}

// Listener builds the listen function's listener from the environment.
func Listener(ctx context.Context, getenv func(string) string, log *slog.Logger) (*listen.Listener, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions["listen"]...)
	if err != nil {
		return nil, err
	}
	creds, err := XCredentials(ctx, getenv, su.AWS)
	if err != nil {
		return nil, err
	}
	x, err := XClient(su.Config, creds, strings.TrimSpace(getenv(settings.EnvXBaseURL)), log)
	if err != nil {
		return nil, err
	}
	return &listen.Listener{
		Reader: x,
		Store:  NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log),
		Queue:  &queue.Sender{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvInboundQueue], Log: log},
		Config: su.Config,
		Log:    log,
	}, nil
}

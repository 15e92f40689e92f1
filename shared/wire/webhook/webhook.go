// Package webhook builds the webhook function (functions/webhook) from the
// environment: the X webhook handler and GET /healthz. It is apart from package
// wire so that the function links only what it uses (the inbound queue, the X
// secret), not the processor, the store or the agent API.
package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Handler is the X webhook handler for the configured brand.
func Handler(brand care.Brand, secret []byte, q xwebhook.Enqueuer, log *slog.Logger) *xwebhook.Handler {
	return &xwebhook.Handler{
		Secret: secret,
		Brand:  brand,
		Queue:  q,
		Log:    log,
	}
}

// Build builds the webhook function's HTTP handler from the environment. The
// webhook key is the X app's consumer secret, read from the Secrets Manager secret
// named by PAJARITO_X_SECRET_ID (in AWS) or from X_CONSUMER_SECRET. Of the
// configuration it reads the brand only (config.BrandFromEnvironment): the
// webhook queues what X sends whatever the rest of pajarito.json says, and its
// cold start stays short.
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	names := slices.Clone(settings.Functions["webhook"])
	secretID := strings.TrimSpace(getenv(settings.EnvXSecretID))
	if secretID == "" {
		names = append(names, settings.EnvConsumerSecret)
	}
	brand, err := config.BrandFromEnvironment(getenv)
	if err != nil {
		return nil, err
	}
	env, err := boot.Env(getenv, names...)
	if err != nil {
		return nil, err
	}
	awsCfg, err := boot.AWS(ctx)
	if err != nil {
		return nil, err
	}
	secret := env[settings.EnvConsumerSecret]
	if secretID != "" {
		creds, err := xapi.NewSecretCache(secretsmanager.NewFromConfig(awsCfg), secretID).Credentials(ctx)
		if err != nil {
			return nil, err
		}
		if secret = creds.WebhookSecret(); secret == "" {
			return nil, fmt.Errorf("config: secret %s has no api_secret (or consumer_secret): the X app's consumer secret, the key X signs webhooks with", secretID)
		}
	}
	q := &queue.Sender{Client: sqs.NewFromConfig(awsCfg), URL: env[settings.EnvInboundQueue], Log: log}
	return boot.Routes(Handler(brand, []byte(secret), q, log), nil, nil, "", boot.Clock{}), nil
}

// Package wire holds what the functions' builders share. Each Lambda function has
// its builder in a package of its own under wire (wire/webhook, wire/process,
// wire/reply, wire/listen, wire/monitor, wire/agentapi), so that it links only
// what it uses. A builder has two entry points: Build, which reads the
// environment the stack (infra) sets and makes the AWS clients, and New, which
// takes the parts already made. Build calls New, and the local dev system calls
// New with its stand-ins for AWS and X: the same construction for both, so that
// what runs locally is what runs in AWS. What every process starts with (logger,
// settings, routes, the Lambda main) is package boot; the environment's names
// are package settings.
package wire

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Common are the parts every builder but the webhook's takes; each function's
// Deps embeds them.
type Common struct {
	Config *config.Config
	Store  *store.Store
	// Metrics receives the function's CloudWatch metrics (embedded metric
	// format); nil is standard output, as in Lambda.
	Metrics io.Writer
	// Now is the clock; nil is the wall's.
	Now func() time.Time
	Log *slog.Logger
}

// Load reads the settings of function (boot.Load) and makes its store: what
// every builder but the webhook's starts with.
func Load(ctx context.Context, getenv func(string) string, function string, log *slog.Logger) (*boot.Setup, Common, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions[function]...)
	if err != nil {
		return nil, Common{}, err
	}
	st := NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log)
	return su, Common{Config: su.Config, Store: st, Log: log}, nil
}

// NewStore returns the store over table with the configuration's retention.
func NewStore(cfg *config.Config, client store.API, table string, log *slog.Logger) *store.Store {
	s := store.New(client, table)
	s.RawRetention = time.Duration(cfg.RawRetentionDays) * 24 * time.Hour
	s.Log = log
	return s
}

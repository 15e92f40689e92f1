// Package listen builds what the listen function (functions/listen) runs:
// package listen's Listener, the scheduled mentions poll and keyword searches.
package listen

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/listen"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Deps are what the listener is made of.
type Deps struct {
	Config *config.Config
	Store  *store.Store
	// X reads the brand's mentions and the keyword searches.
	X xapi.Reader
	// Inbox receives what is found: the inbound queue.
	Inbox listen.Queue
	// Metrics receives the listener's metrics; nil is standard output, as in
	// Lambda.
	Metrics io.Writer
	// Now is the clock; nil is the wall's.
	Now func() time.Time
	Log *slog.Logger
}

// Build builds the listener from the environment: the table, the inbound queue
// and the brand's X credentials (xapi.LoadCredentials).
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*listen.Listener, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions["listen"]...)
	if err != nil {
		return nil, err
	}
	creds, err := xapi.LoadCredentials(ctx, getenv, su.AWS)
	if err != nil {
		return nil, err
	}
	x, err := xapi.New(creds, xapi.Options{Brand: su.Config.Brand, BaseURL: strings.TrimSpace(getenv(settings.EnvXBaseURL)), Log: log})
	if err != nil {
		return nil, err
	}
	return New(Deps{
		Config: su.Config,
		Store:  wire.NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log),
		X:      x,
		Inbox:  &queue.Sender{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvInboundQueue], Log: log},
		Log:    log,
	}), nil
}

// New returns the listener made of d.
func New(d Deps) *listen.Listener {
	return &listen.Listener{Reader: d.X, Store: d.Store, Queue: d.Inbox, Config: d.Config, Metrics: d.Metrics, Now: d.Now, Log: d.Log}
}

// Package listen builds what the listen function (functions/listen) runs:
// package listen's Listener, the scheduled mentions poll and keyword searches.
package listen

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/listen"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Deps are what the listener is made of.
type Deps struct {
	wire.Common
	// X reads the brand's mentions and the keyword searches.
	X xapi.Reader
	// Inbox receives what is found: the inbound queue.
	Inbox listen.Queue
}

// Build builds the listener from the environment: the table, the inbound queue
// and the brand's X credentials (xapi.LoadCredentials).
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*listen.Listener, error) {
	su, common, err := wire.Load(ctx, getenv, "listen", log)
	if err != nil {
		return nil, err
	}
	x, err := xapi.FromEnv(ctx, getenv, su.AWS, su.Config.Brand, log)
	if err != nil {
		return nil, err
	}
	return New(Deps{
		Common: common,
		X:      x,
		Inbox:  &queue.Sender{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvInboundQueue], Log: log},
	}), nil
}

// New returns the listener made of d.
func New(d Deps) *listen.Listener {
	return &listen.Listener{Reader: d.X, Store: d.Store, Queue: d.Inbox, Config: d.Config, Metrics: d.Metrics, Now: d.Now, Log: d.Log}
}

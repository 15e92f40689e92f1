package wire

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Reply builds the reply function's sender from the environment: it posts the
// reply requests of the outbound queue on X as the brand, delays the records that
// must wait by changing their visibility on that queue, and sends the alerts of
// failed (or unknown) replies to the alert topic.
func Reply(ctx context.Context, getenv func(string) string, log *slog.Logger) (*sender.Sender, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions["reply"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := alerts(su, log)
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
	st := NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log)
	delayer := &queue.Visibility{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvOutboundQueue]}
	return NewSender(su.Config, st, x, delayer, alerts, log)
}

// NewSender returns the reply sender over st, posting through x, delaying records
// with delayer and alerting through alerts (nil: they are logged). When x also
// reads the brand's own posts and DMs (an *xapi.Client does), it is the sender's
// Finder too: an interrupted send whose copy did not reach the case is looked
// for on X. The local dev system runs it on its outbound queue.
func NewSender(cfg *config.Config, st *store.Store, x xapi.Writer, delayer sender.Delayer, alerts protocol.Notifier, log *slog.Logger) (*sender.Sender, error) {
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	if alerts == nil {
		alerts = protocol.LogNotifier{Log: log}
	}
	finder, _ := x.(sender.Finder)
	return &sender.Sender{
		Store:    st,
		X:        x,
		Finder:   finder,
		Engine:   eng,
		Brand:    cfg.Brand,
		Delayer:  delayer,
		Notifier: alerts,
		Log:      log,
	}, nil
}

package wire

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Reply builds the reply function's sender from the environment: it posts the
// reply requests of the outbound queue on X as the brand, delays the records that
// must wait by changing their visibility on that queue, and sends the alerts of
// failed (or unknown) replies to the alert topic.
func Reply(ctx context.Context, getenv func(string) string, log *slog.Logger) (*sender.Sender, error) {
	su, err := load(ctx, getenv, EnvTable, EnvOutboundQueue, EnvAlertTopic)
	if err != nil {
		return nil, err
	}
	alerts, err := su.alerts(log)
	if err != nil {
		return nil, err
	}
	eng, err := protocol.New(su.cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	creds, err := XCredentials(ctx, getenv, su.aws)
	if err != nil {
		return nil, err
	}
	x, err := XClient(su.cfg, creds, strings.TrimSpace(getenv(EnvXBaseURL)), log)
	if err != nil {
		return nil, err
	}
	return &sender.Sender{
		Store:    NewStore(su.cfg, dynamodb.NewFromConfig(su.aws), su.env[EnvTable], log),
		X:        x,
		Engine:   eng,
		Brand:    xwebhook.Brand{ID: su.cfg.Brand.ID, Handle: su.cfg.Brand.Handle},
		Delayer:  &queue.Visibility{Client: sqs.NewFromConfig(su.aws), URL: su.env[EnvOutboundQueue]},
		Notifier: alerts,
		Log:      log,
	}, nil
}

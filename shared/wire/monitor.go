package wire

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/learn"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Monitor builds the monitor function's scheduled checks from the environment.
func Monitor(ctx context.Context, getenv func(string) string, log *slog.Logger) (*monitor.Monitor, error) {
	su, err := boot.Load(ctx, getenv, settings.Functions["monitor"]...)
	if err != nil {
		return nil, err
	}
	alerts, err := alerts(su, log)
	if err != nil {
		return nil, err
	}
	st := NewStore(su.Config, dynamodb.NewFromConfig(su.AWS), su.Env[settings.EnvTable], log)
	outbox := &queue.Sender{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvOutboundQueue], Log: log}
	return NewMonitor(su.Config, st, outbox, alerts, log)
}

// NewMonitor returns the scheduled checks over st, alerting through alerts (nil:
// they are logged) and sending satisfaction surveys to outbox, the outbound queue
// (nil: no surveys). The local dev system runs them on a ticker.
func NewMonitor(cfg *config.Config, st *store.Store, outbox monitor.Outbox, alerts protocol.Notifier, log *slog.Logger) (*monitor.Monitor, error) {
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	m := &monitor.Monitor{
		Crises:  eng.Monitor(st, alerts, log),
		Cases:   st,
		Learner: &learn.Trainer{Corrections: st, Models: st, Rules: classify.Default(), Log: log},
		SLA:     &monitor.SLA{Protocol: eng, Cases: st, Notifier: alerts},
		Rollups: &monitor.Rollups{Store: st, Protocol: eng},
		Log:     log,
	}
	if outbox != nil {
		m.Surveys = &monitor.Surveys{
			Store: st, Outbox: outbox, Linter: eng.Linter(),
			Langs: cfg.Protocol.Langs, DefaultLang: cfg.Protocol.DefaultLang, Signature: cfg.Protocol.Signature,
		}
	}
	for _, t := range cfg.Protocol.Crisis.Topics {
		m.Topics = append(m.Topics, t.Name)
	}
	return m, nil
}

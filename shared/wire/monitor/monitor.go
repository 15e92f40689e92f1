// Package monitor builds what the monitor function (functions/monitor) runs:
// package monitor's scheduled checks (crises, SLA, surveys, learning, rollups,
// unread X Chat messages).
package monitor

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/learn"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Deps are what the scheduled checks are made of.
type Deps struct {
	wire.Common
	// Outbox receives the satisfaction surveys: the outbound queue (nil: no
	// surveys).
	Outbox monitor.Outbox
	// Alerts receives the team's alerts (crises, SLA, unread X Chat messages);
	// nil logs them.
	Alerts care.Notifier
	// OAuth2 is the brand's OAuth 2.0 token, which each run keeps fresh (X
	// Chat); nil when the brand has no secret (locally).
	OAuth2 *xapi.OAuth2Keeper
}

// Build builds the scheduled checks from the environment: the table, the
// outbound queue and the alert topic.
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*monitor.Monitor, error) {
	su, common, err := wire.Load(ctx, getenv, "monitor", log)
	if err != nil {
		return nil, err
	}
	alerts, err := notify.NewSNS(sns.NewFromConfig(su.AWS), su.Env[settings.EnvAlertTopic], log)
	if err != nil {
		return nil, err
	}
	return New(Deps{
		Common: common,
		Outbox: &queue.Sender{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvOutboundQueue], Log: log},
		Alerts: alerts,
		OAuth2: xapi.OAuth2KeeperFromEnv(getenv, su.AWS, common.Store, log),
	})
}

// New returns the scheduled checks made of d.
func New(d Deps) (*monitor.Monitor, error) {
	cfg := d.Config
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	alerts := d.Alerts
	if alerts == nil {
		alerts = care.LogNotifier{Log: d.Log}
	}
	m := &monitor.Monitor{
		Crises:    eng.Monitor(d.Store, alerts, d.Log),
		Cases:     d.Store,
		Learner:   &learn.Trainer{Corrections: d.Store, Models: d.Store, Rules: classify.Default(), Log: d.Log},
		SLA:       &monitor.SLA{Protocol: eng, Cases: d.Store, Notifier: alerts},
		Rollups:   &monitor.Rollups{Store: d.Store, Protocol: eng},
		XChat:     &monitor.XChat{Signals: d.Store, Notifier: alerts},
		Approvals: &monitor.Approvals{Store: d.Store, After: cfg.Protocol.Approval.ApprovalAlertAfter(), Notifier: alerts},
		Metrics:   d.Metrics,
		Now:       d.Now,
		Log:       d.Log,
	}
	if d.OAuth2 != nil { // a nil keeper must stay a nil interface
		m.XChat.OAuth2 = d.OAuth2
	}
	if d.Outbox != nil {
		m.FollowUps = &monitor.FollowUps{Store: d.Store, Protocol: eng, Outbox: d.Outbox}
		m.Surveys = &monitor.Surveys{
			Store: d.Store, Outbox: d.Outbox, Linter: eng.Linter(),
			Langs: cfg.Protocol.Langs, DefaultLang: cfg.Protocol.DefaultLang, Signature: cfg.Protocol.Signature,
		}
	}
	for _, t := range cfg.Protocol.Crisis.Topics {
		m.Topics = append(m.Topics, t.Name)
	}
	return m, nil
}

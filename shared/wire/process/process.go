// Package process builds what the process function (functions/process) runs:
// package intake's Processor, which stores each delivery of the inbound queue,
// with the protocol pipeline (package protocol) after it.
package process

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/intake"
	"github.com/pajarito-care/pajarito/shared/learn"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// Deps are what the processor is made of.
type Deps struct {
	wire.Common
	// Outbox receives the replies the protocol decides: the outbound queue.
	Outbox protocol.Outbox
	// DeadLetter receives what cannot be read: the inbound dead-letter queue.
	DeadLetter intake.DeadLetter
	// Alerts receives the team's alerts (crises); nil logs them.
	Alerts care.Notifier
	// XChat, when set, opens the X Chat messages the brand receives (an
	// xchatopen.Opener, or the Keyring that loads one); nil leaves them unread.
	XChat intake.Opener
}

// Build builds the processor from the environment: the table, the inbound
// dead-letter queue, the outbound queue, the alert topic and, when the X
// secret holds the brand's X Chat keys, the Opener of X Chat messages, loaded
// when the first one comes (xchatopen.FromEnv).
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*intake.Processor, error) {
	su, common, err := wire.Load(ctx, getenv, "process", log)
	if err != nil {
		return nil, err
	}
	alerts, err := notify.NewSNS(sns.NewFromConfig(su.AWS), su.Env[settings.EnvAlertTopic], log)
	if err != nil {
		return nil, err
	}
	sqsClient := sqs.NewFromConfig(su.AWS)
	d := Deps{
		Common:     common,
		Outbox:     &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvOutboundQueue], Log: log},
		DeadLetter: &queue.Sender{Client: sqsClient, URL: su.Env[settings.EnvInboundDLQ], Log: log},
		Alerts:     alerts,
	}
	if k := xchatopen.FromEnv(getenv, su.AWS, su.Config.Brand.ID, common.Store, log); k != nil {
		d.XChat = k
	}
	return New(d)
}

// New returns the processor made of d: each new message goes through the
// protocol pipeline (Pipeline).
func New(d Deps) (*intake.Processor, error) {
	pipe, err := Pipeline(d)
	if err != nil {
		return nil, err
	}
	p := &intake.Processor{
		Store:      d.Store,
		DeadLetter: d.DeadLetter,
		Pipeline:   pipe,
		Metrics:    d.Metrics,
		Now:        d.Now,
		Log:        d.Log,
	}
	if d.XChat != nil {
		p.Opener = d.XChat
	}
	return p, nil
}

// Pipeline returns the processor's pipeline: every new message is classified,
// prioritised, routed and put through the team's protocol (crisis detection
// included), and the replies it decides go to d.Outbox. The agent API is built
// on its engine and crisis monitor too. d.DeadLetter is not used.
func Pipeline(d Deps) (*protocol.Pipeline, error) {
	eng, err := protocol.New(d.Config.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	alerts := d.Alerts
	if alerts == nil {
		alerts = care.LogNotifier{Log: d.Log}
	}
	return &protocol.Pipeline{
		Engine: eng,
		// The rules, combined with the model learned from the agents' corrections
		// once there is one that does better (package learn).
		Classifier: &learn.Labeler{Rules: classify.Default(), Models: d.Store, Log: d.Log},
		Cases:      d.Store,
		Crisis:     eng.Monitor(d.Store, alerts, d.Log),
		Outbox:     d.Outbox,
		Notifier:   alerts,
		Metrics:    d.Metrics,
		Now:        d.Now,
		Log:        d.Log,
	}, nil
}

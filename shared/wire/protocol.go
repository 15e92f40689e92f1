package wire

import (
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/learn"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Pipeline is the processor's seam filled in: every new message is classified,
// prioritised, routed and put through the team's protocol (crisis detection
// included), and the replies it decides go to outbox. Alerts go to alerts (nil:
// they are logged).
func Pipeline(cfg *config.Config, st *store.Store, outbox protocol.Outbox, alerts protocol.Notifier, log *slog.Logger) (*protocol.Pipeline, error) {
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	if alerts == nil {
		alerts = protocol.LogNotifier{Log: log}
	}
	return &protocol.Pipeline{
		Engine: eng,
		// The rules, combined with the model learned from the agents' corrections
		// once there is one that does better (package learn).
		Classifier: &learn.Labeler{Rules: classify.Default(), Models: st, Log: log},
		Cases:      st,
		Crisis:     eng.Monitor(st, alerts, log),
		Outbox:     outbox,
		Notifier:   alerts,
		Log:        log,
	}, nil
}

// alerts returns the notifier of the topic in settings.EnvAlertTopic (which
// boot.Load must have read).
func alerts(su *boot.Setup, log *slog.Logger) (protocol.Notifier, error) {
	return notify.NewSNS(sns.NewFromConfig(su.AWS), su.Env[settings.EnvAlertTopic], log)
}

package wire

import (
	"fmt"
	"log/slog"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// EnvOutboundQueue is the URL of the outbound queue, where decided replies wait for
// the reply sender.
const EnvOutboundQueue = "PAJARITO_OUTBOUND_QUEUE_URL"

// Pipeline is the processor's seam filled in: every new message is classified,
// prioritised, routed and put through the team's protocol (crisis detection
// included), and the replies it decides go to outbox.
func Pipeline(cfg *config.Config, st *store.Store, outbox protocol.Outbox, log *slog.Logger) (*protocol.Pipeline, error) {
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	notify := protocol.LogNotifier{Log: log}
	return &protocol.Pipeline{
		Engine:   eng,
		Cases:    st,
		Crisis:   eng.Monitor(st, notify, log),
		Outbox:   outbox,
		Notifier: notify,
		Log:      log,
	}, nil
}

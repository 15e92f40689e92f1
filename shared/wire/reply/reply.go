// Package reply builds what the reply function (functions/reply) runs: package
// sender's Sender, which posts the reply requests of the outbound queue on X as
// the brand.
package reply

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// Deps are what the sender is made of.
type Deps struct {
	wire.Common
	// X posts as the brand. When it also reads the brand's own posts and DMs (an
	// *xapi.Client does), it is the sender's Finder too: an interrupted send
	// whose copy did not reach the case is looked for on X.
	X xapi.Writer
	// Delayer delays the records that must wait: the outbound queue's visibility.
	Delayer sender.Delayer
	// Alerts receives the alerts of failed (or unknown) replies; nil logs them.
	Alerts care.Notifier
	// Epoch, when set, says this is the only sender on the store (sender.Sender's
	// Epoch): the local system sets it to its start.
	Epoch time.Time
	// XChat, when set, sends the DMs of X Chat conversations there (an
	// xchatopen.Sender, or the Keyring that loads one); nil sends every DM
	// through X's DM route.
	XChat sender.ChatWriter
}

// Build builds the sender from the environment: the table, the outbound queue,
// the alert topic, the brand's X credentials (xapi.LoadCredentials) and, when
// the X secret holds the brand's X Chat keys, the X Chat sender
// (xchatopen.FromEnv).
func Build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*sender.Sender, error) {
	su, common, err := wire.Load(ctx, getenv, "reply", log)
	if err != nil {
		return nil, err
	}
	alerts, err := notify.NewSNS(sns.NewFromConfig(su.AWS), su.Env[settings.EnvAlertTopic], log)
	if err != nil {
		return nil, err
	}
	x, err := xapi.FromEnv(ctx, getenv, su.AWS, su.Config.Brand, log)
	if err != nil {
		return nil, err
	}
	d := Deps{
		Common:  common,
		X:       x,
		Delayer: &queue.Visibility{Client: sqs.NewFromConfig(su.AWS), URL: su.Env[settings.EnvOutboundQueue]},
		Alerts:  alerts,
	}
	if k := xchatopen.FromEnv(getenv, su.AWS, su.Config.Brand.ID, common.Store, log); k != nil {
		d.XChat = k
	}
	return New(d)
}

// New returns the sender made of d.
func New(d Deps) (*sender.Sender, error) {
	eng, err := protocol.New(d.Config.Protocol)
	if err != nil {
		return nil, fmt.Errorf("config: protocol: %w", err)
	}
	alerts := d.Alerts
	if alerts == nil {
		alerts = care.LogNotifier{Log: d.Log}
	}
	finder, _ := d.X.(sender.Finder)
	s := &sender.Sender{
		Store:    d.Store,
		X:        d.X,
		Finder:   finder,
		Engine:   eng,
		Brand:    d.Config.Brand,
		Delayer:  d.Delayer,
		Notifier: alerts,
		Epoch:    d.Epoch,
		Metrics:  d.Metrics,
		Now:      d.Now,
		Log:      d.Log,
	}
	if d.XChat != nil {
		s.Chat = d.XChat
	}
	return s, nil
}

package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Unread X Chat messages.
//
// X Chat messages are end-to-end encrypted: until Pajarito holds the brand's X
// Chat keys, the processor stores each inbound one without its text and counts
// it, per UTC day (store.SignalUnreadChat). Each run reads today's count (UTC,
// on the monitor's clock); when it is above zero, the run claims the day's alert
// (store.ClaimSignalAlert: of concurrent or later runs exactly one wins) and the
// winner sends one care.AlertXChatUnread alert. The team hears of it once a day
// while such messages arrive, with the count at the time of the alert. When the
// alert cannot be sent the claim is taken back (store.ReleaseSignalAlert), so
// that the next run tries again, and the run fails.

// XChatSignals is what the unread X Chat check reads and writes (*store.Store
// implements it).
type XChatSignals interface {
	Signals(ctx context.Context, signal string, from, to time.Time) ([]store.Signal, error)
	ClaimSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
	ReleaseSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
}

// XChat alerts the team, once a day, to the X Chat messages Pajarito could not
// read. Signals is required.
type XChat struct {
	Signals XChatSignals
	// Notifier receives the care.AlertXChatUnread alert; nil logs it
	// (care.LogNotifier).
	Notifier care.Notifier
}

// XChatReport is what a run's unread X Chat check found.
type XChatReport struct {
	// Unread counts today's inbound X Chat messages Pajarito could not read.
	Unread int64 `json:"unread"`
	// Alerted is true when this run sent the day's alert.
	Alerted bool `json:"alerted,omitempty"`
}

// checkXChat runs the unread X Chat check.
func (m *Monitor) checkXChat(ctx context.Context, now time.Time, log *slog.Logger) (*XChatReport, error) {
	x := m.XChat
	rep := &XChatReport{}
	day := now.UTC().Truncate(24 * time.Hour)
	sigs, err := x.Signals.Signals(ctx, store.SignalUnreadChat, day, day)
	if err != nil {
		return rep, fmt.Errorf("monitor: unread X Chat messages: %w", err)
	}
	for _, s := range sigs {
		rep.Unread += s.Count
	}
	if rep.Unread == 0 {
		return rep, nil
	}
	won, err := x.Signals.ClaimSignalAlert(ctx, store.SignalUnreadChat, store.SignalKeyAll, day, now)
	if err != nil {
		return rep, fmt.Errorf("monitor: unread X Chat messages: %w", err)
	}
	if !won {
		return rep, nil // today's alert was sent
	}
	notifier := x.Notifier
	if notifier == nil {
		notifier = care.LogNotifier{Log: log}
	}
	if err := notifier.Notify(ctx, xchatAlert(rep.Unread, now)); err != nil {
		err = fmt.Errorf("monitor: unread X Chat messages: alert: %w", err)
		if _, rerr := x.Signals.ReleaseSignalAlert(ctx, store.SignalUnreadChat, store.SignalKeyAll, day, now); rerr != nil {
			err = fmt.Errorf("%w; no alert is sent today: %w", err, rerr)
		}
		return rep, err
	}
	rep.Alerted = true
	log.InfoContext(ctx, "monitor: unread X Chat messages", "unread", rep.Unread, "alerted", true)
	return rep, nil
}

func xchatAlert(n int64, now time.Time) care.Alert {
	msgs := "messages"
	if n == 1 {
		msgs = "message"
	}
	return care.Alert{
		Kind: care.AlertXChatUnread,
		At:   now,
		Summary: fmt.Sprintf("%d encrypted X Chat %s today could not be read: Pajarito holds no X Chat keys; answer them in X's app (README: X Chat)",
			n, msgs),
	}
}

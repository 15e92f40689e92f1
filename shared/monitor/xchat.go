package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
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
	AddSignal(ctx context.Context, signal, key string, at time.Time) error
	Signals(ctx context.Context, signal string, from, to time.Time) ([]store.Signal, error)
	ClaimSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
	ReleaseSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error)
}

// XChat alerts the team, once a day, to the X Chat messages Pajarito could not
// read. Signals is required.
type XChat struct {
	Signals XChatSignals
	// Notifier receives the care.AlertXChatUnread and care.AlertXChatAuth
	// alerts; nil logs them (care.LogNotifier).
	Notifier care.Notifier
	// OAuth2, when set, is the brand's OAuth 2.0 token (*xapi.OAuth2Keeper):
	// each run asks for it, so that it is refreshed before it ends even when
	// nothing else uses it; a refresh X refuses alerts the team once a day.
	OAuth2 interface {
		Token(ctx context.Context) (xapi.OAuth2Token, error)
	}
}

// SignalOAuth2Refused counts the runs whose refresh of the brand's OAuth 2.0
// token X refused, under store.SignalKeyAll; its alert is claimed once a day.
const SignalOAuth2Refused = "oauth2_refused"

// XChatReport is what a run's unread X Chat check found.
type XChatReport struct {
	// Unread counts today's inbound X Chat messages Pajarito could not read.
	Unread int64 `json:"unread"`
	// Alerted is true when this run sent the day's alert.
	Alerted bool `json:"alerted,omitempty"`
	// OAuth2 is the brand's OAuth 2.0 sign-in: "fresh", "not_signed_in" or
	// "refused" (X refused its refresh); empty without OAuth2.
	OAuth2 string `json:"oauth2,omitempty"`
}

// checkXChat runs the unread X Chat check.
func (m *Monitor) checkXChat(ctx context.Context, now time.Time, log *slog.Logger) (*XChatReport, error) {
	x := m.XChat
	rep := &XChatReport{}
	if x.OAuth2 != nil {
		var err error
		if rep.OAuth2, err = m.keepOAuth2(ctx, now, log); err != nil {
			return rep, err
		}
	}
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
		Summary: fmt.Sprintf("%d encrypted X Chat %s today could not be read (Pajarito holds no X Chat keys, or could not open or verify them: each case says why); answer them in X's app (README: X Chat)",
			n, msgs),
	}
}

// keepOAuth2 asks for the brand's OAuth 2.0 token, which refreshes it when due,
// and alerts the team, once a day, when X refuses the refresh.
func (m *Monitor) keepOAuth2(ctx context.Context, now time.Time, log *slog.Logger) (string, error) {
	x := m.XChat
	_, err := x.OAuth2.Token(ctx)
	switch {
	case err == nil:
		return "fresh", nil
	case errors.Is(err, xapi.ErrOAuth2NotSignedIn):
		return "not_signed_in", nil
	case !errors.Is(err, xapi.ErrOAuth2Refresh):
		return "", fmt.Errorf("monitor: the brand's OAuth 2.0 token: %w", err)
	}
	day := now.UTC().Truncate(24 * time.Hour)
	if aerr := x.Signals.AddSignal(ctx, SignalOAuth2Refused, store.SignalKeyAll, now); aerr != nil {
		return "refused", fmt.Errorf("monitor: the brand's OAuth 2.0 token: %w", aerr)
	}
	won, cerr := x.Signals.ClaimSignalAlert(ctx, SignalOAuth2Refused, store.SignalKeyAll, day, now)
	if cerr != nil || !won {
		return "refused", cerr
	}
	notifier := x.Notifier
	if notifier == nil {
		notifier = care.LogNotifier{Log: log}
	}
	alert := care.Alert{Kind: care.AlertXChatAuth, At: now,
		Summary: "X refused to refresh the brand's OAuth 2.0 token, which X Chat needs: sign the brand in again with pajarito x auth (" + err.Error() + ")"}
	if nerr := notifier.Notify(ctx, alert); nerr != nil {
		_, _ = x.Signals.ReleaseSignalAlert(ctx, SignalOAuth2Refused, store.SignalKeyAll, day, now)
		return "refused", fmt.Errorf("monitor: the brand's OAuth 2.0 token: alert: %w", nerr)
	}
	return "refused", nil
}

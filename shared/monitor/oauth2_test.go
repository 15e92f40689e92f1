package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// oauth2Answers answers each Token call with the next error (nil: a token).
type oauth2Answers struct {
	errs  []error
	calls int
}

func (o *oauth2Answers) Token(context.Context) (xapi.OAuth2Token, error) {
	err := o.errs[min(o.calls, len(o.errs)-1)]
	o.calls++
	if err != nil {
		return xapi.OAuth2Token{}, err
	}
	return xapi.OAuth2Token{AccessToken: "a"}, nil
}

// TestMonitorKeepsOAuth2: each run asks for the brand's OAuth 2.0 token (which
// refreshes it when due); a refresh X refuses alerts the team once a day; no
// sign-in is not a fault; a secret that cannot be read fails the run.
func TestMonitorKeepsOAuth2(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	refused := fmt.Errorf("xapi: %w: X answered 400 invalid_request", xapi.ErrOAuth2Refresh)
	st := storetest.New(t)
	clk := testclock.New(day.Add(8 * time.Hour))
	al := &alerts{}
	tok := &oauth2Answers{errs: []error{nil, xapi.ErrOAuth2NotSignedIn, refused, refused, refused, errors.New("AccessDenied")}}
	m := xchatMonitor(st, clk, al)
	m.XChat.OAuth2 = tok
	steps := []struct {
		advance time.Duration
		state   string
		alerts  int
		fails   bool
	}{
		{state: "fresh"},
		{advance: time.Minute, state: "not_signed_in"},
		{advance: time.Minute, state: "refused", alerts: 1},
		{advance: time.Hour, state: "refused", alerts: 1},      // once a day
		{advance: 24 * time.Hour, state: "refused", alerts: 2}, // the next day again
		{advance: time.Minute, fails: true, alerts: 2},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		rep, err := m.Run(t.Context())
		if st.fails != (err != nil) {
			t.Fatalf("run %d: %v, want failed %v", i, err, st.fails)
		}
		if !st.fails && (rep.XChat == nil || rep.XChat.OAuth2 != st.state) {
			t.Errorf("run %d: report %+v, want oauth2 %q", i, rep.XChat, st.state)
		}
		if n := len(al.got); n != st.alerts {
			t.Errorf("run %d: %d alerts, want %d", i, n, st.alerts)
		}
	}
	for _, a := range al.got {
		if a.Kind != care.AlertXChatAuth || !strings.Contains(a.Summary, "pajarito x auth") {
			t.Errorf("alert %+v", a)
		}
	}
}

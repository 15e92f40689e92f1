package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// oauth2Is answers a fixed token or error.
type oauth2Is struct {
	tok xapi.OAuth2Token
	err error
}

func (o oauth2Is) Token(context.Context) (xapi.OAuth2Token, error) { return o.tok, o.err }

func TestXChatCheck(t *testing.T) {
	e := newEnv(t)
	brand := e.c.Config.Brand.ID
	until := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		oauth2 health.OAuth2
		status health.Status
		says   string
		fix    string
	}{
		{"not set up: the check is left out", nil, "", "", ""},
		{"not signed in", oauth2Is{err: fmt.Errorf("xapi: secret s: %w", xapi.ErrOAuth2NotSignedIn)}, health.OK, "has not signed in with OAuth 2.0", ""},
		{"signed in", oauth2Is{tok: xapi.OAuth2Token{AccessToken: "a", UserID: brand, Expiry: until}}, health.OK, "valid until 2026-12-06T21:00:00Z", ""},
		{"refresh refused", oauth2Is{err: fmt.Errorf("xapi: %w: X answered 400 invalid_request", xapi.ErrOAuth2Refresh)}, health.Failure, "refused to refresh", "pajarito x auth"},
		{"another account", oauth2Is{tok: xapi.OAuth2Token{AccessToken: "a", UserID: "1590000000000000999", Expiry: until}}, health.Failure, "not the brand", "as the brand"},
		{"secret unreadable", oauth2Is{err: errors.New("xapi: read the OAuth 2.0 token from secret s: AccessDenied")}, health.Failure, "AccessDenied", "permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.c.OAuth2 = tt.oauth2
			var got *health.Check
			for _, c := range e.c.Run(t.Context()).Checks {
				if c.Name == health.CheckXChat {
					got = &c
				}
			}
			switch {
			case tt.status == "" && got != nil:
				t.Errorf("reported %+v; want the check left out", *got)
			case tt.status == "":
			case got == nil:
				t.Fatal("no x_chat check")
			case got.Status != tt.status || !strings.Contains(got.Summary["en"], tt.says) || got.Summary["es"] == "" ||
				!strings.Contains(got.Fix["en"], tt.fix) || (tt.fix != "" && got.Fix["es"] == ""):
				t.Errorf("check %+v; want %s saying %q, fix with %q", *got, tt.status, tt.says, tt.fix)
			}
		})
	}
}

// TestXChatKeysCheck: the check says whether the X Chat keys Pajarito holds
// are the ones X serves for the brand, and what to do when they are not.
func TestXChatKeysCheck(t *testing.T) {
	e := newEnv(t)
	e.c.OAuth2 = oauth2Is{tok: xapi.OAuth2Token{AccessToken: "a", UserID: e.c.Config.Brand.ID, Expiry: time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)}}
	keys := func(held string, registered []string, err error) health.XChatKeys {
		return func(_ context.Context, token string) (string, []string, error) {
			if token != "a" {
				t.Errorf("the keys are read with token %q, want the brand's", token)
			}
			return held, registered, err
		}
	}
	tests := []struct {
		name   string
		keys   health.XChatKeys
		status health.Status
		says   string
		fix    string
	}{
		{"none held", keys("", nil, nil), health.OK, "has no X Chat keys", ""},
		{"the ones X serves", keys("1787000000000", []string{"1786000000000", "1787000000000"}, nil), health.OK, "(version 1787000000000) are the ones X serves", ""},
		{"newer keys made elsewhere", keys("1787000000000", []string{"1787000000000", "1799000000000"}, nil), health.Failure, "newer than Pajarito's", "--rotate"},
		{"X serves none", keys("1787000000000", nil, nil), health.Failure, "X serves no X Chat keys", "--rotate"},
		{"X unreachable", keys("", nil, errors.New("xapi: GET /2/users/:id/public_keys: no answer from X")), health.Failure, "no answer from X", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.c.XChatKeys = tt.keys
			var got *health.Check
			for _, c := range e.c.Run(t.Context()).Checks {
				if c.Name == health.CheckXChat {
					got = &c
				}
			}
			if got == nil || got.Status != tt.status || !strings.Contains(got.Summary["en"], tt.says) || got.Summary["es"] == "" ||
				!strings.Contains(got.Fix["en"], tt.fix) || (tt.fix != "" && got.Fix["es"] == "") {
				t.Errorf("check %+v; want %s saying %q, fix with %q", got, tt.status, tt.says, tt.fix)
			}
		})
	}
}

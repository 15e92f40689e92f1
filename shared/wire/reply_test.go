package wire_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire/reply"
)

func TestReplySettings(t *testing.T) {
	isolateAWS(t)
	log := slog.New(slog.DiscardHandler)
	env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
	_, err := reply.Build(t.Context(), envOf(env), log)
	for _, v := range []string{settings.EnvTable, settings.EnvOutboundQueue, settings.EnvAlertTopic} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Reply with no settings: err = %v, want it to name %s", err, v)
		}
	}
	for _, v := range []string{settings.EnvTable, settings.EnvOutboundQueue, settings.EnvAlertTopic} {
		env[v] = allVars[v]
	}
	_, err = reply.Build(t.Context(), envOf(env), log)
	for _, v := range []string{"X_API_KEY", "X_ACCESS_TOKEN", settings.EnvXSecretID} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Reply without X credentials: err = %v, want it to name %s", err, v)
		}
	}
	for _, v := range []string{"X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"} {
		env[v] = "local"
	}
	env[settings.EnvXBaseURL] = "http://127.0.0.1:1"
	s, err := reply.Build(t.Context(), envOf(env), log)
	if err != nil {
		t.Fatalf("Reply with every setting: %v", err)
	}
	if s.Store == nil || s.X == nil || s.Finder == nil || s.Engine == nil || s.Notifier == nil || !care.IsID(s.Brand.ID) {
		t.Errorf("sender not fully wired: %+v", s)
	}
	if v, ok := s.Delayer.(*queue.Visibility); !ok || v.URL != allVars[settings.EnvOutboundQueue] {
		t.Errorf("Delayer = %#v; want the outbound queue's visibility", s.Delayer)
	}
}

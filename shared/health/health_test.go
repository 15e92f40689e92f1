package health_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const (
	brandID = "1500000000000000001"
	secret  = "consumer-secret"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// env is a deployment in good health: X accepts the credentials, the webhook is
// registered, valid, answers CRC and gets the brand's activity, the listener read
// a minute ago, nothing is queued, quarantined or failed.
type env struct {
	t       *testing.T
	x       *xfake.Server
	client  *xapi.Client
	st      *store.Store
	hook    *httptest.Server
	hookID  string
	hookKey string // the secret the webhook signs CRC answers with
	depths  []health.QueueDepth
	c       *health.Checker
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, hookKey: secret}
	e.x = xfake.Start()
	t.Cleanup(e.x.Close)
	e.x.SetClock(func() time.Time { return now })
	e.x.SetMe(brandID)
	e.x.SetUser(xfake.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"})
	e.x.SetConsumerSecret(secret)
	e.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("crc_token")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"response_token":"` + xwebhook.CRCResponse([]byte(e.hookKey), token) + `"}`))
	}))
	t.Cleanup(e.hook.Close)
	var err error
	e.client, err = xapi.New(xapi.Credentials{APIKey: "ck", APISecret: secret, AccessToken: brandID + "-at", AccessTokenSecret: "ats", BearerToken: "bt"},
		xapi.Options{Brand: care.Brand{ID: brandID, Handle: "PajaritoAir"}, BaseURL: e.x.URL, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	url := e.hook.URL + "/webhooks/x"
	h, err := e.client.CreateWebhook(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	e.hookID = h.ID
	for _, ev := range []string{xwebhook.EventPostMention, xwebhook.EventDMReceived, xwebhook.EventDMSent} {
		if _, err := e.client.CreateActivitySubscription(t.Context(), xapi.NewActivitySubscription{EventType: ev, Filter: xapi.ActivityFilter{UserID: brandID}, WebhookID: h.ID}); err != nil {
			t.Fatal(err)
		}
	}
	e.st = storetest.New(t)
	e.st.Now = func() time.Time { return now }
	cfg := config.Defaults()
	cfg.Brand.ID, cfg.Brand.Handle = brandID, "PajaritoAir"
	for _, src := range cfg.ListenSources() {
		e.read(src.Name, src.Kind, now.Add(-time.Minute), 0.01)
	}
	e.depths = []health.QueueDepth{{Name: "inbound"}, {Name: "outbound"}, {Name: "inbound", DeadLetter: true}, {Name: "outbound", DeadLetter: true}}
	e.c = &health.Checker{
		Config: cfg, Store: e.st, X: e.client, WebhookURL: url, ConsumerSecret: []byte(secret),
		Queues: func(context.Context) ([]health.QueueDepth, error) { return e.depths, nil },
		Now:    func() time.Time { return now },
	}
	return e
}

// signal counts n occurrences of signal under key at at, as the processor does.
func (e *env) signal(signal, key string, at time.Time, n int) {
	e.t.Helper()
	for range n {
		if err := e.st.AddSignal(e.t.Context(), signal, key, at); err != nil {
			e.t.Fatal(err)
		}
	}
}

// read records a page the listener read from source at.
func (e *env) read(source string, kind config.SourceKind, at time.Time, usd float64) {
	e.t.Helper()
	e.st.Now = func() time.Time { return at }
	defer func() { e.st.Now = func() time.Time { return now } }()
	if err := e.st.AddSpend(e.t.Context(), at, store.SourceSpend{Source: source, Kind: string(kind), Reads: 1, Pages: 1, USD: usd}); err != nil {
		e.t.Fatal(err)
	}
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(e *env)
		check  string
		want   health.Status
		// said and fix are in the check's English summary and fix.
		said, fix string
	}{
		{name: "healthy", check: health.CheckXCredentials, want: health.OK, said: "@PajaritoAir"},
		{"credentials refused", func(e *env) { e.x.AcceptOnly("another-key") },
			health.CheckXCredentials, health.Failure, "rejected the credentials", "X_API_KEY"},
		{"credentials of another account", func(e *env) {
			e.c.Config.Brand.ID = "1500000000000000002"
		}, health.CheckXCredentials, health.Failure, "not for the brand", "PAJARITO_BRAND_ID"},
		{"no credentials", func(e *env) { e.c.X, e.c.XError = nil, errors.New("X_API_KEY is not set") },
			health.CheckWebhook, health.Failure, "X_API_KEY is not set", "X_BEARER_TOKEN"},
		{"access revoked", func(e *env) {
			if err := e.st.SetRevoked(e.t.Context(), care.Revocation{UserID: brandID, RevokedAt: now.Add(-time.Hour)}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckAccount, health.Failure, "revoked", "authorise the app again"},
		{"webhook invalid", func(e *env) { e.x.InvalidateWebhook(e.hookID) },
			health.CheckWebhook, health.Failure, "invalid", "pajarito webhook register --url " + "http"},
		{"webhook not registered", func(e *env) {
			if err := e.client.DeleteWebhook(e.t.Context(), e.hookID); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckWebhook, health.Failure, "no webhook for", "pajarito webhook register"},
		{"CRC signed with another secret", func(e *env) { e.hookKey = "old-secret" },
			health.CheckCRC, health.Failure, "another consumer secret", "X_CONSUMER_SECRET"},
		{"webhook down", func(e *env) { e.hook.Close() },
			health.CheckCRC, health.Failure, "did not answer", "webhook function is deployed"},
		{"no subscription", func(e *env) {
			subs, err := e.client.ActivitySubscriptions(e.t.Context())
			if err != nil {
				e.t.Fatal(err)
			}
			for _, s := range subs {
				if err := e.client.DeleteActivitySubscription(e.t.Context(), s.ID); err != nil {
					e.t.Fatal(err)
				}
			}
		}, health.CheckSubscription, health.Failure, "subscribed to no activity", "pajarito webhook register"},
		{"listener late", func(e *env) {
			e.c.Now = func() time.Time { return now.Add(time.Hour) }
		}, health.CheckListener, health.Warning, "last read 1h", "listen function"},
		{"listener rate limited", func(e *env) {
			if err := e.st.SetBackoff(e.t.Context(), store.Backoff{Endpoint: string(config.KindMentions), Until: now.Add(10 * time.Minute), Reason: "429"}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckListener, health.Warning, "waits for X's rate limit", "resumes"},
		{"budget nearly spent", func(e *env) { e.read("mentions", config.KindMentions, now, 0.85*e.c.Config.XBudget.MonthlyUSD) },
			health.CheckBudget, health.Warning, "budget", "x_budget.monthly_usd"},
		{"budget spent", func(e *env) { e.read("mentions", config.KindMentions, now, e.c.Config.XBudget.MonthlyUSD) },
			health.CheckBudget, health.Failure, "keyword", "PAJARITO_X_BUDGET_USD"},
		{"inbound backlog", func(e *env) { e.depths[0].Messages = health.QueueWarning + 1 },
			health.CheckQueues, health.Warning, "inbound 501 waiting", "fall behind"},
		{"dead letters", func(e *env) { e.depths[3].Messages = 2 },
			health.CheckDeadLetters, health.Failure, "outbound dead-letter queue holds 2", "pajarito dlq redrive --queue outbound"},
		{"both dead-letter queues", func(e *env) { e.depths[2].Messages, e.depths[3].InFlight = 1, 1 },
			health.CheckDeadLetters, health.Failure, "inbound dead-letter", "pajarito dlq redrive --queue all"},
		{"queues unreadable", func(e *env) {
			e.c.Queues = func(context.Context) ([]health.QueueDepth, error) { return nil, errors.New("AccessDenied") }
		}, health.CheckDeadLetters, health.Failure, "AccessDenied", "permissions"},
		{"quarantined", func(e *env) {
			if _, err := e.st.Quarantine(e.t.Context(), store.Quarantined{SQSMessageID: "m-1", Body: "{", Problem: "not JSON"}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckQuarantine, health.Warning, "not JSON", "pajarito quarantine retry"},
		{"ignored events", func(e *env) {
			e.signal(store.SignalIgnoredEvent, "like.create", now.Add(-time.Hour), 10)
			e.signal(store.SignalIgnoredEvent, "profile.update", now.AddDate(0, 0, -6), 2)
			e.signal(store.SignalIgnoredEvent, "follow.create", now.AddDate(0, 0, -7), 5) // too old
		}, health.CheckUnhandled, health.Warning,
			"events of types Pajarito does not handle, delivered by X in the last 7 days: like.create 10, profile.update 2 (12 in all)", "pajarito webhook list"},
		{"unread X Chat messages", func(e *env) { e.signal(store.SignalUnreadChat, store.SignalKeyAll, now.Add(-48*time.Hour), 3) },
			health.CheckUnhandled, health.Warning, "encrypted X Chat messages that arrived in the last 7 days and could not be read: 3", "answer the X Chat messages in X's app"},
		{"both", func(e *env) {
			e.signal(store.SignalUnreadChat, store.SignalKeyAll, now, 1)
			e.signal(store.SignalIgnoredEvent, "like.create", now, 1)
		}, health.CheckUnhandled, health.Warning, "like.create 1 (1 in all); encrypted X Chat messages", "open an issue; answer the X Chat messages"},
		{"old signals", func(e *env) {
			e.signal(store.SignalUnreadChat, store.SignalKeyAll, now.AddDate(0, 0, -7), 1)
			e.signal(store.SignalIgnoredEvent, "like.create", now.AddDate(0, 0, -8), 1)
		}, health.CheckUnhandled, health.OK, "nothing Pajarito could not handle in the last 7 days", ""},
		{"reply failed", func(e *env) {
			if err := e.st.RecordReplyIssue(e.t.Context(), store.ReplyIssue{CaseID: "t1", Key: "k", State: care.ReplyFailed, At: now.Add(-time.Hour)}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckReplies, health.Warning, "1 replies failed (cases t1)", "console"},
		{"reply unknown", func(e *env) {
			if err := e.st.RecordReplyIssue(e.t.Context(), store.ReplyIssue{CaseID: "t2", Key: "k", State: care.ReplyUnknown, At: now.Add(-time.Hour)}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckReplies, health.Failure, "may not have been sent (cases t2)", "only if it is missing"},
		{"old reply issue", func(e *env) {
			if err := e.st.RecordReplyIssue(e.t.Context(), store.ReplyIssue{CaseID: "t3", Key: "k", State: care.ReplyUnknown, At: now.Add(-health.ReplyIssueWindow - time.Hour)}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckReplies, health.OK, "no reply failed", ""},
		{"crisis", func(e *env) {
			if _, err := e.st.OpenCrisis(e.t.Context(), care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: now.Add(-time.Hour), OpenedBy: "ana"}); err != nil {
				e.t.Fatal(err)
			}
		}, health.CheckCrises, health.Warning, "delays", "close it"},
		{"alarm", func(e *env) {
			e.c.Alarms = func(context.Context) ([]string, error) { return []string{"pajarito-inbound-dlq-not-empty"}, nil }
		}, health.CheckAlarms, health.Failure, "pajarito-inbound-dlq-not-empty", "CloudWatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.break_ != nil {
				tt.break_(e)
			}
			rep := e.c.Run(t.Context())
			var got *health.Check
			for i, c := range rep.Checks {
				if c.Name == tt.check {
					got = &rep.Checks[i]
				}
				if c.Summary["en"] == "" || c.Summary["es"] == "" {
					t.Errorf("check %s has no summary in both languages: %+v", c.Name, c.Summary)
				}
				if c.Status != health.OK && (c.Fix["en"] == "" || c.Fix["es"] == "") {
					t.Errorf("check %s is %s without a fix in both languages", c.Name, c.Status)
				}
				if tt.break_ == nil && c.Status != health.OK {
					t.Errorf("healthy: %s is %s: %s", c.Name, c.Status, c.Summary["en"])
				}
			}
			if got == nil {
				t.Fatalf("no %s check in %+v", tt.check, rep.Checks)
			}
			if got.Status != tt.want || !strings.Contains(got.Summary["en"], tt.said) || !strings.Contains(got.Fix["en"], tt.fix) {
				t.Errorf("%s = %s %q, fix %q; want %s saying %q, fix with %q", tt.check, got.Status, got.Summary["en"], got.Fix["en"], tt.want, tt.said, tt.fix)
			}
			worst := health.OK
			for _, c := range rep.Checks {
				if c.Status == health.Failure || (c.Status == health.Warning && worst == health.OK) {
					worst = c.Status
				}
			}
			if rep.Status != worst || !rep.CheckedAt.Equal(e.c.Now()) {
				t.Errorf("report status %s at %s; want %s at %s", rep.Status, rep.CheckedAt, worst, e.c.Now())
			}
		})
	}
}

// TestEveryCheck: a healthy deployment reports each check once, in order.
func TestEveryCheck(t *testing.T) {
	e := newEnv(t)
	e.c.Alarms = func(context.Context) ([]string, error) { return nil, nil }
	rep := e.c.Run(t.Context())
	want := []string{health.CheckXCredentials, health.CheckAccount, health.CheckWebhook, health.CheckCRC, health.CheckSubscription,
		health.CheckListener, health.CheckBudget, health.CheckQueues, health.CheckDeadLetters, health.CheckQuarantine,
		health.CheckUnhandled, health.CheckReplies, health.CheckCrises, health.CheckAlarms}
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || rep.Status != health.OK {
		t.Errorf("checks %v (%s), want %v ok", got, rep.Status, want)
	}
}

// TestUnhandledInSpanish: the unhandled check's findings in Spanish.
func TestUnhandledInSpanish(t *testing.T) {
	e := newEnv(t)
	e.signal(store.SignalIgnoredEvent, "profile.update", now, 2)
	e.signal(store.SignalIgnoredEvent, "like.create", now, 10)
	e.signal(store.SignalUnreadChat, store.SignalKeyAll, now, 4)
	for _, c := range e.c.Run(t.Context()).Checks {
		if c.Name != health.CheckUnhandled {
			continue
		}
		for _, want := range []string{"eventos de tipos que Pajarito no trata, entregados por X en los últimos 7 días: like.create 10, profile.update 2 (12 en total)",
			"mensajes cifrados de X Chat llegados en los últimos 7 días que no se pudieron leer: 4"} {
			if !strings.Contains(c.Summary["es"], want) {
				t.Errorf("summary %q, want it to say %q", c.Summary["es"], want)
			}
		}
		if !strings.Contains(c.Fix["es"], "abra una incidencia") || !strings.Contains(c.Fix["es"], "responda los mensajes de X Chat en la app de X") {
			t.Errorf("fix %q", c.Fix["es"])
		}
		return
	}
	t.Error("no unhandled check")
}

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

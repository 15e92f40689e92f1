package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/wire/webhook"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const (
	whBrandID   = "1590000000000000001" // pajarito.json's brand.id
	whOtherID   = "1862954300111222333"
	whAppSecret = "app-consumer-secret"
)

// webhookEnv is a fake X and a stack's webhook, the same handler the webhook
// function serves, so that X's CRC check really goes through it.
type webhookEnv struct {
	fake *xfake.Server
	url  string // the stack's WebhookUrl
}

// startWebhookEnv starts the fake X (the app's consumer secret whAppSecret) and a
// stack whose webhook key is stackSecret, and sets the environment the CLI reads:
// the app's credentials, pointed at the fake.
func startWebhookEnv(t *testing.T, stackSecret string) *webhookEnv {
	t.Helper()
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetConsumerSecret(whAppSecret)
	cfg := &config.Config{Brand: care.Brand{ID: whBrandID, Handle: "PajaritoAir"}}
	queue := xwebhook.EnqueuerFunc(func(context.Context, []care.Envelope) error { return nil })
	stack := httptest.NewServer(boot.Routes(webhook.Handler(cfg.Brand, []byte(stackSecret), queue, slog.New(slog.DiscardHandler)), nil, nil, "", boot.Clock{}))
	t.Cleanup(stack.Close)

	for k, v := range map[string]string{
		settings.EnvXBaseURL:    fake.URL,
		"X_API_KEY":             "ck",
		"X_API_SECRET":          whAppSecret,
		"X_ACCESS_TOKEN":        whBrandID + "-token",
		"X_ACCESS_TOKEN_SECRET": "ats",
		"X_BEARER_TOKEN":        "AAAA",
		"X_CONSUMER_SECRET":     "",
		settings.EnvXSecretID:   "",
		settings.EnvLogLevel:    "",
		"PAJARITO_BRAND_ID":     "",
		"PAJARITO_BRAND_HANDLE": "",
	} {
		t.Setenv(k, v)
	}
	return &webhookEnv{fake: fake, url: stack.URL + "/webhooks/x"}
}

// cli runs `pajarito webhook args...` and returns its output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"webhook"}, args...), &out, &out)
	return out.String(), err
}

func TestWebhookRegisterTwice(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	t.Chdir("../..") // the brand comes from the repository's pajarito.json

	out, err := cli(t, "register", "--url", e.url, "--api", "both")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	hooks := e.fake.Webhooks()
	if len(hooks) != 1 || hooks[0].URL != e.url || !hooks[0].Valid {
		t.Fatalf("webhooks at X: %+v", hooks)
	}
	var events []string
	for _, s := range e.fake.ActivitySubscriptions() {
		if s.UserID != whBrandID || s.WebhookID != hooks[0].ID || s.Tag != subscriptionTag {
			t.Errorf("subscription %+v: want the brand's, on the webhook, tagged %q", s, subscriptionTag)
		}
		events = append(events, s.EventType)
	}
	if !slices.Equal(events, xaaEvents) {
		t.Errorf("subscribed to %v, want %v", events, xaaEvents)
	}
	if got := e.fake.AccountActivitySubscribers(hooks[0].ID); !slices.Equal(got, []string{whBrandID}) {
		t.Errorf("Account Activity subscribers = %v", got)
	}
	for _, want := range []string{"@PajaritoAir (user " + whBrandID + ")", "webhook " + hooks[0].ID, fmt.Sprintf("Done: %d created, 0 reused.", len(xaaEvents)+2), "Next: mention @PajaritoAir"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run's output lacks %q:\n%s", want, out)
		}
	}

	out, err = cli(t, "register", "--url", e.url, "--api", "both")
	if err != nil {
		t.Fatalf("second register: %v\n%s", err, out)
	}
	if !strings.Contains(out, fmt.Sprintf("Done: 0 created, %d reused.", len(xaaEvents)+2)) || strings.Contains(out, " created ") {
		t.Errorf("second run did not reuse everything:\n%s", out)
	}
	for endpoint, want := range map[string]int{
		xapi.EndpointCreateWebhook:              1,
		xapi.EndpointValidateWebhook:            0,
		xapi.EndpointCreateActivitySubscription: len(xaaEvents),
		xapi.EndpointAccountActivitySubscribe:   1,
	} {
		if got := e.fake.Calls(endpoint); got != want {
			t.Errorf("Calls(%s) = %d after two runs, want %d", endpoint, got, want)
		}
	}
	if n := len(e.fake.ActivitySubscriptions()); n != len(xaaEvents) || len(e.fake.Webhooks()) != 1 {
		t.Errorf("after two runs: %d subscriptions, %d webhooks", n, len(e.fake.Webhooks()))
	}
}

func TestWebhookRegisterRevalidates(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	h := e.fake.AddWebhook(e.url, false) // X marked it invalid after a failed hourly check

	out, err := cli(t, "register", "--url", e.url, "--user-id", whBrandID, "--dry-run")
	if err != nil || !strings.Contains(out, "would check") || e.fake.Calls(xapi.EndpointValidateWebhook) != 0 {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	out, err = cli(t, "register", "--url", e.url, "--user-id", whBrandID)
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	if !strings.Contains(out, "webhook "+h.ID) || !strings.Contains(out, "revalidated") {
		t.Errorf("output:\n%s", out)
	}
	if got := e.fake.Webhooks(); len(got) != 1 || !got[0].Valid {
		t.Errorf("webhooks at X: %+v; want the one, valid again", got)
	}
	if e.fake.Calls(xapi.EndpointValidateWebhook) != 1 || e.fake.Calls(xapi.EndpointCreateWebhook) != 0 {
		t.Errorf("validate calls %d, create calls %d; want 1, 0",
			e.fake.Calls(xapi.EndpointValidateWebhook), e.fake.Calls(xapi.EndpointCreateWebhook))
	}
}

func TestWebhookRegisterLimitReached(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	old := e.fake.AddWebhook("https://old.example.com/webhooks/x", true)

	out, err := cli(t, "register", "--url", e.url, "--user-id", whBrandID)
	if err == nil {
		t.Fatalf("register succeeded past the webhook limit:\n%s", out)
	}
	for _, want := range []string{"WebhookLimitExceeded", old.ID + "  valid    https://old.example.com/webhooks/x",
		"pajarito webhook delete " + old.ID, "pajarito webhook list", "run this command again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if len(e.fake.Webhooks()) != 1 || len(e.fake.ActivitySubscriptions()) != 0 {
		t.Errorf("a refused registration left %+v %+v", e.fake.Webhooks(), e.fake.ActivitySubscriptions())
	}

	// Following the advice works.
	if out, err := cli(t, "delete", "--user-id", whBrandID, old.ID); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if out, err := cli(t, "register", "--url", e.url, "--user-id", whBrandID); err != nil {
		t.Fatalf("register after the delete: %v\n%s", err, out)
	}
	if got := e.fake.Webhooks(); len(got) != 1 || got[0].URL != e.url {
		t.Errorf("webhooks = %+v", got)
	}
}

func TestWebhookRegisterCRCFailures(t *testing.T) {
	statusServer := func(status int) string {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"Internal Server Error"}`, status)
		}))
		t.Cleanup(hs.Close)
		return hs.URL + "/webhooks/x"
	}
	tests := []struct {
		name        string
		stackSecret string
		localSecret string // X_API_SECRET: what this command checks with
		url         func(e *webhookEnv) string
		reachesX    bool // the command's own check passes; X's fails
		want        []string
	}{
		{
			name:        "stack's key is not the app's",
			stackSecret: "stack-placeholder-secret",
			localSecret: whAppSecret,
			want:        []string{"another key than the app's consumer secret", "X_API_SECRET", "webhook secret must match the app's consumer secret", "put-secret-value"},
		},
		{
			name:        "X's app has another consumer secret",
			stackSecret: "old-consumer-secret",
			localSecret: "old-consumer-secret",
			reachesX:    true,
			want:        []string{"X's CRC check failed", "CrcValidationFailed", "webhook secret must match the app's consumer secret"},
		},
		{
			name:        "webhook function cannot start",
			stackSecret: whAppSecret,
			localSecret: whAppSecret,
			url:         func(*webhookEnv) string { return statusServer(http.StatusInternalServerError) },
			want:        []string{"500 Internal Server Error", "placeholder"},
		},
		{
			name:        "not the webhook route",
			stackSecret: whAppSecret,
			localSecret: whAppSecret,
			url:         func(e *webhookEnv) string { return strings.TrimSuffix(e.url, "/webhooks/x") + "/v1/cases" },
			want:        []string{"404", "ending in /webhooks/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startWebhookEnv(t, tt.stackSecret)
			t.Setenv("X_API_SECRET", tt.localSecret)
			target := e.url
			if tt.url != nil {
				target = tt.url(e)
			}
			out, err := cli(t, "register", "--url", target, "--user-id", whBrandID)
			if err == nil {
				t.Fatalf("register succeeded:\n%s", out)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if got := e.fake.Calls(xapi.EndpointCreateWebhook) > 0; got != tt.reachesX {
				t.Errorf("reached X: %v, want %v", got, tt.reachesX)
			}
			if len(e.fake.Webhooks()) != 0 || len(e.fake.ActivitySubscriptions()) != 0 {
				t.Errorf("a failed registration left state at X")
			}
		})
	}
}

func TestWebhookCredentials(t *testing.T) {
	tests := []struct {
		name  string
		unset []string
		want  []string
	}{
		{"no bearer token", []string{"X_BEARER_TOKEN"}, []string{"X_BEARER_TOKEN", "Bearer token", "app-only"}},
		{"no API key", []string{"X_API_KEY"}, []string{"X_API_KEY is not set", settings.EnvXSecretID}},
		{"nothing", []string{"X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET", "X_BEARER_TOKEN"},
			[]string{"X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET", settings.EnvXSecretID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startWebhookEnv(t, whAppSecret)
			for _, k := range tt.unset {
				t.Setenv(k, "")
			}
			for _, cmd := range [][]string{
				{"register", "--user-id", whBrandID, "--url", e.url},
				{"list", "--user-id", whBrandID},
				{"delete", "--user-id", whBrandID, "42"},
			} {
				out, err := cli(t, cmd...)
				if err == nil {
					t.Fatalf("%s succeeded:\n%s", cmd[0], out)
				}
				for _, want := range tt.want {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error lacks %q: %v", cmd[0], want, err)
					}
				}
			}
			if len(e.fake.Webhooks()) != 0 {
				t.Errorf("webhooks at X: %+v", e.fake.Webhooks())
			}
		})
	}
}

func TestWebhookFlags(t *testing.T) {
	startWebhookEnv(t, whAppSecret)
	tests := []struct {
		name string
		args []string
		toX  bool // X_API_BASE_URL unset: the real X's rules
		want string
	}{
		{"no URL", []string{"register", "--user-id", whBrandID}, false, "--url is required"},
		{"not a URL", []string{"register", "--url", "ftp://example.com/x", "--user-id", whBrandID}, false, "--url"},
		{"http to X", []string{"register", "--url", "http://example.com/webhooks/x", "--user-id", whBrandID}, true, "X only registers https URLs without a port"},
		{"port to X", []string{"register", "--url", "https://example.com:8443/webhooks/x", "--user-id", whBrandID}, true, "without a port"},
		{"bad API", []string{"register", "--url", "https://example.com/webhooks/x", "--api", "v1"}, false, `--api "v1"`},
		{"bad user id", []string{"register", "--url", "https://example.com/webhooks/x", "--user-id", "@PajaritoAir"}, false, "--user-id"},
		{"stray argument", []string{"register", "https://example.com/webhooks/x"}, false, "unexpected argument"},
		{"unknown command", []string{"add"}, false, `unknown command "add"`},
		{"delete without id", []string{"delete", "--user-id", whBrandID}, false, "give one webhook id"},
		{"delete bad id", []string{"delete", "--user-id", whBrandID, "abc"}, false, `"abc" is not a webhook id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.toX {
				t.Setenv(settings.EnvXBaseURL, "")
			}
			out, err := cli(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q\n%s", err, tt.want, out)
			}
		})
	}
}

func TestWebhookDryRun(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	out, err := cli(t, "register", "--url", e.url, "--user-id", whBrandID, "--api", "both", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if n := strings.Count(out, "would create"); n != 2+len(xaaEvents) {
		t.Errorf("%d items would be created, want %d:\n%s", n, 2+len(xaaEvents), out)
	}
	if !strings.Contains(out, "CRC check") || !strings.Contains(out, "Run again without --dry-run") {
		t.Errorf("output:\n%s", out)
	}
	if len(e.fake.Webhooks()) != 0 || len(e.fake.ActivitySubscriptions()) != 0 ||
		e.fake.Calls(xapi.EndpointCreateWebhook)+e.fake.Calls(xapi.EndpointCreateActivitySubscription) != 0 {
		t.Errorf("a dry run changed X")
	}
}

// TestWebhookListDeleteAndReRegister deletes the webhook, as the limit error
// advises, and registers a new one: the X Activity subscriptions left on the
// deleted webhook are replaced, not duplicated.
func TestWebhookListDeleteAndReRegister(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	if out, err := cli(t, "register", "--url", e.url, "--user-id", whBrandID, "--api", "both"); err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	id := e.fake.Webhooks()[0].ID

	out, err := cli(t, "list", "--user-id", whBrandID)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	want := []string{"webhook " + id + "  valid", e.url, "aaa all activity"}
	for _, ev := range xaaEvents {
		want = append(want, "xaa "+ev)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("list lacks %q:\n%s", w, out)
		}
	}

	out, err = cli(t, "delete", "--user-id", whBrandID, id)
	if err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Deleted webhook "+id) || !strings.Contains(out, fmt.Sprintf("%d X Activity API subscription(s) still name it", len(xaaEvents))) {
		t.Errorf("delete output:\n%s", out)
	}
	if _, err := cli(t, "delete", "--user-id", whBrandID, id); err == nil || !strings.Contains(err.Error(), "has no webhook "+id) {
		t.Errorf("deleting it again: %v", err)
	}
	out, _ = cli(t, "list", "--user-id", whBrandID)
	if !strings.Contains(out, "The app has no webhook") || !strings.Contains(out, "on no webhook of the app") {
		t.Errorf("list after delete:\n%s", out)
	}

	out, err = cli(t, "register", "--url", e.url, "--user-id", whBrandID, "--api", "both")
	if err != nil {
		t.Fatalf("register again: %v\n%s", err, out)
	}
	hooks := e.fake.Webhooks()
	if len(hooks) != 1 || hooks[0].ID == id {
		t.Fatalf("webhooks = %+v", hooks)
	}
	if n := strings.Count(out, "replaced"); n != len(xaaEvents) {
		t.Errorf("%d subscriptions replaced, want %d:\n%s", n, len(xaaEvents), out)
	}
	subs := e.fake.ActivitySubscriptions()
	if len(subs) != len(xaaEvents) {
		t.Errorf("%d subscriptions at X, want %d", len(subs), len(xaaEvents))
	}
	for _, s := range subs {
		if s.WebhookID != hooks[0].ID {
			t.Errorf("subscription %s still on webhook %s", s.ID, s.WebhookID)
		}
	}
	if got := e.fake.AccountActivitySubscribers(hooks[0].ID); !slices.Equal(got, []string{whBrandID}) {
		t.Errorf("Account Activity subscribers = %v", got)
	}
}

// TestWebhookRegisterPartialFailure subscribes another account than the one the
// access token belongs to: X refuses its private events, register says which and
// fails, and keeps what it could do.
func TestWebhookRegisterPartialFailure(t *testing.T) {
	e := startWebhookEnv(t, whAppSecret)
	out, err := cli(t, "register", "--url", e.url, "--user-id", whOtherID)
	if err == nil || !strings.Contains(err.Error(), "item(s) failed") || !strings.Contains(err.Error(), "xaa "+xwebhook.EventDMReceived) {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.Contains(out, "FAILED") || !strings.Contains(out, "403") {
		t.Errorf("output does not show the refusals:\n%s", out)
	}
	var events []string
	for _, s := range e.fake.ActivitySubscriptions() {
		events = append(events, s.EventType)
	}
	if !slices.Equal(events, []string{xwebhook.EventPostCreate, xwebhook.EventPostDelete}) {
		t.Errorf("subscribed %v; want the public events only", events)
	}
}

// TestXAAEventsAreParsed checks that every event register subscribes to is one
// the webhook understands, not one it ignores.
func TestXAAEventsAreParsed(t *testing.T) {
	brand := care.Brand{ID: whBrandID, Handle: "PajaritoAir"}
	for _, ev := range xaaEvents {
		body := fmt.Sprintf(`{"data":{"event_uuid":"1","event_type":%q,"filter":{"user_id":%q},"payload":{"user_id":%q}}}`, ev, whBrandID, whBrandID)
		res, err := xwebhook.Parse([]byte(body), brand, time.Now())
		if err != nil {
			t.Errorf("%s: %v", ev, err)
			continue
		}
		if slices.Contains(res.Ignored, ev) {
			t.Errorf("register subscribes to %s, which the webhook ignores", ev)
		}
	}
	if slices.Contains(xaaEvents, xwebhook.EventPostRepost) {
		t.Errorf("reposts are dropped by the webhook: subscribing to them pays for nothing")
	}
}

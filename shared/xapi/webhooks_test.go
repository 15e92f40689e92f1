package xapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// withBearer is testCreds plus the app's bearer token, which webhook management
// needs.
func withBearer() xapi.Credentials {
	c := testCreds
	c.BearerToken = "AAAA-SECRET-VALUE-5"
	return c
}

// webhookStack starts a webhook endpoint answering X's CRC with secret, as the
// stack's webhook function does.
func webhookStack(t *testing.T, secret string) string {
	t.Helper()
	hs := httptest.NewServer(&xwebhook.Handler{Secret: []byte(secret)})
	t.Cleanup(hs.Close)
	return hs.URL + "/webhooks/x"
}

func TestWebhookLifecycle(t *testing.T) {
	e := setup(t, withBearer())
	e.fake.SetConsumerSecret(testCreds.APISecret)
	url := webhookStack(t, testCreds.APISecret)
	ctx := t.Context()

	w, err := e.client.CreateWebhook(ctx, url)
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	if w.ID == "" || w.URL != url || !w.Valid || !w.CreatedAt.Equal(t0) {
		t.Errorf("created %+v", w)
	}
	if _, auth := e.rec.last(); !strings.HasPrefix(auth, "Bearer ") {
		t.Errorf("POST /2/webhooks authenticated with %q, want the app's bearer token", auth)
	}
	hooks, err := e.client.Webhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0] != *w {
		t.Fatalf("Webhooks = %+v, %v; want the created one", hooks, err)
	}

	e.fake.InvalidateWebhook(w.ID)
	if valid, err := e.client.ValidateWebhook(ctx, w.ID); err != nil || !valid {
		t.Errorf("ValidateWebhook = %v, %v; want true", valid, err)
	}
	if got := e.fake.Webhooks(); !got[0].Valid {
		t.Errorf("the fake's webhook is still invalid")
	}

	sub, err := e.client.CreateActivitySubscription(ctx, xapi.NewActivitySubscription{
		EventType: xwebhook.EventPostMention, Filter: xapi.ActivityFilter{UserID: brandID}, WebhookID: w.ID, Tag: "pajarito",
	})
	if err != nil {
		t.Fatalf("CreateActivitySubscription: %v", err)
	}
	if sub.ID == "" || sub.EventType != xwebhook.EventPostMention || sub.Filter.UserID != brandID || sub.WebhookID != w.ID || sub.Tag != "pajarito" {
		t.Errorf("subscription %+v", sub)
	}
	if _, auth := e.rec.last(); !strings.HasPrefix(auth, "OAuth ") {
		t.Errorf("subscribing to a private event authenticated with %q, want the brand's OAuth 1.0a", auth)
	}
	subs, err := e.client.ActivitySubscriptions(ctx)
	if err != nil || len(subs) != 1 || subs[0].ID != sub.ID || subs[0].WebhookID != w.ID {
		t.Errorf("ActivitySubscriptions = %+v, %v", subs, err)
	}

	if ok, err := e.client.AccountActivitySubscribed(ctx, w.ID); err != nil || ok {
		t.Errorf("AccountActivitySubscribed before = %v, %v", ok, err)
	}
	for i, want := range []bool{true, false} {
		if created, err := e.client.SubscribeAccountActivity(ctx, w.ID); err != nil || created != want {
			t.Errorf("SubscribeAccountActivity #%d = %v, %v; want %v (the second is already subscribed)", i+1, created, err, want)
		}
	}
	if ok, err := e.client.AccountActivitySubscribed(ctx, w.ID); err != nil || !ok {
		t.Errorf("AccountActivitySubscribed after = %v, %v", ok, err)
	}
	if users, err := e.client.AccountActivitySubscribers(ctx, w.ID); err != nil || !slices.Equal(users, []string{brandID}) {
		t.Errorf("AccountActivitySubscribers = %v, %v", users, err)
	}

	if err := e.client.DeleteActivitySubscription(ctx, sub.ID); err != nil {
		t.Errorf("DeleteActivitySubscription: %v", err)
	}
	if err := e.client.DeleteWebhook(ctx, w.ID); err != nil {
		t.Errorf("DeleteWebhook: %v", err)
	}
	if len(e.fake.Webhooks()) != 0 || len(e.fake.ActivitySubscriptions()) != 0 {
		t.Errorf("left at X: %+v %+v", e.fake.Webhooks(), e.fake.ActivitySubscriptions())
	}
}

func TestWebhookErrors(t *testing.T) {
	tests := []struct {
		name       string
		creds      xapi.Credentials
		prepare    func(t *testing.T, e *env) string // returns the URL to register
		wantReason string
		wantText   []string
	}{
		{
			name:       "CRC answered with another key",
			creds:      withBearer(),
			prepare:    func(t *testing.T, e *env) string { return webhookStack(t, "the stack's other secret") },
			wantReason: xapi.ReasonCRCFailed,
			wantText:   []string{"400 Bad Request", "CrcValidationFailed: Invalid response_token"},
		},
		{
			name:  "limit reached",
			creds: withBearer(),
			prepare: func(t *testing.T, e *env) string {
				e.fake.AddWebhook("https://old.example.com/webhooks/x", true)
				return webhookStack(t, testCreds.APISecret)
			},
			wantReason: xapi.ReasonWebhookLimit,
			wantText:   []string{"WebhookLimitExceeded"},
		},
		{
			name:       "URL not https",
			creds:      withBearer(),
			prepare:    func(*testing.T, *env) string { return "http://example.com/webhooks/x" },
			wantReason: xapi.ReasonURLInvalid,
		},
		{
			name:     "no bearer token in the environment",
			creds:    testCreds,
			prepare:  func(t *testing.T, e *env) string { return webhookStack(t, testCreds.APISecret) },
			wantText: []string{"X_BEARER_TOKEN", "Bearer token", "POST /2/webhooks"},
		},
		{
			name: "no bearer token in the secret",
			creds: func() xapi.Credentials {
				c := testCreds
				c.Source = "secret pajarito/x"
				return c
			}(),
			prepare:  func(t *testing.T, e *env) string { return webhookStack(t, testCreds.APISecret) },
			wantText: []string{`"bearer_token" in secret "pajarito/x"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.creds)
			e.fake.SetConsumerSecret(testCreds.APISecret)
			_, err := e.client.CreateWebhook(t.Context(), tt.prepare(t, e))
			if err == nil {
				t.Fatal("CreateWebhook succeeded")
			}
			if got := xapi.Reason(err); got != tt.wantReason {
				t.Errorf("Reason = %q, want %q (%v)", got, tt.wantReason, err)
			}
			if tt.wantReason == "" && !errors.Is(err, xapi.ErrNoBearerToken) {
				t.Errorf("error does not wrap ErrNoBearerToken: %v", err)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			if strings.Contains(err.Error(), "SECRET-VALUE") {
				t.Errorf("error shows a credential: %v", err)
			}
			if n := len(e.fake.Webhooks()); n > 1 || n == 1 && tt.wantReason != xapi.ReasonWebhookLimit {
				t.Errorf("webhooks at X after a failure: %+v", e.fake.Webhooks())
			}
		})
	}

	e := setup(t, withBearer())
	for name, call := range map[string]func() error{
		"ValidateWebhook":            func() error { _, err := e.client.ValidateWebhook(t.Context(), "../x"); return err },
		"DeleteWebhook":              func() error { return e.client.DeleteWebhook(t.Context(), "") },
		"DeleteActivitySubscription": func() error { return e.client.DeleteActivitySubscription(t.Context(), "1 2") },
		"SubscribeAccountActivity":   func() error { _, err := e.client.SubscribeAccountActivity(t.Context(), "abc"); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "is not a decimal X id") {
			t.Errorf("%s with a bad id: %v", name, err)
		}
	}
	if n := e.fake.Calls(xapi.EndpointValidateWebhook) + e.fake.Calls(xapi.EndpointDeleteWebhook); n != 0 {
		t.Errorf("bad ids reached X %d times", n)
	}
}

// TestWebhookAnswerShapes reads the other shapes X's documents give for the same
// answers.
func TestWebhookAnswerShapes(t *testing.T) {
	const sub = `{"subscription_id":"1976325569252868096","event_type":"dm.received","filter":{"user_id":"` + brandID + `"},"webhook_id":"77","created_at":"2025-10-09T16:35:08.000Z","updated_at":"2025-10-09T16:35:08.000Z"}`
	answers := map[string]string{
		"POST /2/webhooks":               "{\"id\":\"77\",\"url\":\"https://example.com/webhooks/x\",\"valid\":true,\"created_at\":\"2025-01-15T12:00:00.000Z\"}",
		"PUT /2/webhooks/77":             `{"data":{"attempted":true}}`,
		"GET /2/webhooks":                `{"data":[{"id":"77","url":"https://example.com/webhooks/x","valid":false,"created_at":"2025-01-15T12:00:00.000Z"}],"meta":{"result_count":1}}`,
		"POST /2/activity/subscriptions": "",
		"GET /2/account_activity/webhooks/77/subscriptions/all": "",
	}
	var subAnswer string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		body, ok := answers[key]
		switch {
		case !ok:
			http.NotFound(w, r)
		case key == "GET /2/account_activity/webhooks/77/subscriptions/all":
			w.WriteHeader(http.StatusNoContent)
		case key == "POST /2/activity/subscriptions":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, subAnswer)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(hs.Close)
	c, err := xapi.New(withBearer(), xapi.Options{Brand: brand, BaseURL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	w, err := c.CreateWebhook(ctx, "https://example.com/webhooks/x")
	if err != nil || w.ID != "77" || !w.Valid || !w.CreatedAt.Equal(time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("unwrapped create answer: %+v, %v", w, err)
	}
	if valid, err := c.ValidateWebhook(ctx, "77"); err != nil || valid {
		t.Errorf("ValidateWebhook after {attempted:true} with the list saying invalid = %v, %v; want false", valid, err)
	}
	for _, shape := range []string{`{"data":` + sub + `}`, `{"data":[` + sub + `],"meta":{"total_subscriptions":1}}`, `{"data":{"subscription":` + sub + `}}`} {
		subAnswer = shape
		got, err := c.CreateActivitySubscription(ctx, xapi.NewActivitySubscription{EventType: "dm.received", Filter: xapi.ActivityFilter{UserID: brandID}, WebhookID: "77"})
		if err != nil || got.ID != "1976325569252868096" || got.WebhookID != "77" || got.Filter.UserID != brandID {
			t.Errorf("answer %s: %+v, %v", shape, got, err)
		}
	}
	subAnswer = `{"data":{}}`
	if _, err := c.CreateActivitySubscription(ctx, xapi.NewActivitySubscription{EventType: "dm.received"}); err == nil || !strings.Contains(err.Error(), "no subscription_id") {
		t.Errorf("answer without an id: %v", err)
	}
	if ok, err := c.AccountActivitySubscribed(ctx, "77"); err != nil || !ok {
		t.Errorf("204 = %v, %v; want subscribed", ok, err)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&xapi.APIError{StatusCode: 400, Messages: []string{"CrcValidationFailed: Invalid response_token."}}, "CrcValidationFailed"},
		{fmt.Errorf("registering: %w", &xapi.APIError{StatusCode: 400, Messages: []string{"WebhookLimitExceeded: max 1"}}), "WebhookLimitExceeded"},
		{&xapi.APIError{StatusCode: 400, Messages: []string{"The `url` field is required"}}, ""},
		{&xapi.APIError{StatusCode: 403, Messages: []string{"Forbidden: private event"}}, ""},
		{errors.New("CrcValidationFailed: not an API error"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := xapi.Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

package xfake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const appSecret = "app-consumer-secret"

// stack starts a webhook endpoint answering X's CRC with secret.
func stack(t *testing.T, secret string) string {
	t.Helper()
	hs := httptest.NewServer(&xwebhook.Handler{Secret: []byte(secret)})
	t.Cleanup(hs.Close)
	return hs.URL + "/webhooks/x"
}

// failure returns the message of X's 400 answer of a webhook failure.
func (a answer) failure() string {
	errs, _ := a.body["errors"].([]any)
	if a.status != http.StatusBadRequest || len(errs) == 0 || a.body["title"] != "Invalid Request" {
		return ""
	}
	m, _ := errs[0].(map[string]any)["message"].(string)
	return m
}

func data(a answer) map[string]any {
	d, _ := a.body["data"].(map[string]any)
	return d
}

func TestCreateWebhook(t *testing.T) {
	good := stack(t, appSecret)
	wrongKey := stack(t, "the stack's other secret")
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)

	tests := []struct {
		name, url, auth string
		noSecret        bool
		wantStatus      int
		wantMessage     string // prefix of X's failure message
	}{
		{name: "CRC passes", url: good, auth: appAuth, wantStatus: http.StatusOK},
		{name: "other HMAC key", url: wrongKey, auth: appAuth, wantStatus: http.StatusBadRequest, wantMessage: "CrcValidationFailed: Invalid response_token"},
		{name: "URL answers 404", url: missing.URL + "/webhooks/x", auth: appAuth, wantStatus: http.StatusBadRequest, wantMessage: "CrcValidationFailed: Non-200 response code"},
		{name: "no consumer secret set", url: good, auth: appAuth, noSecret: true, wantStatus: http.StatusBadRequest, wantMessage: "CrcValidationFailed: Invalid response_token"},
		{name: "http", url: "http://example.com/webhooks/x", auth: appAuth, wantStatus: http.StatusBadRequest, wantMessage: "UrlValidationFailed: The callback URL must use https"},
		{name: "port", url: "https://example.com:8443/webhooks/x", auth: appAuth, wantStatus: http.StatusBadRequest, wantMessage: "UrlValidationFailed: The callback URL cannot include a port"},
		{name: "relative", url: "/webhooks/x", auth: appAuth, wantStatus: http.StatusBadRequest, wantMessage: "UrlValidationFailed"},
		{name: "user context", url: good, auth: userAuth, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start()
			t.Cleanup(s.Close)
			if !tt.noSecret {
				s.SetConsumerSecret(appSecret)
			}
			a := do(t, s, "POST", "/2/webhooks", tt.auth, `{"url":"`+tt.url+`"}`)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.raw)
			}
			switch {
			case tt.wantStatus == http.StatusOK:
				d := data(a)
				if d["url"] != tt.url || d["valid"] != true || d["id"] == "" || d["created_at"] == nil {
					t.Errorf("data = %v", d)
				}
				if got := s.Webhooks(); len(got) != 1 || got[0].ID != d["id"] || !got[0].Valid {
					t.Errorf("Webhooks() = %+v", got)
				}
			case tt.wantMessage != "":
				if !strings.HasPrefix(a.failure(), tt.wantMessage) {
					t.Errorf("failure %q, want %q…: %s", a.failure(), tt.wantMessage, a.raw)
				}
				if len(s.Webhooks()) != 0 {
					t.Errorf("a refused webhook was registered")
				}
			default:
				if !strings.Contains(string(a.raw), "OAuth 1.0a User Context is forbidden") {
					t.Errorf("answer %s", a.raw)
				}
			}
		})
	}
}

func TestWebhookLimitAndDuplicates(t *testing.T) {
	s := Start()
	t.Cleanup(s.Close)
	s.SetConsumerSecret(appSecret)
	first, second := stack(t, appSecret), stack(t, appSecret)

	if a := do(t, s, "POST", "/2/webhooks", appAuth, `{"url":"`+first+`"}`); a.status != http.StatusOK {
		t.Fatalf("first: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "POST", "/2/webhooks", appAuth, `{"url":"`+first+`"}`); !strings.HasPrefix(a.failure(), "DuplicateUrlFailed: ") {
		t.Errorf("same URL again: %s", a.raw)
	}
	if a := do(t, s, "POST", "/2/webhooks", appAuth, `{"url":"`+second+`"}`); !strings.HasPrefix(a.failure(), "WebhookLimitExceeded: ") {
		t.Errorf("second URL with a limit of 1: %s", a.raw)
	}
	s.SetWebhookLimit(2)
	if a := do(t, s, "POST", "/2/webhooks", appAuth, `{"url":"`+second+`"}`); a.status != http.StatusOK {
		t.Errorf("second URL with a limit of 2: %d %s", a.status, a.raw)
	}
	list := do(t, s, "GET", "/2/webhooks", appAuth, "")
	if got := list.dataIDs(); len(got) != 2 || list.meta("result_count") != 2.0 {
		t.Errorf("list = %s", list.raw)
	}
	if a := do(t, s, "GET", "/2/webhooks", userAuth, ""); a.status != http.StatusForbidden {
		t.Errorf("GET /2/webhooks with user context: %d, want 403 (app-only)", a.status)
	}
}

func TestValidateAndDeleteWebhook(t *testing.T) {
	s := Start()
	t.Cleanup(s.Close)
	s.SetConsumerSecret(appSecret)
	h := s.AddWebhook(stack(t, appSecret), false)
	broken := s.AddWebhook(stack(t, "another key"), true)

	if a := do(t, s, "PUT", "/2/webhooks/"+h.ID, appAuth, ""); a.status != http.StatusOK || data(a)["valid"] != true {
		t.Errorf("PUT: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "PUT", "/2/webhooks/"+broken.ID, appAuth, ""); !strings.HasPrefix(a.failure(), "CrcValidationFailed: ") {
		t.Errorf("PUT of a webhook answering with another key: %s", a.raw)
	}
	got := s.Webhooks()
	if !got[0].Valid || got[1].Valid {
		t.Errorf("after PUT: %+v; want the first valid, the second invalid", got)
	}
	if a := do(t, s, "PUT", "/2/webhooks/42", appAuth, ""); !strings.HasPrefix(a.failure(), "WebhookIdInvalid: ") {
		t.Errorf("PUT unknown: %s", a.raw)
	}

	// Deleting a webhook drops its Account Activity subscriptions; its X Activity
	// subscriptions stay, still naming it.
	if a := do(t, s, "POST", "/2/account_activity/webhooks/"+h.ID+"/subscriptions/all", userAuth, ""); a.status != http.StatusOK {
		t.Fatalf("subscribe: %s", a.raw)
	}
	if a := do(t, s, "POST", "/2/activity/subscriptions", userAuth,
		`{"event_type":"dm.received","filter":{"user_id":"`+brandID+`"},"webhook_id":"`+h.ID+`"}`); a.status != http.StatusOK {
		t.Fatalf("XAA subscribe: %s", a.raw)
	}
	if a := do(t, s, "DELETE", "/2/webhooks/"+h.ID, appAuth, ""); a.status != http.StatusOK || data(a)["deleted"] != true {
		t.Errorf("DELETE: %d %s", a.status, a.raw)
	}
	if got := s.Webhooks(); len(got) != 1 || got[0].ID != broken.ID {
		t.Errorf("after DELETE: %+v", got)
	}
	if got := s.AccountActivitySubscribers(h.ID); len(got) != 0 {
		t.Errorf("AAA subscribers of the deleted webhook: %v", got)
	}
	if got := s.ActivitySubscriptions(); len(got) != 1 || got[0].WebhookID != h.ID {
		t.Errorf("XAA subscriptions: %+v", got)
	}
	if a := do(t, s, "DELETE", "/2/webhooks/"+h.ID, appAuth, ""); !strings.HasPrefix(a.failure(), "WebhookIdInvalid: ") {
		t.Errorf("DELETE again: %s", a.raw)
	}
}

func TestActivitySubscriptions(t *testing.T) {
	s := Start()
	t.Cleanup(s.Close)
	h := s.AddWebhook("https://example.com/webhooks/x", true)
	body := func(eventType, userID, webhookID string) string {
		return `{"event_type":"` + eventType + `","filter":{"user_id":"` + userID + `"},"webhook_id":"` + webhookID + `","tag":"pajarito"}`
	}

	tests := []struct {
		name, auth, body string
		wantStatus       int
		wantMessage      string
	}{
		{"private event, user context", userAuth, body("post.mention.create", brandID, h.ID), http.StatusOK, ""},
		{"same again", userAuth, body("post.mention.create", brandID, h.ID), http.StatusBadRequest, "DuplicateSubscriptionFailed: "},
		{"private event, app-only", appAuth, body("dm.received", brandID, h.ID), http.StatusForbidden, ""},
		{"private event of another user", userAuth, body("dm.received", mariaID, h.ID), http.StatusForbidden, ""},
		{"public event, app-only", appAuth, body("post.delete", mariaID, h.ID), http.StatusOK, ""},
		{"unknown event type", userAuth, body("post.like", brandID, h.ID), http.StatusBadRequest, ""},
		{"unknown webhook", userAuth, body("dm.sent", brandID, "42"), http.StatusBadRequest, "WebhookIdInvalid: "},
		{"no user", userAuth, body("dm.sent", "", h.ID), http.StatusBadRequest, ""},
		{"bad user id", userAuth, body("dm.sent", "maria", h.ID), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, "POST", "/2/activity/subscriptions", tt.auth, tt.body)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.raw)
			}
			if tt.wantMessage != "" && !strings.HasPrefix(a.failure(), tt.wantMessage) {
				t.Errorf("failure %q, want %q…", a.failure(), tt.wantMessage)
			}
			if a.status == http.StatusOK {
				sub, _ := data(a)["subscription"].(map[string]any)
				if sub["subscription_id"] == "" || sub["webhook_id"] != h.ID || sub["tag"] != "pajarito" || sub["created_at"] == nil {
					t.Errorf("created %s", a.raw)
				}
			}
		})
	}

	list := do(t, s, "GET", "/2/activity/subscriptions", appAuth, "")
	items, _ := list.body["data"].([]any)
	if len(items) != 2 || list.meta("total_subscriptions") != 2.0 {
		t.Fatalf("list: %s", list.raw)
	}
	if a := do(t, s, "GET", "/2/activity/subscriptions", userAuth, ""); a.status != http.StatusForbidden {
		t.Errorf("list with user context: %d, want 403 (app-only)", a.status)
	}
	id := items[0].(map[string]any)["subscription_id"].(string)
	if a := do(t, s, "DELETE", "/2/activity/subscriptions/"+id, appAuth, ""); a.status != http.StatusOK || a.meta("total_subscriptions") != 1.0 {
		t.Errorf("delete: %s", a.raw)
	}
	if a := do(t, s, "DELETE", "/2/activity/subscriptions/"+id, appAuth, ""); !strings.HasPrefix(a.failure(), "SubscriptionNotFound: ") {
		t.Errorf("delete again: %s", a.raw)
	}
}

func TestAccountActivitySubscriptions(t *testing.T) {
	s := Start()
	t.Cleanup(s.Close)
	h := s.AddWebhook("https://example.com/webhooks/x", true)
	path := "/2/account_activity/webhooks/" + h.ID + "/subscriptions/all"
	const mariaAuth = `OAuth oauth_consumer_key="ck",oauth_token="1862954300111222333-xyz"`

	if a := do(t, s, "GET", path, userAuth, ""); a.status != http.StatusOK || data(a)["subscribed"] != false {
		t.Errorf("check before: %s", a.raw)
	}
	if a := do(t, s, "POST", path, userAuth, ""); a.status != http.StatusOK || data(a)["subscribed"] != true {
		t.Errorf("subscribe: %s", a.raw)
	}
	if a := do(t, s, "POST", path, userAuth, ""); !strings.HasPrefix(a.failure(), "DuplicateSubscriptionFailed: ") {
		t.Errorf("subscribe again: %s", a.raw)
	}
	if a := do(t, s, "POST", path, appAuth, ""); a.status != http.StatusForbidden {
		t.Errorf("subscribe app-only: %d, want 403", a.status)
	}
	if a := do(t, s, "GET", path, userAuth, ""); data(a)["subscribed"] != true {
		t.Errorf("check: %s", a.raw)
	}
	if a := do(t, s, "GET", path, mariaAuth, ""); data(a)["subscribed"] != false {
		t.Errorf("check of another user: %s", a.raw)
	}
	if a := do(t, s, "POST", "/2/account_activity/webhooks/42/subscriptions/all", userAuth, ""); !strings.HasPrefix(a.failure(), "WebhookIdInvalid: ") {
		t.Errorf("unknown webhook: %s", a.raw)
	}

	list := do(t, s, "GET", path+"/list", appAuth, "")
	d := data(list)
	subs, _ := d["subscriptions"].([]any)
	if d["webhook_id"] != h.ID || d["webhook_url"] != h.URL || d["application_id"] != AppID || len(subs) != 1 ||
		subs[0].(map[string]any)["user_id"] != brandID {
		t.Errorf("list: %s", list.raw)
	}

	del := "/2/account_activity/webhooks/" + h.ID + "/subscriptions/" + brandID + "/all"
	if a := do(t, s, "DELETE", del, appAuth, ""); a.status != http.StatusOK || data(a)["subscribed"] != false {
		t.Errorf("unsubscribe: %s", a.raw)
	}
	if a := do(t, s, "DELETE", del, appAuth, ""); !strings.HasPrefix(a.failure(), "SubscriptionNotFound: ") {
		t.Errorf("unsubscribe again: %s", a.raw)
	}
	if got := s.AccountActivitySubscribers(h.ID); len(got) != 0 {
		t.Errorf("subscribers = %v", got)
	}
	for _, e := range []string{xapi.EndpointAccountActivitySubscribe, xapi.EndpointAccountActivitySubscription, xapi.EndpointAccountActivitySubscriptions, xapi.EndpointAccountActivityUnsubscribe} {
		if s.Calls(e) == 0 {
			t.Errorf("Calls(%q) = 0", e)
		}
	}
	if got := s.Calls(xapi.EndpointAccountActivitySubscribe); got != 4 {
		t.Errorf("Calls(subscribe) = %d, want 4 (refused calls count)", got)
	}
}

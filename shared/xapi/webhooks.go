package xapi

// Webhooks: registering the stack's webhook URL with X (the V2 Webhooks API) and
// subscribing the brand account to it, through the X Activity API (XAA) and the
// legacy Account Activity API (AAA). `pajarito webhook` uses them; gotwi has none
// of these endpoints, so they go through CallAPI with a request type of this
// package, like the DMs.
//
// Shapes, from docs.x.com (2026-08):
//   - "V2 Webhooks API" and "Webhooks quickstart": GET /2/webhooks → {"data":[{id,
//     url, valid, created_at}], "meta":{"result_count"}}; POST /2/webhooks {"url"} →
//     {"data":{id, url, valid, created_at}} after a CRC check of the URL; PUT
//     /2/webhooks/{id} re-runs the CRC → {"data":{"valid"}} (the OpenAPI document
//     says {"data":{"attempted"}}: both are read); DELETE → {"data":{"deleted"}}.
//     "All endpoints require OAuth2 App Only Bearer Token authentication". Failures
//     are 400 {"errors":[{"message":"<Reason>: <details>"}]} with the reasons
//     below.
//   - "X Activity API quickstart": POST /2/activity/subscriptions {event_type,
//     filter:{user_id}, tag, webhook_id}; GET and DELETE /2/activity/subscriptions.
//     The create answer's "data" is the subscription in the quickstart, and
//     {"subscription": …} in the OpenAPI document: both are read. Private events
//     (mentions, DMs) need the user context of the filtered user, so subscriptions
//     are created as the brand (OAuth 1.0a); the list and delete are app-only.
//   - "Account Activity API quickstart": POST and GET
//     /2/account_activity/webhooks/{id}/subscriptions/all as the user (OAuth 1.0a)
//     → {"data":{"subscribed"}}; GET …/subscriptions/all/list app-only →
//     {"data":{application_id, webhook_id, webhook_url, subscriptions:[{user_id}]}}.
//
// Not verified: whether GET /2/activity/subscriptions pages (read as one page),
// whether X answers the subscription check 204 (the legacy API did; read as
// subscribed), and X's answer to a duplicate X Activity subscription.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Endpoints of the webhook calls, as named in errors and logs.
const (
	EndpointWebhooks                     = "GET /2/webhooks"
	EndpointCreateWebhook                = "POST /2/webhooks"
	EndpointValidateWebhook              = "PUT /2/webhooks/:webhook_id"
	EndpointDeleteWebhook                = "DELETE /2/webhooks/:webhook_id"
	EndpointActivitySubscriptions        = "GET /2/activity/subscriptions"
	EndpointCreateActivitySubscription   = "POST /2/activity/subscriptions"
	EndpointDeleteActivitySubscription   = "DELETE /2/activity/subscriptions/:subscription_id"
	EndpointAccountActivitySubscribe     = "POST /2/account_activity/webhooks/:webhook_id/subscriptions/all"
	EndpointAccountActivitySubscription  = "GET /2/account_activity/webhooks/:webhook_id/subscriptions/all"
	EndpointAccountActivitySubscriptions = "GET /2/account_activity/webhooks/:webhook_id/subscriptions/all/list"
	// EndpointAccountActivityUnsubscribe is X's; the client does not call it
	// (deleting the webhook ends its subscriptions), the fake serves it.
	EndpointAccountActivityUnsubscribe = "DELETE /2/account_activity/webhooks/:webhook_id/subscriptions/:user_id/all"
)

// Reasons X gives for refusing a webhook or subscription call (see Reason).
const (
	ReasonCRCFailed             = "CrcValidationFailed"         // the URL did not answer the CRC check correctly
	ReasonURLInvalid            = "UrlValidationFailed"         // not https, a port, not a URL
	ReasonDuplicateURL          = "DuplicateUrlFailed"          // the app already has a webhook with this URL
	ReasonWebhookLimit          = "WebhookLimitExceeded"        // the app has its maximum number of webhooks
	ReasonWebhookIDInvalid      = "WebhookIdInvalid"            // no such webhook for this app
	ReasonDuplicateSubscription = "DuplicateSubscriptionFailed" // the subscription already exists
	ReasonSubscriptionLimit     = "SubscriptionLimitExceeded"   // the app has its maximum number of subscriptions
)

// Reason returns the reason X gave for refusing a webhook or subscription call —
// the word before ":" in the message of its 400 answer, such as
// ReasonCRCFailed — or "" when err is not such a refusal.
func Reason(err error) string {
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusBadRequest {
		return ""
	}
	for _, m := range api.Messages {
		word, _, _ := strings.Cut(m, ":")
		if word != "" && strings.Trim(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			return word
		}
	}
	return ""
}

// ErrNoBearerToken is wrapped by the error of a webhook call made without the
// app's bearer token: X manages webhooks and lists subscriptions only with
// app-only authentication.
var ErrNoBearerToken = errors.New("xapi: the app's bearer token is not set")

// Webhook is a webhook registered for the app (X's WebhookConfig).
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Valid is false after a failed CRC check: X delivers nothing to the webhook
	// until a check passes again (ValidateWebhook).
	Valid     bool      `json:"valid"`
	CreatedAt time.Time `json:"created_at"`
}

// ActivitySubscription is an X Activity API subscription.
type ActivitySubscription struct {
	ID        string         `json:"subscription_id"`
	EventType string         `json:"event_type"`
	Filter    ActivityFilter `json:"filter"`
	Tag       string         `json:"tag,omitempty"`
	// WebhookID is the webhook the events go to; empty for stream delivery only.
	WebhookID string    `json:"webhook_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ActivityFilter selects the events of a subscription.
type ActivityFilter struct {
	UserID  string `json:"user_id,omitempty"`
	Keyword string `json:"keyword,omitempty"`
}

// NewActivitySubscription is a subscription to create.
type NewActivitySubscription struct {
	EventType string         `json:"event_type"`
	Filter    ActivityFilter `json:"filter"`
	WebhookID string         `json:"webhook_id,omitempty"`
	Tag       string         `json:"tag,omitempty"`
}

// Webhooks lists the app's webhooks (GET /2/webhooks, app-only).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out struct {
		dataAnswer
		Data []Webhook `json:"data"`
	}
	if err := c.manage(ctx, EndpointWebhooks, http.MethodGet, "/2/webhooks", &pathRequest{}, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateWebhook registers rawURL as a webhook of the app (POST /2/webhooks,
// app-only). X first checks that the URL answers its CRC with the app's consumer
// secret; Reason tells the refusals apart (ReasonCRCFailed, ReasonWebhookLimit,
// ReasonDuplicateURL, ReasonURLInvalid).
func (c *Client) CreateWebhook(ctx context.Context, rawURL string) (*Webhook, error) {
	var out struct {
		dataAnswer
		Data *Webhook `json:"data"`
		Webhook
	}
	in := &pathRequest{json: map[string]string{"url": rawURL}}
	if err := c.manage(ctx, EndpointCreateWebhook, http.MethodPost, "/2/webhooks", in, &out); err != nil {
		return nil, err
	}
	w := out.Data
	if w == nil {
		w = &out.Webhook // the OpenAPI document's unwrapped shape
	}
	if w.ID == "" {
		return nil, fmt.Errorf("xapi: %s: X's answer has no webhook id", EndpointCreateWebhook)
	}
	return w, nil
}

// ValidateWebhook asks X to check the webhook's URL again (PUT
// /2/webhooks/{id}, app-only) and reports whether the webhook is valid after the
// check. A failed check is an error with ReasonCRCFailed.
func (c *Client) ValidateWebhook(ctx context.Context, id string) (bool, error) {
	if err := checkID(EndpointValidateWebhook, "webhook", id); err != nil {
		return false, err
	}
	var out struct {
		dataAnswer
		Data struct {
			Valid     *bool `json:"valid"`
			Attempted *bool `json:"attempted"`
		} `json:"data"`
	}
	in := &pathRequest{path: map[string]string{"webhook_id": id}}
	if err := c.manage(ctx, EndpointValidateWebhook, http.MethodPut, "/2/webhooks/:webhook_id", in, &out); err != nil {
		return false, err
	}
	if out.Data.Valid != nil {
		return *out.Data.Valid, nil
	}
	// {"attempted":true} does not say how the check went: the list does.
	hooks, err := c.Webhooks(ctx)
	if err != nil {
		return false, err
	}
	for _, h := range hooks {
		if h.ID == id {
			return h.Valid, nil
		}
	}
	return false, fmt.Errorf("xapi: %s: webhook %s is not in the app's webhooks after its check", EndpointValidateWebhook, id)
}

// DeleteWebhook deletes the app's webhook id (DELETE /2/webhooks/{id},
// app-only).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := checkID(EndpointDeleteWebhook, "webhook", id); err != nil {
		return err
	}
	var out dataAnswer
	in := &pathRequest{path: map[string]string{"webhook_id": id}}
	return c.manage(ctx, EndpointDeleteWebhook, http.MethodDelete, "/2/webhooks/:webhook_id", in, &out)
}

// ActivitySubscriptions lists the app's X Activity API subscriptions (GET
// /2/activity/subscriptions, app-only).
func (c *Client) ActivitySubscriptions(ctx context.Context) ([]ActivitySubscription, error) {
	var out struct {
		dataAnswer
		Data []ActivitySubscription `json:"data"`
	}
	if err := c.manage(ctx, EndpointActivitySubscriptions, http.MethodGet, "/2/activity/subscriptions", &pathRequest{}, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateActivitySubscription subscribes to an X Activity API event type (POST
// /2/activity/subscriptions) as the brand: private events, such as mentions and
// DMs, can only be subscribed for the authorising user.
func (c *Client) CreateActivitySubscription(ctx context.Context, sub NewActivitySubscription) (*ActivitySubscription, error) {
	if sub.EventType == "" {
		return nil, fmt.Errorf("xapi: %s: the event type is empty", EndpointCreateActivitySubscription)
	}
	if sub.WebhookID != "" {
		if err := checkID(EndpointCreateActivitySubscription, "webhook", sub.WebhookID); err != nil {
			return nil, err
		}
	}
	var out struct {
		dataAnswer
		Data json.RawMessage `json:"data"`
	}
	if _, err := c.call(ctx, c.user, EndpointCreateActivitySubscription, http.MethodPost, "/2/activity/subscriptions", &pathRequest{json: sub}, &out); err != nil {
		return nil, err
	}
	created, err := decodeSubscription(out.Data)
	if err != nil {
		return nil, fmt.Errorf("xapi: %s: %w", EndpointCreateActivitySubscription, err)
	}
	return created, nil
}

// decodeSubscription reads the "data" of a created subscription: the
// subscription, {"subscription": …}, or a list holding it.
func decodeSubscription(data json.RawMessage) (*ActivitySubscription, error) {
	var wrapped struct {
		Subscription *ActivitySubscription `json:"subscription"`
	}
	var sub ActivitySubscription
	var list []ActivitySubscription
	switch {
	case json.Unmarshal(data, &list) == nil && len(list) > 0:
		sub = list[0]
	case json.Unmarshal(data, &wrapped) == nil && wrapped.Subscription != nil:
		sub = *wrapped.Subscription
	default:
		if err := json.Unmarshal(data, &sub); err != nil {
			return nil, fmt.Errorf("X's \"data\" is not a subscription: %w", err)
		}
	}
	if sub.ID == "" {
		return nil, errors.New("X's answer has no subscription_id")
	}
	return &sub, nil
}

// DeleteActivitySubscription deletes an X Activity API subscription (DELETE
// /2/activity/subscriptions/{id}, app-only).
func (c *Client) DeleteActivitySubscription(ctx context.Context, id string) error {
	if err := checkID(EndpointDeleteActivitySubscription, "subscription", id); err != nil {
		return err
	}
	var out dataAnswer
	in := &pathRequest{path: map[string]string{"subscription_id": id}}
	return c.manage(ctx, EndpointDeleteActivitySubscription, http.MethodDelete, "/2/activity/subscriptions/:subscription_id", in, &out)
}

// AccountActivitySubscribed reports whether the brand is subscribed to the
// webhook through the Account Activity API (GET
// /2/account_activity/webhooks/{id}/subscriptions/all, as the brand).
func (c *Client) AccountActivitySubscribed(ctx context.Context, webhookID string) (bool, error) {
	if err := checkID(EndpointAccountActivitySubscription, "webhook", webhookID); err != nil {
		return false, err
	}
	var out struct {
		dataAnswer
		Data struct {
			Subscribed bool `json:"subscribed"`
		} `json:"data"`
	}
	in := &pathRequest{path: map[string]string{"webhook_id": webhookID}}
	info, err := c.call(ctx, c.user, EndpointAccountActivitySubscription, http.MethodGet,
		"/2/account_activity/webhooks/:webhook_id/subscriptions/all", in, &out)
	if err != nil && info != nil && info.status == http.StatusNoContent {
		return true, nil // the legacy API's answer for "subscribed"
	}
	if err != nil {
		return false, err
	}
	return out.Data.Subscribed, nil
}

// SubscribeAccountActivity subscribes the brand to all its account activity on
// the webhook (POST /2/account_activity/webhooks/{id}/subscriptions/all, as the
// brand). created is false when the brand was already subscribed (X's
// DuplicateSubscriptionFailed).
func (c *Client) SubscribeAccountActivity(ctx context.Context, webhookID string) (created bool, err error) {
	if err := checkID(EndpointAccountActivitySubscribe, "webhook", webhookID); err != nil {
		return false, err
	}
	var out struct {
		dataAnswer
		Data struct {
			Subscribed bool `json:"subscribed"`
		} `json:"data"`
	}
	in := &pathRequest{path: map[string]string{"webhook_id": webhookID}, json: struct{}{}}
	_, err = c.call(ctx, c.user, EndpointAccountActivitySubscribe, http.MethodPost,
		"/2/account_activity/webhooks/:webhook_id/subscriptions/all", in, &out)
	switch {
	case Reason(err) == ReasonDuplicateSubscription:
		return false, nil
	case err != nil:
		return false, err
	case !out.Data.Subscribed:
		return false, fmt.Errorf("xapi: %s: X answered subscribed: false", EndpointAccountActivitySubscribe)
	}
	return true, nil
}

// AccountActivitySubscribers lists the users subscribed to the webhook through
// the Account Activity API (GET …/subscriptions/all/list, app-only).
func (c *Client) AccountActivitySubscribers(ctx context.Context, webhookID string) ([]string, error) {
	if err := checkID(EndpointAccountActivitySubscriptions, "webhook", webhookID); err != nil {
		return nil, err
	}
	var out struct {
		dataAnswer
		Data struct {
			Subscriptions []struct {
				UserID string `json:"user_id"`
			} `json:"subscriptions"`
		} `json:"data"`
	}
	in := &pathRequest{path: map[string]string{"webhook_id": webhookID}}
	if err := c.manage(ctx, EndpointAccountActivitySubscriptions, http.MethodGet,
		"/2/account_activity/webhooks/:webhook_id/subscriptions/all/list", in, &out); err != nil {
		return nil, err
	}
	users := make([]string, 0, len(out.Data.Subscriptions))
	for _, s := range out.Data.Subscriptions {
		users = append(users, s.UserID)
	}
	return users, nil
}

// manage sends an app-only call: it needs the app's bearer token.
func (c *Client) manage(ctx context.Context, endpoint, method, path string, in params, out interface{ HasPartialError() bool }) error {
	if c.app == nil {
		return fmt.Errorf("%w: %s needs it (X manages webhooks and lists their subscriptions with app-only authentication): set %s, %s → Bearer token",
			ErrNoBearerToken, endpoint, c.creds.name("X_BEARER_TOKEN", "bearer_token"), portalKeys)
	}
	_, err := c.call(ctx, c.app, endpoint, method, path, in, out)
	return err
}

// checkID checks an id that goes into a path.
func checkID(endpoint, what, id string) error {
	if !care.IsID(id) {
		return fmt.Errorf("xapi: %s: %s id %q is not a decimal X id", endpoint, what, id)
	}
	return nil
}

// dataAnswer is the common part of X's answers: "errors" alongside "data".
type dataAnswer struct {
	Errors []struct {
		Message string `json:"message"`
		Title   string `json:"title"`
		Detail  string `json:"detail"`
	} `json:"errors"`
}

// HasPartialError implements gotwi's response interface.
func (a *dataAnswer) HasPartialError() bool { return len(a.Errors) > 0 }

// pathRequest is the request of an endpoint gotwi lacks: path fills the path's
// ":name" segments (escaped), query is the query string, and json, when set, is
// the JSON body.
type pathRequest struct {
	accessToken string
	path        map[string]string
	query       map[string]string
	json        any
}

var _ params = (*pathRequest)(nil)

func (p *pathRequest) SetAccessToken(token string) { p.accessToken = token }
func (p *pathRequest) AccessToken() string         { return p.accessToken }

// ParameterMap returns the query parameters, which the OAuth 1.0a signature
// covers; a JSON body is not part of it.
func (p *pathRequest) ParameterMap() map[string]string {
	m := make(map[string]string, len(p.query))
	for k, v := range p.query {
		m[k] = v
	}
	return m
}

func (p *pathRequest) ResolveEndpoint(base string) string {
	for name, v := range p.path {
		base = strings.Replace(base, ":"+name, url.PathEscape(v), 1)
	}
	if len(p.query) > 0 {
		q := url.Values{}
		for k, v := range p.query {
			q.Set(k, v)
		}
		base += "?" + q.Encode()
	}
	return base
}

func (p *pathRequest) Body() (io.Reader, error) {
	if p.json == nil {
		return nil, nil
	}
	b, err := json.Marshal(p.json)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(string(b)), nil
}

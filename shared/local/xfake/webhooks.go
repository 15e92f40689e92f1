package xfake

// Webhooks and their subscriptions: X's V2 Webhooks API, the X Activity API's
// subscriptions and the Account Activity API's user subscriptions, as documented
// in docs.x.com's "V2 Webhooks API" (x-api/webhooks/introduction, quickstart),
// "X Activity API quickstart" (x-api/activity/quickstart) and "Account Activity
// API quickstart" (x-api/account-activity/quickstart), 2026-08.
//
// Like X, the fake answers POST /2/webhooks and PUT /2/webhooks/{id} only after a
// CRC check of the URL: a GET with a random crc_token whose answer must be 200
// {"response_token":"sha256=" + base64(HMAC-SHA256(consumer secret, crc_token))}
// (xwebhook.CRCResponse) within CRCTimeout. The consumer secret is the app's, set
// with SetConsumerSecret. Webhook URLs must be https without a port, except that
// loopback URLs (127.0.0.1, ::1, localhost) may be http and have a port, so that
// tests and the local system can register httptest servers.
//
// Failures are X's 400 {"errors":[{"message":"<Reason>: <details>"}],"title":
// "Invalid Request",...} with the documented reasons: CrcValidationFailed,
// UrlValidationFailed, DuplicateUrlFailed, WebhookLimitExceeded, WebhookIdInvalid,
// DuplicateSubscriptionFailed, SubscriptionNotFound.
//
// Not documented, so chosen here (assumptions to revisit): the rate limits of
// these endpoints (the legacy Account Activity API's published ones: 15 requests
// per 15 minutes for webhook management, 500 for subscriptions, 50 for listing
// them); the answer to a duplicate X Activity subscription (400
// DuplicateSubscriptionFailed, as the Account Activity API does); which event types
// are private; that deleting a webhook removes its Account Activity subscriptions
// and leaves its X Activity subscriptions in place, still naming it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Webhook management is app-only (bearer) per X's docs; subscribing a user to the
// Account Activity API, and checking it, is user context; X Activity
// subscriptions are created with either (private events need the user's).
func init() {
	for endpoint, l := range map[string]struct{ user, app int }{
		xapi.EndpointWebhooks:                     {app: 15},
		xapi.EndpointCreateWebhook:                {app: 15},
		xapi.EndpointValidateWebhook:              {app: 15},
		xapi.EndpointDeleteWebhook:                {app: 15},
		xapi.EndpointActivitySubscriptions:        {app: 50},
		xapi.EndpointCreateActivitySubscription:   {user: 500, app: 500},
		xapi.EndpointDeleteActivitySubscription:   {app: 500},
		xapi.EndpointAccountActivitySubscribe:     {user: 500},
		xapi.EndpointAccountActivitySubscription:  {user: 500},
		xapi.EndpointAccountActivitySubscriptions: {app: 50},
		xapi.EndpointAccountActivityUnsubscribe:   {app: 500},
	} {
		limits[endpoint] = l
	}
}

// DefaultWebhookLimit is how many webhooks an app may register unless
// SetWebhookLimit says otherwise: one, as on X's self-serve tiers.
const DefaultWebhookLimit = 1

// CRCTimeout is how long the fake waits for a webhook's answer to its CRC check.
const CRCTimeout = 10 * time.Second

// AppID is the application id the fake reports (Account Activity listings).
const AppID = "29820954"

// Reasons of X's webhook and subscription failures.
const (
	ReasonCRCFailed             = "CrcValidationFailed"
	ReasonURLInvalid            = "UrlValidationFailed"
	ReasonDuplicateURL          = "DuplicateUrlFailed"
	ReasonWebhookLimit          = "WebhookLimitExceeded"
	ReasonWebhookIDInvalid      = "WebhookIdInvalid"
	ReasonDuplicateSubscription = "DuplicateSubscriptionFailed"
	ReasonSubscriptionNotFound  = "SubscriptionNotFound"
)

// activityEvents are the X Activity API's event types (docs.x.com, "X Activity
// API event payload examples"), true for the private ones, which need the
// user-context authentication of the user in the filter.
var activityEvents = map[string]bool{
	"post.create": false, "post.delete": false,
	"post.mention.create": true, "post.reply.create": true, "post.quote.create": true, "post.repost.create": true,
	"like.create": true, "follow.follow": false, "follow.unfollow": false,
	"mute.mute": true, "mute.unmute": true, "block.block": true, "block.unblock": true,
	"profile.update.bio": false, "profile.update.profile_picture": false, "profile.update.banner_picture": false,
	"profile.update.screenname": false, "profile.update.handle": false, "profile.update.geo": false,
	"profile.update.url": false, "profile.update.verified_badge": false, "profile.update.affiliate_badge": false,
	"spaces.start": false, "spaces.end": false,
	"dm.received": true, "dm.sent": true, "dm.read": true, "dm.indicate_typing": true,
	"chat.received": true, "chat.sent": true, "chat.conversation_join": true,
	"news.new": false, "oauth.revoke": true,
}

// Webhook is a webhook registered with the fake.
type Webhook struct {
	ID        string
	URL       string
	Valid     bool
	CreatedAt time.Time
}

// ActivitySubscription is an X Activity API subscription held by the fake.
type ActivitySubscription struct {
	ID        string
	EventType string
	UserID    string // filter.user_id
	Keyword   string // filter.keyword (news.new)
	Tag       string
	WebhookID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// webhookState is the fake's webhooks and subscriptions; s.mu guards it.
type webhookState struct {
	secret   string
	limit    int // 0: DefaultWebhookLimit
	webhooks []*Webhook
	subs     []*ActivitySubscription
	aaa      map[string][]string // webhook id → subscribed user ids, oldest first
}

// ---- controls ----

// SetConsumerSecret sets the app's consumer secret, the key of the CRC checks.
// Without one every CRC check fails.
func (s *Server) SetConsumerSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.secret = secret
}

// SetWebhookLimit sets how many webhooks the app may register (n < 1 restores
// DefaultWebhookLimit).
func (s *Server) SetWebhookLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.limit = max(n, 0)
}

// AddWebhook registers a webhook without a CRC check, valid or not (as X marks a
// webhook that failed its hourly check), and returns it.
func (s *Server) AddWebhook(rawURL string, valid bool) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addWebhookLocked(rawURL, valid)
}

// InvalidateWebhook marks a webhook invalid, as X does when an hourly CRC check
// fails. It reports whether the webhook exists.
func (s *Server) InvalidateWebhook(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.webhookLocked(id); h != nil {
		h.Valid = false
		return true
	}
	return false
}

// Webhooks returns the registered webhooks, oldest first.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, 0, len(s.hooks.webhooks))
	for _, h := range s.hooks.webhooks {
		out = append(out, *h)
	}
	return out
}

// ActivitySubscriptions returns the X Activity API subscriptions, oldest first.
func (s *Server) ActivitySubscriptions() []ActivitySubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ActivitySubscription, 0, len(s.hooks.subs))
	for _, sub := range s.hooks.subs {
		out = append(out, *sub)
	}
	return out
}

// AccountActivitySubscribers returns the users subscribed to a webhook through
// the Account Activity API.
func (s *Server) AccountActivitySubscribers(webhookID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks.aaa[webhookID])
}

func (s *Server) addWebhookLocked(rawURL string, valid bool) *Webhook {
	now := s.now()
	h := &Webhook{ID: formatID(s.nextIDLocked(now)), URL: rawURL, Valid: valid, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	s.lastID, _ = parseID(h.ID)
	s.hooks.webhooks = append(s.hooks.webhooks, h)
	return h
}

func (s *Server) webhookLocked(id string) *Webhook {
	for _, h := range s.hooks.webhooks {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// ---- routing ----

// routeWebhooks names the webhook or subscription endpoint of a request and
// returns its first path id.
func routeWebhooks(method string, parts []string) (endpoint, id string) {
	if len(parts) < 2 || parts[0] != "2" {
		return "", ""
	}
	switch {
	case parts[1] == "webhooks" && len(parts) == 2:
		switch method {
		case http.MethodGet:
			return xapi.EndpointWebhooks, ""
		case http.MethodPost:
			return xapi.EndpointCreateWebhook, ""
		}
	case parts[1] == "webhooks" && len(parts) == 3 && parts[2] != "replay":
		switch method {
		case http.MethodPut:
			return xapi.EndpointValidateWebhook, parts[2]
		case http.MethodDelete:
			return xapi.EndpointDeleteWebhook, parts[2]
		}
	case parts[1] == "activity" && len(parts) == 3 && parts[2] == "subscriptions":
		switch method {
		case http.MethodGet:
			return xapi.EndpointActivitySubscriptions, ""
		case http.MethodPost:
			return xapi.EndpointCreateActivitySubscription, ""
		}
	case parts[1] == "activity" && len(parts) == 4 && parts[2] == "subscriptions" && method == http.MethodDelete:
		return xapi.EndpointDeleteActivitySubscription, parts[3]
	case parts[1] == "account_activity" && len(parts) >= 6 && parts[2] == "webhooks" && parts[4] == "subscriptions":
		rest := strings.Join(parts[5:], "/")
		switch {
		case rest == "all" && method == http.MethodPost:
			return xapi.EndpointAccountActivitySubscribe, parts[3]
		case rest == "all" && method == http.MethodGet:
			return xapi.EndpointAccountActivitySubscription, parts[3]
		case rest == "all/list" && method == http.MethodGet:
			return xapi.EndpointAccountActivitySubscriptions, parts[3]
		case len(parts) == 7 && parts[6] == "all" && method == http.MethodDelete:
			return xapi.EndpointAccountActivityUnsubscribe, parts[3]
		}
	}
	return "", ""
}

// serveWebhooks answers the webhook and subscription endpoints; the caller has
// checked the authentication context and spent the rate limit.
func (s *Server) serveWebhooks(w http.ResponseWriter, r *http.Request, endpoint, id, authCtx, token string) {
	switch endpoint {
	case xapi.EndpointWebhooks:
		s.listWebhooks(w)
	case xapi.EndpointCreateWebhook:
		s.createWebhook(w, r)
	case xapi.EndpointValidateWebhook:
		s.validateWebhook(w, r, id)
	case xapi.EndpointDeleteWebhook:
		s.deleteWebhook(w, id)
	case xapi.EndpointActivitySubscriptions:
		s.listActivitySubscriptions(w)
	case xapi.EndpointCreateActivitySubscription:
		s.createActivitySubscription(w, r, authCtx, token)
	case xapi.EndpointDeleteActivitySubscription:
		s.deleteActivitySubscription(w, id)
	case xapi.EndpointAccountActivitySubscribe:
		s.subscribeAccountActivity(w, id, token)
	case xapi.EndpointAccountActivitySubscription:
		s.accountActivitySubscription(w, id, token)
	case xapi.EndpointAccountActivitySubscriptions:
		s.listAccountActivity(w, id)
	case xapi.EndpointAccountActivityUnsubscribe:
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		s.unsubscribeAccountActivity(w, id, parts[5])
	}
}

// failWebhook writes X's 400 answer of a webhook or subscription failure.
func failWebhook(w http.ResponseWriter, reason, details string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"message": reason + ": " + details}},
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   "https://api.twitter.com/2/problems/invalid-request",
	})
}

// ---- webhooks ----

func renderWebhook(h *Webhook) map[string]any {
	return map[string]any{"id": h.ID, "url": h.URL, "valid": h.Valid, "created_at": h.CreatedAt.Format(xTime)}
}

func (s *Server) listWebhooks(w http.ResponseWriter) {
	s.mu.Lock()
	data := make([]map[string]any, 0, len(s.hooks.webhooks))
	for _, h := range s.hooks.webhooks {
		data = append(data, renderWebhook(h))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"result_count": len(data)}})
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL string `json:"url"`
	}
	if readBody(w, r, &in) == nil {
		return
	}
	if in.URL == "" {
		invalid(w, "url", "", "The `url` field is required")
		return
	}
	if problem := checkWebhookURL(in.URL); problem != "" {
		failWebhook(w, ReasonURLInvalid, problem)
		return
	}
	check := func() bool {
		for _, h := range s.hooks.webhooks {
			if h.URL == in.URL {
				failWebhook(w, ReasonDuplicateURL, "A webhook is already registered by your application for this URL ("+h.ID+").")
				return false
			}
		}
		if limit := s.webhookLimitLocked(); len(s.hooks.webhooks) >= limit {
			failWebhook(w, ReasonWebhookLimit, fmt.Sprintf("Your application has reached the maximum number of allowed webhooks (%d).", limit))
			return false
		}
		return true
	}
	s.mu.Lock()
	ok, secret := check(), s.hooks.secret
	s.mu.Unlock()
	if !ok {
		return
	}
	if err := crc(r.Context(), in.URL, secret); err != nil {
		failWebhook(w, ReasonCRCFailed, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !check() { // registered meanwhile
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": renderWebhook(s.addWebhookLocked(in.URL, true))})
}

func (s *Server) webhookLimitLocked() int {
	if s.hooks.limit == 0 {
		return DefaultWebhookLimit
	}
	return s.hooks.limit
}

func (s *Server) validateWebhook(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	h, secret := s.webhookLocked(id), s.hooks.secret
	var target string
	if h != nil {
		target = h.URL
	}
	s.mu.Unlock()
	if h == nil {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with your app.")
		return
	}
	err := crc(r.Context(), target, secret)
	s.mu.Lock()
	if h = s.webhookLocked(id); h != nil {
		h.Valid = err == nil
	}
	s.mu.Unlock()
	if err != nil {
		failWebhook(w, ReasonCRCFailed, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"valid": true}})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.hooks.webhooks, func(h *Webhook) bool { return h.ID == id })
	if i < 0 {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with your app.")
		return
	}
	s.hooks.webhooks = slices.Delete(s.hooks.webhooks, i, i+1)
	delete(s.hooks.aaa, id)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"deleted": true}})
}

// checkWebhookURL returns why X would refuse rawURL as a webhook, or "".
func checkWebhookURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "The callback URL is not an absolute URL."
	}
	loopback := u.Hostname() == "localhost"
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case u.Scheme != "https" && !(loopback && u.Scheme == "http"):
		return "The callback URL must use https."
	case u.Port() != "" && !loopback:
		return "The callback URL cannot include a port."
	}
	return ""
}

// crc performs X's challenge-response check of rawURL with the app's consumer
// secret; the error is X's detail of the failure.
func crc(ctx context.Context, rawURL, secret string) error {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("Invalid callback URL.")
	}
	q := u.Query()
	q.Set("crc_token", token)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, CRCTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return errors.New("Invalid callback URL.")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("Error during CRC GET request: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("Non-200 response code during CRC GET request (i.e. 404, 500, etc): %d.", res.StatusCode)
	}
	var answer struct {
		ResponseToken string `json:"response_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.ResponseToken == "" {
		return errors.New("The CRC response is not JSON with a response_token.")
	}
	if secret == "" || answer.ResponseToken != xwebhook.CRCResponse([]byte(secret), token) {
		return errors.New("Invalid response_token.")
	}
	return nil
}

// ---- X Activity API subscriptions ----

func renderSubscription(sub *ActivitySubscription) map[string]any {
	filter := map[string]any{}
	if sub.UserID != "" {
		filter["user_id"] = sub.UserID
	}
	if sub.Keyword != "" {
		filter["keyword"] = sub.Keyword
	}
	out := map[string]any{
		"subscription_id": sub.ID, "event_type": sub.EventType, "filter": filter,
		"created_at": sub.CreatedAt.Format(xTime), "updated_at": sub.UpdatedAt.Format(xTime),
	}
	if sub.Tag != "" {
		out["tag"] = sub.Tag
	}
	if sub.WebhookID != "" {
		out["webhook_id"] = sub.WebhookID
	}
	return out
}

func (s *Server) listActivitySubscriptions(w http.ResponseWriter) {
	s.mu.Lock()
	data := make([]map[string]any, 0, len(s.hooks.subs))
	for _, sub := range s.hooks.subs {
		data = append(data, renderSubscription(sub))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"total_subscriptions": len(data)}})
}

func (s *Server) createActivitySubscription(w http.ResponseWriter, r *http.Request, authCtx, token string) {
	var in struct {
		EventType string `json:"event_type"`
		Filter    struct {
			UserID  string `json:"user_id"`
			Keyword string `json:"keyword"`
		} `json:"filter"`
		Tag       string `json:"tag"`
		WebhookID string `json:"webhook_id"`
	}
	if readBody(w, r, &in) == nil {
		return
	}
	private, known := activityEvents[in.EventType]
	switch {
	case !known:
		invalid(w, "event_type", in.EventType, fmt.Sprintf("The `event_type` value [%s] is not one of the supported event types", in.EventType))
		return
	case in.EventType == "news.new" && in.Filter.Keyword == "":
		invalid(w, "filter", "", "news.new subscriptions filter by `keyword`")
		return
	case in.EventType != "news.new" && in.Filter.UserID == "":
		invalid(w, "filter", "", "The `filter.user_id` field is required for "+in.EventType)
		return
	}
	if _, ok := parseID(in.Filter.UserID); in.Filter.UserID != "" && !ok {
		invalid(w, "filter.user_id", in.Filter.UserID, fmt.Sprintf("The `user_id` value [%s] does not match ^[0-9]{1,19}$", in.Filter.UserID))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if private {
		switch me := s.authorOf(token); {
		case authCtx != contextUser:
			writeProblem(w, http.StatusForbidden, "Forbidden",
				in.EventType+" is a private event: subscribe with the user-context authentication of the user in the filter.", "about:blank")
			return
		case me != in.Filter.UserID:
			writeProblem(w, http.StatusForbidden, "Forbidden",
				fmt.Sprintf("Private events can only be subscribed for the authenticating user (%s), not %s.", me, in.Filter.UserID), "about:blank")
			return
		}
	}
	if in.WebhookID != "" && s.webhookLocked(in.WebhookID) == nil {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with your app.")
		return
	}
	for _, sub := range s.hooks.subs {
		if sub.EventType == in.EventType && sub.UserID == in.Filter.UserID && sub.Keyword == in.Filter.Keyword && sub.WebhookID == in.WebhookID {
			failWebhook(w, ReasonDuplicateSubscription, "A subscription for this event type and filter already exists ("+sub.ID+").")
			return
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	sub := &ActivitySubscription{
		ID: formatID(s.nextIDLocked(now)), EventType: in.EventType, UserID: in.Filter.UserID, Keyword: in.Filter.Keyword,
		Tag: in.Tag, WebhookID: in.WebhookID, CreatedAt: now, UpdatedAt: now,
	}
	s.lastID, _ = parseID(sub.ID)
	s.hooks.subs = append(s.hooks.subs, sub)
	writeJSON(w, http.StatusOK, map[string]any{
		"data": map[string]any{"subscription": renderSubscription(sub)},
		"meta": map[string]any{"total_subscriptions": len(s.hooks.subs)},
	})
}

func (s *Server) deleteActivitySubscription(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.hooks.subs, func(sub *ActivitySubscription) bool { return sub.ID == id })
	if i < 0 {
		failWebhook(w, ReasonSubscriptionNotFound, "No subscription exists with the id "+id+".")
		return
	}
	s.hooks.subs = slices.Delete(s.hooks.subs, i, i+1)
	writeJSON(w, http.StatusOK, map[string]any{
		"data": map[string]any{"deleted": true},
		"meta": map[string]any{"total_subscriptions": len(s.hooks.subs)},
	})
}

// ---- Account Activity API ----

// aaaUserLocked returns the user an Account Activity call acts for, or writes the
// failure.
func (s *Server) aaaUserLocked(w http.ResponseWriter, webhookID, token string) (string, bool) {
	if s.webhookLocked(webhookID) == nil {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with the app.")
		return "", false
	}
	user := s.authorOf(token)
	if user == "" {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			"xfake: cannot tell which user the access token belongs to: use a token of the form <user id>-… or call Server.SetMe",
			"about:blank")
		return "", false
	}
	return user, true
}

func (s *Server) subscribeAccountActivity(w http.ResponseWriter, webhookID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.aaaUserLocked(w, webhookID, token)
	if !ok {
		return
	}
	if slices.Contains(s.hooks.aaa[webhookID], user) {
		failWebhook(w, ReasonDuplicateSubscription, "A subscription for this user already exists for the specified webhook_id.")
		return
	}
	if s.hooks.aaa == nil {
		s.hooks.aaa = map[string][]string{}
	}
	s.hooks.aaa[webhookID] = append(s.hooks.aaa[webhookID], user)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"subscribed": true}})
}

func (s *Server) accountActivitySubscription(w http.ResponseWriter, webhookID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.aaaUserLocked(w, webhookID, token)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"subscribed": slices.Contains(s.hooks.aaa[webhookID], user)}})
}

func (s *Server) listAccountActivity(w http.ResponseWriter, webhookID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.webhookLocked(webhookID)
	if h == nil {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with the app.")
		return
	}
	subs := make([]map[string]string, 0, len(s.hooks.aaa[webhookID]))
	for _, u := range s.hooks.aaa[webhookID] {
		subs = append(subs, map[string]string{"user_id": u})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"application_id": AppID, "webhook_id": h.ID, "webhook_url": h.URL, "subscriptions": subs,
	}})
}

func (s *Server) unsubscribeAccountActivity(w http.ResponseWriter, webhookID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhookLocked(webhookID) == nil {
		failWebhook(w, ReasonWebhookIDInvalid, "The provided webhook_id was not found or is not associated with the app.")
		return
	}
	users := s.hooks.aaa[webhookID]
	i := slices.Index(users, userID)
	if i < 0 {
		failWebhook(w, ReasonSubscriptionNotFound, "No subscription exists for the specified user_id on the given webhook_id.")
		return
	}
	s.hooks.aaa[webhookID] = slices.Delete(users, i, i+1)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"subscribed": false}})
}

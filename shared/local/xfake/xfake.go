// Package xfake is a fake of the parts of the X API v2 that Pajarito uses, speaking
// X's documented JSON. Tests run the real X client (shared/xapi, built on gotwi)
// against it over real HTTP, and the local dev system serves it when no X
// credentials are set, seeded from the sample events (SeedFromEvents).
//
// Endpoints:
//
//   - GET /2/users/{id}/mentions: the posts that @mention the user (by entity id
//     or username), newest first; since_id, until_id, start_time, end_time,
//     max_results (5–100, default 10), pagination_token.
//   - GET /2/tweets/search/recent: the posts matching query (see Query for the
//     syntax understood), newest first; since_id, until_id, start_time, end_time,
//     max_results (10–100, default 10), next_token (or pagination_token).
//   - POST /2/tweets: {"text", "reply":{"in_reply_to_tweet_id"}, "quote_tweet_id"}
//     → 201 {"data":{"id","text","edit_history_tweet_ids"}}. The post is stored (it
//     shows up in later reads) and recorded (Posted).
//   - POST /2/dm_conversations/with/{participant_id}/messages: {"text"} → 201
//     {"data":{"dm_conversation_id","dm_event_id"}}. The DM is stored (it shows up
//     in later DM reads) and recorded (Posted).
//   - GET /2/users/me: the authenticated user, {"data":{"id","name","username"}}
//     plus the user.fields asked for (user context only).
//   - GET /2/users/{id}/tweets: the user's own posts (X's User Posts timeline),
//     newest first, including those created through POST /2/tweets; the mentions
//     timeline's parameters, plus exclude (retweets, replies).
//   - GET /2/dm_conversations/with/{participant_id}/dm_events: the MessageCreate
//     events of the authenticated user's one-to-one conversation with the
//     participant, newest first (user context only): the DMs sent through the fake
//     and those added with AddDM. max_results (1–100, default 100),
//     pagination_token, event_types, dm_event.fields (id, text and event_type are
//     always there), expansions, user.fields, tweet.fields, media.fields; X's
//     endpoint has no since_id or start_time, and neither has the fake.
//   - X Chat's key registry (POST and GET /2/users/{id}/public_keys, OAuth 2.0
//     user context only): see publickeys.go.
//   - X Chat's conversations (OAuth 2.0 user context only): POST
//     /2/chat/conversations/{id}/keys (a key change) → 200
//     {"data":{"conversation_id","sequence_id"}}, and POST
//     /2/chat/conversations/{id}/messages (a message, its signature verified
//     against the sender's registered keys) → 200
//     {"data":{"conversation_id","sequence_id","encoded_message_event"}}, then
//     delivered as chat.received and chat.sent to the participants' X Activity
//     subscriptions' webhooks: see chat.go.
//   - Webhooks (GET, POST /2/webhooks; PUT, DELETE /2/webhooks/{id}) with X's CRC
//     check of the URL, X Activity API subscriptions and Account Activity API
//     subscriptions: see webhooks.go.
//
// Reads honour tweet.fields, user.fields and expansions (author_id,
// referenced_tweets.id, referenced_tweets.id.author_id, in_reply_to_user_id,
// entities.mentions.username) the way X does: a field not asked for is not
// returned, and a referenced post the fake does not hold is reported in the
// answer's "errors" array. meta has result_count, newest_id, oldest_id and
// next_token (when there is a next page). Unknown query parameters, out-of-range
// max_results, malformed ids, times, tokens and queries are answered 400 with X's
// "Invalid Request" problem.
//
// Every request needs an Authorization header, "OAuth …" (user context) or
// "Bearer …" (app-only); without one the answer is X's 401. Signatures are not
// checked (AcceptOnly restricts the consumer keys accepted). The POST endpoints
// refuse app-only authentication with 403, as X does, and so do GET /2/users/me
// and the DM reads. The author of a created post or DM, and the user that GET
// /2/users/me and the DM reads answer for, is the user whose id prefixes the OAuth
// access token ("<id>-…", as X's tokens are), else the user set with SetMe.
//
// Every answer of a known endpoint carries x-rate-limit-limit, -remaining and
// -reset; each call spends one request of its 15-minute window and an exhausted
// window answers 429 with X's problem JSON. The windows are X's published limits
// (https://docs.x.com/x-api/fundamentals/rate-limits): mentions 300 per user and
// 450 per app, recent search 300 per user and 450 per app, user posts 900 per user
// and 1500 per app, POST /2/tweets 100 per user, DM sends 15 per user, DM reads
// 300 per user, GET /2/users/me 75 per user (X Chat's routes: see chat.go). Tests
// steer the fake with Seed, AddDM, SetUser, SetMe, AcceptOnly, FailNext, Slow,
// RateLimit and SetClock (and IssueOAuth2 and AddPublicKeys), and inspect it with
// Calls, Posted and PublicKeys (and ChatEvents, ChatDeliveries, ChatRepeats and
// WaitChatDeliveries). The network faults ResetNext and
// LoseAnswerNext (faults.go) reset the connection of the next requests, before or
// after the fake acted on them.
package xfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Window is the length of X's rate-limit windows.
const Window = 15 * time.Minute

// limits are the requests per Window of each endpoint, per authentication context.
// 0 means the context may not call the endpoint.
var limits = map[string]struct{ user, app int }{
	xapi.EndpointMentions:   {user: 300, app: 450},
	xapi.EndpointSearch:     {user: 300, app: 450},
	xapi.EndpointCreatePost: {user: 100},
	xapi.EndpointSendDM:     {user: 15},
	xapi.EndpointMe:         {user: 75},
	xapi.EndpointUserPosts:  {user: 900, app: 1500},
	// X's three DM reads share one window of 300 per user; the fake serves one.
	xapi.EndpointDMEvents: {user: 300},
}

// Authentication contexts.
const (
	contextUser = "user" // OAuth 1.0a (or OAuth 2.0 user) token
	contextApp  = "app"  // app-only bearer token
)

// Server is a fake X API. It is safe for concurrent use.
type Server struct {
	// URL is the base URL of a started server ("http://127.0.0.1:port"); empty for
	// one made with New and served by the caller.
	URL string
	hs  *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	me       string
	users    map[string]User
	posts    map[uint64]*Post
	dms      map[uint64]*DM // owned.go
	lastID   uint64
	seq      uint64
	calls    map[string]int
	buckets  map[string]*bucket // endpoint + " " + context
	failN    int
	failCode int
	slow     time.Duration
	noRLHdrs bool
	accept   set // consumer keys accepted; empty: any
	posted   []Posted
	hooks    webhookState  // webhooks.go
	faults   writeFaults   // write.go
	conns    connFaults    // faults.go
	keep     *json.Encoder // keep.go: nil unless Keep
	keepFile *os.File
	keepErr  error
	oa       oauth2State            // oauth2.go
	chatKeys map[string][]PublicKey // publickeys.go: user id → X Chat keys
	chat     chatState              // chat.go
}

// bucket is one rate-limit window.
type bucket struct {
	limit, remaining int
	reset            time.Time
}

// New returns a fake that is not listening: serve it with any http.Server (it is an
// http.Handler) or use Start.
func New() *Server {
	return &Server{
		now:     time.Now,
		users:   map[string]User{},
		posts:   map[uint64]*Post{},
		dms:     map[uint64]*DM{},
		calls:   map[string]int{},
		buckets: map[string]*bucket{},
		accept:  set{},
	}
}

// Start returns a fake listening on a local port, as httptest.NewServer does. Close
// it when done.
func Start() *Server {
	s := New()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s
}

// Close stops a started server, and the X Chat deliveries under way (chat.go).
func (s *Server) Close() {
	s.closeChat()
	if s.hs != nil {
		s.hs.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keepFile != nil {
		s.keepFile.Close()
		s.keep, s.keepFile = nil, nil
	}
}

// Client returns an HTTP client for a started server.
func (s *Server) Client() *http.Client {
	if s.hs != nil {
		return s.hs.Client()
	}
	return http.DefaultClient
}

// ---- controls ----

// SetClock replaces the fake's clock (ids, created_at of new posts, rate-limit
// windows).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetMe names the authenticated user for tokens that do not start with a user id.
func (s *Server) SetMe(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.me = userID
}

// SetUser adds or replaces users.
func (s *Server) SetUser(users ...User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		if u.Name == "" {
			u.Name = u.Username
		}
		s.users[u.ID] = u
		s.kept(keepRecord{User: &u})
	}
}

// Seed adds posts (see Post for the defaults filled in) and returns their ids. A
// post whose id the fake already holds is ignored, so that the same post seeded
// twice (from two payload generations) is served once. Seed panics on an id that
// is not decimal: it is a test-setup mistake.
func (s *Server) Seed(posts ...Post) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(posts))
	for _, p := range posts {
		ids = append(ids, s.addLocked(p).ID)
	}
	return ids
}

// AddPost adds one post and returns it as stored (with its id).
func (s *Server) AddPost(p Post) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addLocked(p)
}

func (s *Server) addLocked(p Post) *Post {
	now := s.now()
	if p.ID == "" {
		p.ID = formatID(s.nextIDLocked(now))
	}
	id, ok := parseID(p.ID)
	if !ok {
		panic(fmt.Sprintf("xfake: post id %q is not a decimal X id", p.ID))
	}
	if old, ok := s.posts[id]; ok {
		return old
	}
	s.lastID = max(s.lastID, id)
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if p.ConversationID == "" {
		p.ConversationID = p.ID
		for _, r := range p.ReferencedTweets {
			if r.Type != RefRepliedTo {
				continue
			}
			if pid, ok := parseID(r.ID); ok && s.posts[pid] != nil {
				p.ConversationID = s.posts[pid].ConversationID
			} else {
				p.ConversationID = r.ID
			}
		}
	}
	if _, ok := s.users[p.AuthorID]; !ok && p.AuthorID != "" {
		s.users[p.AuthorID] = User{ID: p.AuthorID, Username: "user" + p.AuthorID, Name: "User " + p.AuthorID}
	}
	stored := p
	s.posts[id] = &stored
	s.kept(keepRecord{Post: &stored})
	return &stored
}

// nextIDLocked returns a snowflake-like id above every id held.
func (s *Server) nextIDLocked(now time.Time) uint64 {
	s.seq++
	return max(care.Snowflake(now, s.seq), s.lastID+1)
}

// Post returns the post with the given id.
func (s *Server) Post(id string) (Post, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := parseID(id)
	p, ok := s.posts[n]
	if !ok {
		return Post{}, false
	}
	return *p, true
}

// FailNext makes the next n requests (to any endpoint, after the authentication
// check) fail with status and X's problem JSON for it: 429 (with the rate-limit
// headers of an exhausted window), 5xx, or any other error status.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// Slow delays every answer by d (0 to stop), or until the request is cancelled.
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = d
}

// RateLimit sets the window of an endpoint (both authentication contexts): limit
// requests, remaining left, resetting at reset.
func (s *Server) RateLimit(endpoint string, limit, remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range []string{contextUser, contextApp} {
		s.buckets[endpoint+" "+c] = &bucket{limit: limit, remaining: remaining, reset: reset}
	}
}

// OmitRateLimitHeaders stops (or resumes) sending the x-rate-limit-* headers, to
// test clients against answers that lack them.
func (s *Server) OmitRateLimitHeaders(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRLHdrs = omit
}

// AcceptOnly makes the fake answer 401 to OAuth requests whose oauth_consumer_key
// is not one of keys (no keys: accept any).
func (s *Server) AcceptOnly(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accept = set{}
	for _, k := range keys {
		s.accept[k] = true
	}
}

// Calls returns how many requests reached endpoint, named as the X client names
// it (xapi.EndpointMentions, …; failed ones included).
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// Posted is a post or DM created through the fake.
type Posted struct {
	Kind string // "post" or "dm"
	// ID is the post id or the DM event id.
	ID       string
	AuthorID string
	Text     string
	// InReplyToID and QuoteID are the post's reply target and quoted post.
	InReplyToID string
	QuoteID     string
	// ParticipantID and ConversationID are the DM's recipient and conversation
	// (for posts, ConversationID is the post's conversation).
	ParticipantID  string
	ConversationID string
	At             time.Time
	// Body is the request body as received.
	Body json.RawMessage
}

// Posted returns the posts and DMs created so far, oldest first.
func (s *Server) Posted() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posted)
}

// ---- HTTP ----

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveOAuth2(w, r) {
		return
	}
	endpoint, pathID := route(r.Method, r.URL.Path)
	if endpoint == "" {
		writeJSON(w, http.StatusNotFound, map[string]any{
			"errors": []map[string]any{{"message": "Sorry, that page does not exist", "code": 34}},
		})
		return
	}
	authCtx, consumerKey, token := authContext(r.Header.Get("Authorization"))

	s.mu.Lock()
	oauth2 := false
	if authCtx == contextApp {
		// A bearer token the fake issued through OAuth 2.0 acts as its user.
		_, bearer, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		bearer = strings.TrimSpace(bearer)
		if oauth2 = s.oauth2UserLocked(bearer); oauth2 {
			authCtx, token = contextUser, bearer
		}
	}
	s.calls[endpoint]++
	slow := s.slow
	rejected := authCtx == "" || authCtx == contextUser && !oauth2 && len(s.accept) > 0 && !s.accept[consumerKey]
	s.mu.Unlock()

	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	if rejected {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", "about:blank")
		return
	}
	switch s.connFault() {
	case faultReset:
		resetConnection(w)
		return
	case faultLoseAnswer:
		lost := newLostAnswer()
		defer resetConnection(w)
		w = lost
	}

	s.mu.Lock()
	fail := 0
	if s.failN > 0 {
		s.failN--
		fail = s.failCode
	}
	b, allowed := s.spendLocked(endpoint, authCtx, fail == 0)
	if !s.noRLHdrs && b != nil {
		remaining := b.remaining
		if fail == http.StatusTooManyRequests {
			remaining = 0
		}
		h := w.Header()
		h.Set("x-rate-limit-limit", strconv.Itoa(b.limit))
		h.Set("x-rate-limit-remaining", strconv.Itoa(remaining))
		h.Set("x-rate-limit-reset", strconv.FormatInt(b.reset.Unix(), 10))
	}
	s.mu.Unlock()

	switch {
	case fail != 0:
		writeFailure(w, fail)
		return
	case b == nil && authCtx == contextUser:
		writeProblem(w, http.StatusForbidden, "Unsupported Authentication",
			"Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 Application-Only].",
			"https://api.twitter.com/2/problems/unsupported-authentication")
		return
	case b == nil:
		writeProblem(w, http.StatusForbidden, "Unsupported Authentication",
			"Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
			"https://api.twitter.com/2/problems/unsupported-authentication")
		return
	case !allowed:
		writeFailure(w, http.StatusTooManyRequests)
		return
	}

	switch endpoint {
	case xapi.EndpointMentions:
		s.mentions(w, r, pathID)
	case xapi.EndpointSearch:
		s.search(w, r)
	case xapi.EndpointCreatePost:
		s.createPost(w, r, token)
	case xapi.EndpointSendDM:
		s.sendDM(w, r, pathID, token)
	case xapi.EndpointMe:
		s.authenticatedUser(w, r, token)
	case xapi.EndpointUserPosts:
		s.userPosts(w, r, pathID)
	case xapi.EndpointDMEvents:
		s.dmEvents(w, r, pathID, token)
	case xapi.EndpointAddPublicKey, xapi.EndpointPublicKeys:
		s.servePublicKeys(w, r, endpoint, pathID, token, oauth2)
	case EndpointChatKeys, EndpointChatSend:
		s.serveChat(w, r, endpoint, pathID, token, oauth2)
	default:
		s.serveWebhooks(w, r, endpoint, pathID, authCtx, token)
	}
}

// spendLocked takes one request from the endpoint's window. b is nil when the
// authentication context may not call the endpoint; allowed is false when the
// window is exhausted. With spend false nothing is taken.
func (s *Server) spendLocked(endpoint, authCtx string, spend bool) (b *bucket, allowed bool) {
	l := limits[endpoint]
	limit := l.user
	if authCtx == contextApp {
		limit = l.app
	}
	if limit == 0 {
		return nil, false
	}
	key := endpoint + " " + authCtx
	now := s.now()
	b = s.buckets[key]
	if b == nil || !now.Before(b.reset) {
		if b != nil && b.limit > 0 {
			limit = b.limit // keep a limit set with RateLimit
		}
		b = &bucket{limit: limit, remaining: limit, reset: now.Add(Window).Truncate(time.Second)}
		s.buckets[key] = b
	}
	if b.remaining <= 0 {
		return b, false
	}
	if spend {
		b.remaining--
	}
	return b, true
}

// route names the endpoint of a request and returns its path id.
func route(method, path string) (endpoint, id string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == http.MethodGet && len(parts) == 4 && parts[0] == "2" && parts[1] == "users" && parts[3] == "mentions":
		return xapi.EndpointMentions, parts[2]
	case method == http.MethodGet && path == "/2/tweets/search/recent":
		return xapi.EndpointSearch, ""
	case method == http.MethodPost && path == "/2/tweets":
		return xapi.EndpointCreatePost, ""
	case method == http.MethodPost && len(parts) == 5 && parts[0] == "2" && parts[1] == "dm_conversations" &&
		parts[2] == "with" && parts[4] == "messages":
		return xapi.EndpointSendDM, parts[3]
	case method == http.MethodGet && path == "/2/users/me":
		return xapi.EndpointMe, ""
	case method == http.MethodGet && len(parts) == 4 && parts[0] == "2" && parts[1] == "users" && parts[3] == "tweets":
		return xapi.EndpointUserPosts, parts[2]
	case method == http.MethodGet && len(parts) == 5 && parts[0] == "2" && parts[1] == "dm_conversations" &&
		parts[2] == "with" && parts[4] == "dm_events":
		return xapi.EndpointDMEvents, parts[3]
	}
	if endpoint, id := routePublicKeys(method, parts); endpoint != "" {
		return endpoint, id
	}
	if endpoint, id := routeChat(method, parts); endpoint != "" {
		return endpoint, id
	}
	return routeWebhooks(method, parts)
}

// authContext reads the Authorization header: the context ("" when missing or
// of an unknown scheme), the OAuth consumer key and the OAuth access token.
func authContext(h string) (authCtx, consumerKey, token string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(rest) != "":
		return contextApp, "", ""
	case strings.EqualFold(scheme, "OAuth") && strings.TrimSpace(rest) != "":
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			v, _ = url.QueryUnescape(strings.Trim(v, `"`))
			switch k {
			case "oauth_consumer_key":
				consumerKey = v
			case "oauth_token":
				token = v
			}
		}
		return contextUser, consumerKey, token
	}
	return "", "", ""
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem writes X's problem JSON ({"title","detail","type","status"}).
func writeProblem(w http.ResponseWriter, status int, title, detail, typ string) {
	writeJSON(w, status, map[string]any{"title": title, "detail": detail, "type": typ, "status": status})
}

// writeFailure writes the answer X gives for an error status.
func writeFailure(w http.ResponseWriter, status int) {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	switch status {
	case http.StatusTooManyRequests:
		writeProblem(w, status, "Too Many Requests", "Too Many Requests", "about:blank")
	case http.StatusUnauthorized:
		writeProblem(w, status, "Unauthorized", "Unauthorized", "about:blank")
	default:
		writeProblem(w, status, text, text, "about:blank")
	}
}

// invalid writes X's 400 "Invalid Request" problem about one query parameter.
func invalid(w http.ResponseWriter, param, value, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{
			"parameters": map[string][]string{param: {value}},
			"message":    message,
		}},
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   "https://api.twitter.com/2/problems/invalid-request",
	})
}

// knownParams answers 400, as X does, and reports false when q holds a
// parameter that is not in known.
func knownParams(w http.ResponseWriter, q url.Values, known set) bool {
	for name, values := range q {
		if !known[name] {
			invalid(w, name, strings.Join(values, ","), fmt.Sprintf("The query parameter [%s] is not one of [%s]", name, strings.Join(sortedKeys(known), ",")))
			return false
		}
	}
	return true
}

// listParam returns the comma-separated values of the query parameter name.
// It answers 400, as X does, and reports false for a value that is not in known.
func listParam(w http.ResponseWriter, q url.Values, name string, known set) (set, bool) {
	values := splitSet(q.Get(name))
	for v := range values {
		if !known[v] {
			invalid(w, name, v, fmt.Sprintf("The `%s` query parameter value [%s] is not one of [%s]", name, v, strings.Join(sortedKeys(known), ",")))
			return nil, false
		}
	}
	return values, true
}

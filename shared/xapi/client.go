package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/michimani/gotwi"
	"github.com/michimani/gotwi/fields"
	searchtypes "github.com/michimani/gotwi/tweet/searchtweet/types"
	timelinetypes "github.com/michimani/gotwi/tweet/timeline/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Options configure a Client.
type Options struct {
	// Brand is the account served: the user the credentials act for. Its id and
	// handle classify the posts read (the brand's own posts, summons) and name the
	// account in credential errors. Required.
	Brand care.Brand
	// BaseURL, when set (X_API_BASE_URL), sends every request to that X-compatible
	// server instead of https://api.x.com: scheme and host are replaced, and the
	// base's path, if any, prefixes the request path.
	BaseURL string
	// HTTPClient is the client under gotwi; its Transport is wrapped, not changed.
	// nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock (envelopes' ReceivedAt, 429 fallback); nil means time.Now.
	Now func() time.Time
	// Log receives one debug line per call and warnings; nil means slog.Default().
	Log *slog.Logger
}

// Client talks to X as the brand account. It is safe for concurrent use.
//
// Every call goes through gotwi's CallAPI with gotwi's request types (which build
// the query and body and sign the request with OAuth 1.0a, or the bearer token)
// and a response type of this package that keeps X's JSON. The replies and DMs of
// the reply sender fit the same path: POST /2/tweets with gotwi's
// managetweet/types.CreateInput, and POST /2/dm_conversations/with/{id}/messages
// (which gotwi lacks) with an input type implementing gotwi's parameters.
type Client struct {
	brand care.Brand
	user  *gotwi.Client // OAuth 1.0a user context: the brand account
	app   *gotwi.Client // app-only bearer token; nil without one
	tr    *transport
	now   func() time.Time
	log   *slog.Logger
	creds Credentials // for error messages only: never log or print
	fake  bool        // BaseURL set: any non-empty credentials are accepted
}

var _ Reader = (*Client)(nil)

// New returns a client acting with creds for opts.Brand. It checks that the
// required credentials are set and, against X itself, that the access token
// belongs to the brand (X's tokens start with the user id).
func New(creds Credentials, opts Options) (*Client, error) {
	if !care.IsID(opts.Brand.ID) {
		return nil, fmt.Errorf("xapi: the brand's user id %q is not a decimal X id (set PAJARITO_BRAND_ID or the configuration's brand id)", opts.Brand.ID)
	}
	opts.Brand.Handle = strings.TrimPrefix(opts.Brand.Handle, "@")
	if err := creds.validate(); err != nil {
		return nil, err
	}
	c := &Client{brand: opts.Brand, now: opts.Now, log: opts.Log, creds: creds}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}

	hc := &http.Client{Timeout: defaultHTTPTimeout}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient
		hc = &copied
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.tr = &transport{next: next, limits: map[string]RateLimit{}}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("xapi: X_API_BASE_URL %q is not an absolute http(s) URL such as http://127.0.0.1:8081", opts.BaseURL)
		}
		c.tr.base, c.fake = u, true
	}
	hc.Transport = c.tr

	if !c.fake {
		if owner, _, ok := strings.Cut(creds.AccessToken, "-"); ok && care.IsID(owner) && owner != opts.Brand.ID {
			return nil, fmt.Errorf("xapi: %s belongs to user id %s, not to the brand %s (id %s): generate the access token in the X developer portal while signed in as the brand account, or fix the brand id",
				creds.name("X_ACCESS_TOKEN", "access_token"), owner, c.account(), opts.Brand.ID)
		}
	}

	var err error
	c.user, err = gotwi.NewClient(&gotwi.NewClientInput{
		HTTPClient:           hc,
		AuthenticationMethod: gotwi.AuthenMethodOAuth1UserContext,
		APIKey:               creds.APIKey,
		APIKeySecret:         creds.APISecret,
		OAuthToken:           creds.AccessToken,
		OAuthTokenSecret:     creds.AccessTokenSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("xapi: creating the OAuth 1.0a client: %w", err)
	}
	if creds.BearerToken != "" {
		c.app, err = gotwi.NewClientWithAccessToken(&gotwi.NewClientWithAccessTokenInput{HTTPClient: hc, AccessToken: creds.BearerToken})
		if err != nil {
			return nil, fmt.Errorf("xapi: creating the app-only client: %w", err)
		}
	}
	return c, nil
}

// validate names the first missing required credentials, as the source calls them.
func (c Credentials) validate() error {
	var missing []error
	for _, f := range credentialFields {
		if f.required && strings.TrimSpace(*f.field(&c)) == "" {
			missing = append(missing, fmt.Errorf("%s is empty: %s", c.name(f.env, f.key), f.what))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("xapi: X credentials are incomplete: %w", errors.Join(missing...))
	}
	return nil
}

// name returns how the credentials' source calls a credential: the environment
// variable, or the key of the secret.
func (c Credentials) name(env, key string) string {
	if id, ok := strings.CutPrefix(c.Source, "secret "); ok {
		return fmt.Sprintf("%q in secret %q", key, id)
	}
	return env
}

// account names the brand for messages ("@PajaritoAir" or "user 1590…").
func (c *Client) account() string {
	if c.brand.Handle != "" {
		return "@" + c.brand.Handle
	}
	return "user " + c.brand.ID
}

// RateLimits returns the last rate-limit state X reported per endpoint (see the
// Endpoint constants), from the headers of every answer.
func (c *Client) RateLimits() map[string]RateLimit { return c.tr.rateLimits() }

// Fields and expansions of every post read.
var (
	readTweetFields = fields.TweetFieldList{
		fields.TweetFieldAuthorID, fields.TweetFieldCreatedAt, fields.TweetFieldConversationID,
		fields.TweetFieldLang, fields.TweetFieldInReplyToUserID, fields.TweetFieldReferencedTweets,
		fields.TweetFieldEntities, fields.TweetFieldNoteTweet, fields.TweetFieldPublicMetrics,
	}
	// referenced_tweets.id brings the quoted and replied-to posts (includes.tweets),
	// whose authors tell whether a quote is of a brand post.
	readExpansions = fields.ExpansionList{
		fields.ExpansionAuthorID, fields.ExpansionReferencedTweetsID, fields.ExpansionReferencedTweetsIDAuthorID,
	}
	readUserFields = fields.UserFieldList{
		fields.UserFieldUsername, fields.UserFieldName, fields.UserFieldPublicMetrics, fields.UserFieldVerified,
	}
)

// Limits of X's post reads.
const (
	maxPageSize        = 100
	minMentionsPage    = 5
	minUserPostsPage   = 5
	minDMPage          = 1
	minSearchPage      = 10
	maxSearchQuery     = 512
	searchWindow       = 7 * 24 * time.Hour
	rateLimitFallback  = 15 * time.Minute
	defaultHTTPTimeout = 30 * time.Second
)

// pageSize clamps a requested page size to X's range; 0 means the maximum.
func pageSize(n, lo int) int {
	if n <= 0 {
		return maxPageSize
	}
	return min(max(n, lo), maxPageSize)
}

// Mentions reads one page of userID's mentions timeline (GET
// /2/users/{id}/mentions), newest first, with the brand's user context.
func (c *Client) Mentions(ctx context.Context, userID string, q PageQuery) (*Page, error) {
	start, err := timelineStart(EndpointMentions, userID, q)
	if err != nil {
		return nil, err
	}
	in := &timelinetypes.ListMentionsInput{
		ID:              userID,
		SinceID:         q.SinceID,
		StartTime:       start,
		PaginationToken: q.NextToken,
		MaxResults:      timelinetypes.ListMaxResults(pageSize(q.MaxResults, minMentionsPage)),
		Expansions:      readExpansions,
		TweetFields:     readTweetFields,
		UserFields:      readUserFields,
	}
	return c.readPage(ctx, c.user, EndpointMentions, "/2/users/:id/mentions", in, care.SourceMentions)
}

// timelineStart checks the user id and since id of a user timeline read and
// returns its start_time: q.StartTime to the second, unless SinceID bounds the
// read (nil then, and when StartTime is zero).
func timelineStart(endpoint, userID string, q PageQuery) (*time.Time, error) {
	if !care.IsID(userID) {
		return nil, fmt.Errorf("xapi: %s: user id %q is not a decimal X id", endpoint, userID)
	}
	if q.SinceID != "" && !care.IsID(q.SinceID) {
		return nil, fmt.Errorf("xapi: %s: since id %q is not a decimal X id", endpoint, q.SinceID)
	}
	if q.SinceID != "" || q.StartTime.IsZero() {
		return nil, nil
	}
	start := q.StartTime.UTC().Truncate(time.Second)
	return &start, nil
}

// SearchRecent runs one page of a recent search (GET /2/tweets/search/recent),
// newest first: with the app's bearer token when there is one (X's per-app
// window), else with the brand's user context.
func (c *Client) SearchRecent(ctx context.Context, query string, q PageQuery) (*Page, error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("xapi: %s: the search query is empty", EndpointSearch)
	}
	if n := utf8.RuneCountInString(query); n > maxSearchQuery {
		return nil, fmt.Errorf("xapi: %s: the search query is %d characters long; X accepts at most %d", EndpointSearch, n, maxSearchQuery)
	}
	if q.SinceID != "" && !care.IsID(q.SinceID) {
		return nil, fmt.Errorf("xapi: %s: since id %q is not a decimal X id", EndpointSearch, q.SinceID)
	}
	in := &searchtypes.ListRecentInput{
		Query:       query,
		SinceID:     q.SinceID,
		NextToken:   q.NextToken,
		MaxResults:  searchtypes.ListMaxResults(pageSize(q.MaxResults, minSearchPage)),
		Expansions:  readExpansions,
		TweetFields: readTweetFields,
		UserFields:  readUserFields,
	}
	if q.SinceID == "" && !q.StartTime.IsZero() {
		// X refuses a start older than its seven-day window; a minute of margin
		// covers the clock difference and the request's flight.
		earliest := c.now().Add(-searchWindow + time.Minute)
		start := q.StartTime
		if start.Before(earliest) {
			start = earliest
		}
		start = start.UTC().Truncate(time.Second)
		in.StartTime = &start
	}
	gc := c.user
	if c.app != nil {
		gc = c.app
	}
	return c.readPage(ctx, gc, EndpointSearch, "/2/tweets/search/recent", in, care.SourceSearch)
}

// params is gotwi's request-parameters interface (internal to gotwi, so restated).
type params interface {
	SetAccessToken(token string)
	AccessToken() string
	ResolveEndpoint(endpointBase string) string
	Body() (io.Reader, error)
	ParameterMap() map[string]string
}

// postsAnswer is a page of posts as X sends it, kept as raw JSON.
type postsAnswer struct {
	Data     json.RawMessage `json:"data"`
	Includes json.RawMessage `json:"includes"`
	Meta     struct {
		ResultCount int    `json:"result_count"`
		NewestID    string `json:"newest_id"`
		NextToken   string `json:"next_token"`
	} `json:"meta"`
	// Errors are partial errors, such as a referenced post that was deleted.
	Errors []struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// HasPartialError implements gotwi's response interface.
func (a *postsAnswer) HasPartialError() bool { return len(a.Errors) > 0 }

// readPage calls a read endpoint and normalises its page.
func (c *Client) readPage(ctx context.Context, gc *gotwi.Client, endpoint, path string, in params, source care.Source) (*Page, error) {
	var out postsAnswer
	info, err := c.call(ctx, gc, endpoint, http.MethodGet, path, in, &out)
	if err != nil {
		return nil, err
	}
	var ids []struct {
		ID string `json:"id"`
	}
	if len(out.Data) > 0 && string(out.Data) != "null" {
		if err := json.Unmarshal(out.Data, &ids); err != nil {
			return nil, fmt.Errorf("xapi: %s: X's \"data\" is not a list of posts: %w", endpoint, err)
		}
	}
	res, err := xwebhook.ParsePosts(out.Data, out.Includes, c.brand, source, c.now())
	if err != nil {
		return nil, fmt.Errorf("xapi: %s: %w", endpoint, err)
	}
	page := &Page{
		Envelopes: res.Envelopes,
		Read:      len(ids),
		Dropped:   res.DropCounts,
		Own:       res.Own,
		NewestID:  out.Meta.NewestID,
		NextToken: out.Meta.NextToken,
		RateLimit: info.rateLimit,
	}
	for _, p := range ids {
		page.NewestID = care.MaxID(page.NewestID, p.ID)
	}
	if len(out.Errors) > 0 {
		c.log.WarnContext(ctx, "x partial errors", "endpoint", endpoint, "count", len(out.Errors),
			"title", out.Errors[0].Title, "detail", out.Errors[0].Detail)
	}
	c.log.DebugContext(ctx, "x read", "endpoint", endpoint, "posts", page.Read, "envelopes", len(page.Envelopes),
		"dropped", len(res.Dropped), "newest_id", page.NewestID, "more", page.NextToken != "",
		"rate_remaining", page.RateLimit.Remaining, "rate_reset", page.RateLimit.Reset)
	return page, nil
}

// call sends one request through gotwi and maps X's error answers.
func (c *Client) call(ctx context.Context, gc *gotwi.Client, endpoint, method, path string, in params, out interface{ HasPartialError() bool }) (*callInfo, error) {
	info := &callInfo{}
	start := time.Now()
	err := gc.CallAPI(withCall(ctx, info), DefaultBaseURL+path, method, in, out)
	if err == nil {
		return info, nil
	}
	if info.status >= 300 {
		apiErr := c.apiError(endpoint, info, err, gc == c.app)
		level := slog.LevelWarn
		if info.status >= 500 || info.status == http.StatusTooManyRequests {
			level = slog.LevelInfo // expected now and then; the caller retries
		}
		c.log.Log(ctx, level, "x call failed", "endpoint", endpoint, "status", info.status,
			"rate_remaining", info.rateLimit.Remaining, "rate_reset", info.rateLimit.Reset,
			"elapsed", time.Since(start), "error", apiErr)
		return info, apiErr
	}
	if info.status == 0 {
		return info, &TransportError{Endpoint: endpoint, Err: err}
	}
	return info, fmt.Errorf("xapi: %s: reading X's answer (HTTP %d): %w", endpoint, info.status, err)
}

// problem is X's error JSON: a problem ({"title","detail","type"}) and/or the
// older {"errors":[{"message","code"}]}.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Type   string `json:"type"`
	Errors []struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"errors"`
}

// apiError builds the error of a non-2xx answer from the body the transport kept,
// falling back on what gotwi decoded.
func (c *Client) apiError(endpoint string, info *callInfo, cause error, bearer bool) error {
	if info.status == http.StatusTooManyRequests {
		rl := info.rateLimit
		if rl.Reset.IsZero() {
			rl.Reset = c.now().Add(rateLimitFallback).UTC().Truncate(time.Second)
		}
		return &RateLimitedError{Endpoint: endpoint, RateLimit: rl}
	}
	e := &APIError{Endpoint: endpoint, StatusCode: info.status, RateLimit: info.rateLimit}
	var p problem
	if json.Unmarshal(info.errBody, &p) == nil {
		e.Title, e.Detail, e.Type = p.Title, p.Detail, p.Type
		for _, m := range p.Errors {
			if msg := firstNonEmpty(m.Message, m.Detail); msg != "" {
				e.Messages = append(e.Messages, msg)
			}
		}
	} else if len(info.errBody) > 0 {
		e.Messages = []string{strings.TrimSpace(string(info.errBody[:min(len(info.errBody), 300)]))}
	}
	var ge *gotwi.GotwiError
	if errors.As(cause, &ge) && ge.OnAPI && e.Title == "" && e.Detail == "" {
		e.Title, e.Detail, e.Type = ge.Title, ge.Detail, ge.Type
	}
	if info.status == http.StatusUnauthorized {
		e.Hint = c.unauthorizedHint(bearer)
	}
	return e
}

// unauthorizedHint says which credentials to check after a 401.
func (c *Client) unauthorizedHint(bearer bool) string {
	cr := c.creds
	if bearer {
		return fmt.Sprintf("check %s: the app's bearer token, %s (it changes when regenerated)",
			cr.name("X_BEARER_TOKEN", "bearer_token"), portalKeys)
	}
	return fmt.Sprintf("check %s/%s (the app's consumer keys) and that %s/%s belong to %s "+
		"and are current (regenerating them in the X developer portal → your app → Keys and tokens invalidates the old ones)",
		cr.name("X_API_KEY", "api_key"), cr.name("X_API_SECRET", "api_secret"),
		cr.name("X_ACCESS_TOKEN", "access_token"), cr.name("X_ACCESS_TOKEN_SECRET", "access_token_secret"), c.account())
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

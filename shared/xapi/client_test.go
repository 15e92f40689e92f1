package xapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const (
	brandID = "1590000000000000001"
	mariaID = "1862954300111222333"
	danID   = "1298765432109876543"
)

var (
	brand = care.Brand{ID: brandID, Handle: "PajaritoAir"}
	t0    = time.Date(2026, 8, 18, 16, 0, 0, 0, time.UTC)
	// testCreds are recognisable values that must never show in errors or logs.
	testCreds = xapi.Credentials{
		APIKey:            "ck-SECRET-VALUE-1",
		APISecret:         "cs-SECRET-VALUE-2",
		AccessToken:       brandID + "-SECRET-VALUE-3",
		AccessTokenSecret: "ats-SECRET-VALUE-4",
		Source:            "environment",
	}
)

// recorder is an HTTP transport that records the requests that leave the client.
type recorder struct {
	mu   sync.Mutex
	urls []*url.URL
	auth []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last() (*url.URL, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.urls[len(r.urls)-1], r.auth[len(r.auth)-1]
}

type env struct {
	fake   *xfake.Server
	client *xapi.Client
	rec    *recorder
	logs   *bytes.Buffer
	now    time.Time
}

// setup starts a fake holding the brand, María and Dan, and a client against it.
func setup(t *testing.T, creds xapi.Credentials) *env {
	t.Helper()
	e := &env{fake: xfake.Start(), rec: &recorder{}, logs: &bytes.Buffer{}, now: t0}
	t.Cleanup(e.fake.Close)
	e.fake.SetClock(func() time.Time { return e.now })
	e.fake.SetUser(
		xfake.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air", Verified: true, Followers: 184203},
		xfake.User{ID: mariaID, Username: "mariagv_viajes", Name: "María González", Followers: 412},
		xfake.User{ID: danID, Username: "dan_okafor", Name: "Dan Okafor", Followers: 930, Verified: true},
	)
	var err error
	e.client, err = xapi.New(creds, xapi.Options{
		Brand:      brand,
		BaseURL:    e.fake.URL,
		HTTPClient: &http.Client{Transport: e.rec, Timeout: 5 * time.Second},
		Now:        func() time.Time { return e.now },
		Log:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// seedMentions adds n posts of María mentioning the brand, one a minute, and
// returns their ids, oldest first.
func (e *env) seedMentions(n int) []string {
	var ids []string
	for i := range n {
		e.now = t0.Add(time.Duration(i) * time.Minute)
		ids = append(ids, e.fake.AddPost(xfake.Post{AuthorID: mariaID, Lang: "es", Text: "@PajaritoAir mensaje " + strconv.Itoa(i)}).ID)
	}
	return ids
}

func messageIDs(p *xapi.Page) []string {
	var ids []string
	for _, env := range p.Envelopes {
		if env.Message != nil {
			ids = append(ids, env.Message.ID)
		}
	}
	return ids
}

func TestMentionsFirstPage(t *testing.T) {
	e := setup(t, testCreds)
	e.fake.Seed(
		xfake.Post{ID: "2089684275603956947", AuthorID: brandID, Text: "Heads-up: thunderstorms over Madrid", CreatedAt: t0.Add(-4 * time.Hour)},
		xfake.Post{ID: "2089740868135895435", AuthorID: mariaID, Lang: "es", CreatedAt: t0.Add(-10 * time.Minute),
			Text: "@PajaritoAir llevo 3 horas en Barajas"},
		xfake.Post{ID: "2089741000000000000", AuthorID: danID, CreatedAt: t0.Add(-9 * time.Minute),
			Text: "RT @PajaritoAir: Heads-up: thunderstorms over Madrid", ReferencedTweets: []xfake.Ref{{Type: xfake.RefRetweeted, ID: "2089684275603956947"}}},
		xfake.Post{ID: "2089742284874031875", AuthorID: brandID, Lang: "es", CreatedAt: t0.Add(-5 * time.Minute),
			Text: "@mariagv_viajes @PajaritoAir Hola María", InReplyToUserID: mariaID,
			ReferencedTweets: []xfake.Ref{{Type: xfake.RefRepliedTo, ID: "2089740868135895435"}}},
	)
	page, err := e.client.Mentions(context.Background(), brandID, xapi.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := messageIDs(page); !slices.Equal(got, []string{"2089742284874031875", "2089740868135895435"}) {
		t.Errorf("messages %v, want the brand's reply and María's mention, newest first", got)
	}
	if page.Read != 3 || page.Dropped[xwebhook.DropRetweet] != 1 || page.NewestID != "2089742284874031875" || page.NextToken != "" {
		t.Errorf("page: read %d dropped %v newest %q next %q", page.Read, page.Dropped, page.NewestID, page.NextToken)
	}
	reply, maria := page.Envelopes[0], page.Envelopes[1]
	m := maria.Message
	if maria.Source != care.SourceMentions || !maria.ReceivedAt.Equal(t0) || m.Direction != care.Inbound || !m.Summoned ||
		m.AuthorHandle != "mariagv_viajes" || m.AuthorFollowers != 412 || m.Lang != "es" ||
		!m.CreatedAt.Equal(t0.Add(-10*time.Minute)) || m.ConversationID != "2089740868135895435" {
		t.Errorf("María's message = %+v (source %s)", m, maria.Source)
	}
	if reply.Message.Direction != care.Outbound || reply.Message.InReplyToID != "2089740868135895435" {
		t.Errorf("the brand's reply = %+v", reply.Message)
	}
	var raw map[string]any
	if err := json.Unmarshal(maria.Raw, &raw); err != nil || raw["id"] != "2089740868135895435" || raw["entities"] == nil || raw["public_metrics"] == nil {
		t.Errorf("Raw is not the post's v2 JSON with the requested fields: %s", maria.Raw)
	}
	if page.RateLimit.Limit != 300 || page.RateLimit.Remaining != 299 || !page.RateLimit.Reset.Equal(t0.Add(xfake.Window)) {
		t.Errorf("rate limit %+v, want 300/299 resetting at %v", page.RateLimit, t0.Add(xfake.Window))
	}
	if got := e.client.RateLimits()[xapi.EndpointMentions]; got != page.RateLimit {
		t.Errorf("RateLimits()[mentions] = %+v, want %+v (all: %v)", got, page.RateLimit, e.client.RateLimits())
	}

	u, auth := e.rec.last()
	q := u.Query()
	if !strings.HasPrefix(auth, "OAuth ") || q.Get("max_results") != "100" ||
		q.Get("tweet.fields") != "author_id,created_at,conversation_id,lang,in_reply_to_user_id,referenced_tweets,entities,note_tweet,public_metrics" ||
		q.Get("expansions") != "author_id,referenced_tweets.id,referenced_tweets.id.author_id" ||
		q.Get("user.fields") != "username,name,public_metrics,verified" {
		t.Errorf("request %s (auth %.6s…)", u, auth)
	}
	if strings.Contains(e.logs.String(), "SECRET-VALUE") {
		t.Errorf("the logs show a credential:\n%s", e.logs)
	}
}

func TestSearchFirstPage(t *testing.T) {
	for _, bearer := range []bool{true, false} {
		t.Run("bearer="+strconv.FormatBool(bearer), func(t *testing.T) {
			creds := testCreds
			wantLimit, wantAuth := 300, "OAuth "
			if bearer {
				creds.BearerToken = "AAAA-SECRET-VALUE-5"
				wantLimit, wantAuth = 450, "Bearer "
			}
			e := setup(t, creds)
			e.fake.Seed(
				xfake.Post{ID: "2089684275603956947", AuthorID: brandID, Text: "Heads-up: minor delays at Madrid", CreatedAt: t0.Add(-3 * time.Hour)},
				xfake.Post{ID: "2089702717593305594", AuthorID: danID, Lang: "en", CreatedAt: t0.Add(-2 * time.Hour),
					Text:             `"Minor delays" — two hours on the tarmac. Pajarito Air, really?`,
					ReferencedTweets: []xfake.Ref{{Type: xfake.RefQuoted, ID: "2089684275603956947"}}},
				xfake.Post{ID: "2089702717593305600", AuthorID: mariaID, Lang: "en", CreatedAt: t0.Add(-time.Hour),
					Text: "Pajarito Air lost my bag", ReferencedTweets: []xfake.Ref{{Type: xfake.RefQuoted, ID: "123"}}}, // unknown quoted post
			)
			page, err := e.client.SearchRecent(context.Background(), `("pajarito air" OR @PajaritoAir) -is:retweet`, xapi.PageQuery{MaxResults: 5})
			if err != nil {
				t.Fatal(err)
			}
			if got := messageIDs(page); !slices.Equal(got, []string{"2089702717593305600", "2089702717593305594"}) {
				t.Fatalf("messages %v", got)
			}
			dan, maria := page.Envelopes[1].Message, page.Envelopes[0].Message
			if !dan.Summoned || dan.QuotedID != "2089684275603956947" || dan.AuthorHandle != "dan_okafor" || !dan.AuthorVerified {
				t.Errorf("a quote of the brand's post is summoned: %+v", dan)
			}
			if maria.Summoned {
				t.Errorf("a post naming the brand in words only is not summoned: %+v", maria)
			}
			if page.Envelopes[0].Source != care.SourceSearch || page.NewestID != "2089702717593305600" {
				t.Errorf("source %q newest %q", page.Envelopes[0].Source, page.NewestID)
			}
			if page.RateLimit.Limit != wantLimit {
				t.Errorf("rate limit %+v, want the %d-request window", page.RateLimit, wantLimit)
			}
			u, auth := e.rec.last()
			if !strings.HasPrefix(auth, wantAuth) || u.Query().Get("max_results") != "10" {
				t.Errorf("request %s with %.7s…: want %s auth and max_results raised to 10", u, auth, wantAuth)
			}
			if !strings.Contains(e.logs.String(), "x partial errors") {
				t.Errorf("the unknown quoted post's partial error is not logged:\n%s", e.logs)
			}
		})
	}
}

func TestSinceID(t *testing.T) {
	e := setup(t, testCreds)
	ids := e.seedMentions(5)
	for _, read := range []func(xapi.PageQuery) (*xapi.Page, error){
		func(q xapi.PageQuery) (*xapi.Page, error) { return e.client.Mentions(context.Background(), brandID, q) },
		func(q xapi.PageQuery) (*xapi.Page, error) {
			return e.client.SearchRecent(context.Background(), "@PajaritoAir", q)
		},
	} {
		page, err := read(xapi.PageQuery{SinceID: ids[2], StartTime: t0.Add(-30 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if got := messageIDs(page); !slices.Equal(got, []string{ids[4], ids[3]}) {
			t.Errorf("since %s: %v, want %v", ids[2], got, []string{ids[4], ids[3]})
		}
		if u, _ := e.rec.last(); u.Query().Has("start_time") {
			t.Errorf("start_time sent with since_id: %s", u)
		}
		empty, err := read(xapi.PageQuery{SinceID: ids[4]})
		if err != nil || len(empty.Envelopes) != 0 || empty.NewestID != "" || empty.Read != 0 {
			t.Errorf("nothing new: %+v, %v", empty, err)
		}
	}
}

func TestStartTimeAndPageSize(t *testing.T) {
	e := setup(t, testCreds)
	e.seedMentions(3)
	ctx := context.Background()
	if _, err := e.client.SearchRecent(ctx, "mensaje", xapi.PageQuery{StartTime: t0.Add(-30 * 24 * time.Hour), MaxResults: 500}); err != nil {
		t.Fatal(err)
	}
	u, _ := e.rec.last()
	start, err := time.Parse(time.RFC3339, u.Query().Get("start_time"))
	if err != nil || start.Before(e.now.Add(-7*24*time.Hour)) || u.Query().Get("max_results") != "100" {
		t.Errorf("search %s: start_time must be raised into the seven-day window, max_results cut to 100", u)
	}
	page, err := e.client.Mentions(ctx, brandID, xapi.PageQuery{StartTime: t0.Add(90 * time.Second), MaxResults: 1})
	if err != nil {
		t.Fatal(err)
	}
	u, _ = e.rec.last()
	if u.Query().Get("start_time") != "2026-08-18T16:01:30Z" || u.Query().Get("max_results") != "5" || page.Read != 1 {
		t.Errorf("mentions %s read %d: want start_time as given, max_results raised to 5, one post", u, page.Read)
	}
}

func TestPagination(t *testing.T) {
	e := setup(t, testCreds)
	ids := e.seedMentions(25)
	for name, read := range map[string]func(xapi.PageQuery) (*xapi.Page, error){
		"mentions": func(q xapi.PageQuery) (*xapi.Page, error) { return e.client.Mentions(context.Background(), brandID, q) },
		"search": func(q xapi.PageQuery) (*xapi.Page, error) {
			return e.client.SearchRecent(context.Background(), "@PajaritoAir -is:retweet", q)
		},
	} {
		t.Run(name, func(t *testing.T) {
			q := xapi.PageQuery{SinceID: ids[0], MaxResults: 10}
			var got []string
			newest, pages := "", 0
			for {
				page, err := read(q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, messageIDs(page)...)
				newest = care.MaxID(newest, page.NewestID)
				if page.NextToken == "" {
					break
				}
				q.NextToken = page.NextToken
			}
			want := slices.Clone(ids[1:])
			slices.Reverse(want)
			if pages != 3 || !slices.Equal(got, want) {
				t.Errorf("%d pages, ids %v; want 3 pages with %v", pages, got, want)
			}
			if newest != ids[24] {
				t.Errorf("newest id across pages %q, want %q", newest, ids[24])
			}
		})
	}
}

func TestRateLimited(t *testing.T) {
	e := setup(t, testCreds)
	e.seedMentions(1)
	reset := t0.Add(7 * time.Minute)
	e.fake.RateLimit(xapi.EndpointMentions, 300, 0, reset)
	_, err := e.client.Mentions(context.Background(), brandID, xapi.PageQuery{})
	var rl *xapi.RateLimitedError
	if !errors.As(err, &rl) || !rl.RateLimit.Reset.Equal(reset) || rl.RateLimit.Limit != 300 || rl.Endpoint != xapi.EndpointMentions {
		t.Fatalf("err = %v (%+v), want a RateLimitedError resetting at %v", err, rl, reset)
	}
	if !xapi.IsRetryable(err) || !strings.Contains(err.Error(), "2026-08-18T16:07:00Z") {
		t.Errorf("%v: want retryable, naming the reset", err)
	}

	e.fake.OmitRateLimitHeaders(true)
	_, err = e.client.Mentions(context.Background(), brandID, xapi.PageQuery{})
	if !errors.As(err, &rl) || !rl.RateLimit.Reset.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("429 without headers: %v, want the reset 15 minutes on", err)
	}
}

func TestErrorAnswers(t *testing.T) {
	cases := []struct {
		status    int
		retryable bool
		want      string
	}{
		{http.StatusServiceUnavailable, true, "X answered 503 Service Unavailable (retryable): Service Unavailable"},
		{http.StatusInternalServerError, true, "(retryable)"},
		{http.StatusForbidden, false, "X answered 403 Forbidden: Forbidden"},
		{http.StatusBadRequest, false, "X answered 400 Bad Request"},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			e := setup(t, testCreds)
			e.fake.FailNext(1, tc.status)
			_, err := e.client.SearchRecent(context.Background(), "pajarito", xapi.PageQuery{})
			var api *xapi.APIError
			if !errors.As(err, &api) || api.StatusCode != tc.status || api.Retryable() != tc.retryable ||
				xapi.IsRetryable(err) != tc.retryable || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), xapi.EndpointSearch) {
				t.Errorf("err = %v, want an APIError %d (retryable %v) saying %q", err, tc.status, tc.retryable, tc.want)
			}
			if _, err := e.client.SearchRecent(context.Background(), "pajarito", xapi.PageQuery{}); err != nil {
				t.Errorf("the next call: %v", err)
			}
		})
	}

	t.Run("invalid request", func(t *testing.T) {
		e := setup(t, testCreds)
		_, err := e.client.SearchRecent(context.Background(), "lang:es", xapi.PageQuery{})
		var api *xapi.APIError
		if !errors.As(err, &api) || api.Title != "Invalid Request" || !strings.Contains(err.Error(), "stand alone") || xapi.IsRetryable(err) {
			t.Errorf("err = %v, want X's 400 with its message", err)
		}
	})

	t.Run("no answer", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		c, err := xapi.New(testCreds, xapi.Options{Brand: brand, BaseURL: dead.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Mentions(context.Background(), brandID, xapi.PageQuery{})
		var te *xapi.TransportError
		if !errors.As(err, &te) || !xapi.IsRetryable(err) {
			t.Errorf("err = %v, want a retryable TransportError", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Mentions(ctx, brandID, xapi.PageQuery{}); xapi.IsRetryable(err) {
			t.Errorf("a cancelled call is not retryable: %v", err)
		}
	})
}

func TestUnauthorized(t *testing.T) {
	secretCreds := testCreds
	secretCreds.Source = "secret pajarito/x"
	bearerCreds := testCreds
	bearerCreds.BearerToken = "AAAA-SECRET-VALUE-5"
	cases := []struct {
		name  string
		creds xapi.Credentials
		call  func(*xapi.Client) error
		want  []string
	}{
		{"environment", testCreds, mentions,
			[]string{"X rejected the credentials (401", "X_API_KEY/X_API_SECRET", "X_ACCESS_TOKEN/X_ACCESS_TOKEN_SECRET belong to @PajaritoAir"}},
		{"secret", secretCreds, mentions,
			[]string{"X rejected the credentials (401", `"api_key" in secret "pajarito/x"`, `"access_token" in secret "pajarito/x"`, "@PajaritoAir"}},
		{"bearer", bearerCreds, search, []string{"X rejected the credentials (401", "check X_BEARER_TOKEN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, tc.creds)
			e.fake.AcceptOnly("the-right-key")
			if tc.creds.BearerToken != "" {
				e.fake.FailNext(1, http.StatusUnauthorized) // bearer tokens carry no consumer key
			}
			err := tc.call(e.client)
			if !errors.Is(err, xapi.ErrUnauthorized) || xapi.IsRetryable(err) {
				t.Fatalf("err = %v, want ErrUnauthorized, not retryable", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error()+e.logs.String(), "SECRET-VALUE") {
				t.Errorf("a credential shows in the error or the logs:\n%v\n%s", err, e.logs)
			}
		})
	}
}

func mentions(c *xapi.Client) error {
	_, err := c.Mentions(context.Background(), brandID, xapi.PageQuery{})
	return err
}

func search(c *xapi.Client) error {
	_, err := c.SearchRecent(context.Background(), "pajarito", xapi.PageQuery{})
	return err
}

func TestBaseURL(t *testing.T) {
	// The X-compatible server lives under a path prefix.
	fake := xfake.New()
	fake.SetUser(xfake.User{ID: brandID, Username: "PajaritoAir"})
	fake.Seed(xfake.Post{AuthorID: mariaID, Text: "@PajaritoAir hola"})
	srv := httptest.NewServer(http.StripPrefix("/x", fake))
	defer srv.Close()
	rec := &recorder{}
	c, err := xapi.New(testCreds, xapi.Options{Brand: brand, BaseURL: srv.URL + "/x/", HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.Mentions(context.Background(), brandID, xapi.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := rec.last()
	if len(page.Envelopes) != 1 || fake.Calls(xapi.EndpointMentions) != 1 || u.Host != strings.TrimPrefix(srv.URL, "http://") ||
		u.Path != "/x/2/users/"+brandID+"/mentions" {
		t.Errorf("envelopes %d, fake calls %d, request %s", len(page.Envelopes), fake.Calls(xapi.EndpointMentions), u)
	}
}

func TestNew(t *testing.T) {
	otherToken := testCreds
	otherToken.AccessToken = "98765432-SECRET-VALUE-3"
	empty := testCreds
	empty.AccessTokenSecret = " "
	cases := []struct {
		name  string
		creds xapi.Credentials
		opts  xapi.Options
		want  string
	}{
		{"no brand", testCreds, xapi.Options{}, "brand's user id"},
		{"token of another account", otherToken, xapi.Options{Brand: brand},
			"X_ACCESS_TOKEN belongs to user id 98765432, not to the brand @PajaritoAir"},
		{"empty credential", empty, xapi.Options{Brand: brand}, "X_ACCESS_TOKEN_SECRET is empty: the brand account's OAuth 1.0a access token secret"},
		{"relative base URL", testCreds, xapi.Options{Brand: brand, BaseURL: "127.0.0.1:8081"}, "X_API_BASE_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xapi.New(tc.creds, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET-VALUE") {
				t.Errorf("err = %v, want one containing %q and no credential", err, tc.want)
			}
		})
	}
	// Against a fake, any non-empty credentials do.
	if _, err := xapi.New(otherToken, xapi.Options{Brand: brand, BaseURL: "http://127.0.0.1:1"}); err != nil {
		t.Errorf("with a base URL: %v", err)
	}
}

func TestIDs(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"999", "1000", -1},
		{"1000", "999", 1},
		{"2089742284874031875", "2089742284874031875", 0},
		{"2089742284874031875", "2089742284874031876", -1},
		{"98765432", "2089742284874031875", -1},
		{"0012", "12", 0},
	}
	for _, tc := range cases {
		if got := care.CompareIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("care.CompareIDs(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := care.MaxID("", "999", "1000", "bogus", "98"); got != "1000" {
		t.Errorf("MaxID = %q, want 1000", got)
	}
	if got := care.MaxID("", "x"); got != "" {
		t.Errorf("MaxID of no ids = %q", got)
	}
}

// TestSampleEvents reads the brand's mentions from a fake seeded with events/, the
// way the local dev system does, and checks that a post normalises as its webhook
// delivery does.
func TestSampleEvents(t *testing.T) {
	posts, users, err := xfake.SeedFromEvents("../../events")
	if err != nil {
		t.Fatal(err)
	}
	e := setup(t, testCreds)
	e.fake.SetUser(users...)
	e.fake.Seed(posts...)
	page, err := e.client.Mentions(context.Background(), brandID, xapi.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*care.Message{}
	for _, env := range page.Envelopes {
		if env.Kind != care.KindMessage {
			t.Errorf("envelope %+v", env)
			continue
		}
		byID[env.Message.ID] = env.Message
	}
	oliver := byID["2089978461807813622"] // aaa-tweet-truncated-en.json: a 462-character post
	if oliver == nil || len([]rune(oliver.Text)) != 462 || !oliver.Summoned || oliver.AuthorHandle != "oliverbennett" {
		t.Errorf("the long post = %+v", oliver)
	}
	for _, name := range []string{"xaa-mention-es.json", "xaa-reply-es.json"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		res, err := xwebhook.Parse(body, brand, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := res.Envelopes[0].Message
		got := byID[want.ID]
		if got == nil {
			t.Errorf("%s: post %s not among the mentions", name, want.ID)
			continue
		}
		if got.Text != want.Text || got.AuthorHandle != want.AuthorHandle || got.AuthorFollowers != want.AuthorFollowers ||
			got.InReplyToID != want.InReplyToID || got.ConversationID != want.ConversationID || !got.CreatedAt.Equal(want.CreatedAt) ||
			got.Summoned != want.Summoned || !slices.Equal(got.MentionedIDs, want.MentionedIDs) {
			t.Errorf("%s: read %+v\nwebhook %+v", name, got, want)
		}
	}
	if page.Dropped[xwebhook.DropRetweet] != 1 {
		t.Errorf("dropped %v, want the sample retweet", page.Dropped)
	}
}

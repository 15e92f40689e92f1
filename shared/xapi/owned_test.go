package xapi_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

func TestMe(t *testing.T) {
	secretCreds := testCreds
	secretCreds.Source = "secret pajarito/x"
	bearerCreds := testCreds
	bearerCreds.BearerToken = "AAAA-SECRET-VALUE-5"
	refuse := func(e *env) { e.fake.AcceptOnly("the-right-key") }
	cases := []struct {
		name  string
		creds xapi.Credentials
		setup func(*env)
		want  *xapi.User
		check func(error) bool // the error wanted, when want is nil
		texts []string         // in the error
	}{
		{name: "accepted", creds: testCreds, want: &xapi.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"}},
		{name: "as the brand even with a bearer token", creds: bearerCreds, want: &xapi.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"}},
		{name: "refused, from the environment", creds: testCreds, setup: refuse,
			check: func(err error) bool { return errors.Is(err, xapi.ErrUnauthorized) && !xapi.IsRetryable(err) },
			texts: []string{"GET /2/users/me: X rejected the credentials (401", "X_API_KEY/X_API_SECRET",
				"X_ACCESS_TOKEN/X_ACCESS_TOKEN_SECRET belong to @PajaritoAir", "Keys and tokens"}},
		{name: "refused, from a secret", creds: secretCreds, setup: refuse,
			check: func(err error) bool { return errors.Is(err, xapi.ErrUnauthorized) },
			texts: []string{`"api_key" in secret "pajarito/x"`, `"access_token_secret" in secret "pajarito/x"`, "@PajaritoAir"}},
		{name: "X unavailable", creds: testCreds, setup: func(e *env) { e.fake.FailNext(1, http.StatusServiceUnavailable) },
			check: func(err error) bool {
				var api *xapi.APIError
				return errors.As(err, &api) && api.StatusCode == 503 && xapi.IsRetryable(err) && !errors.Is(err, xapi.ErrUnauthorized)
			}},
		{name: "rate limited", creds: testCreds, setup: func(e *env) { e.fake.RateLimit(xapi.EndpointMe, 75, 0, t0.Add(4*time.Minute)) },
			check: func(err error) bool {
				var rl *xapi.RateLimitedError
				return errors.As(err, &rl) && rl.Endpoint == xapi.EndpointMe && rl.RateLimit.Reset.Equal(t0.Add(4*time.Minute))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, tc.creds)
			if tc.setup != nil {
				tc.setup(e)
			}
			u, err := e.client.Me(context.Background())
			if tc.want != nil {
				if err != nil || *u != *tc.want {
					t.Fatalf("Me = %+v, %v; want %+v", u, err, tc.want)
				}
				if rl := e.client.RateLimits()[xapi.EndpointMe]; rl.Limit != 75 || rl.Remaining != 74 {
					t.Errorf("RateLimits()[%s] = %+v, want 74 of 75 left", xapi.EndpointMe, rl)
				}
				if url, auth := e.rec.last(); url.Path != "/2/users/me" || url.RawQuery != "" || !strings.HasPrefix(auth, "OAuth ") {
					t.Errorf("request %s with %.6s…; want /2/users/me as the brand (OAuth 1.0a)", url, auth)
				}
				return
			}
			if u != nil || !tc.check(err) {
				t.Fatalf("Me = %+v, %v", u, err)
			}
			for _, w := range tc.texts {
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

// seedReplies adds n mentions of María, each answered by the brand a minute later,
// and returns the replies' ids, oldest first.
func (e *env) seedReplies(n int) []string {
	var ids []string
	for i := range n {
		at := t0.Add(time.Duration(2*i) * time.Minute)
		m := e.fake.AddPost(xfake.Post{AuthorID: mariaID, Text: "@PajaritoAir ayuda " + strconv.Itoa(i), CreatedAt: at})
		r := e.fake.AddPost(xfake.Post{AuthorID: brandID, Text: "@mariagv_viajes vamos " + strconv.Itoa(i), CreatedAt: at.Add(time.Minute),
			InReplyToUserID: mariaID, ReferencedTweets: []xfake.Ref{{Type: xfake.RefRepliedTo, ID: m.ID}}})
		ids = append(ids, r.ID)
	}
	return ids
}

func TestUserPosts(t *testing.T) {
	creds := testCreds
	creds.BearerToken = "AAAA-SECRET-VALUE-5" // owned reads stay with the brand's user context
	e := setup(t, creds)
	ctx := context.Background()
	mention := e.fake.AddPost(xfake.Post{AuthorID: mariaID, Lang: "es", Text: "@PajaritoAir ¿y mi maleta?", CreatedAt: t0.Add(-10 * time.Minute)}).ID
	e.fake.AddPost(xfake.Post{AuthorID: brandID, Text: "Heads-up: storms over Madrid", CreatedAt: t0.Add(-4 * time.Hour)})
	e.fake.AddPost(xfake.Post{AuthorID: danID, Text: "@PajaritoAir hello", CreatedAt: t0.Add(-time.Minute)})
	sent, err := e.client.Reply(ctx, mention, "@mariagv_viajes La buscamos ya, María. ^Ana")
	if err != nil {
		t.Fatal(err)
	}

	page, err := e.client.UserPosts(ctx, brandID, xapi.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := messageIDs(page); !slices.Equal(got, []string{sent.ID}) {
		t.Fatalf("messages %v, want the reply posted through Reply, %s", got, sent.ID)
	}
	env, m := page.Envelopes[0], page.Envelopes[0].Message
	if env.Source != xapi.SourceUserPosts || m.Direction != care.Outbound || m.InReplyToID != mention || m.InReplyToUserID != mariaID ||
		m.AuthorID != brandID || m.AuthorHandle != "PajaritoAir" || m.ConversationID != mention || m.Customer() != mariaID {
		t.Errorf("the reply read back = %+v (source %s)", m, env.Source)
	}
	if page.Read != 2 || page.Dropped[xwebhook.DropOwnPost] != 1 || page.NewestID != sent.ID || page.NextToken != "" {
		t.Errorf("page: read %d dropped %v newest %q next %q; want 2 read, the broadcast dropped", page.Read, page.Dropped, page.NewestID, page.NextToken)
	}
	if len(page.Own) != 1 || page.Own[0].Text != "Heads-up: storms over Madrid" || page.Own[0].Direction != care.Outbound ||
		!page.Own[0].CreatedAt.Equal(t0.Add(-4*time.Hour)) || page.Own[0].InReplyToID != "" {
		t.Errorf("own posts %+v; want the broadcast, outbound, with its time", page.Own)
	}
	if page.RateLimit.Limit != 900 || page.RateLimit.Remaining != 899 || e.client.RateLimits()[xapi.EndpointUserPosts] != page.RateLimit {
		t.Errorf("rate limit %+v (all %v), want 899 of 900 as the brand", page.RateLimit, e.client.RateLimits())
	}
	u, auth := e.rec.last()
	q := u.Query()
	if u.Path != "/2/users/"+brandID+"/tweets" || !strings.HasPrefix(auth, "OAuth ") || q.Get("max_results") != "100" ||
		q.Get("tweet.fields") != "author_id,created_at,conversation_id,lang,in_reply_to_user_id,referenced_tweets,entities,note_tweet,public_metrics" ||
		q.Get("expansions") != "author_id,referenced_tweets.id,referenced_tweets.id.author_id" ||
		q.Get("user.fields") != "username,name,public_metrics,verified" || q.Has("exclude") {
		t.Errorf("request %s (auth %.6s…)", u, auth)
	}

	maria, err := e.client.UserPosts(ctx, mariaID, xapi.PageQuery{})
	if err != nil || !slices.Equal(messageIDs(maria), []string{mention}) || maria.Envelopes[0].Message.Direction != care.Inbound ||
		maria.Envelopes[0].Message.AuthorHandle != "mariagv_viajes" {
		t.Errorf("María's posts: %+v, %v", maria, err)
	}
}

func TestUserPostsQuery(t *testing.T) {
	e := setup(t, testCreds)
	ids := e.seedReplies(5) // replies at t0+1m, +3m, +5m, +7m, +9m
	cases := []struct {
		name      string
		userID    string
		q         xapi.PageQuery
		wantIDs   []string
		wantQuery map[string]string // "" means absent
		wantErr   string
	}{
		{name: "since_id wins over start_time", userID: brandID, q: xapi.PageQuery{SinceID: ids[2], StartTime: t0.Add(-30 * 24 * time.Hour)},
			wantIDs: []string{ids[4], ids[3]}, wantQuery: map[string]string{"since_id": ids[2], "start_time": ""}},
		{name: "start_time to the second", userID: brandID, q: xapi.PageQuery{StartTime: t0.Add(6*time.Minute + 300*time.Millisecond)},
			wantIDs: []string{ids[4], ids[3]}, wantQuery: map[string]string{"start_time": "2026-08-18T16:06:00Z", "since_id": ""}},
		{name: "max_results raised to 5", userID: brandID, q: xapi.PageQuery{MaxResults: 1},
			wantIDs: []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, wantQuery: map[string]string{"max_results": "5"}},
		{name: "max_results cut to 100", userID: brandID, q: xapi.PageQuery{MaxResults: 500},
			wantIDs: []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, wantQuery: map[string]string{"max_results": "100"}},
		{name: "user id not an id", userID: "@PajaritoAir", wantErr: `user id "@PajaritoAir" is not a decimal X id`},
		{name: "since id not an id", userID: brandID, q: xapi.PageQuery{SinceID: "latest"}, wantErr: `since id "latest" is not a decimal X id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := e.fake.Calls(xapi.EndpointUserPosts)
			page, err := e.client.UserPosts(context.Background(), tc.userID, tc.q)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), xapi.EndpointUserPosts) ||
					e.fake.Calls(xapi.EndpointUserPosts) != calls {
					t.Errorf("err = %v, want %q before any request", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := messageIDs(page); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("messages %v, want %v", got, tc.wantIDs)
			}
			u, _ := e.rec.last()
			for k, v := range tc.wantQuery {
				if got := u.Query().Get(k); got != v {
					t.Errorf("%s = %q, want %q (request %s)", k, got, v, u)
				}
			}
		})
	}
}

func TestUserPostsPagination(t *testing.T) {
	e := setup(t, testCreds)
	ids := e.seedReplies(12)
	want := slices.Clone(ids)
	slices.Reverse(want)
	q := xapi.PageQuery{MaxResults: 5}
	var got []string
	pages := 0
	for {
		page, err := e.client.UserPosts(context.Background(), brandID, q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, messageIDs(page)...)
		if page.NextToken == "" {
			break
		}
		q.NextToken = page.NextToken
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages, ids %v; want 3 pages with %v", pages, got, want)
	}
}

// dmIDs returns the ids of a DM page's events.
func dmIDs(p *xapi.DMPage) []string {
	var ids []string
	for _, ev := range p.Events {
		ids = append(ids, ev.ID)
	}
	return ids
}

func TestDMEvents(t *testing.T) {
	e := setup(t, testCreds)
	ctx := context.Background()
	inbound := e.fake.AddDM(xfake.DM{SenderID: mariaID, RecipientID: brandID, Text: "Hola, perdí mi maleta en Barajas", CreatedAt: t0.Add(-10 * time.Minute)})
	e.fake.AddDM(xfake.DM{SenderID: danID, RecipientID: brandID, Text: "Where is my bag?", CreatedAt: t0.Add(-5 * time.Minute)})
	sent, err := e.client.SendDM(ctx, mariaID, "Hola María, ¿nos pasas tu localizador? ^Ana")
	if err != nil {
		t.Fatal(err)
	}

	page, err := e.client.DMEvents(ctx, mariaID, xapi.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []xapi.DMEvent{
		{ID: sent.ID, Text: "Hola María, ¿nos pasas tu localizador? ^Ana", CreatedAt: t0, SenderID: brandID, RecipientID: mariaID, ConversationID: sent.ConversationID},
		{ID: inbound.ID, Text: "Hola, perdí mi maleta en Barajas", CreatedAt: t0.Add(-10 * time.Minute), SenderID: mariaID, RecipientID: brandID, ConversationID: brandID + "-" + mariaID},
	}
	if len(page.Events) != len(want) {
		t.Fatalf("events %v, want %s and %s", dmIDs(page), sent.ID, inbound.ID)
	}
	for i, w := range want {
		got := page.Events[i]
		raw := got.Raw
		got.Raw = nil
		if !got.CreatedAt.Equal(w.CreatedAt) || got.ID != w.ID || got.Text != w.Text || got.SenderID != w.SenderID ||
			got.RecipientID != w.RecipientID || got.ConversationID != w.ConversationID || !strings.Contains(string(raw), `"event_type":"MessageCreate"`) {
			t.Errorf("event %d = %+v (raw %s), want %+v", i, got, raw, w)
		}
	}
	if page.Read != 2 || page.NewestID != sent.ID || page.NextToken != "" || page.RateLimit.Limit != 300 || page.RateLimit.Remaining != 299 ||
		e.client.RateLimits()[xapi.EndpointDMEvents] != page.RateLimit {
		t.Errorf("page: read %d newest %q next %q rate %+v", page.Read, page.NewestID, page.NextToken, page.RateLimit)
	}
	u, auth := e.rec.last()
	q := u.Query()
	if u.Path != "/2/dm_conversations/with/"+mariaID+"/dm_events" || !strings.HasPrefix(auth, "OAuth ") ||
		q.Get("dm_event.fields") != "id,text,created_at,sender_id,dm_conversation_id,participant_ids,event_type" ||
		q.Get("event_types") != "MessageCreate" || q.Get("max_results") != "100" || len(q) != 3 {
		t.Errorf("request %s (auth %.6s…)", u, auth)
	}
}

func TestDMEventsQuery(t *testing.T) {
	e := setup(t, testCreds)
	var ids []string // María and the brand in turn, one a minute from t0; oldest first
	for i := range 5 {
		from, to := mariaID, brandID
		if i%2 == 1 {
			from, to = to, from
		}
		ids = append(ids, e.fake.AddDM(xfake.DM{SenderID: from, RecipientID: to, Text: "dm " + strconv.Itoa(i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}).ID)
	}
	type pageWant struct {
		ids  []string
		more bool
	}
	cases := []struct {
		name     string
		q        xapi.PageQuery
		pages    []pageWant
		maxParam string
	}{
		{name: "all in one page", pages: []pageWant{{ids: []string{ids[4], ids[3], ids[2], ids[1], ids[0]}}}, maxParam: "100"},
		{name: "pages of two", q: xapi.PageQuery{MaxResults: 2},
			pages:    []pageWant{{[]string{ids[4], ids[3]}, true}, {[]string{ids[2], ids[1]}, true}, {[]string{ids[0]}, false}},
			maxParam: "2"},
		{name: "since id ends the pagination", q: xapi.PageQuery{MaxResults: 2, SinceID: ids[1]},
			pages: []pageWant{{[]string{ids[4], ids[3]}, true}, {[]string{ids[2]}, false}}, maxParam: "2"},
		{name: "start time ends the pagination", q: xapi.PageQuery{MaxResults: 3, StartTime: t0.Add(90 * time.Second)},
			pages: []pageWant{{[]string{ids[4], ids[3], ids[2]}, true}, {nil, false}}, maxParam: "3"},
		{name: "max_results cut to 100", q: xapi.PageQuery{MaxResults: 1000},
			pages: []pageWant{{ids: []string{ids[4], ids[3], ids[2], ids[1], ids[0]}}}, maxParam: "100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			for i, w := range tc.pages {
				page, err := e.client.DMEvents(context.Background(), mariaID, q)
				if err != nil {
					t.Fatal(err)
				}
				if got := dmIDs(page); !slices.Equal(got, w.ids) || (page.NextToken != "") != w.more {
					t.Fatalf("page %d: %v next %q; want %v (more: %v)", i+1, got, page.NextToken, w.ids, w.more)
				}
				if len(w.ids) > 0 && page.NewestID != w.ids[0] || len(w.ids) == 0 && page.NewestID != "" {
					t.Errorf("page %d: NewestID %q", i+1, page.NewestID)
				}
				u, _ := e.rec.last()
				if u.Query().Get("max_results") != tc.maxParam || u.Query().Has("since_id") || u.Query().Has("start_time") {
					t.Errorf("page %d: request %s; want max_results %s and no since_id or start_time", i+1, u, tc.maxParam)
				}
				q.NextToken = page.NextToken
			}
		})
	}
}

func TestDMEventsErrors(t *testing.T) {
	cases := []struct {
		name        string
		participant string
		q           xapi.PageQuery
		setup       func(*env)
		check       func(error) bool
		sent        bool // whether the request reaches X
	}{
		{name: "participant not an id", participant: "@mariagv_viajes", check: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "is not a decimal X user id")
		}},
		{name: "the brand itself", participant: brandID, check: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "is the brand itself")
		}},
		{name: "since id not an id", participant: mariaID, q: xapi.PageQuery{SinceID: "x"}, check: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), `since id "x"`)
		}},
		{name: "credentials refused", participant: mariaID, setup: func(e *env) { e.fake.AcceptOnly("the-right-key") }, sent: true,
			check: func(err error) bool {
				return errors.Is(err, xapi.ErrUnauthorized) && strings.Contains(err.Error(), "X_ACCESS_TOKEN/X_ACCESS_TOKEN_SECRET belong to @PajaritoAir")
			}},
		{name: "rate limited", participant: mariaID, setup: func(e *env) { e.fake.FailNext(1, http.StatusTooManyRequests) }, sent: true,
			check: func(err error) bool {
				var rl *xapi.RateLimitedError
				return errors.As(err, &rl) && rl.Endpoint == xapi.EndpointDMEvents && xapi.IsRetryable(err)
			}},
		{name: "token X does not know", participant: mariaID, q: xapi.PageQuery{NextToken: "short"}, sent: true,
			check: func(err error) bool {
				var api *xapi.APIError
				return errors.As(err, &api) && api.StatusCode == http.StatusBadRequest && !xapi.IsRetryable(err)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, testCreds)
			if tc.setup != nil {
				tc.setup(e)
			}
			page, err := e.client.DMEvents(context.Background(), tc.participant, tc.q)
			if page != nil || !tc.check(err) {
				t.Errorf("DMEvents = %+v, %v", page, err)
			}
			if err != nil && !strings.Contains(err.Error(), xapi.EndpointDMEvents) {
				t.Errorf("error %q does not name the endpoint", err)
			}
			if n := e.fake.Calls(xapi.EndpointDMEvents); (n > 0) != tc.sent {
				t.Errorf("%d requests reached X; want sent %v", n, tc.sent)
			}
		})
	}
}

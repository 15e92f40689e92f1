package xfake

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

const danID = "1298765432109876543"

// oauthFor is a user-context Authorization header with the given access token and
// consumer key.
func oauthFor(token, key string) string {
	return `OAuth oauth_consumer_key="` + key + `",oauth_nonce="n",oauth_signature="s",oauth_signature_method="HMAC-SHA1",oauth_timestamp="1",oauth_token="` +
		url.QueryEscape(token) + `",oauth_version="1.0"`
}

func TestMe(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(*Server)
		auth     string
		query    string
		status   int
		id, user string // data.id and data.username on 200
		extra    string // a user field that must be there
	}{
		{name: "token of the brand", auth: userAuth, status: 200, id: brandID, user: "PajaritoAir"},
		{name: "user.fields", auth: userAuth, query: "?user.fields=public_metrics,verified", status: 200, id: brandID, user: "PajaritoAir", extra: "public_metrics"},
		{name: "token without an id, SetMe", setup: func(s *Server) { s.SetMe(mariaID) }, auth: oauthFor("opaque-token", "ck"),
			status: 200, id: mariaID, user: "mariagv_viajes"},
		{name: "user the fake does not know", auth: oauthFor("42-abc", "ck"), status: 200, id: "42", user: "user42"},
		{name: "token without an id, no SetMe", auth: oauthFor("opaque-token", "ck"), status: 403},
		{name: "consumer key refused", setup: func(s *Server) { s.AcceptOnly("the-right-key") }, auth: userAuth, status: 401},
		{name: "no authorization", auth: "", status: 401},
		{name: "app-only", auth: appAuth, status: 403},
		{name: "unknown parameter", auth: userAuth, query: "?max_results=5", status: 400},
		{name: "unknown user field", auth: userAuth, query: "?user.fields=bogus", status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newFake(t, 0)
			if tc.setup != nil {
				tc.setup(s)
			}
			a := do(t, s, "GET", "/2/users/me"+tc.query, tc.auth, "")
			if a.status != tc.status {
				t.Fatalf("%d %s, want %d", a.status, a.raw, tc.status)
			}
			if tc.status == http.StatusUnauthorized && (a.body["title"] != "Unauthorized" || a.body["type"] != "about:blank") {
				t.Errorf("401 is not X's Unauthorized problem: %s", a.raw)
			}
			if tc.status != http.StatusOK {
				return
			}
			data, _ := a.body["data"].(map[string]any)
			if data["id"] != tc.id || data["username"] != tc.user || data["name"] == nil {
				t.Errorf("data = %v, want id %s username %s and a name", data, tc.id, tc.user)
			}
			if _, ok := data["public_metrics"]; ok != (tc.extra == "public_metrics") {
				t.Errorf("public_metrics present %v, want %v: %s", ok, tc.extra != "", a.raw)
			}
			if a.header.Get("x-rate-limit-limit") != "75" {
				t.Errorf("x-rate-limit-limit %q, want 75", a.header.Get("x-rate-limit-limit"))
			}
		})
	}
}

func TestUserPosts(t *testing.T) {
	s, ids := newFake(t, 2) // María's mentions
	broadcast := s.AddPost(Post{AuthorID: brandID, Text: "Heads-up: storms over Madrid"}).ID
	rt := s.AddPost(Post{AuthorID: brandID, Text: "RT @x: hola", ReferencedTweets: []Ref{{Type: RefRetweeted, ID: ids[0]}}}).ID
	created := do(t, s, "POST", "/2/tweets", userAuth, `{"text":"@mariagv_viajes Hola María","reply":{"in_reply_to_tweet_id":"`+ids[1]+`"}}`)
	reply, _ := created.body["data"].(map[string]any)["id"].(string)
	if reply == "" {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	brandPosts := "/2/users/" + brandID + "/tweets?"
	cases := []struct {
		name   string
		path   string
		auth   string
		status int
		ids    []string
	}{
		{"the brand's posts, newest first, with its reply", brandPosts, userAuth, 200, []string{reply, rt, broadcast}},
		{"app-only", brandPosts, appAuth, 200, []string{reply, rt, broadcast}},
		{"another user's posts", "/2/users/" + mariaID + "/tweets", userAuth, 200, []string{ids[1], ids[0]}},
		{"a user without posts", "/2/users/42/tweets", userAuth, 200, nil},
		{"exclude replies", brandPosts + "exclude=replies", userAuth, 200, []string{rt, broadcast}},
		{"exclude retweets,replies", brandPosts + "exclude=retweets,replies", userAuth, 200, []string{broadcast}},
		{"since_id", brandPosts + "since_id=" + rt, userAuth, 200, []string{reply}},
		{"until_id", brandPosts + "until_id=" + rt, userAuth, 200, []string{broadcast}},
		{"fields and expansions", brandPosts + "tweet.fields=referenced_tweets,author_id&expansions=author_id,referenced_tweets.id&user.fields=username", userAuth, 200,
			[]string{reply, rt, broadcast}},
		{"exclude of an unknown kind", brandPosts + "exclude=quotes", userAuth, 400, nil},
		{"max_results below 5", brandPosts + "max_results=4", userAuth, 400, nil},
		{"next_token", brandPosts + "next_token=xf11", userAuth, 400, nil},
		{"not an id", "/2/users/brand/tweets", userAuth, 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, s, "GET", tc.path, tc.auth, "")
			if a.status != tc.status || !slices.Equal(a.dataIDs(), tc.ids) {
				t.Fatalf("GET %s: %d %v, want %d %v\n%s", tc.path, a.status, a.dataIDs(), tc.status, tc.ids, a.raw)
			}
			if tc.status == 400 && a.body["title"] != "Invalid Request" {
				t.Errorf("400 is not X's Invalid Request: %s", a.raw)
			}
			want := "900"
			if tc.auth == appAuth {
				want = "1500"
			}
			if got := a.header.Get("x-rate-limit-limit"); got != want {
				t.Errorf("x-rate-limit-limit %q, want %s", got, want)
			}
		})
	}

	// The reply carries what a client needs: its reply target and author.
	a := do(t, s, "GET", brandPosts+"max_results=5&tweet.fields=referenced_tweets,in_reply_to_user_id,author_id&expansions=author_id", userAuth, "")
	first := a.body["data"].([]any)[0].(map[string]any)
	refs, _ := first["referenced_tweets"].([]any)
	if first["author_id"] != brandID || first["in_reply_to_user_id"] != mariaID || len(refs) != 1 ||
		refs[0].(map[string]any)["type"] != RefRepliedTo || refs[0].(map[string]any)["id"] != ids[1] {
		t.Errorf("the reply as served: %v", first)
	}
	users := a.body["includes"].(map[string]any)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["username"] != "PajaritoAir" {
		t.Errorf("includes.users = %v", users)
	}
}

func TestUserPostsPagination(t *testing.T) {
	s, _ := newFake(t, 0)
	var want []string
	for i := range 12 {
		want = append(want, s.AddPost(Post{AuthorID: brandID, Text: "post " + strconv.Itoa(i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}).ID)
	}
	slices.Reverse(want)
	var got []string
	path := "/2/users/" + brandID + "/tweets?max_results=5"
	for pages := 1; ; pages++ {
		a := do(t, s, "GET", path, userAuth, "")
		got = append(got, a.dataIDs()...)
		next, _ := a.meta("next_token").(string)
		if next == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		path = "/2/users/" + brandID + "/tweets?max_results=5&pagination_token=" + next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids %v, want %v", got, want)
	}
}

func TestDMEvents(t *testing.T) {
	s, _ := newFake(t, 0)
	s.SetUser(User{ID: danID, Username: "dan_okafor"})
	inbound := s.AddDM(DM{SenderID: mariaID, RecipientID: brandID, Text: "Hola, mi vuelo IB3170"})
	other := s.AddDM(DM{SenderID: danID, RecipientID: brandID, Text: "Where is my bag?"})
	sent := do(t, s, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"Hola María, ¿tu localizador?"}`)
	outbound, _ := sent.body["data"].(map[string]any)["dm_event_id"].(string)
	if outbound == "" {
		t.Fatalf("send: %d %s", sent.status, sent.raw)
	}
	withMaria := "/2/dm_conversations/with/" + mariaID + "/dm_events"
	allFields := "?dm_event.fields=id,text,created_at,sender_id,dm_conversation_id,participant_ids,event_type"
	cases := []struct {
		name   string
		path   string
		auth   string
		status int
		ids    []string
	}{
		{"the conversation, newest first", withMaria + allFields, userAuth, 200, []string{outbound, inbound.ID}},
		{"another conversation", "/2/dm_conversations/with/" + danID + "/dm_events", userAuth, 200, []string{other.ID}},
		{"seen from the customer's side", "/2/dm_conversations/with/" + brandID + "/dm_events", oauthFor(mariaID+"-tok", "ck"), 200, []string{outbound, inbound.ID}},
		{"a conversation without DMs", "/2/dm_conversations/with/42/dm_events", userAuth, 200, nil},
		{"MessageCreate only", withMaria + "?event_types=MessageCreate", userAuth, 200, []string{outbound, inbound.ID}},
		{"joins only", withMaria + "?event_types=ParticipantsJoin", userAuth, 200, nil},
		{"one a page", withMaria + "?max_results=1", userAuth, 200, []string{outbound}},
		{"app-only", withMaria, appAuth, 403, nil},
		{"since_id is not a parameter", withMaria + "?since_id=1", userAuth, 400, nil},
		{"max_results 0", withMaria + "?max_results=0", userAuth, 400, nil},
		{"max_results 101", withMaria + "?max_results=101", userAuth, 400, nil},
		{"short pagination token", withMaria + "?pagination_token=xf11", userAuth, 400, nil},
		{"unknown event field", withMaria + "?dm_event.fields=bogus", userAuth, 400, nil},
		{"unknown event type", withMaria + "?event_types=MessageDelete", userAuth, 400, nil},
		{"participant not an id", "/2/dm_conversations/with/maria/dm_events", userAuth, 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, s, "GET", tc.path, tc.auth, "")
			if a.status != tc.status || !slices.Equal(a.dataIDs(), tc.ids) {
				t.Fatalf("GET %s: %d %v, want %d %v\n%s", tc.path, a.status, a.dataIDs(), tc.status, tc.ids, a.raw)
			}
			if tc.status == 200 && (a.meta("result_count") != float64(len(tc.ids)) || a.header.Get("x-rate-limit-limit") != "300") {
				t.Errorf("meta %v, rate limit %q: want result_count %d and 300 per window", a.body["meta"], a.header.Get("x-rate-limit-limit"), len(tc.ids))
			}
		})
	}

	a := do(t, s, "GET", withMaria+allFields, userAuth, "")
	events := a.body["data"].([]any)
	ev := events[1].(map[string]any)
	if ev["id"] != inbound.ID || ev["event_type"] != "MessageCreate" || ev["text"] != "Hola, mi vuelo IB3170" || ev["sender_id"] != mariaID ||
		ev["dm_conversation_id"] != brandID+"-"+mariaID || ev["created_at"] != t0.Format(xTime) {
		t.Errorf("María's DM as served: %v", ev)
	}
	if _, ok := ev["participant_ids"]; ok {
		t.Errorf("a MessageCreate event carries participant_ids: %v", ev)
	}
	bare := do(t, s, "GET", withMaria, userAuth, "").body["data"].([]any)[0].(map[string]any)
	if len(bare) != 3 || bare["event_type"] != "MessageCreate" {
		t.Errorf("without dm_event.fields X returns id, text and event_type: %v", bare)
	}
}

func TestDMEventsPagination(t *testing.T) {
	s, _ := newFake(t, 0)
	var want []string
	for i := range 7 {
		from, to := mariaID, brandID
		if i%2 == 1 {
			from, to = to, from
		}
		want = append(want, s.AddDM(DM{SenderID: from, RecipientID: to, Text: "dm " + strconv.Itoa(i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}).ID)
	}
	slices.Reverse(want)
	base := "/2/dm_conversations/with/" + mariaID + "/dm_events?max_results=3"
	path := base
	var got []string
	for pages := 1; ; pages++ {
		a := do(t, s, "GET", path, userAuth, "")
		got = append(got, a.dataIDs()...)
		next, _ := a.meta("next_token").(string)
		if next == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		if len(next) < minDMToken {
			t.Fatalf("next_token %q is shorter than X's minimum of %d", next, minDMToken)
		}
		// A DM arriving between pages shifts nothing.
		s.AddDM(DM{SenderID: mariaID, RecipientID: brandID, Text: "late " + strconv.Itoa(pages)})
		path = base + "&pagination_token=" + next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids %v, want %v", got, want)
	}
}

// TestKeepDMs: DMs, received or sent, survive the fake as posts do.
func TestKeepDMs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xfake.jsonl")
	s := Start()
	if err := s.Keep(path); err != nil {
		t.Fatal(err)
	}
	in := s.AddDM(DM{SenderID: mariaID, RecipientID: brandID, Text: "hola"})
	sent := do(t, s, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"¿localizador?"}`)
	if sent.status != http.StatusCreated {
		t.Fatalf("send: %d %s", sent.status, sent.raw)
	}
	s.Close()

	again := Start()
	defer again.Close()
	if err := again.Keep(path); err != nil {
		t.Fatal(err)
	}
	a := do(t, again, "GET", "/2/dm_conversations/with/"+mariaID+"/dm_events", userAuth, "")
	if want := []string{sent.body["data"].(map[string]any)["dm_event_id"].(string), in.ID}; !slices.Equal(a.dataIDs(), want) {
		t.Errorf("DMs after the restart %v, want %v\n%s", a.dataIDs(), want, a.raw)
	}
	if next := again.AddDM(DM{SenderID: mariaID, RecipientID: brandID, Text: "otra"}); compareDecimal(next.ID, in.ID) <= 0 {
		t.Errorf("a new DM's id %s is not above the kept ones", next.ID)
	}
}

package xfake

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	brandID  = "1590000000000000001"
	mariaID  = "1862954300111222333"
	userAuth = `OAuth oauth_consumer_key="ck",oauth_nonce="n",oauth_signature="s",oauth_signature_method="HMAC-SHA1",oauth_timestamp="1",oauth_token="1590000000000000001-abc",oauth_version="1.0"`
	appAuth  = "Bearer AAAA"
)

var t0 = time.Date(2026, 8, 18, 16, 0, 0, 0, time.UTC)

// answer is a decoded answer of the fake.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func do(t *testing.T, s *Server, method, path, auth, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, raw)
	}
	return a
}

// dataIDs returns the ids of an answer's data.
func (a answer) dataIDs() []string {
	var ids []string
	data, _ := a.body["data"].([]any)
	for _, d := range data {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	return ids
}

func (a answer) meta(key string) any {
	m, _ := a.body["meta"].(map[string]any)
	return m[key]
}

// newFake starts a fake at t0 holding the brand, María, and n posts of María that
// mention the brand, one a minute from t0 (ids returned oldest first).
func newFake(t *testing.T, n int) (*Server, []string) {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	now := t0
	s.SetClock(func() time.Time { return now })
	s.SetUser(User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air", Verified: true, Followers: 184203},
		User{ID: mariaID, Username: "mariagv_viajes", Name: "María González", Followers: 412})
	var ids []string
	for i := range n {
		now = t0.Add(time.Duration(i) * time.Minute)
		ids = append(ids, s.AddPost(Post{AuthorID: mariaID, Lang: "es", Text: "@PajaritoAir mensaje " + strconv.Itoa(i)}).ID)
	}
	return s, ids
}

func TestAuthorization(t *testing.T) {
	s, _ := newFake(t, 1)
	for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer ", "OAuth"} {
		a := do(t, s, "GET", "/2/users/"+brandID+"/mentions", auth, "")
		if a.status != http.StatusUnauthorized || a.body["title"] != "Unauthorized" || a.body["type"] != "about:blank" {
			t.Errorf("auth %q: %d %s; want X's 401", auth, a.status, a.raw)
		}
	}
	if a := do(t, s, "GET", "/2/users/"+brandID+"/mentions", appAuth, ""); a.status != http.StatusOK {
		t.Errorf("bearer: %d %s", a.status, a.raw)
	}
	s.AcceptOnly("other-key")
	if a := do(t, s, "GET", "/2/users/"+brandID+"/mentions", userAuth, ""); a.status != http.StatusUnauthorized {
		t.Errorf("consumer key not accepted: %d, want 401", a.status)
	}
	if got := s.Calls(xapi.EndpointMentions); got != 6 {
		t.Errorf("Calls = %d, want 6 (refused calls count)", got)
	}
}

func TestMentionsFieldsAndExpansions(t *testing.T) {
	s, ids := newFake(t, 2)
	s.Seed(Post{ID: "5", AuthorID: mariaID, Text: "nothing for the brand"})

	bare := do(t, s, "GET", "/2/users/"+brandID+"/mentions", userAuth, "")
	if got := bare.dataIDs(); !slices.Equal(got, []string{ids[1], ids[0]}) {
		t.Fatalf("ids %v, want newest first %v", got, []string{ids[1], ids[0]})
	}
	first := bare.body["data"].([]any)[0].(map[string]any)
	if _, ok := first["author_id"]; ok || first["edit_history_tweet_ids"] == nil || bare.body["includes"] != nil {
		t.Errorf("without fields X returns only id, text, edit_history_tweet_ids: %s", bare.raw)
	}
	if bare.meta("result_count") != 2.0 || bare.meta("newest_id") != ids[1] || bare.meta("oldest_id") != ids[0] || bare.meta("next_token") != nil {
		t.Errorf("meta = %v", bare.body["meta"])
	}

	q := url.Values{
		"tweet.fields": {"author_id,created_at,entities,lang,conversation_id"},
		"expansions":   {"author_id"},
		"user.fields":  {"public_metrics,verified"},
	}
	full := do(t, s, "GET", "/2/users/"+brandID+"/mentions?"+q.Encode(), userAuth, "")
	post := full.body["data"].([]any)[0].(map[string]any)
	if post["author_id"] != mariaID || post["created_at"] != "2026-08-18T16:01:00.000Z" || post["lang"] != "es" || post["conversation_id"] != ids[1] {
		t.Errorf("post = %v", post)
	}
	mention := post["entities"].(map[string]any)["mentions"].([]any)[0].(map[string]any)
	if mention["id"] != brandID || mention["username"] != "PajaritoAir" || mention["start"] != 0.0 || mention["end"] != 12.0 {
		t.Errorf("mention entity = %v", mention)
	}
	users := full.body["includes"].(map[string]any)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["username"] != "mariagv_viajes" ||
		users[0].(map[string]any)["public_metrics"].(map[string]any)["followers_count"] != 412.0 {
		t.Errorf("includes.users = %v", users)
	}
}

func TestReadParameters(t *testing.T) {
	s, ids := newFake(t, 3)
	mentions := "/2/users/" + brandID + "/mentions?"
	search := "/2/tweets/search/recent?query=mensaje&"
	cases := []struct {
		path   string
		status int
		ids    []string
	}{
		{mentions + "since_id=" + ids[0], 200, []string{ids[2], ids[1]}},
		{mentions + "until_id=" + ids[2], 200, []string{ids[1], ids[0]}},
		{mentions + "start_time=2026-08-18T16:01:00Z", 200, []string{ids[2], ids[1]}},
		{mentions + "end_time=2026-08-18T16:01:00Z", 200, []string{ids[1], ids[0]}},
		{mentions + "max_results=5", 200, []string{ids[2], ids[1], ids[0]}},
		{mentions + "max_results=4", 400, nil},
		{mentions + "max_results=101", 400, nil},
		{mentions + "next_token=xf11", 400, nil}, // mentions pages with pagination_token
		{mentions + "pagination_token=bogus", 400, nil},
		{mentions + "since_id=12a", 400, nil},
		{mentions + "start_time=yesterday", 400, nil},
		{mentions + "tweet.fields=bogus", 400, nil},
		{"/2/users/brand/mentions?", 400, nil},
		{search + "max_results=10", 200, []string{ids[2], ids[1], ids[0]}},
		{search + "max_results=9", 400, nil},
		{search + "exclude=replies", 400, nil},
		{"/2/tweets/search/recent?query=lang:es", 400, nil},
		{"/2/tweets/search/recent?query=", 400, nil},
	}
	for _, tc := range cases {
		a := do(t, s, "GET", tc.path, userAuth, "")
		if a.status != tc.status || tc.status == 200 && !slices.Equal(a.dataIDs(), tc.ids) {
			t.Errorf("GET %s: %d %v, want %d %v\n%s", tc.path, a.status, a.dataIDs(), tc.status, tc.ids, a.raw)
			continue
		}
		if tc.status == 400 && (a.body["title"] != "Invalid Request" || a.body["errors"] == nil) {
			t.Errorf("GET %s: 400 is not X's Invalid Request: %s", tc.path, a.raw)
		}
	}
}

func TestPagination(t *testing.T) {
	for _, tc := range []struct{ path, token string }{
		{"/2/users/" + brandID + "/mentions?max_results=10", "pagination_token"},
		{"/2/tweets/search/recent?query=%40PajaritoAir&max_results=10", "next_token"},
	} {
		s, ids := newFake(t, 25)
		var got []string
		token := ""
		for page := 0; ; page++ {
			path := tc.path
			if token != "" {
				path += "&" + tc.token + "=" + token
			}
			a := do(t, s, "GET", path, appAuth, "")
			got = append(got, a.dataIDs()...)
			if page == 0 { // a post arriving between pages shifts nothing
				s.AddPost(Post{AuthorID: mariaID, Text: "@PajaritoAir late arrival"})
			}
			next, _ := a.meta("next_token").(string)
			if next == "" {
				break
			}
			token = next
		}
		want := slices.Clone(ids)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: paged ids %v, want %v", tc.path, got, want)
		}
	}
}

func TestRateLimits(t *testing.T) {
	s, _ := newFake(t, 1)
	path := "/2/users/" + brandID + "/mentions"
	a := do(t, s, "GET", path, userAuth, "")
	if a.header.Get("x-rate-limit-limit") != "300" || a.header.Get("x-rate-limit-remaining") != "299" ||
		a.header.Get("x-rate-limit-reset") != strconv.FormatInt(t0.Add(Window).Unix(), 10) {
		t.Errorf("user mentions headers %v", a.header)
	}
	if a := do(t, s, "GET", path, appAuth, ""); a.header.Get("x-rate-limit-limit") != "450" {
		t.Errorf("app mentions limit %q, want 450", a.header.Get("x-rate-limit-limit"))
	}
	if a := do(t, s, "GET", "/2/tweets/search/recent?query=x", appAuth, ""); a.header.Get("x-rate-limit-limit") != "450" {
		t.Errorf("app search limit %q, want 450", a.header.Get("x-rate-limit-limit"))
	}

	reset := t0.Add(5 * time.Minute)
	s.RateLimit(xapi.EndpointMentions, 300, 1, reset)
	if a := do(t, s, "GET", path, userAuth, ""); a.status != 200 || a.header.Get("x-rate-limit-remaining") != "0" {
		t.Errorf("last request: %d remaining %q", a.status, a.header.Get("x-rate-limit-remaining"))
	}
	a = do(t, s, "GET", path, userAuth, "")
	if a.status != http.StatusTooManyRequests || a.body["title"] != "Too Many Requests" ||
		a.header.Get("x-rate-limit-reset") != strconv.FormatInt(reset.Unix(), 10) {
		t.Errorf("exhausted window: %d %v %s", a.status, a.header, a.raw)
	}
	s.SetClock(func() time.Time { return reset })
	if a := do(t, s, "GET", path, userAuth, ""); a.status != 200 || a.header.Get("x-rate-limit-remaining") != "299" {
		t.Errorf("after the reset: %d remaining %q", a.status, a.header.Get("x-rate-limit-remaining"))
	}

	s.OmitRateLimitHeaders(true)
	if a := do(t, s, "GET", path, userAuth, ""); a.header.Get("x-rate-limit-limit") != "" {
		t.Errorf("headers sent while omitted: %v", a.header)
	}
}

func TestFailNextAndSlow(t *testing.T) {
	s, _ := newFake(t, 1)
	path := "/2/users/" + brandID + "/mentions"
	s.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		if a := do(t, s, "GET", path, userAuth, ""); a.status != 503 || a.body["title"] != "Service Unavailable" {
			t.Errorf("failing: %d %s", a.status, a.raw)
		}
	}
	s.FailNext(1, http.StatusTooManyRequests)
	if a := do(t, s, "GET", path, userAuth, ""); a.status != 429 || a.header.Get("x-rate-limit-remaining") != "0" {
		t.Errorf("failing 429: %d %v", a.status, a.header)
	}
	if a := do(t, s, "GET", path, userAuth, ""); a.status != 200 || a.header.Get("x-rate-limit-remaining") != "299" {
		t.Errorf("after the failures: %d remaining %q (failures spend no request)", a.status, a.header.Get("x-rate-limit-remaining"))
	}

	s.Slow(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	req.Header.Set("Authorization", userAuth)
	if _, err := s.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow answer: err = %v, want the deadline", err)
	}
}

func TestCreatePostAndDM(t *testing.T) {
	s, ids := newFake(t, 1)
	body := `{"text":"@mariagv_viajes Hola María, te escribimos por DM.","reply":{"in_reply_to_tweet_id":"` + ids[0] + `"}}`
	a := do(t, s, "POST", "/2/tweets", userAuth, body)
	data, _ := a.body["data"].(map[string]any)
	if a.status != http.StatusCreated || data["text"] != "@mariagv_viajes Hola María, te escribimos por DM." {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	replyID := data["id"].(string)
	if n, _ := strconv.ParseUint(replyID, 10, 64); n <= mustID(ids[0]) {
		t.Errorf("reply id %s is not above the post it answers (%s)", replyID, ids[0])
	}
	stored, ok := s.Post(replyID)
	if !ok || stored.AuthorID != brandID || stored.InReplyToUserID != mariaID || stored.ConversationID != ids[0] {
		t.Errorf("stored reply = %+v", stored)
	}
	q := url.Values{"query": {"from:PajaritoAir is:reply"}, "tweet.fields": {"in_reply_to_user_id,referenced_tweets"}}
	if found := do(t, s, "GET", "/2/tweets/search/recent?"+q.Encode(), appAuth, ""); !slices.Equal(found.dataIDs(), []string{replyID}) {
		t.Errorf("the reply is not found by search: %s", found.raw)
	}

	refusals := []struct {
		name, auth, body string
		status           int
	}{
		{"duplicate", userAuth, body, 403},
		{"reply to an unknown post", userAuth, `{"text":"hola","reply":{"in_reply_to_tweet_id":"42"}}`, 403},
		{"app-only", appAuth, `{"text":"hola"}`, 403},
		{"no text", userAuth, `{}`, 400},
		{"too long", userAuth, `{"text":"` + strings.Repeat("a", 281) + `"}`, 403},
		{"not JSON", userAuth, `{"text":`, 400},
	}
	for _, tc := range refusals {
		if a := do(t, s, "POST", "/2/tweets", tc.auth, tc.body); a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.raw, tc.status)
		}
	}

	dm := do(t, s, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"Hola María, ¿nos pasas tu localizador?"}`)
	dmData, _ := dm.body["data"].(map[string]any)
	if dm.status != http.StatusCreated || dmData["dm_conversation_id"] != brandID+"-"+mariaID || dmData["dm_event_id"] == "" {
		t.Fatalf("DM: %d %s", dm.status, dm.raw)
	}
	if a := do(t, s, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", appAuth, `{"text":"x"}`); a.status != 403 {
		t.Errorf("app-only DM: %d, want 403", a.status)
	}

	posted := s.Posted()
	if len(posted) != 2 || posted[0].Kind != "post" || posted[0].InReplyToID != ids[0] || posted[0].ID != replyID ||
		posted[1].Kind != "dm" || posted[1].ParticipantID != mariaID || posted[1].AuthorID != brandID ||
		posted[1].ID != dmData["dm_event_id"] || !json.Valid(posted[1].Body) {
		t.Errorf("Posted = %+v", posted)
	}
	if s.Calls(xapi.EndpointCreatePost) != 7 || s.Calls(xapi.EndpointSendDM) != 2 {
		t.Errorf("calls: posts %d, DMs %d", s.Calls(xapi.EndpointCreatePost), s.Calls(xapi.EndpointSendDM))
	}
}

func TestDMRateLimit(t *testing.T) {
	s, _ := newFake(t, 0)
	for i := range 16 {
		a := do(t, s, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"hola `+strconv.Itoa(i)+`"}`)
		want := http.StatusCreated
		if i == 15 {
			want = http.StatusTooManyRequests
		}
		if a.status != want || a.header.Get("x-rate-limit-limit") != "15" {
			t.Fatalf("DM %d: %d limit %q, want %d and 15 per window", i+1, a.status, a.header.Get("x-rate-limit-limit"), want)
		}
	}
}

func TestLongPost(t *testing.T) {
	s, _ := newFake(t, 0)
	long := "@PajaritoAir " + strings.Repeat("ñandú ", 60)
	id := s.AddPost(Post{AuthorID: mariaID, Text: long}).ID
	a := do(t, s, "GET", "/2/users/"+brandID+"/mentions?tweet.fields=note_tweet", userAuth, "")
	post := a.body["data"].([]any)[0].(map[string]any)
	text := post["text"].(string)
	note, _ := post["note_tweet"].(map[string]any)
	if post["id"] != id || len([]rune(text)) != MaxPostLength || !strings.HasSuffix(text, "…") || note == nil || note["text"] != long {
		t.Errorf("long post = %v", post)
	}
}

func TestSeedFromEvents(t *testing.T) {
	posts, users, err := SeedFromEvents("../../../events")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Post{}
	for _, p := range posts {
		if _, dup := byID[p.ID]; dup {
			t.Errorf("post %s listed twice", p.ID)
		}
		byID[p.ID] = p
	}
	handles := map[string]string{}
	for _, u := range users {
		handles[u.ID] = u.Username
	}
	maria := byID["2089740868135895435"] // in xaa-mention-es.json and aaa-tweet-es.json
	if maria.ConversationID != "2089740868135895435" || maria.Lang != "es" || maria.Entities == nil {
		t.Errorf("María's post should keep its v2 form: %+v", maria)
	}
	if p := byID["2089978461807813622"]; len([]rune(p.Text)) != 462 {
		t.Errorf("truncated v1.1 post: text of %d characters, want the 462 of extended_tweet", len([]rune(p.Text)))
	}
	if p := byID["2089694008843906225"]; !p.hasRef(RefRetweeted) {
		t.Errorf("retweet has no retweeted reference: %+v", p)
	}
	if p := byID["2089684275603956947"]; p.AuthorID != brandID {
		t.Errorf("the brand's quoted notice (includes.tweets) = %+v", p)
	}
	if handles[brandID] != "PajaritoAir" || handles[mariaID] != "mariagv_viajes" || handles["98765432"] != "oliverbennett" {
		t.Errorf("users = %v", handles)
	}

	moved := MoveToRecent(posts, t0)
	if moved[0].CreatedAt.Sub(posts[0].CreatedAt) != t0.Sub(latest(posts)) || latest(moved) != t0 || posts[0].CreatedAt.Equal(moved[0].CreatedAt) {
		t.Errorf("MoveToRecent: newest %v, want %v; the input must not change", latest(moved), t0)
	}

	s := Start()
	defer s.Close()
	s.SetUser(users...)
	s.Seed(moved...)
	q := url.Values{"tweet.fields": {"author_id,note_tweet"}, "expansions": {"author_id,referenced_tweets.id"}, "max_results": {"100"}}
	a := do(t, s, "GET", "/2/users/"+brandID+"/mentions?"+q.Encode(), userAuth, "")
	got := a.dataIDs()
	for _, want := range []string{"2089740868135895435", "2089978461807813622", "2089779545625077683"} {
		if !slices.Contains(got, want) {
			t.Errorf("mentions of the brand lack %s: %v", want, got)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b string) int { return -compareDecimal(a, b) }) {
		t.Errorf("mentions are not newest first: %v", got)
	}
}

func latest(posts []Post) time.Time {
	var l time.Time
	for _, p := range posts {
		if p.CreatedAt.After(l) {
			l = p.CreatedAt
		}
	}
	return l
}

func mustID(s string) uint64 {
	n, _ := parseID(s)
	return n
}

func compareDecimal(a, b string) int {
	na, nb := mustID(a), mustID(b)
	switch {
	case na < nb:
		return -1
	case na > nb:
		return 1
	}
	return 0
}

// TestKeep: posts and users the fake holds survive it, as X keeps them, and a
// line torn by a crash is ignored.
func TestKeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xfake.jsonl")
	s := New()
	if err := s.Keep(path); err != nil {
		t.Fatal(err)
	}
	s.SetUser(User{ID: "42", Username: "ana"})
	ids := s.Seed(Post{ID: "2089740868135895435", AuthorID: "42", Text: "@PajaritoAir hola"}, Post{AuthorID: "42", Text: "otra"})
	s.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"post":{"ID":"20897`)
	f.Close()

	again := New()
	if err := again.Keep(path); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, id := range ids {
		if p, ok := again.Post(id); !ok || p.AuthorID != "42" {
			t.Errorf("post %s after the restart: %+v %v", id, p, ok)
		}
	}
	if u, ok := again.users["42"]; !ok || u.Username != "ana" {
		t.Errorf("user 42 after the restart: %+v", u)
	}
}

package xfake

import (
	"github.com/pajarito-care/pajarito/shared/xapi"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// steppedFake is a fake whose clock the test moves.
type steppedFake struct {
	*Server
	mu  sync.Mutex
	now time.Time
}

func newSteppedFake(t *testing.T) *steppedFake {
	t.Helper()
	f := &steppedFake{Server: Start(), now: t0}
	t.Cleanup(f.Close)
	f.SetClock(func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	})
	f.SetUser(User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"},
		User{ID: mariaID, Username: "mariagv_viajes", Name: "María González"})
	return f
}

func (f *steppedFake) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func replyBody(text, to string) string {
	return `{"text":"` + text + `","reply":{"in_reply_to_tweet_id":"` + to + `"}}`
}

func TestStorm(t *testing.T) {
	f := newSteppedFake(t)
	post := f.AddPost(Post{AuthorID: mariaID, Text: "@PajaritoAir hola"}).ID
	f.Storm(xapi.EndpointCreatePost, 10*time.Minute+500*time.Millisecond)
	end := t0.Add(10*time.Minute + 500*time.Millisecond)

	wantReset := strconv.FormatInt(end.Unix()+1, 10) // rounded up to the second
	for i := range 3 {                               // at 0, 5 and 10 minutes
		if i > 0 {
			f.advance(5 * time.Minute)
		}
		a := do(t, f.Server, "POST", "/2/tweets", userAuth, replyBody("intento "+strconv.Itoa(i), post))
		if a.status != http.StatusTooManyRequests || a.header.Get("x-rate-limit-remaining") != "0" || a.header.Get("x-rate-limit-reset") != wantReset {
			t.Fatalf("request %d in the storm: %d remaining %q reset %q; want 429, 0, %s", i, a.status,
				a.header.Get("x-rate-limit-remaining"), a.header.Get("x-rate-limit-reset"), wantReset)
		}
	}
	// DMs are not in the storm.
	if a := do(t, f.Server, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"hola"}`); a.status != http.StatusCreated {
		t.Errorf("DM during a post storm: %d %s", a.status, a.raw)
	}
	f.advance(time.Second)
	if a := do(t, f.Server, "POST", "/2/tweets", userAuth, replyBody("después", post)); a.status != http.StatusCreated {
		t.Errorf("after the storm: %d %s", a.status, a.raw)
	}
	if n := len(f.Posted()); n != 2 {
		t.Errorf("%d posts and DMs created; want 2 (none in the storm)", n)
	}

	f.Storm(xapi.EndpointSendDM, time.Hour)
	f.Storm(xapi.EndpointSendDM, 0)
	if a := do(t, f.Server, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"otra vez"}`); a.status != http.StatusCreated {
		t.Errorf("DM after a storm was ended: %d %s", a.status, a.raw)
	}
}

func TestWriteRefusals(t *testing.T) {
	const danID = "1298765432109876543"
	f := newSteppedFake(t)
	f.SetUser(User{ID: danID, Username: "dan_okafor"})
	mention := f.AddPost(Post{AuthorID: mariaID, Text: "@PajaritoAir mi maleta no llegó"}).ID
	unrelated := f.AddPost(Post{AuthorID: danID, Text: "qué calor hace hoy"}).ID
	answer := f.AddPost(Post{AuthorID: danID, Text: "gracias", InReplyToUserID: brandID}).ID
	gone := f.AddPost(Post{AuthorID: mariaID, Text: "@PajaritoAir borrado"}).ID
	f.DeletePost(gone)
	if _, ok := f.Post(gone); ok {
		t.Fatal("a deleted post is still served")
	}

	f.RestrictReplies(true)
	cases := []struct {
		name, path, body string
		status           int
		detail           string
	}{
		{"restricted: author did not engage", "/2/tweets", replyBody("hola", unrelated), 403, "not been mentioned or otherwise engaged"},
		{"restricted: author mentioned the brand", "/2/tweets", replyBody("hola María", mention), 201, ""},
		{"restricted: author replied to the brand", "/2/tweets", replyBody("hola Dan", answer), 201, ""},
		{"deleted post", "/2/tweets", replyBody("hola", gone), 403, "deleted or not visible"},
	}
	for _, tc := range cases {
		a := do(t, f.Server, "POST", tc.path, userAuth, tc.body)
		detail, _ := a.body["detail"].(string)
		if a.status != tc.status || !strings.Contains(detail, tc.detail) {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, a.status, a.raw, tc.status, tc.detail)
		}
	}

	f.RestrictReplies(false)
	f.Block(mariaID)
	if a := do(t, f.Server, "POST", "/2/tweets", userAuth, replyBody("hola otra vez", mention)); a.status != 403 || !strings.Contains(string(a.raw), "blocked") {
		t.Errorf("reply to a user who blocks the brand: %d %s", a.status, a.raw)
	}
	if a := do(t, f.Server, "POST", "/2/dm_conversations/with/"+mariaID+"/messages", userAuth, `{"text":"hola"}`); a.status != 403 || !strings.Contains(string(a.raw), "cannot send messages") {
		t.Errorf("DM to a user who blocks the brand: %d %s", a.status, a.raw)
	}
	if a := do(t, f.Server, "POST", "/2/tweets", userAuth, replyBody("hola Dan, sin restricción", unrelated)); a.status != 201 {
		t.Errorf("unrestricted reply: %d %s", a.status, a.raw)
	}
	if n := len(f.Posted()); n != 3 {
		t.Errorf("%d created; want 3", n)
	}
}

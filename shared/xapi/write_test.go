package xapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

func TestReply(t *testing.T) {
	e := setup(t, testCreds)
	post := e.seedMentions(1)[0]
	e.now = t0.Add(2 * time.Minute)
	text := "@mariagv_viajes Lo sentimos, María: lo miramos ya & te decimos. ^Equipo"

	sent, err := e.client.Reply(context.Background(), post, text)
	if err != nil {
		t.Fatal(err)
	}
	posted := e.fake.Posted()
	if len(posted) != 1 || posted[0].Kind != "post" || posted[0].ID != sent.ID || posted[0].InReplyToID != post ||
		posted[0].AuthorID != brandID || posted[0].Text != text {
		t.Fatalf("Reply = %+v; the fake has %+v", sent, posted)
	}
	var body map[string]any
	if err := json.Unmarshal(posted[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if reply, _ := body["reply"].(map[string]any); reply["in_reply_to_tweet_id"] != post || body["text"] != text || len(body) != 2 {
		t.Errorf("request body = %s; want only text and reply.in_reply_to_tweet_id", posted[0].Body)
	}
	if at, ok := care.IDTime(sent.ID); !ok || !at.Equal(e.now) {
		t.Errorf("the post id's time is %v; want the fake's clock %v", at, e.now)
	}
	if sent.Text != text || sent.RateLimit.Limit != 100 || sent.RateLimit.Remaining != 99 {
		t.Errorf("Sent = %+v; want the text and 99 of 100 requests left", sent)
	}
	if u, auth := e.rec.last(); u.Path != "/2/tweets" || !strings.HasPrefix(auth, "OAuth ") {
		t.Errorf("request went to %s with %q; want /2/tweets with OAuth 1.0a", u.Path, auth)
	}
}

func TestPost(t *testing.T) {
	e := setup(t, testCreds)
	ctx := context.Background()
	text := "Desde las 9:10 hay retrasos en los embarques de Madrid. Lo sentimos: el equipo ya trabaja en ello. ^Ana"
	sent, err := e.client.Post(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	update := "Actualización 10:05: los embarques se recuperan. ^Ana"
	next, err := e.client.Reply(ctx, sent.ID, update)
	if err != nil {
		t.Fatal(err)
	}
	posted := e.fake.Posted()
	if len(posted) != 2 || posted[0].ID != sent.ID || posted[0].InReplyToID != "" || posted[0].Text != text ||
		posted[1].ID != next.ID || posted[1].InReplyToID != sent.ID {
		t.Fatalf("Post, then Reply to it = %+v, %+v; the fake has %+v", sent, next, posted)
	}
	var body map[string]any
	if err := json.Unmarshal(posted[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["text"] != text || len(body) != 1 {
		t.Errorf("request body = %s; want the text alone", posted[0].Body)
	}
	if _, err := e.client.Post(ctx, " "); !errors.Is(err, xapi.ErrNotSent) {
		t.Errorf("Post of a blank text = %v; want ErrNotSent", err)
	}
}

func TestSendDM(t *testing.T) {
	e := setup(t, testCreds)
	sent, err := e.client.SendDM(context.Background(), mariaID, "Hola María, ¿nos pasas tu localizador? ^Ana")
	if err != nil {
		t.Fatal(err)
	}
	posted := e.fake.Posted()
	if len(posted) != 1 || posted[0].Kind != "dm" || posted[0].ID != sent.ID || posted[0].ParticipantID != mariaID {
		t.Fatalf("SendDM = %+v; the fake has %+v", sent, posted)
	}
	if sent.ConversationID != brandID+"-"+mariaID || sent.RateLimit.Limit != 15 {
		t.Errorf("Sent = %+v", sent)
	}
	if u, _ := e.rec.last(); u.Path != "/2/dm_conversations/with/"+mariaID+"/messages" {
		t.Errorf("DM sent to %s", u.Path)
	}
}

func TestWriteErrors(t *testing.T) {
	e := setup(t, testCreds)
	post := e.seedMentions(1)[0]
	ctx := context.Background()

	e.fake.FailNext(1, http.StatusTooManyRequests)
	_, err := e.client.Reply(ctx, post, "hola")
	var rl *xapi.RateLimitedError
	if !errors.As(err, &rl) || rl.Endpoint != xapi.EndpointCreatePost || rl.RateLimit.Reset.IsZero() || errors.Is(err, xapi.ErrNotSent) {
		t.Errorf("429: %v; want a RateLimitedError with a reset", err)
	}

	e.fake.DeletePost(post)
	_, err = e.client.Reply(ctx, post, "hola")
	var api *xapi.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusForbidden || api.Retryable() || !strings.Contains(api.Detail, "deleted") {
		t.Errorf("reply to a deleted post: %v; want a 403 naming the deletion", err)
	}

	if api.DuplicateContent() {
		t.Errorf("a reply to a deleted post counts as duplicate content: %v", err)
	}

	// The same text twice, even to another post: X refuses the second.
	first := e.fake.AddPost(xfake.Post{AuthorID: mariaID, Text: "@PajaritoAir mi maleta"}).ID
	second := e.fake.AddPost(xfake.Post{AuthorID: mariaID, Text: "@PajaritoAir y la otra maleta"}).ID
	if _, err := e.client.Reply(ctx, first, "Lo sentimos, lo revisamos ya. ^Equipo"); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Reply(ctx, second, "Lo sentimos, lo revisamos ya. ^Equipo")
	if !errors.As(err, &api) || !api.DuplicateContent() || api.Retryable() {
		t.Errorf("the same text twice: %v; want a 403 for duplicate content", err)
	}

	e.fake.FailNext(1, http.StatusServiceUnavailable)
	_, err = e.client.SendDM(ctx, mariaID, "hola")
	if !errors.As(err, &api) || !api.Retryable() || errors.Is(err, xapi.ErrNotSent) {
		t.Errorf("503: %v; want a retryable APIError", err)
	}

	calls := e.fake.Calls(xapi.EndpointCreatePost) + e.fake.Calls(xapi.EndpointSendDM)
	for name, call := range map[string]func() error{
		"reply to a non-id": func() error { _, err := e.client.Reply(ctx, "abc", "hola"); return err },
		"empty reply":       func() error { _, err := e.client.Reply(ctx, post, " "); return err },
		"DM to a non-id":    func() error { _, err := e.client.SendDM(ctx, "@maria", "hola"); return err },
		"DM to the brand":   func() error { _, err := e.client.SendDM(ctx, brandID, "hola"); return err },
		"DM over the limit": func() error {
			_, err := e.client.SendDM(ctx, mariaID, strings.Repeat("a", care.MaxDMLength+1))
			return err
		},
		"DM of invalid text": func() error { _, err := e.client.SendDM(ctx, mariaID, "\xff"); return err },
	} {
		if err := call(); !errors.Is(err, xapi.ErrNotSent) {
			t.Errorf("%s: %v; want ErrNotSent", name, err)
		}
	}
	if n := e.fake.Calls(xapi.EndpointCreatePost) + e.fake.Calls(xapi.EndpointSendDM); n != calls {
		t.Errorf("refused arguments reached X (%d calls, want %d)", n, calls)
	}
}

func TestWriteNotSentOrUncertain(t *testing.T) {
	// Nothing listens: the request never leaves.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c, err := xapi.New(testCreds, xapi.Options{Brand: brand, BaseURL: closed, HTTPClient: &http.Client{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendDM(context.Background(), mariaID, "hola")
	var te *xapi.TransportError
	if !errors.As(err, &te) || !errors.Is(err, xapi.ErrNotSent) {
		t.Errorf("connection refused: %v; want a TransportError wrapping ErrNotSent", err)
	}

	// X got the request and did not answer in time: it may have created the post.
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.Slow(2 * time.Second)
	c, err = xapi.New(testCreds, xapi.Options{Brand: brand, BaseURL: fake.URL, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendDM(context.Background(), mariaID, "hola")
	if !errors.As(err, &te) || errors.Is(err, xapi.ErrNotSent) {
		t.Errorf("timeout after sending: %v; want a TransportError without ErrNotSent", err)
	}
}

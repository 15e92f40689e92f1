package xwebhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// v2Includes is the includes object of the pages below: María, Dan, the brand, and
// two posts that can be quoted (the brand's notice and one of Dan's).
const v2Includes = `{
  "users": [
    {"id": "1862954300111222333", "name": "María Fernanda Gómez", "username": "mafe_gomez",
     "verified": false, "public_metrics": {"followers_count": 412, "following_count": 380}},
    {"id": "1298765432109876543", "name": "Dan Okafor", "username": "dan_okafor",
     "verified": true, "public_metrics": {"followers_count": 930}},
    {"id": "1590000000000000001", "name": "Pajarito Air", "username": "PajaritoAir",
     "verified": true, "public_metrics": {"followers_count": 184203}}
  ],
  "tweets": [
    {"id": "2089684275603956947", "author_id": "1590000000000000001", "text": "Heads-up: thunderstorms over Madrid"},
    {"id": "2089600000000000001", "author_id": "1298765432109876543", "text": "Fancy a holiday?"}
  ]
}`

func TestParsePosts(t *testing.T) {
	longText := "@PajaritoAir " + strings.Repeat("My bag never arrived in Lima. ", 12) + "Please help."
	cases := []struct {
		name      string
		post      string // one v2 Post object
		source    care.Source
		want      *care.Message // nil: dropped
		drop      string
		unparsed  bool
		wantProto string // a substring of the unparsed problem
	}{
		{
			name: "mention of the brand",
			post: `{"id":"2089740868135895435","text":"@PajaritoAir llevo 3 horas en Barajas","author_id":"1862954300111222333",
				"created_at":"2026-08-18T15:47:03.000Z","conversation_id":"2089740868135895435","lang":"es",
				"entities":{"mentions":[{"start":0,"end":12,"username":"PajaritoAir","id":"1590000000000000001"}]},
				"public_metrics":{"retweet_count":0,"reply_count":0,"like_count":0,"quote_count":0}}`,
			source: care.SourceMentions,
			want: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: "2089740868135895435",
				AuthorID: mariaID, AuthorHandle: "mafe_gomez", AuthorName: "María Fernanda Gómez", AuthorFollowers: 412,
				Text: "@PajaritoAir llevo 3 horas en Barajas", Lang: "es",
				CreatedAt:      time.Date(2026, 8, 18, 15, 47, 3, 0, time.UTC),
				ConversationID: "2089740868135895435", MentionedIDs: []string{brandID}, Summoned: true,
			},
		},
		{
			name: "reply to the brand without a mention entity",
			post: `{"id":"2089745000000000001","text":"sigo esperando","author_id":"1862954300111222333",
				"created_at":"2026-08-18T16:00:00.000Z","conversation_id":"2089740868135895435","lang":"es",
				"in_reply_to_user_id":"1590000000000000001",
				"referenced_tweets":[{"type":"replied_to","id":"2089742284874031875"}]}`,
			source: care.SourceMentions,
			want: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: "2089745000000000001",
				AuthorID: mariaID, AuthorHandle: "mafe_gomez", AuthorName: "María Fernanda Gómez", AuthorFollowers: 412,
				Text: "sigo esperando", Lang: "es", CreatedAt: time.Date(2026, 8, 18, 16, 0, 0, 0, time.UTC),
				ConversationID: "2089740868135895435", InReplyToID: brandReplyID, InReplyToUserID: brandID, Summoned: true,
			},
		},
		{
			name: "quote of a brand post (author from includes.tweets)",
			post: `{"id":"2089702717593305594","text":"\"Minor delays\" my foot https://t.co/Qz8dAnOk3f","author_id":"1298765432109876543",
				"created_at":"2026-08-18T13:15:27.000Z","conversation_id":"2089702717593305594","lang":"en",
				"referenced_tweets":[{"type":"quoted","id":"2089684275603956947"}],
				"entities":{"urls":[{"start":23,"end":46,"url":"https://t.co/Qz8dAnOk3f"}]}}`,
			source: care.SourceSearch,
			want: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: "2089702717593305594",
				AuthorID: danID, AuthorHandle: "dan_okafor", AuthorName: "Dan Okafor", AuthorFollowers: 930, AuthorVerified: true,
				Text: "\"Minor delays\" my foot https://t.co/Qz8dAnOk3f", Lang: "en",
				CreatedAt:      time.Date(2026, 8, 18, 13, 15, 27, 0, time.UTC),
				ConversationID: "2089702717593305594", QuotedID: brandPostID, Summoned: true, HasURL: true,
			},
		},
		{
			name: "quote of someone else's post that names the brand in words only",
			post: `{"id":"2089702717593305600","text":"pajarito air never again","author_id":"1862954300111222333",
				"created_at":"2026-08-18T13:20:00.000Z","lang":"en",
				"referenced_tweets":[{"type":"quoted","id":"2089600000000000001"}]}`,
			source: care.SourceSearch,
			want: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: "2089702717593305600",
				AuthorID: mariaID, AuthorHandle: "mafe_gomez", AuthorName: "María Fernanda Gómez", AuthorFollowers: 412,
				Text: "pajarito air never again", Lang: "en", CreatedAt: time.Date(2026, 8, 18, 13, 20, 0, 0, time.UTC),
				QuotedID: "2089600000000000001", Summoned: false,
			},
		},
		{
			name: "long post: note_tweet text and its mention entities",
			post: `{"id":"2089978461807813622","text":` + quoteJSON(longText[:280]) + `,"author_id":"98765432",
				"created_at":"2026-08-19T07:31:09.000Z","lang":"en",
				"note_tweet":{"text":` + quoteJSON(longText) + `,
				  "entities":{"mentions":[{"start":0,"end":12,"username":"PajaritoAir","id":"1590000000000000001"}]}}}`,
			source: care.SourceMentions,
			want: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: "2089978461807813622",
				AuthorID: oliverID, Text: longText, Lang: "en", CreatedAt: time.Date(2026, 8, 19, 7, 31, 9, 0, time.UTC),
				MentionedIDs: []string{brandID}, Summoned: true,
			},
		},
		{
			name: "retweet",
			post: `{"id":"2089694008843906225","text":"RT @PajaritoAir: Heads-up","author_id":"1555666777888999000",
				"created_at":"2026-08-18T12:40:51.000Z","referenced_tweets":[{"type":"retweeted","id":"2089684275603956947"}]}`,
			source: care.SourceMentions,
			drop:   DropRetweet,
		},
		{
			name: "brand's own post",
			post: `{"id":"2089684275603956947","text":"Heads-up: thunderstorms","author_id":"1590000000000000001",
				"created_at":"2026-08-18T12:02:10.000Z"}`,
			source: care.SourceSearch,
			drop:   DropOwnPost,
		},
		{
			name: "brand's reply to a customer",
			post: `{"id":"2089742284874031875","text":"@mafe_gomez Hola María, lo sentimos","author_id":"1590000000000000001",
				"created_at":"2026-08-18T15:52:41.000Z","conversation_id":"2089740868135895435","lang":"es",
				"in_reply_to_user_id":"1862954300111222333",
				"referenced_tweets":[{"type":"replied_to","id":"2089740868135895435"}]}`,
			source: care.SourceSearch,
			want: &care.Message{
				Channel: care.Public, Direction: care.Outbound, ID: brandReplyID,
				AuthorID: brandID, AuthorHandle: "PajaritoAir", AuthorName: "Pajarito Air", AuthorFollowers: 184203, AuthorVerified: true,
				Text: "@mafe_gomez Hola María, lo sentimos", Lang: "es", CreatedAt: time.Date(2026, 8, 18, 15, 52, 41, 0, time.UTC),
				ConversationID: "2089740868135895435", InReplyToID: mariaPostID, InReplyToUserID: mariaID,
			},
		},
		{
			name:      "created_at that is not RFC 3339",
			post:      `{"id":"2089740868135895499","text":"@PajaritoAir hola","author_id":"1862954300111222333","created_at":"yesterday"}`,
			source:    care.SourceMentions,
			unparsed:  true,
			wantProto: "not RFC 3339",
		},
		{
			name:      "post of the wrong shape",
			post:      `{"id":{"nested":true},"text":"x"}`,
			source:    care.SourceSearch,
			unparsed:  true,
			wantProto: "post 0 of the page",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := json.RawMessage("[" + tc.post + "]")
			res, err := ParsePosts(data, json.RawMessage(v2Includes), care.Brand{ID: brandID, Handle: "@PajaritoAir"}, tc.source, receivedAt)
			if err != nil {
				t.Fatalf("ParsePosts: %v", err)
			}
			if res.Generation != GenerationV2 {
				t.Errorf("generation %q, want %q", res.Generation, GenerationV2)
			}
			switch {
			case tc.drop != "":
				if len(res.Envelopes) != 0 || len(res.Dropped) != 1 || res.Dropped[0].Reason != tc.drop || res.DropCounts[tc.drop] != 1 {
					t.Fatalf("got envelopes %+v, dropped %+v; want one drop %q", res.Envelopes, res.Dropped, tc.drop)
				}
				return
			case tc.unparsed:
				if len(res.Envelopes) != 1 || res.Envelopes[0].Kind != care.KindUnparsed {
					t.Fatalf("got %+v, want one unparsed envelope", res.Envelopes)
				}
				env := res.Envelopes[0]
				if !strings.Contains(env.Problem, tc.wantProto) || env.Source != tc.source {
					t.Errorf("problem %q source %q; want %q in the problem and source %q", env.Problem, env.Source, tc.wantProto, tc.source)
				}
				return
			}
			env := onlyMessage(t, res)
			if env.Source != tc.source || !env.ReceivedAt.Equal(receivedAt) || env.Version != care.EnvelopeVersion {
				t.Errorf("envelope source %q received %v version %d", env.Source, env.ReceivedAt, env.Version)
			}
			if !bytes.Equal(env.Raw, []byte(tc.post)) {
				t.Errorf("Raw is not the post's own JSON:\n got %s\nwant %s", env.Raw, tc.post)
			}
			checkMessage(t, env.Message, tc.want)
			if err := env.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestParsePostsPage(t *testing.T) {
	// A page mixes kept and dropped posts; the order of the envelopes is the page's.
	data := json.RawMessage(`[
		{"id":"3","text":"@PajaritoAir three","author_id":"1862954300111222333","created_at":"2026-08-18T15:03:00Z"},
		{"id":"2","text":"RT @PajaritoAir two","author_id":"1862954300111222333","created_at":"2026-08-18T15:02:00Z",
		 "referenced_tweets":[{"type":"retweeted","id":"1"}]},
		{"id":"1","text":"@PajaritoAir one","author_id":"1298765432109876543","created_at":"2026-08-18T15:01:00Z"}
	]`)
	res, err := ParsePosts(data, json.RawMessage(v2Includes), testBrand, care.SourceSearch, receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, env := range res.Envelopes {
		ids = append(ids, env.Message.ID)
	}
	if !slices.Equal(ids, []string{"3", "1"}) || res.DropCounts[DropRetweet] != 1 {
		t.Errorf("kept %v, drops %v; want [3 1] and one retweet", ids, res.DropCounts)
	}
	if got := res.Envelopes[1].Message.AuthorHandle; got != "dan_okafor" {
		t.Errorf("author handle %q, want dan_okafor from includes.users", got)
	}
}

func TestParsePostsEmptyAndErrors(t *testing.T) {
	for _, data := range []string{"", "null", "[]"} {
		res, err := ParsePosts(json.RawMessage(data), nil, testBrand, care.SourceMentions, receivedAt)
		if err != nil || len(res.Envelopes) != 0 || len(res.Dropped) != 0 {
			t.Errorf("data %q: got %+v, %v; want an empty result", data, res, err)
		}
	}
	errCases := []struct {
		name           string
		data, includes string
		brand          care.Brand
		malformed      bool
	}{
		{"data is an object", `{"id":"1"}`, "", testBrand, true},
		{"includes is not JSON", `[]`, `{"users":`, testBrand, true},
		{"brand id is not an X id", `[]`, "", care.Brand{ID: "@PajaritoAir"}, false},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePosts(json.RawMessage(tc.data), json.RawMessage(tc.includes), tc.brand, care.SourceSearch, receivedAt)
			if err == nil || errors.Is(err, ErrMalformed) != tc.malformed {
				t.Fatalf("err = %v; want an error, wrapping ErrMalformed: %v", err, tc.malformed)
			}
		})
	}
}

// TestParsePostsMatchesXAA checks that a post normalises the same way whether an
// X Activity API event or a v2 read carries it.
func TestParsePostsMatchesXAA(t *testing.T) {
	for _, name := range []string{"xaa-mention-es.json", "xaa-mention-en.json", "xaa-reply-es.json", "xaa-quote-en.json"} {
		t.Run(name, func(t *testing.T) {
			var body struct {
				Data struct {
					Payload  json.RawMessage `json:"payload"`
					Includes json.RawMessage `json:"includes"`
				} `json:"data"`
			}
			raw := readEvent(t, name)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			fromEvent := onlyMessage(t, mustParse(t, raw)).Message
			res, err := ParsePosts(json.RawMessage("["+string(body.Data.Payload)+"]"), body.Data.Includes, testBrand, care.SourceMentions, receivedAt)
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, onlyMessage(t, res).Message, fromEvent)
		})
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

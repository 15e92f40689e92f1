package xwebhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

var (
	testBrand  = care.Brand{ID: "1590000000000000001", Handle: "PajaritoAir"}
	receivedAt = time.Date(2026, 8, 18, 16, 10, 0, 0, time.UTC)
)

// Ids of the people in events/.
const (
	brandID  = "1590000000000000001"
	mariaID  = "1862954300111222333" // does not survive float64
	jamieID  = "1433012345678901234"
	oliverID = "98765432"
	danID    = "1298765432109876543"

	mariaPostID  = "2089740868135895435"
	brandReplyID = "2089742284874031875"
	brandPostID  = "2089684275603956947"
)

const (
	mariaText = "@PajaritoAir llevo 3 horas en Barajas y el PJ2471 a Bogotá sigue sin puerta asignada. " +
		"Nadie informa nada y voy a perder la conexión a Cali. ¿Qué está pasando? 😡"
	oliverText = "@PajaritoAir Flight PJ309 LHR-MAD was cancelled at the gate last night with zero explanation. " +
		"180 passengers were sent to a rebooking desk staffed by one person, the app shows no alternatives, " +
		"and the hotel vouchers ran out before we reached the front of the queue. I have a connection to Lima " +
		"this morning and a wedding to attend on Saturday. What exactly is the plan? I have been a Pajarito Plus " +
		"member for six years and this is the worst handling I have seen."
)

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, body []byte) *Result {
	t.Helper()
	res, err := Parse(body, testBrand, receivedAt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

// onlyMessage returns the single message envelope of res.
func onlyMessage(t *testing.T, res *Result) *care.Envelope {
	t.Helper()
	if len(res.Envelopes) != 1 {
		t.Fatalf("got %d envelopes, want 1: %+v", len(res.Envelopes), res.Envelopes)
	}
	env := &res.Envelopes[0]
	if env.Kind != care.KindMessage || env.Message == nil {
		t.Fatalf("envelope kind %q (problem %q), want a message", env.Kind, env.Problem)
	}
	return env
}

func checkMessage(t *testing.T, got, want *care.Message) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("message mismatch\n got: %+v\nwant: %+v", g, w)
	}
}

func TestParseMessages(t *testing.T) {
	tests := []struct {
		file string
		gen  string
		want care.Message
	}{
		{"xaa-mention-es.json", GenerationXAA, care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: mariaPostID,
			AuthorID: mariaID, AuthorHandle: "mariagv_viajes", AuthorName: "María González", AuthorFollowers: 412,
			Text: mariaText, Lang: "es", CreatedAt: time.Date(2026, 8, 18, 15, 47, 3, 0, time.UTC),
			ConversationID: mariaPostID, MentionedIDs: []string{brandID}, Summoned: true,
		}},
		{"aaa-tweet-es.json", GenerationAAA, care.Message{ // the same post, legacy layout: no conversation id
			Channel: care.Public, Direction: care.Inbound, ID: mariaPostID,
			AuthorID: mariaID, AuthorHandle: "mariagv_viajes", AuthorName: "María González", AuthorFollowers: 412,
			Text: mariaText, Lang: "es", CreatedAt: time.Date(2026, 8, 18, 15, 47, 3, 0, time.UTC),
			MentionedIDs: []string{brandID}, Summoned: true,
		}},
		{"xaa-mention-en.json", GenerationXAA, care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: "2089779545625077683",
			AuthorID: jamieID, AuthorHandle: "jamiek_travels", AuthorName: "Jamie Kowalski", AuthorFollowers: 2871,
			Text: "@PajaritoAir my checked bag didn't make it to JFK on PJ118 from Madrid. Filed report JFKPJ48213 " +
				"at the desk an hour ago and still no tracking update. Who can help?",
			Lang: "en", CreatedAt: time.Date(2026, 8, 18, 18, 20, 44, 0, time.UTC),
			ConversationID: "2089779545625077683", MentionedIDs: []string{brandID}, Summoned: true,
		}},
		{"xaa-reply-es.json", GenerationXAA, care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: "2089745461666193883",
			AuthorID: mariaID, AuthorHandle: "mariagv_viajes", AuthorName: "María González", AuthorFollowers: 412,
			Text: "@PajaritoAir Ya os he mandado el DM con el localizador. Seguimos en la puerta K84 sin noticias, " +
				"por favor que alguien conteste.",
			Lang: "es", CreatedAt: time.Date(2026, 8, 18, 16, 5, 18, 0, time.UTC),
			ConversationID: mariaPostID, InReplyToID: brandReplyID, InReplyToUserID: brandID,
			MentionedIDs: []string{brandID}, Summoned: true,
		}},
		{"xaa-quote-en.json", GenerationXAA, care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: "2089702717593305594",
			AuthorID: danID, AuthorHandle: "dan_okafor", AuthorName: "Dan Okafor", AuthorFollowers: 930,
			Text: "\"Minor delays\" — we've been sitting on the tarmac at MAD for two hours, no water and the AC off. " +
				"https://t.co/Qz8dAnOk3f",
			Lang: "en", CreatedAt: time.Date(2026, 8, 18, 13, 15, 27, 0, time.UTC),
			ConversationID: "2089702717593305594", QuotedID: brandPostID, Summoned: true, HasURL: true,
		}},
		{"xaa-dm-received-es.json", GenerationXAA, care.Message{
			Channel: care.DM, Direction: care.Inbound, ID: "2089745114929628894",
			AuthorID: mariaID, AuthorHandle: "mariagv_viajes", AuthorName: "María González", AuthorFollowers: 412,
			Text: "Hola, mi localizador es K7XQ2M, vuelo PJ2471 MAD-BOG de hoy con conexión PJ5502 a Cali. " +
				"¿Me podéis reubicar si pierdo el enlace?",
			CreatedAt:   time.Date(2026, 8, 18, 16, 3, 55, 642e6, time.UTC),
			RecipientID: brandID, Summoned: true,
		}},
		{"xaa-dm-sent-es.json", GenerationXAA, care.Message{
			Channel: care.DM, Direction: care.Outbound, ID: "2089746442150489568",
			AuthorID: brandID, AuthorHandle: "PajaritoAir", AuthorName: "Pajarito Air", AuthorFollowers: 184203,
			AuthorVerified: true,
			Text: "Gracias, María. Te hemos reubicado en el PJ5510 de mañana a las 07:15 a Cali y tienes hotel junto al " +
				"aeropuerto de Bogotá. La nueva tarjeta de embarque está en tu correo. ^LC",
			CreatedAt:   time.Date(2026, 8, 18, 16, 9, 12, 77e6, time.UTC),
			RecipientID: mariaID,
		}},
		{"aaa-tweet-truncated-en.json", GenerationAAA, care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: "2089978461807813622",
			AuthorID: oliverID, AuthorHandle: "oliverbennett", AuthorName: "Oliver Bennett", AuthorFollowers: 15430,
			AuthorVerified: true, Text: oliverText, Lang: "en",
			CreatedAt:    time.Date(2026, 8, 19, 7, 31, 9, 0, time.UTC),
			MentionedIDs: []string{brandID}, Summoned: true,
			// The truncated text links to the full post; the full text has no link.
			HasURL: false,
		}},
		{"aaa-own-reply-es.json", GenerationAAA, care.Message{
			Channel: care.Public, Direction: care.Outbound, ID: brandReplyID,
			AuthorID: brandID, AuthorHandle: "PajaritoAir", AuthorName: "Pajarito Air", AuthorFollowers: 184203,
			AuthorVerified: true,
			Text: "@mariagv_viajes Hola María, lamentamos la espera. El PJ2471 va con retraso por las tormentas " +
				"sobre Madrid. Escríbenos por DM con tu localizador y revisamos tu conexión a Cali. ^LC",
			Lang: "es", CreatedAt: time.Date(2026, 8, 18, 15, 52, 40, 0, time.UTC),
			InReplyToID: mariaPostID, InReplyToUserID: mariaID, MentionedIDs: []string{mariaID},
		}},
		{"aaa-dm-en.json", GenerationAAA, care.Message{
			Channel: care.DM, Direction: care.Inbound, ID: "2089780877956947349",
			AuthorID: jamieID, AuthorHandle: "jamiek_travels", AuthorName: "Jamie Kowalski", AuthorFollowers: 2871,
			Text: "Hi, following up on my tweet. Bag tag PJ 482137, flight PJ118 MAD-JFK today. It has my daughter's " +
				"medication in it, can you please check where it is? Photo of the tag: https://t.co/Bg7TaGpic9",
			CreatedAt:   time.Date(2026, 8, 18, 18, 26, 2, 213e6, time.UTC),
			RecipientID: brandID, Summoned: true, HasURL: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := mustParse(t, readEvent(t, tt.file))
			if res.Generation != tt.gen {
				t.Errorf("Generation = %q, want %q", res.Generation, tt.gen)
			}
			env := onlyMessage(t, res)
			checkMessage(t, env.Message, &tt.want)
			wantSource := care.SourceXAA
			if tt.gen == GenerationAAA {
				wantSource = care.SourceAAA
			}
			if env.Version != care.EnvelopeVersion || env.Source != wantSource || !env.ReceivedAt.Equal(receivedAt) {
				t.Errorf("envelope header = v%d %q %v, want v%d %q %v",
					env.Version, env.Source, env.ReceivedAt, care.EnvelopeVersion, wantSource, receivedAt)
			}
			if tt.gen == GenerationXAA && env.EventID == "" {
				t.Error("XAA envelope has no EventID")
			}
			if err := env.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			// Raw is X's JSON of this one item: it carries the item id and no envelope keys.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(env.Raw, &raw); err != nil {
				t.Fatalf("Raw is not a JSON object: %v", err)
			}
			if _, ok := raw["id"]; !ok {
				t.Errorf("Raw has no id: %s", env.Raw)
			}
			for _, k := range []string{"data", "for_user_id", "event_type", "users"} {
				if _, ok := raw[k]; ok {
					t.Errorf("Raw holds the envelope key %q: it should be the single item", k)
				}
			}
		})
	}
}

// The same post delivered by both generations must give the same message, so that
// the processor's dedupe (by DedupeKey) keeps one.
func TestSamePostAcrossGenerations(t *testing.T) {
	xaa := onlyMessage(t, mustParse(t, readEvent(t, "xaa-mention-es.json")))
	aaa := onlyMessage(t, mustParse(t, readEvent(t, "aaa-tweet-es.json")))
	if xaa.DedupeKey() != aaa.DedupeKey() || xaa.DedupeKey() == "" {
		t.Fatalf("dedupe keys differ: %q vs %q", xaa.DedupeKey(), aaa.DedupeKey())
	}
	x, a := *xaa.Message, *aaa.Message
	x.ConversationID = "" // the legacy payload has none
	checkMessage(t, &a, &x)
}

func TestLongIDsSurviveAsStrings(t *testing.T) {
	// The test is only meaningful if the id really breaks float64.
	if f, _ := strconv.ParseFloat(mariaID, 64); strconv.FormatFloat(f, 'f', 0, 64) == mariaID {
		t.Fatalf("%s survives float64; pick another id", mariaID)
	}
	// X's ids as JSON numbers (some producers send them so) keep every digit.
	body := `{"data":{"event_uuid":2089740869402263552,"filter":{"user_id":1590000000000000001},
	  "event_type":"post.mention.create","payload":{"id":2089740868135895435,"author_id":1862954300111222333,
	  "created_at":"2026-08-18T15:47:03.000Z","text":"@PajaritoAir hola","in_reply_to_user_id":1590000000000000001,
	  "entities":{"mentions":[{"username":"PajaritoAir","id":1590000000000000001}]}}}}`
	env := onlyMessage(t, mustParse(t, []byte(body)))
	m := env.Message
	if m.ID != mariaPostID || m.AuthorID != mariaID || m.InReplyToUserID != brandID ||
		!slices.Equal(m.MentionedIDs, []string{brandID}) || env.EventID != "2089740869402263552" {
		t.Errorf("ids changed: %+v (event %s)", m, env.EventID)
	}
}

func TestParseDeletionsAndRevocations(t *testing.T) {
	tests := []struct {
		file string
		want care.Envelope
	}{
		{"aaa-delete.json", care.Envelope{Kind: care.KindDeletion, Deletion: &care.Deletion{
			Channel: care.Public, ID: mariaPostID, UserID: mariaID,
			DeletedAt: time.Date(2026, 8, 18, 20, 14, 37, 902e6, time.UTC)}}},
		{"aaa-revoke.json", care.Envelope{Kind: care.KindRevocation, Revocation: &care.Revocation{
			UserID: brandID, RevokedAt: time.Date(2026, 8, 21, 9, 58, 44, 0, time.UTC)}}},
		{"xaa-oauth-revoke.json", care.Envelope{Kind: care.KindRevocation, EventID: "7720198453310846215",
			Revocation: &care.Revocation{UserID: brandID, RevokedAt: time.Date(2026, 8, 21, 9, 58, 44, 0, time.UTC)}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := mustParse(t, readEvent(t, tt.file))
			if len(res.Envelopes) != 1 {
				t.Fatalf("got %d envelopes, want 1", len(res.Envelopes))
			}
			got := res.Envelopes[0]
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got.Kind != tt.want.Kind || got.EventID != tt.want.EventID {
				t.Fatalf("kind/event = %q/%q, want %q/%q", got.Kind, got.EventID, tt.want.Kind, tt.want.EventID)
			}
			switch got.Kind {
			case care.KindDeletion:
				g, w := *got.Deletion, *tt.want.Deletion
				if !g.DeletedAt.Equal(w.DeletedAt) || g.ID != w.ID || g.UserID != w.UserID || g.Channel != w.Channel {
					t.Errorf("deletion = %+v, want %+v", g, w)
				}
			case care.KindRevocation:
				g, w := *got.Revocation, *tt.want.Revocation
				if !g.RevokedAt.Equal(w.RevokedAt) || g.UserID != w.UserID {
					t.Errorf("revocation = %+v, want %+v", g, w)
				}
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"invalid UTF-8", "{\"for_user_id\":\"1590000000000000001\",\"x\":\"\xff\xfe\"}"},
		{"broken JSON", `{"data":{"event_type":"post.mention.create"`},
		{"array", `[]`},
		{"null", `null`},
		{"empty object", `{}`},
		{"string", `"hello"`},
		{"number", `1590000000000000001`},
		{"unknown object", `{"hello":"world"}`},
		{"data null", `{"data":null}`},
		{"data string", `{"data":"post.mention.create"}`},
		{"data without event type", `{"data":{"event_uuid":"1","payload":{}}}`},
		{"for_user_id object", `{"for_user_id":{"id":"1"},"tweet_create_events":[]}`},
		{"trailing garbage", `{"for_user_id":"1590000000000000001"} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse([]byte(tt.body), testBrand, receivedAt)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", res, err)
			}
		})
	}
	if _, err := Parse([]byte(`{}`), care.Brand{Handle: "PajaritoAir"}, receivedAt); err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("Parse without a brand id: %v, want a configuration error", err)
	}
	if _, err := Parse(readEvent(t, "malformed.json"), testBrand, receivedAt); !errors.Is(err, ErrMalformed) {
		t.Errorf("events/malformed.json: %v, want ErrMalformed", err)
	}
}

// xaaPost builds an XAA delivery around a v2 post.
func xaaPost(eventType, filterUser, post string, extra ...string) []byte {
	return []byte(`{"data":{"event_uuid":"-42","filter":{"user_id":"` + filterUser + `"},"event_type":"` + eventType +
		`","payload":` + post + strings.Join(extra, "") + `}}`)
}

func TestParseRules(t *testing.T) {
	const created = `"created_at":"2026-08-18T15:47:03.000Z"`
	type want struct {
		kinds   []care.Kind
		dropped []Drop
		ignored []string
		check   func(t *testing.T, res *Result)
	}
	msg := func(f func(t *testing.T, m *care.Message)) func(t *testing.T, res *Result) {
		return func(t *testing.T, res *Result) { f(t, res.Envelopes[0].Message) }
	}
	tests := []struct {
		name string
		body []byte
		want want
	}{
		{"XAA for another user", xaaPost("post.mention.create", "42", `{"id":"1","author_id":"2",`+created+`}`),
			want{dropped: []Drop{{DropNotServed, "42"}}}},
		{"XAA repost of a brand post", xaaPost("post.repost.create", brandID,
			`{"id":"7","author_id":"2",`+created+`,"text":"RT @PajaritoAir: hola","referenced_tweets":[{"type":"retweeted","id":"5"}]}`),
			want{dropped: []Drop{{DropRetweet, "7"}}}},
		{"XAA brand standalone post", xaaPost("post.create", brandID,
			`{"id":"8","author_id":"`+brandID+`",`+created+`,"text":"Nueva ruta Madrid-Lima"}`),
			want{dropped: []Drop{{DropOwnPost, "8"}}}},
		{"XAA brand reply to itself (thread)", xaaPost("post.create", brandID,
			`{"id":"9","author_id":"`+brandID+`",`+created+`,"text":"2/2","in_reply_to_user_id":"`+brandID+`"}`),
			want{dropped: []Drop{{DropOwnPost, "9"}}}},
		{"XAA brand update in a customer's thread is kept outbound", xaaPost("post.create", brandID,
			`{"id":"12","author_id":"`+brandID+`",`+created+`,"text":"@mariagv_viajes ya está resuelto","in_reply_to_user_id":"`+brandID+`",
			"conversation_id":"3","referenced_tweets":[{"type":"replied_to","id":"10"}],
			"entities":{"mentions":[{"start":0,"end":15,"username":"mariagv_viajes","id":"`+mariaID+`"}]}}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.Direction != care.Outbound || m.Summoned || m.InReplyToID != "10" || m.Customer() != mariaID || m.ConversationID != "3" {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA brand reply to a customer is kept outbound", xaaPost("post.create", brandID,
			`{"id":"10","author_id":"`+brandID+`",`+created+`,"text":"@mariagv_viajes hola","in_reply_to_user_id":"`+mariaID+`",
			"referenced_tweets":[{"type":"replied_to","id":"3"}]}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.Direction != care.Outbound || m.Summoned || m.InReplyToID != "3" || m.Customer() != mariaID {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA unknown event type", xaaPost("profile.update.bio", brandID, `{"before":"a","after":"b"}`),
			want{kinds: []care.Kind{care.KindIgnored}, ignored: []string{"profile.update.bio"}, check: func(t *testing.T, res *Result) {
				if e := res.Envelopes[0]; e.Ignored == nil || e.Ignored.EventType != "profile.update.bio" {
					t.Errorf("ignored envelope %+v", e)
				}
			}}},
		{"XAA X Chat received: a DM kept encrypted, id derived from the event", xaaPost("chat.received", brandID,
			`{"id":"7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43","sender_id":"`+mariaID+`","conversation_id":"`+brandID+`:`+mariaID+`",
			"created_at_msec":"1787070121408","encoded_event":"CwABAAAAATE="}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				at := time.UnixMilli(1787070121408).UTC()
				if m.Channel != care.DM || m.Direction != care.Inbound || !m.Summoned || m.AuthorID != mariaID || m.RecipientID != brandID ||
					!m.CreatedAt.Equal(at) || m.Text != "" || !m.Encrypted() || m.Customer() != mariaID {
					t.Errorf("got %+v", m)
				}
				if m.XChat.EventID != "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43" || m.XChat.ConversationID != brandID+":"+mariaID {
					t.Errorf("X Chat %+v", m.XChat)
				}
				if got, ok := care.IDTime(m.ID); !ok || !got.Equal(at) {
					t.Errorf("id %s: its time is %v, want the event's %v", m.ID, got, at)
				}
				if again := care.XChatMessageID("7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43", at); again != m.ID {
					t.Errorf("a repeated delivery gets id %s, not %s", again, m.ID)
				}
				if other := care.XChatMessageID("0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f87", at); other == m.ID {
					t.Errorf("two events of the same millisecond share id %s", m.ID)
				}
			})}},
		{"XAA X Chat event with an X id keeps it; the conversation may list the brand second", xaaPost("chat.received", brandID,
			`{"id":"2089800000000000001","sender_id":"`+mariaID+`","conversation_id":"`+mariaID+`:`+brandID+`",
			"created_at_msec":1787070121408,"encoded_event":"CwABAAAAATE="}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.ID != "2089800000000000001" || m.RecipientID != brandID {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA X Chat sent by the brand answers the other participant", xaaPost("chat.sent", brandID,
			`{"id":"0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f87","sender_id":"`+brandID+`","conversation_id":"`+brandID+`:`+mariaID+`",
			"created_at_msec":"1787070484115","encoded_event":"CwABAAAAATE="}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.Direction != care.Outbound || m.Summoned || m.AuthorID != brandID || m.RecipientID != mariaID || m.Customer() != mariaID {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA X Chat sent by the brand in a group: no one customer", xaaPost("chat.sent", brandID,
			`{"id":"0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f88","sender_id":"`+brandID+`","conversation_id":"g1790000000000000001",
			"created_at_msec":"1787070484115","encoded_event":"CwABAAAAATE="}`),
			want{dropped: []Drop{{Reason: DropGroupChat, ID: "g1790000000000000001"}}}},
		{"XAA X Chat received in a group is still kept", xaaPost("chat.received", brandID,
			`{"id":"0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f89","sender_id":"`+mariaID+`","conversation_id":"g1790000000000000001",
			"created_at_msec":"1787070484115","encoded_event":"CwABAAAAATE="}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.RecipientID != brandID || m.XChat.ConversationID != "g1790000000000000001" {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA X Chat without a time is quarantined", xaaPost("chat.received", brandID,
			`{"id":"0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f90","sender_id":"`+mariaID+`","conversation_id":"`+brandID+`:`+mariaID+`","encoded_event":"CwABAAAAATE="}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA X Chat without its ciphertext is quarantined", xaaPost("chat.received", brandID,
			`{"id":"0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f91","sender_id":"`+mariaID+`","conversation_id":"`+brandID+`:`+mariaID+`","created_at_msec":"1787070484115"}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA X Chat payload that is not an object is quarantined", xaaPost("chat.received", brandID, `"ciphertext"`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA long post prefers note_tweet", xaaPost("post.mention.create", brandID,
			`{"id":"11","author_id":"2",`+created+`,"text":"@PajaritoAir Flight PJ309 was cancelled… https://t.co/x",
			"entities":{"urls":[{"url":"https://t.co/x"}]},
			"note_tweet":{"text":"@PajaritoAir Flight PJ309 was cancelled and the whole story follows.","entities":{"mentions":[{"username":"PajaritoAir","id":"`+brandID+`"}]}}}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.Text != "@PajaritoAir Flight PJ309 was cancelled and the whole story follows." ||
					!slices.Equal(m.MentionedIDs, []string{brandID}) {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA includes next to data", []byte(`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},
			"event_type":"post.mention.create","payload":{"id":"12","author_id":"` + jamieID + `",` + created + `,"text":"hey @pajaritoair"}},
			"includes":{"users":[{"data":{"id":"` + jamieID + `","username":"jamiek_travels","name":"Jamie","public_metrics":{"followers_count":"2871"},"verified":true}}]}}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.AuthorHandle != "jamiek_travels" || m.AuthorFollowers != 2871 || !m.AuthorVerified || !m.Summoned {
					t.Errorf("got %+v", m)
				}
			})}},
		{"XAA payload shaped as a v2 response", xaaPost("post.quote.create", brandID,
			`{"data":{"id":"13","author_id":"`+danID+`",`+created+`,"text":"look at this","referenced_tweets":[{"type":"quoted","id":"`+brandPostID+`"}]},
			"includes":{"users":[{"id":"`+danID+`","username":"dan_okafor"}]}}`),
			want{kinds: []care.Kind{care.KindMessage}, check: func(t *testing.T, res *Result) {
				env := res.Envelopes[0]
				if m := env.Message; m.ID != "13" || m.QuotedID != brandPostID || !m.Summoned || m.AuthorHandle != "dan_okafor" {
					t.Errorf("got %+v", m)
				}
				if !bytes.HasPrefix(env.Raw, []byte(`{"id":"13"`)) {
					t.Errorf("Raw = %s, want the post object", env.Raw)
				}
			}}},
		{"XAA post without created_at is quarantined", xaaPost("post.mention.create", brandID,
			`{"id":"14","author_id":"2","text":"@PajaritoAir hola"}`),
			want{kinds: []care.Kind{care.KindUnparsed}, check: func(t *testing.T, res *Result) {
				env := res.Envelopes[0]
				if !strings.Contains(env.Problem, "created_at") || !strings.Contains(env.Unparsed, `"id":"14"`) || env.EventID != "-42" {
					t.Errorf("got %+v", env)
				}
			}}},
		{"XAA post with a non-numeric author is quarantined", xaaPost("post.mention.create", brandID,
			`{"id":"15","author_id":"maria",`+created+`,"text":"@PajaritoAir hola"}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA post whose text is not a string is quarantined", xaaPost("post.mention.create", brandID,
			`{"id":"16","author_id":"2",`+created+`,"text":42}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA dm.received without events is quarantined", xaaPost("dm.received", brandID, `{"users":{}}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA revoke by another user", xaaPost("oauth.revoke", "", `{"date_time":"2026-08-21T09:58:44+00:00","user_id":"77"}`),
			want{dropped: []Drop{{DropNotServed, "77"}}}},
		{"XAA revoke naming no user is quarantined", xaaPost("oauth.revoke", "", `{"date_time":"2026-08-21T09:58:44+00:00"}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"XAA brand post deleted", xaaPost("post.delete", brandID, `{"id":"`+brandReplyID+`","author_id":"`+brandID+`"}`),
			want{kinds: []care.Kind{care.KindDeletion}, check: func(t *testing.T, res *Result) {
				if d := res.Envelopes[0].Deletion; d.ID != brandReplyID || !d.DeletedAt.Equal(receivedAt) {
					t.Errorf("got %+v", d)
				}
			}}},
		{"AAA follow and replay status ignored", []byte(`{"for_user_id":"` + brandID + `","follow_events":[{"type":"follow"}]}`),
			want{ignored: []string{"follow_events"}}},
		{"AAA replay job status ignored", []byte(`{"replay_job_status":{"job_state":"Complete"}}`),
			want{ignored: []string{"replay_job_status"}}},
		{"AAA for_user_id only", []byte(`{"for_user_id":"` + brandID + `"}`), want{}},
		{"AAA DM between two other users", []byte(`{"for_user_id":"` + brandID + `","direct_message_events":[
			{"type":"message_create","id":"20","created_timestamp":"1787069035642","message_create":{"target":{"recipient_id":"3"},"sender_id":"4","message_data":{"text":"hi"}}}]}`),
			want{dropped: []Drop{{DropNotServed, "20"}}}},
		{"AAA DM to the brand without for_user_id (2017-era) is the brand's", []byte(`{"direct_message_events":[
			{"type":"message_create","id":"27","created_timestamp":"1787069035642","message_create":{"target":{"recipient_id":"` + brandID + `"},"sender_id":"4","message_data":{"text":"hola"}}},
			{"type":"message_create","id":"28","created_timestamp":"1787069035643","message_create":{"target":{"recipient_id":"4"},"sender_id":"` + brandID + `","message_data":{"text":"¿en qué te ayudamos?"}}}]}`),
			want{kinds: []care.Kind{care.KindMessage, care.KindMessage}, check: func(t *testing.T, res *Result) {
				if in, out := res.Envelopes[0].Message, res.Envelopes[1].Message; in.Direction != care.Inbound || in.AuthorID != "4" || out.Direction != care.Outbound || out.RecipientID != "4" {
					t.Errorf("got %+v and %+v", in, out)
				}
			}}},
		{"AAA DM between two other users without for_user_id", []byte(`{"direct_message_events":[
			{"type":"message_create","id":"29","created_timestamp":"1787069035642","message_create":{"target":{"recipient_id":"3"},"sender_id":"4","message_data":{"text":"hi"}}}]}`),
			want{dropped: []Drop{{DropNotServed, "29"}}}},
		{"AAA DM to the brand for another user is not served", []byte(`{"for_user_id":"77","direct_message_events":[
			{"type":"message_create","id":"30","created_timestamp":"1787069035642","message_create":{"target":{"recipient_id":"` + brandID + `"},"sender_id":"4","message_data":{"text":"hola"}}}]}`),
			want{dropped: []Drop{{DropNotServed, "77"}}}},
		{"AAA tweet without for_user_id is not served", []byte(`{"tweet_create_events":[
			{"id_str":"31","text":"@PajaritoAir hola","created_at":"Tue Aug 18 15:47:03 +0000 2026","user":{"id_str":"4"}}]}`),
			want{dropped: []Drop{{DropNotServed, ""}}}},
		{"AAA DM event that is not a message", []byte(`{"for_user_id":"` + brandID + `","direct_message_events":[{"type":"welcome_message","id":"21"}]}`),
			want{dropped: []Drop{{DropNotMessage, "21"}}}},
		{"AAA DM with a bad timestamp is quarantined, the next one kept", []byte(`{"for_user_id":"` + brandID + `","direct_message_events":[
			{"type":"message_create","id":"22","created_timestamp":"yesterday","message_create":{"target":{"recipient_id":"` + brandID + `"},"sender_id":"4","message_data":{"text":"hola"}}},
			{"type":"message_create","id":"23","created_timestamp":"1787069035642","message_create":{"target":{"recipient_id":"` + brandID + `"},"sender_id":"4","message_data":{"text":"hola otra vez"}}}]}`),
			want{kinds: []care.Kind{care.KindUnparsed, care.KindMessage}}},
		{"AAA tweet without user is quarantined", []byte(`{"for_user_id":"` + brandID + `","tweet_create_events":[
			{"id_str":"24","text":"@PajaritoAir hola","created_at":"Tue Aug 18 15:47:03 +0000 2026"}]}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"AAA tweet quoting the brand", []byte(`{"for_user_id":"` + brandID + `","tweet_create_events":[
			{"id_str":"25","text":"this is fine https://t.co/q","created_at":"Tue Aug 18 15:47:03 +0000 2026","user":{"id_str":"` + danID + `","screen_name":"dan_okafor"},
			 "is_quote_status":true,"quoted_status_id_str":"` + brandPostID + `","quoted_status":{"id_str":"` + brandPostID + `","user":{"id_str":"` + brandID + `"}}}]}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if !m.Summoned || m.QuotedID != brandPostID || !m.HasURL || m.Direction != care.Inbound {
					t.Errorf("got %+v", m)
				}
			})}},
		{"AAA tweet mentioning a longer handle is not summoned", []byte(`{"for_user_id":"` + brandID + `","tweet_create_events":[
			{"id_str":"26","text":"@PajaritoAirlines ¿sois la misma empresa?","created_at":"Tue Aug 18 15:47:03 +0000 2026","user":{"id_str":"` + danID + `"}}]}`),
			want{kinds: []care.Kind{care.KindMessage}, check: msg(func(t *testing.T, m *care.Message) {
				if m.Summoned {
					t.Errorf("got %+v", m)
				}
			})}},
		{"AAA revoke by another user", []byte(`{"user_event":{"revoke":{"date_time":"2026-08-21T09:58:44+00:00","source":{"user_id":"63046977"}}}}`),
			want{dropped: []Drop{{DropNotServed, "63046977"}}}},
		{"AAA user_event that is not a revoke", []byte(`{"for_user_id":"` + brandID + `","user_event":{"something":{}}}`),
			want{ignored: []string{"user_event"}}},
		{"AAA tweet_create_events not an array is quarantined", []byte(`{"for_user_id":"` + brandID + `","tweet_create_events":{"id_str":"1"}}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
		{"AAA delete with a bad id is quarantined", []byte(`{"for_user_id":"` + brandID + `","tweet_delete_events":[{"status":{"id":"abc"}}]}`),
			want{kinds: []care.Kind{care.KindUnparsed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustParse(t, tt.body)
			var kinds []care.Kind
			for _, env := range res.Envelopes {
				kinds = append(kinds, env.Kind)
				if env.Kind != care.KindUnparsed {
					if err := env.Validate(); err != nil {
						t.Errorf("envelope does not validate: %v", err)
					}
				}
			}
			if !slices.Equal(kinds, tt.want.kinds) {
				t.Fatalf("kinds = %v, want %v (envelopes %+v)", kinds, tt.want.kinds, res.Envelopes)
			}
			if !slices.Equal(res.Dropped, tt.want.dropped) {
				t.Errorf("Dropped = %v, want %v", res.Dropped, tt.want.dropped)
			}
			if !slices.Equal(res.Ignored, tt.want.ignored) {
				t.Errorf("Ignored = %v, want %v", res.Ignored, tt.want.ignored)
			}
			for _, d := range tt.want.dropped {
				if res.DropCounts[d.Reason] == 0 {
					t.Errorf("DropCounts = %v, missing %q", res.DropCounts, d.Reason)
				}
			}
			if tt.want.check != nil {
				tt.want.check(t, res)
			}
		})
	}
}

func TestMentionsHandle(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"@PajaritoAir hola", true},
		{"hola @pajaritoair!", true},
		{"gracias @PAJARITOAIR.", true},
		{"@PajaritoAir_ no", false},
		{"@PajaritoAirlines no", false},
		{"mail me at ops@PajaritoAir", false},
		{"PajaritoAir sin arroba", false},
		{"@Pajarito @PajaritoAir", true},
		{"", false},
	}
	for _, tt := range tests {
		if got := mentionsHandle(tt.text, "PajaritoAir"); got != tt.want {
			t.Errorf("mentionsHandle(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if mentionsHandle("@x", "") {
		t.Error("an empty handle matched")
	}
}

func TestUnparsedEnvelopeCut(t *testing.T) {
	// 'ñ' is two bytes; with an odd prefix the limit falls inside one.
	body := []byte("x" + strings.Repeat("ñ", MaxUnparsed))
	env := UnparsedEnvelope(care.SourceXAA, "", receivedAt, body, errors.New("boom"))
	if len(env.Unparsed) > MaxUnparsed || len(env.Unparsed) < MaxUnparsed-4 {
		t.Errorf("Unparsed is %d bytes, want about %d", len(env.Unparsed), MaxUnparsed)
	}
	if strings.ContainsRune(env.Unparsed, '\uFFFD') {
		t.Error("the cut split a character")
	}
	if !strings.HasPrefix(env.Problem, "boom") || !strings.Contains(env.Problem, "cut") {
		t.Errorf("Problem = %q", env.Problem)
	}
	if env.Kind != care.KindUnparsed || env.Version != care.EnvelopeVersion {
		t.Errorf("envelope = %+v", env)
	}
}

// TestParseAsLiberalAsEncodingJSON checks that bodies that encoding/json, with
// which Parse used to decode, read alike still parse alike: Parse decodes each body
// in one pass with JSON v2, whose defaults are stricter.
func TestParseAsLiberalAsEncodingJSON(t *testing.T) {
	const created = `"created_at":"2026-08-18T15:47:03.000Z"`
	post := `{"id":"31","author_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola"}`
	xaa := func(payload string) string {
		return `{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.quote.create","payload":` + payload + `}}`
	}
	quoting := `{"id":"32","author_id":"` + mariaID + `",` + created + `,"text":"mirad esto","referenced_tweets":[{"type":"quoted","id":"5"}]}`
	tests := []struct{ name, body, same string }{
		{"payload before event_type",
			`{"data":{"payload":` + post + `,"event_type":"post.quote.create","filter":{"user_id":"` + brandID + `"},"event_uuid":"1"}}`,
			xaa(post)},
		{"event_type repeated after the payload",
			`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"dm.sent","payload":` + post + `,"event_type":"post.quote.create"}}`,
			xaa(post)},
		{"names in another case",
			`{"data":{"Event_UUID":"1","FILTER":{"User_Id":"` + brandID + `"},"event_Type":"post.quote.create","Payload":` +
				`{"ID":"31","Author_Id":"` + mariaID + `",` + created + `,"Text":"@PajaritoAir hola"}}}`,
			xaa(post)},
		{"escaped names",
			`{"d\u0061ta":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.quote.create","payload":` +
				`{"id":"31","\u0061uthor_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola"}}}`,
			xaa(post)},
		{"a repeated name: the last wins",
			xaa(`{"id":"31","text":"hola","author_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola"}`),
			xaa(post)},
		{"a null after a string keeps the string",
			xaa(`{"id":"31","author_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola","text":null}`),
			xaa(post)},
		{"ids as numbers",
			xaa(`{"id":31,"author_id":` + mariaID + `,` + created + `,"text":"@PajaritoAir hola"}`),
			xaa(post)},
		{"an escaped lone surrogate is U+FFFD",
			xaa(`{"id":"31","author_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola \ud800"}`),
			xaa(`{"id":"31","author_id":"` + mariaID + `",` + created + `,"text":"@PajaritoAir hola \ufffd"}`)},
		{"includes whose tweets are not a list are ignored, even repeated",
			`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.create","payload":` + quoting +
				`,"includes":{"tweets":5,"tweets":[{"id":"5","author_id":"` + brandID + `"}]}}}`,
			`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.create","payload":` + quoting + `}}`},
		{"a bad user is skipped, the others kept",
			`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.quote.create","payload":` + post +
				`,"includes":{"users":[{"id":"` + mariaID + `","username":"maria"},{"id":"7","username":7}]}}}`,
			`{"data":{"event_uuid":"1","filter":{"user_id":"` + brandID + `"},"event_type":"post.quote.create","payload":` + post +
				`,"includes":{"users":[{"id":"` + mariaID + `","username":"maria"}]}}}`},
		{"a deleted status whose id_str is of the wrong type still has its id",
			`{"for_user_id":"` + brandID + `","tweet_delete_events":[{"status":{"id_str":31,"id":"32"},"timestamp_ms":"1787069035642"}]}`,
			`{"for_user_id":"` + brandID + `","tweet_delete_events":[{"status":{"id_str":"32"},"timestamp_ms":"1787069035642"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := mustParse(t, []byte(tt.body)), mustParse(t, []byte(tt.same))
			for _, res := range []*Result{got, want} {
				for i := range res.Envelopes {
					res.Envelopes[i].Raw, res.Envelopes[i].Unparsed = nil, ""
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestRawIsTheItemAsSent checks that an envelope's Raw is the item's JSON exactly as
// it is in the body, spaces included: a slice of the body, not a copy.
func TestRawIsTheItemAsSent(t *testing.T) {
	for _, name := range []string{"xaa-mention-es.json", "aaa-tweet-es.json", "xaa-dm-received-es.json", "aaa-delete.json"} {
		body := readEvent(t, name)
		env := mustParse(t, body).Envelopes[0]
		i := bytes.Index(body, env.Raw)
		if i < 0 || len(env.Raw) < 2 || env.Raw[0] != '{' || env.Raw[len(env.Raw)-1] != '}' || !json.Valid(env.Raw) {
			t.Errorf("%s: Raw is not an object of the body: %.80s", name, env.Raw)
			continue
		}
		if &body[i] != &env.Raw[0] {
			t.Errorf("%s: Raw is a copy, not a slice of the body", name)
		}
	}
}

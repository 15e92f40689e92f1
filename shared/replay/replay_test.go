package replay

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

var brand = care.Brand{ID: "1590000000000000001", Handle: "PajaritoAir"}

// twcs is a conversation in the dataset's own layout: not sorted by time, the
// brand named as in the recording, a reply to a post missing from the file, and
// the customer addressed by their anonymised id.
const twcs = `tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
2,AcmeAirHelp,False,Tue Oct 31 22:16:00 +0000 2017,"@115712 Lo sentimos, Ana. Escríbenos por DM, ¿vale? ^AG",3,1
1,115712,True,Tue Oct 31 22:10:00 +0000 2017,@AcmeAirHelp llevo dos horas esperando mi maleta,2,
3,115712,True,Tue Oct 31 22:17:30 +0000 2017,@acmeairhelp gracias!!,,2
9,200001,True,Tue Oct 31 23:00:00 +0000 2017,@AcmeAirHelp and still no refund,,77
`

func TestReadCSV(t *testing.T) {
	posts, err := ReadCSV(strings.NewReader(twcs))
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 4 {
		t.Fatalf("%d posts, want 4", len(posts))
	}
	want := Post{ID: "2", AuthorID: "AcmeAirHelp", CreatedAt: time.Date(2017, 10, 31, 22, 16, 0, 0, time.UTC),
		Text: "@115712 Lo sentimos, Ana. Escríbenos por DM, ¿vale? ^AG", InReplyTo: "1"}
	if got := posts[0]; got != want {
		t.Errorf("posts[0] = %+v\nwant %+v", got, want)
	}
	if !posts[1].Inbound || posts[0].Inbound {
		t.Error("inbound read wrong")
	}
	if got := Span(posts); got != 50*time.Minute {
		t.Errorf("Span = %s, want 50m (22:10 to 23:00)", got)
	}
	if posts[3].InReplyTo != "" {
		t.Errorf("a reply to a post missing from the file answers %q, want a thread of its own", posts[3].InReplyTo)
	}
}

func TestReadCSVErrors(t *testing.T) {
	const header = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty conversations file"},
		{"no posts", header, "no posts"},
		{"missing column", "tweet_id,author_id,inbound,text\n1,2,True,hi\n", "no created_at column"},
		{"bad time", header + "1,9,True,yesterday,hola,,\n", `line 2: created_at "yesterday"`},
		{"bad inbound", header + "1,9,yes,2026-08-19T10:00:00Z,hola,,\n", `line 2: inbound "yes"`},
		{"duplicate id", header + "1,9,True,2026-08-19T10:00:00Z,hola,,\n1,9,True,2026-08-19T10:00:00Z,otra,,\n", "line 3: tweet_id 1 is already on line 2"},
		{"empty text", header + "1,9,True,2026-08-19T10:00:00Z,,,\n", "line 2: text is empty"},
		{"bad quoting", header + "1,9,True,2026-08-19T10:00:00Z,\"hola,,\n", "replay:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestEvents checks the deliveries through the webhook's own parser: what
// Pajarito understands of them is what matters.
func TestEvents(t *testing.T) {
	posts, err := ReadCSV(strings.NewReader(twcs))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 8, 19, 9, 0, 0, 0, time.UTC)
	events, err := Events(posts, brand, start)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		typ       string
		offset    time.Duration
		dir       care.Direction
		summoned  bool
		text      string
		replyTo   int // index of the event answered, or -1
		mentioned []string
	}
	wants := []want{
		{xwebhook.EventPostMention, 0, care.Inbound, true, "@PajaritoAir llevo dos horas esperando mi maleta", -1, []string{brand.ID}},
		{xwebhook.EventPostCreate, 6 * time.Minute, care.Outbound, false, "@115712 Lo sentimos, Ana. Escríbenos por DM, ¿vale? ^AG", 0, []string{"115712"}},
		{xwebhook.EventPostReply, 7*time.Minute + 30*time.Second, care.Inbound, true, "@PajaritoAir gracias!!", 1, []string{brand.ID}},
		{xwebhook.EventPostMention, 50 * time.Minute, care.Inbound, true, "@PajaritoAir and still no refund", -1, []string{brand.ID}},
	}
	if len(events) != len(wants) {
		t.Fatalf("%d events, want %d", len(events), len(wants))
	}
	var msgs []*care.Message
	for i, ev := range events {
		w := wants[i]
		res, err := xwebhook.Parse(ev.Body, brand, start)
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, ev.Body)
		}
		if len(res.Envelopes) != 1 || res.Envelopes[0].Message == nil {
			t.Fatalf("event %d became %+v, want one message\n%s", i, res, ev.Body)
		}
		m := res.Envelopes[0].Message
		msgs = append(msgs, m)
		if err := m.Validate(); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
		at := start.Add(w.offset)
		if ev.Type != w.typ || !ev.At.Equal(at) || !m.CreatedAt.Equal(at) || ev.PostID != m.ID {
			t.Errorf("event %d: %s at %s, message %s at %s; want %s at +%s (%s)", i, ev.Type, ev.At, m.ID, m.CreatedAt, w.typ, w.offset, at)
		}
		if idAt, ok := care.IDTime(m.ID); !ok || !idAt.Equal(at) {
			t.Errorf("event %d: id %s carries %v, want its time %v", i, m.ID, idAt, at)
		}
		if m.Direction != w.dir || m.Summoned != w.summoned || m.Text != w.text {
			t.Errorf("event %d: %s summoned=%v %q; want %s %v %q", i, m.Direction, m.Summoned, m.Text, w.dir, w.summoned, w.text)
		}
		if strings.Join(m.MentionedIDs, ",") != strings.Join(w.mentioned, ",") {
			t.Errorf("event %d mentions %v, want %v", i, m.MentionedIDs, w.mentioned)
		}
		wantReply := ""
		if w.replyTo >= 0 {
			wantReply = msgs[w.replyTo].ID
		}
		if m.InReplyToID != wantReply {
			t.Errorf("event %d answers %q, want %q", i, m.InReplyToID, wantReply)
		}
	}
	for i := range 3 { // one thread
		if msgs[i].ConversationID != msgs[0].ID {
			t.Errorf("event %d is in conversation %s, want %s", i, msgs[i].ConversationID, msgs[0].ID)
		}
	}
	if msgs[1].Customer() != "115712" || msgs[0].AuthorHandle != "115712" {
		t.Errorf("customer = %s (@%s), want 115712", msgs[1].Customer(), msgs[0].AuthorHandle)
	}
	if msgs[3].ConversationID != msgs[3].ID {
		t.Errorf("a thread of its own is in conversation %s", msgs[3].ConversationID)
	}
}

func TestEventsBadBrand(t *testing.T) {
	posts := []Post{{ID: "1", AuthorID: "9", Inbound: true, Text: "hola"}}
	for _, b := range []care.Brand{{ID: "", Handle: "x"}, {ID: "12", Handle: ""}, {ID: "PajaritoAir", Handle: "PajaritoAir"}} {
		if _, err := Events(posts, b, time.Now()); err == nil || !strings.Contains(err.Error(), "brand.id") {
			t.Errorf("brand %+v: err = %v", b, err)
		}
	}
}

func TestCustomerHandle(t *testing.T) {
	tests := []struct{ author, want string }{
		{"115712", "115712"},
		{"ana_v", "ana_v"},
		{"not a handle", "user" + customerID("not a handle")[:8]},
	}
	for _, tt := range tests {
		if got := customerHandle(tt.author); got != tt.want {
			t.Errorf("customerHandle(%q) = %q, want %q", tt.author, got, tt.want)
		}
	}
	if id := customerID("ana_v"); !care.IsID(id) || id != customerID("ANA_V") {
		t.Errorf("customerID(ana_v) = %s, want a stable decimal id", id)
	}
}

// TestSample reads the conversations shipped in events/conversations and turns
// them into deliveries the webhook parser takes, every one.
func TestSample(t *testing.T) {
	files, err := os.ReadDir("../../events/conversations")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".csv") {
			continue
		}
		n++
		r, err := os.Open("../../events/conversations/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		posts, err := ReadCSV(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		events, err := Events(posts, brand, time.Date(2026, 8, 19, 5, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			res, err := xwebhook.Parse(ev.Body, brand, ev.At)
			if err != nil {
				t.Fatalf("%s: post %s: %v", f.Name(), ev.PostID, err)
			}
			// Every post is a message, the brand's update in a customer's thread
			// (its answer to its own reply, mentioning the customer) included.
			if len(res.Envelopes) != 1 || res.Envelopes[0].Kind != care.KindMessage {
				t.Fatalf("%s: post %s became %+v\n%s", f.Name(), ev.PostID, res, ev.Body)
			}
			if m := res.Envelopes[0].Message; m.Customer() == "" || m.Customer() == brand.ID {
				t.Errorf("%s: post %s has customer %q", f.Name(), ev.PostID, m.Customer())
			}
		}
	}
	if n == 0 {
		t.Fatal("no conversations in events/conversations")
	}
}

func TestStart(t *testing.T) {
	first := time.Date(2017, 10, 31, 22, 10, 5, 0, time.UTC)
	tests := []struct {
		name         string
		latest, want time.Time
	}{
		{"later in the day", time.Date(2026, 8, 19, 23, 0, 0, 0, time.UTC), time.Date(2026, 8, 19, 22, 10, 5, 0, time.UTC)},
		{"that very moment", time.Date(2026, 8, 19, 22, 10, 5, 0, time.UTC), time.Date(2026, 8, 19, 22, 10, 5, 0, time.UTC)},
		{"earlier in the day: the day before", time.Date(2026, 8, 19, 9, 0, 0, 0, time.UTC), time.Date(2026, 8, 18, 22, 10, 5, 0, time.UTC)},
		{"another zone", time.Date(2026, 8, 20, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), time.Date(2026, 8, 19, 22, 10, 5, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Start(first, tt.latest); !got.Equal(tt.want) {
				t.Errorf("Start = %s, want %s", got, tt.want)
			}
		})
	}
}

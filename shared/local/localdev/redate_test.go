package localdev

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// TestSampleShift: the samples move to the local clock as one — the fake's
// seeds and the webhook bodies alike, ids with their dates — and nothing that
// is not theirs moves.
func TestSampleShift(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "events")
	posts, _, err := xfake.SeedFromEvents(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := xfake.SampleFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 6, 11, 30, 0, 0, time.UTC)
	sh, err := newSampleShift(files, posts, start)
	if err != nil {
		t.Fatal(err)
	}
	// The newest sample (a DM or a post) is a minute old at start.
	if got := sh.to.Add(sh.by); got.After(start.Add(-time.Minute)) || got.Before(start.Add(-time.Minute-time.Millisecond)) {
		t.Errorf("the newest sample moves to %s, want a minute before %s", got, start)
	}
	if sh.by%time.Millisecond != 0 || sh.from.Year() != 2026 || sh.from.Month() != time.August {
		t.Errorf("shift %+v: want whole milliseconds over the samples' August days", sh)
	}

	// The seeds: every post moves, with its id, into the last hours before start.
	seeded := map[string]xfake.Post{}
	for _, p := range posts {
		m := sh.post(p)
		if idTime, ok := care.IDTime(m.ID); !ok || m.CreatedAt.After(start) || m.CreatedAt.Before(start.Add(-48*time.Hour)) || idTime.Sub(m.CreatedAt).Abs() > time.Second {
			t.Errorf("post %s (%s) moved to %s (%s), want an id of its new time within two days before start", p.ID, p.CreatedAt, m.ID, m.CreatedAt)
		}
		seeded[m.ID] = m
	}

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	recorded := time.Date(2026, 8, 19, 6, 0, 0, 0, time.UTC) // within the samples' span, not one of them
	tests := []struct {
		name      string
		body      []byte
		wantMoved bool
	}{
		{"v2 mention", read("xaa-mention-es.json"), true},
		{"v2 reply", read("xaa-reply-es.json"), true},
		{"v1.1 tweet", read("aaa-tweet-es.json"), true},
		{"v1.1 DM", read("aaa-dm-en.json"), true},
		{"v2 DM", read("xaa-dm-received-es.json"), true},
		{"X Chat", read("xaa-chat-received-es.json"), true},
		{"not JSON", read("malformed.json"), false},
		{"a recording of the samples' own day", []byte(`{"for_user_id":"1590000000000000001","tweet_create_events":[{"id_str":"` +
			strconv.FormatUint(care.Snowflake(recorded, 5), 10) + `","created_at":"` + recorded.Format(time.RubyDate) + `","text":"@PajaritoAir hola","user":{"id_str":"900001"}}]}`), false},
		{"today's post", []byte(`{"for_user_id":"1590000000000000001","tweet_create_events":[{"id_str":"` +
			strconv.FormatUint(care.Snowflake(start, 7), 10) + `","created_at":"` + start.Format(time.RubyDate) + `","text":"@PajaritoAir hola","user":{"id_str":"900001"}}]}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			moved, n := sh.body(tt.body)
			if !tt.wantMoved {
				if n != 0 || string(moved) != string(tt.body) {
					t.Errorf("moved %d times: %s", n, moved)
				}
				return
			}
			if n == 0 || !json.Valid(moved) {
				t.Fatalf("moved %d times, valid JSON %v", n, json.Valid(moved))
			}
			res, err := xwebhook.Parse(moved, care.Brand{ID: "1590000000000000001", Handle: "PajaritoAir"}, start)
			if err != nil {
				t.Fatal(err)
			}
			msgs := 0
			for _, env := range res.Envelopes {
				m := env.Message
				if m == nil {
					continue
				}
				msgs++
				if m.CreatedAt.After(start) || m.CreatedAt.Before(start.Add(-48*time.Hour)) {
					t.Errorf("message %s dated %s, want within two days before %s", m.ID, m.CreatedAt, start)
				}
				if at, ok := care.IDTime(m.ID); !ok || at.Sub(m.CreatedAt).Abs() > time.Second {
					t.Errorf("message %s: its id's time %s is not its date %s", m.ID, at, m.CreatedAt)
				}
				if m.Channel == care.Public {
					if _, ok := seeded[m.ID]; !ok {
						t.Errorf("post %s is not among the fake's seeds: the webhook and the listener would see two posts", m.ID)
					}
				}
				// People and the brand keep their ids and dates.
				for _, id := range []string{m.AuthorID, m.RecipientID} {
					if id != "" && !strings.Contains(string(tt.body), id) {
						t.Errorf("user id %s moved", id)
					}
				}
			}
			if msgs == 0 {
				t.Errorf("no message in %s", moved)
			}
			for _, kept := range []string{"1590000000000000001", "2024"} {
				if strings.Contains(string(tt.body), kept) && !strings.Contains(string(moved), kept) {
					t.Errorf("%q is gone from the moved body", kept)
				}
			}
		})
	}
}

package protocol

import (
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// xchatIn is an inbound X Chat message Pajarito cannot read.
func xchatIn(id string) care.StoredMessage {
	m := dmIn(id, "", "", monday10)
	m.XChat = &care.XChat{EventID: "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43", ConversationID: brandID + ":" + customer}
	return m
}

// TestDecideEncrypted: an X Chat message Pajarito cannot read is queued for a
// person, with the reason said, and nothing is posted or classified — at any
// hour, in a crisis or out of it, whatever the classifier would have said.
func TestDecideEncrypted(t *testing.T) {
	night := monday10.Add(13 * time.Hour) // 23:00 in Madrid: out of hours
	tests := []struct {
		name string
		in   func() Input
	}{
		{"business hours", func() Input { return input(xchatIn("301"), classify.Result{}, monday10) }},
		{"out of hours", func() Input { return input(xchatIn("302"), classify.Result{}, night) }},
		{"labels given anyway are not used", func() Input {
			return input(xchatIn("303"), labels("es", classify.IntentComplaint, -0.9, classify.UrgencyHigh), monday10)
		}},
	}
	e := newEngine(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Decide(t.Context(), tt.in())
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Replies) != 0 {
				t.Errorf("replies %+v, want none", d.Replies)
			}
			if d.Withheld != XChatUnreadable {
				t.Errorf("withheld %q, want %q", d.Withheld, XChatUnreadable)
			}
			if !hasAction(d, care.ActionQueue) || len(d.Actions) != 1 {
				t.Errorf("actions %+v, want the queue only", d.Actions)
			}
			if d.Route.Department == "" || d.Priority.Score == 0 {
				t.Errorf("route %+v, priority %+v: the case must still be routed and ranked", d.Route, d.Priority)
			}
		})
	}
}

// TestDecideXChatRead: an X Chat message with its text (decrypted) is decided
// as any DM.
func TestDecideXChatRead(t *testing.T) {
	m := xchatIn("304")
	m.Text, m.Lang = "¿Cuántas maletas puedo llevar?", "es"
	d, err := newEngine(t, nil).Decide(t.Context(), input(m, labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), monday10))
	if err != nil {
		t.Fatal(err)
	}
	if d.Withheld == XChatUnreadable {
		t.Errorf("a readable X Chat message was decided as unreadable: %+v", d)
	}
}

// TestDecideXChatProblem: an X Chat message Pajarito could not open, holding
// the brand's keys, is decided as unreadable, and the decision says why;
// one that could not be verified says so.
func TestDecideXChatProblem(t *testing.T) {
	tests := []struct {
		name, problem, want string
	}{
		{"no keys", "", XChatUnreadable},
		{"unverified", "could not verify: the signature does not match the sender's registered signing key",
			"X Chat message that could not be verified: the signature does not match the sender's registered signing key; its text is not shown, as it may not be the sender's: answer it in X's app"},
		{"no conversation key", "no conversation key of version 7 for this conversation",
			"X Chat message that could not be opened: no conversation key of version 7 for this conversation; answer it in X's app"},
	}
	e := newEngine(t, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := xchatIn("31" + string(rune('0'+i)))
			m.XChat.Problem = tt.problem
			d, err := e.Decide(t.Context(), input(m, classify.Result{}, monday10))
			if err != nil {
				t.Fatal(err)
			}
			if d.Withheld != tt.want || len(d.Replies) != 0 || !hasAction(d, care.ActionQueue) {
				t.Errorf("withheld %q, replies %+v, actions %+v; want %q, none, the queue", d.Withheld, d.Replies, d.Actions, tt.want)
			}
		})
	}
}

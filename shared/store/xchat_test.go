package store

import (
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// xchat makes env an X Chat message Pajarito cannot read.
func xchat(env *care.Envelope, eventID string) *care.Envelope {
	env.Message.Text, env.Message.Lang = "", ""
	env.Message.XChat = &care.XChat{EventID: eventID, ConversationID: brandID + ":" + customer}
	return env
}

// TestAppendXChat: an X Chat message the store cannot read opens (or joins)
// the customer's DM case, unanswered, and keeps what X said of it; the brand's
// answer written in X's app (chat.sent) is the case's first response; a
// repeated delivery is a duplicate.
func TestAppendXChat(t *testing.T) {
	s, _ := newStore(t)
	in := xchat(dm(xid(500), customer, true, t0), "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43")
	res := mustAppend(t, s, in, "sqs-1")
	if !res.Stored() || res.CaseID != "d"+xid(500) || res.Case.Status != care.Open || res.Case.FirstResponseAt != nil {
		t.Fatalf("inbound X Chat message: %+v", res)
	}
	if again := mustAppend(t, s, xchat(dm(xid(500), customer, true, t0), "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43"), "sqs-2"); !again.Duplicate {
		t.Errorf("the same X Chat message delivered again: %+v, want a duplicate", again)
	}
	answer := xchat(dm(xid(501), customer, false, t0.Add(7*time.Minute)), "0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f87")
	if res := mustAppend(t, s, answer, "sqs-3"); res.CaseID != "d"+xid(500) {
		t.Fatalf("the brand's X Chat answer went to case %s, want d%s", res.CaseID, xid(500))
	}
	c, msgs := mustGet(t, s, "d"+xid(500))
	if c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(t0.Add(7*time.Minute)) || c.Status != care.Pending {
		t.Errorf("case after the brand's X Chat answer: first response %v, status %s; want answered at +7 min, pending", c.FirstResponseAt, c.Status)
	}
	if len(msgs) != 2 || !msgs[0].Encrypted() || msgs[0].XChat.EventID != "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43" ||
		msgs[0].XChat.ConversationID != brandID+":"+customer || msgs[1].XChat == nil {
		t.Errorf("messages %+v: want both kept with their X Chat ids", msgs)
	}
}

// TestXChatReplyCopies: the reply sender's record of an X Chat reply and the
// copy X's webhook delivers back carry the same event id but X ids derived
// from the times each saw; whichever comes first is stored, the other is a
// duplicate, and no copy ever completes a second message, not even once the
// first one's claim has expired.
func TestXChatReplyCopies(t *testing.T) {
	const event = "5b7c2a10-9d3e-8f41-a2b6-0c1d2e3f4a5b"
	for _, senderFirst := range []bool{true, false} {
		name := map[bool]string{true: "sender first", false: "webhook first"}[senderFirst]
		t.Run(name, func(t *testing.T) {
			s, _ := newStore(t)
			in := mustAppend(t, s, xchat(dm(xid(600), customer, true, t0), "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43"), "sqs-1")
			caseID := in.CaseID
			record := xchat(dm(care.XChatMessageID(event, t0.Add(time.Minute)), customer, false, t0.Add(time.Minute)), event)
			record.Message.Text = "Hola, ¿nos das el número de pedido?"
			echo := xchat(dm(care.XChatMessageID(event, t0.Add(time.Minute+300*time.Millisecond)), customer, false, t0.Add(time.Minute+300*time.Millisecond)), event)
			first := func() (AppendResult, error) { return s.AppendOutbound(t.Context(), caseID, record, "reply#k1") }
			second := func() (AppendResult, error) { return s.Append(t.Context(), echo, "sqs-2") }
			if !senderFirst {
				first, second = second, first
			}
			if res, err := first(); err != nil || !res.Stored() {
				t.Fatalf("first copy: %+v, %v", res, err)
			}
			if res, err := second(); err != nil || !res.Duplicate {
				t.Fatalf("second copy: %+v, %v; want a duplicate", res, err)
			}
			s.ClaimLease = time.Nanosecond // every claim has expired
			if res, err := s.Append(t.Context(), echo, "sqs-3"); err != nil || !res.Duplicate {
				t.Fatalf("a copy after the claim expired: %+v, %v; want a duplicate", res, err)
			}
			c, msgs := mustGet(t, s, caseID)
			if len(msgs) != 2 || c.MessagesOut != 1 {
				t.Fatalf("case %+v with %d messages, want the inbound and one reply", c, len(msgs))
			}
		})
	}
}

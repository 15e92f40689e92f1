package protocol_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

var _ protocol.SurveyAnswers = (*store.Store)(nil)

// surveyed stores a case of customer (a DM case, or a public one when public),
// answered by the brand, resolved at resolved and surveyed 15 minutes later, as
// the monitor does; it returns the case id.
func surveyed(t *testing.T, s *store.Store, n int, customer string, public bool, resolved time.Time) string {
	t.Helper()
	ctx := t.Context()
	id := func(k int) string { return fmt.Sprintf("18200000000000%02d%03d", n, k) }
	msg := func(k int, in bool, at time.Time) *care.Envelope {
		m := &care.Message{Channel: care.DM, ID: id(k), Lang: "es", CreatedAt: at}
		if in {
			m.Direction, m.AuthorID, m.RecipientID, m.Text = care.Inbound, customer, brandID, "Hola, mi maleta no ha llegado a Bilbao"
		} else {
			m.Direction, m.AuthorID, m.RecipientID, m.Text = care.Outbound, brandID, customer, "Lo sentimos, ya la hemos localizado. ^Equipo"
		}
		if public {
			m.Channel, m.RecipientID, m.ConversationID = care.Public, "", id(0)
			if !in {
				m.InReplyToID, m.InReplyToUserID = id(0), customer
			}
		}
		return &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: m}
	}
	var caseID string
	for k, in := range []bool{true, false} {
		res, err := s.Append(ctx, msg(k, in, resolved.Add(time.Duration(k-2)*time.Hour)), "")
		if err != nil {
			t.Fatal(err)
		}
		caseID = res.CaseID
	}
	if _, err := s.SetStatus(ctx, caseID, care.Resolved, resolved); err != nil {
		t.Fatal(err)
	}
	sent := resolved.Add(15 * time.Minute)
	if ok, err := s.MarkSurveySent(ctx, caseID, resolved, sent); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.RecordSurveySent(ctx, store.SentSurvey{CustomerID: customer, CaseID: caseID, Lang: "es", SentAt: sent}); err != nil {
		t.Fatal(err)
	}
	return caseID
}

// customerDM is an inbound DM of customer.
func customerDM(id, customer, text string, at time.Time) *care.Envelope {
	return &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at,
		Message: &care.Message{Channel: care.DM, Direction: care.Inbound, ID: id, AuthorID: customer, AuthorHandle: "cliente",
			RecipientID: brandID, Text: text, Lang: "es", CreatedAt: at, Summoned: true}}
}

// Survey answers by DM store the score on the surveyed case and reopen nothing:
// no automatic reply, no case for the agents; a DM that is no answer is a
// message like any other.
func TestSurveyAnswers(t *testing.T) {
	resolved := t0.Add(time.Hour)
	tests := []struct {
		name      string
		public    bool // the surveyed case is public (the customer also has a quiet DM thread)
		answer    string
		at        time.Duration // after the resolution
		wantScore int           // 0: not an answer
	}{
		{name: "digit", answer: "5", at: time.Hour, wantScore: 5},
		{name: "word", answer: "cinco", at: time.Hour, wantScore: 5},
		{name: "stars", answer: "⭐⭐⭐⭐", at: time.Hour, wantScore: 4},
		{name: "public case", public: true, answer: "5", at: time.Hour, wantScore: 5},
		{name: "after the reopen window", answer: "4", at: store.DefaultReopenWindow + 10*time.Minute, wantScore: 4}, // a new case, resolved
		{name: "no answer", answer: "Mi maleta sigue sin aparecer, ¿qué hago?", at: time.Hour},
		{name: "after the answer window", answer: "5", at: store.SurveyAnswerWindow + time.Hour},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.New(t)
			out := &outbox{}
			var metrics bytes.Buffer
			p := protocol.Pipeline{Engine: sampleEngine(t), Cases: s, Outbox: out, Metrics: &metrics}
			customer := fmt.Sprintf("29000000000000%05d", i)
			dmCase := ""
			if tt.public {
				dmCase = surveyed(t, s, 90, customer, false, resolved.Add(-24*time.Hour))
				if err := s.RecordSurveySent(t.Context(), store.SentSurvey{CustomerID: customer, CaseID: dmCase, Lang: "es", SentAt: resolved.Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			id := surveyed(t, s, i, customer, tt.public, resolved)
			if !tt.public {
				dmCase = id
			}
			d := deliver(t, s, p, customerDM(fmt.Sprintf("18300000000000%05d", i), customer, tt.answer, resolved.Add(tt.at)))
			c, _, err := s.GetCase(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantScore == 0 {
				if c.CSAT != nil || !d.Record.Has(care.ActionQueue) {
					t.Errorf("not an answer: csat %v, actions %+v", c.CSAT, d.Actions)
				}
				if strings.Contains(metrics.String(), `"CSAT"`) {
					t.Errorf("CSAT emitted: %s", metrics.String())
				}
				if tt.at < store.DefaultReopenWindow && d.Record.CaseID != dmCase {
					t.Errorf("the DM went to case %s, want %s", d.Record.CaseID, dmCase)
				}
				if dc, _, _ := s.GetCase(t.Context(), d.Record.CaseID); dc.Status != care.Open {
					t.Errorf("the DM's case is %s, want open for the agents", dc.Status)
				}
				return
			}
			if c.CSAT == nil || *c.CSAT != tt.wantScore || c.CSATAt == nil || !c.CSATAt.Equal(resolved.Add(tt.at)) {
				t.Errorf("surveyed case %s: csat %v at %v, want %d", id, c.CSAT, c.CSATAt, tt.wantScore)
			}
			if len(d.Replies) != 0 || len(out.replies) != 0 || !d.Record.Has(care.ActionNone) {
				t.Errorf("decision %+v, outbox %+v: want no reply", d.Record, out.replies)
			}
			dc, msgs, err := s.GetCase(t.Context(), d.Record.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if dc.Status != care.Resolved || msgs[len(msgs)-1].Text != tt.answer {
				t.Errorf("the answer's case %s is %s (last message %q), want resolved with the answer kept", dc.ID, dc.Status, msgs[len(msgs)-1].Text)
			}
			if dc.ID == dmCase && dc.Reopens != 0 {
				t.Errorf("the answer counted as a reopen: %d", dc.Reopens)
			}
			if open, _, _ := s.ListCases(t.Context(), store.ListQuery{Status: care.Open}); len(open) != 0 {
				t.Errorf("cases for the agents: %+v", open)
			}
			var m struct{ CSAT, SurveyAnswers float64 }
			if err := json.Unmarshal(bytes.TrimSpace(metrics.Bytes()), &m); err != nil || m.CSAT != float64(tt.wantScore) || m.SurveyAnswers != 1 {
				t.Errorf("metrics %q: %+v, %v", metrics.String(), m, err)
			}
		})
	}
}

// A DM opting out of surveys is stored (the monitor never surveys the customer
// again) and is a message like any other for the agents.
func TestSurveyOptOut(t *testing.T) {
	s := storetest.New(t)
	p := protocol.Pipeline{Engine: sampleEngine(t), Cases: s, Outbox: &outbox{}, Metrics: &bytes.Buffer{}}
	const customer = "2900000000000099999"
	resolved := t0.Add(time.Hour)
	id := surveyed(t, s, 1, customer, false, resolved)
	d := deliver(t, s, p, customerDM("1830000000000099999", customer, "No me mandéis más encuestas, por favor", resolved.Add(time.Hour)))
	if ok, err := s.OptedOut(context.Background(), customer); !ok || err != nil {
		t.Errorf("OptedOut = %v, %v", ok, err)
	}
	c, _, _ := s.GetCase(t.Context(), id)
	if c.CSAT != nil || c.Status != care.Open || d.Record.Has(care.ActionNone) {
		t.Errorf("case: csat %v, %s, actions %+v; want the message open for the agents", c.CSAT, c.Status, d.Actions)
	}
}

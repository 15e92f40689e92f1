package store

import (
	"context"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestCorrections(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	fix := func(caseID, msg string, intent classify.Intent, sentiment classify.Sentiment, text string) {
		t.Helper()
		err := s.AddCorrection(ctx, Correction{
			Correction: classify.Correction{Text: text, Lang: "es", Intent: intent, Sentiment: sentiment},
			CaseID:     caseID, MessageID: msg, AgentID: "a1", WasIntent: classify.IntentOther,
		})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	fix("t1", xid(1), classify.IntentComplaint, "", "me habéis perdido la maleta")
	fix("t2", xid(2), classify.IntentPraise, classify.Positive, "gracias por todo")
	fix("t1", xid(1), "", classify.Negative, "me habéis perdido la maleta") // same message, another label
	fix("t3", xid(3), classify.IntentSales, "", "¿precio del vuelo a Lima?")
	fix("t2", xid(2), classify.IntentQuestion, "", "gracias por todo") // the newer intent wins

	type want struct {
		caseID    string
		intent    classify.Intent
		sentiment classify.Sentiment
	}
	tests := []struct {
		limit int
		want  []want
	}{
		{0, []want{{"t2", classify.IntentQuestion, classify.Positive}, {"t3", classify.IntentSales, ""}, {"t1", classify.IntentComplaint, classify.Negative}}},
		// Merged only as far as read: the page is full before t2's older record.
		{2, []want{{"t2", classify.IntentQuestion, ""}, {"t3", classify.IntentSales, ""}}},
		{1, []want{{"t2", classify.IntentQuestion, ""}}},
	}
	for _, tt := range tests {
		got, err := s.ListCorrectionRecords(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("limit %d: %d corrections %+v, want %d", tt.limit, len(got), got, len(tt.want))
		}
		for i, w := range tt.want {
			g := got[i]
			if g.CaseID != w.caseID || g.Intent != w.intent || g.Sentiment != w.sentiment || g.AgentID != "a1" || g.Text == "" || g.CorrectedAt.IsZero() {
				t.Errorf("limit %d: correction %d = %+v, want %+v", tt.limit, i, g, w)
			}
		}
	}
	// What classify.Train takes.
	cs, err := s.ListCorrections(ctx, 0)
	if err != nil || len(cs) != 3 || cs[0].Intent != classify.IntentQuestion || cs[0].Sentiment != classify.Positive || cs[0].Text != "gracias por todo" {
		t.Fatalf("ListCorrections = %+v, %v", cs, err)
	}
	if m := classify.Train(cs); m.Trained.Corrections != 3 {
		t.Errorf("trained on %d corrections, want 3", m.Trained.Corrections)
	}

	bad := []struct {
		name string
		c    Correction
	}{
		{"no text", Correction{Correction: classify.Correction{Intent: classify.IntentSales}, CaseID: "t1", MessageID: xid(1), AgentID: "a1"}},
		{"no label", Correction{Correction: classify.Correction{Text: "x"}, CaseID: "t1", MessageID: xid(1), AgentID: "a1"}},
		{"unknown intent", Correction{Correction: classify.Correction{Text: "x", Intent: "rant"}, CaseID: "t1", MessageID: xid(1), AgentID: "a1"}},
		{"unknown sentiment", Correction{Correction: classify.Correction{Text: "x", Sentiment: "angry"}, CaseID: "t1", MessageID: xid(1), AgentID: "a1"}},
		{"bad message id", Correction{Correction: classify.Correction{Text: "x", Intent: classify.IntentSales}, CaseID: "t1", MessageID: "m1", AgentID: "a1"}},
		{"no agent", Correction{Correction: classify.Correction{Text: "x", Intent: classify.IntentSales}, CaseID: "t1", MessageID: xid(1)}},
	}
	for _, b := range bad {
		if err := s.AddCorrection(ctx, b.c); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	for _, limit := range []int{-1, MaxCorrectionsLimit + 1} {
		if _, err := s.ListCorrectionRecords(ctx, limit); err == nil {
			t.Errorf("limit %d accepted", limit)
		}
	}
}

// The store is what package learn trains from.
var _ interface {
	ListCorrections(ctx context.Context, limit int) ([]classify.Correction, error)
} = (*Store)(nil)

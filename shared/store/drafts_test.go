package store

import (
	"errors"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestDrafts(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	req := care.ReplyRequest{
		Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey("t1", "d-1", care.ReplyAgent), CaseID: "t1",
		TriggerID: "d-1", Channel: care.DM, RecipientID: customer, Text: "Hola ^Ana", Kind: care.ReplyAgent,
		Author: "a1", CreatedAt: clk.Now(),
	}
	lease := clk.Now().Add(10 * time.Second)
	d := Draft{CaseID: "t1", DraftID: "d-1", Input: "digest", Request: req, Warnings: []byte(`[{"rule":"link_cost"}]`), LeaseUntil: lease}
	if _, err := s.GetDraft(ctx, "t1", "d-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no draft: %v", err)
	}
	for i, want := range []bool{true, false} {
		ok, err := s.PutDraft(ctx, d)
		if err != nil || ok != want {
			t.Fatalf("put %d: %v, %v; want %v", i, ok, err, want)
		}
	}
	got, err := s.GetDraft(ctx, "t1", "d-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Input != "digest" || got.Request.IdempotencyKey != req.IdempotencyKey || got.Request.Text != req.Text ||
		string(got.Warnings) != string(d.Warnings) || got.QueuedAt != nil || !got.LeaseUntil.Equal(lease) {
		t.Fatalf("draft = %+v", got)
	}
	// The lease moves from the value read only: of two takers one wins.
	later := lease.Add(time.Minute)
	for i, want := range []bool{true, false} {
		ok, err := s.LeaseDraft(ctx, "t1", "d-1", lease, later)
		if err != nil || ok != want {
			t.Fatalf("lease %d: %v, %v; want %v", i, ok, err, want)
		}
	}
	if got, _ := s.GetDraft(ctx, "t1", "d-1"); !got.LeaseUntil.Equal(later) {
		t.Errorf("lease until %v, want %v", got.LeaseUntil, later)
	}
	if err := s.MarkDraftQueued(ctx, "t1", "d-1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDraft(ctx, "t1", "d-1"); got.QueuedAt == nil || !got.QueuedAt.Equal(clk.Now()) {
		t.Errorf("queued at %v", got.QueuedAt)
	}
	// A queued draft is never leased again.
	if ok, err := s.LeaseDraft(ctx, "t1", "d-1", later, later.Add(time.Minute)); ok || err != nil {
		t.Errorf("leasing a queued draft: %v, %v", ok, err)
	}
	if err := s.MarkDraftQueued(ctx, "t1", "d-2", clk.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("marking an unknown draft: %v", err)
	}
	if _, err := s.PutDraft(ctx, Draft{CaseID: "t1", DraftID: "d-3"}); err == nil {
		t.Error("a draft without request accepted")
	}
}

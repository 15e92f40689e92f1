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

// TestDraftApprovals: a draft awaiting approval is listed until someone
// decides it, once; approving leases it to the approver with the edited
// request, rejecting keeps the reason; the case's drafts show both.
func TestDraftApprovals(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	pending := func(caseID, draftID string, at time.Time) Draft {
		req := care.ReplyRequest{
			Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(caseID, draftID, care.ReplyAgent), CaseID: caseID,
			TriggerID: draftID, Channel: care.DM, RecipientID: customer, Text: "Hola ^Carla", Kind: care.ReplyAgent,
			Author: "carla", CreatedAt: at,
		}
		return Draft{CaseID: caseID, DraftID: draftID, Input: "digest-" + draftID, Request: req, CreatedAt: at,
			Approval: &DraftApproval{State: ApprovalPending, Why: "contributor"}}
	}
	for i, d := range []Draft{pending("t2", "d-b", clk.Now().Add(time.Minute)), pending("t1", "d-a", clk.Now())} {
		if ok, err := s.PutDraft(ctx, d); err != nil || !ok {
			t.Fatalf("put %d: %v, %v", i, ok, err)
		}
	}
	bad := pending("t3", "d-c", clk.Now())
	bad.Approval.State = ApprovalApproved
	if _, err := s.PutDraft(ctx, bad); err == nil {
		t.Error("a new draft was stored approved")
	}
	list, err := s.PendingApprovals(ctx, 10)
	if err != nil || len(list) != 2 || list[0].DraftID != "d-a" || list[1].DraftID != "d-b" || !list[0].LeaseUntil.IsZero() {
		t.Fatalf("pending approvals = %+v, %v; want d-a then d-b, unleased", list, err)
	}

	at := clk.Now().Add(2 * time.Minute)
	edited := list[0].Request
	edited.Text = "Hola, lo revisamos ya ^Carla"
	approve := DraftApproval{State: ApprovalApproved, Why: "contributor", By: "ana", ByName: "Ana", At: &at, Edited: true, Original: "Hola ^Carla"}
	lease := at.Add(15 * time.Second)
	for i, want := range []bool{true, false} {
		if ok, err := s.DecideDraft(ctx, "t1", "d-a", approve, &edited, lease); err != nil || ok != want {
			t.Fatalf("approve %d: %v, %v; want %v", i, ok, err, want)
		}
	}
	reject := DraftApproval{State: ApprovalRejected, Why: "contributor", By: "ana", ByName: "Ana", At: &at, Reason: "Falta pedir disculpas primero."}
	if ok, err := s.DecideDraft(ctx, "t1", "d-a", reject, nil, time.Time{}); err != nil || ok {
		t.Errorf("rejecting an approved draft: %v, %v", ok, err)
	}
	if ok, err := s.DecideDraft(ctx, "t2", "d-b", reject, nil, time.Time{}); err != nil || !ok {
		t.Fatalf("reject: %v, %v", ok, err)
	}
	got, err := s.GetDraft(ctx, "t1", "d-a")
	if err != nil || got.Approval.State != ApprovalApproved || got.Approval.By != "ana" || !got.Approval.Edited || got.Request.Text != edited.Text || !got.LeaseUntil.Equal(lease) {
		t.Errorf("approved draft = %+v (%+v), %v", got, got.Approval, err)
	}
	rejected, err := s.CaseDrafts(ctx, "t2")
	if err != nil || len(rejected) != 1 || rejected[0].Approval.State != ApprovalRejected || rejected[0].Approval.Reason != reject.Reason {
		t.Errorf("the case's drafts = %+v, %v; want the rejection with its reason", rejected, err)
	}
	if list, err := s.PendingApprovals(ctx, 10); err != nil || len(list) != 0 {
		t.Errorf("pending approvals after both decisions = %+v, %v", list, err)
	}
}

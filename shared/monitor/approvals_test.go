package monitor_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/store"
)

// TestApprovalAlerts: a reply that has waited for an approval longer than
// the setting is an alert, once a day per reply, however many runs; one still
// within it, or decided, is not.
func TestApprovalAlerts(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	st := storetest.New(t)
	clk := testclock.New(t0)
	al := &alerts{}
	m := &monitor.Monitor{Crises: noCrises{}, Approvals: &monitor.Approvals{Store: st, After: 15 * time.Minute, Notifier: al},
		Metrics: &bytes.Buffer{}, Now: clk.Now, Log: slog.New(slog.DiscardHandler)}
	put := func(caseID, draftID string, at time.Time) {
		req := care.ReplyRequest{Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(caseID, draftID, care.ReplyAgent), CaseID: caseID,
			TriggerID: draftID, Channel: care.DM, RecipientID: "2900000000000000001", Text: "Hola ^Carla", Kind: care.ReplyAgent,
			Author: "carla", AuthorName: "Carla", CreatedAt: at}
		if ok, err := st.PutDraft(t.Context(), store.Draft{CaseID: caseID, DraftID: draftID, Input: "x", Request: req, CreatedAt: at,
			Approval: &store.DraftApproval{State: store.ApprovalPending, Why: "written by a contributor"}}); err != nil || !ok {
			t.Fatal(err)
		}
	}
	put("d1", "c-old", t0.Add(-20*time.Minute))
	put("d2", "c-new", t0.Add(-5*time.Minute))
	for i := range 3 {
		rep, err := m.Run(t.Context())
		if err != nil || rep.Approvals == nil || rep.Approvals.Pending != 2 || rep.Approvals.Overdue != 1 {
			t.Fatalf("run %d: %+v, %v", i, rep.Approvals, err)
		}
	}
	if got := al.kinds(); len(got) != 1 || got[0] != care.AlertApprovalWaiting+":" || !strings.Contains(al.got[0].Summary, "Carla") || al.got[0].CaseID != "d1" {
		t.Fatalf("alerts %+v; want one, for Carla's reply on d1", al.got)
	}
	// Later, the other one waits too long as well; the first is decided.
	at := t0.Add(20 * time.Minute)
	if ok, err := st.DecideDraft(t.Context(), "d1", "c-old", store.DraftApproval{State: store.ApprovalRejected, By: "ana", At: &at, Reason: "no"}, nil, time.Time{}); err != nil || !ok {
		t.Fatal(err)
	}
	clk.Set(at)
	if rep, err := m.Run(t.Context()); err != nil || rep.Approvals.Pending != 1 || rep.Approvals.Alerted != 1 {
		t.Fatalf("later run: %+v, %v", rep.Approvals, err)
	}
	if got := al.kinds(); len(got) != 2 || al.got[1].CaseID != "d2" {
		t.Errorf("alerts %+v; want the second for d2", al.got)
	}
}

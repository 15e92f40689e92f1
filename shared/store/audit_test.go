package store

import (
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// TestAudit: entries are kept once each, read per case oldest first and per
// person newest first; the team's actions have their own trail.
func TestAudit(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	put := func(actor, action, caseID string, at time.Time) care.AuditEntry {
		e, err := s.PutAudit(ctx, care.AuditEntry{Actor: actor, ActorName: actor, Role: "agent", Action: action, CaseID: caseID, At: at,
			Detail: map[string]string{"k": "v"}})
		if err != nil || e.ID == "" {
			t.Fatalf("put %s: %+v, %v", action, e, err)
		}
		return e
	}
	t0 := clk.Now()
	first := put("ana", "case_claimed", "t1", t0)
	put("beto", "case_relabelled", "t1", t0.Add(time.Minute))
	put("ana", "reply_queued", "t1", t0.Add(2*time.Minute))
	put("ana", "crisis_set_by_hand", "", t0.Add(3*time.Minute))
	if _, err := s.PutAudit(ctx, first); err == nil {
		t.Error("an entry was written twice")
	}
	trail, err := s.CaseAudit(ctx, "t1")
	if err != nil || len(trail) != 3 || trail[0].Action != "case_claimed" || trail[2].Action != "reply_queued" || trail[1].Detail["k"] != "v" {
		t.Fatalf("case trail = %+v, %v", trail, err)
	}
	ana, err := s.PersonAudit(ctx, "ana", 10)
	if err != nil || len(ana) != 3 || ana[0].Action != "crisis_set_by_hand" || ana[2].Action != "case_claimed" {
		t.Fatalf("ana's trail = %+v, %v", ana, err)
	}
	if team, err := s.CaseAudit(ctx, ""); err != nil || len(team) != 1 || team[0].Actor != "ana" {
		t.Errorf("team trail = %+v, %v", team, err)
	}
}

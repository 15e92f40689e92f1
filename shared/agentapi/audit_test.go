package agentapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
)

// TestAuditTrail: what people do on a case is kept, in order, with who and
// their role, readable on the case and, by an admin, per person.
func TestAuditTrail(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	base := "/v1/cases/" + caseBenPublic
	ok(t, e.as(t, tokenAna, http.MethodPost, base+"/claim", map[string]string{}), http.StatusOK, nil)
	e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "a-1", "text": "We're sorry, Ben. We're on it."})
	e.replied(t, tokenCarla, caseBenPublic, map[string]string{"draft_id": "c-1", "text": "We're sorry, Ben: your new flight is PJ125."})
	ok(t, e.as(t, tokenAna, http.MethodPost, base+"/approvals/c-1/approve", map[string]string{}), http.StatusAccepted, nil)
	ok(t, e.as(t, tokenAna, http.MethodPut, base+"/labels", map[string]string{"intent": "incident"}), http.StatusOK, nil)
	ok(t, e.as(t, tokenAna, http.MethodPost, base+"/resolve", map[string]string{}), http.StatusOK, nil)
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": true}), http.StatusOK, nil)

	var d agentapi.CaseDetail
	ok(t, e.get(t, base), http.StatusOK, &d)
	var got []string
	for _, a := range d.Audit {
		got = append(got, a.Actor+" "+a.Role+" "+a.Action)
		if a.CaseID != caseBenPublic || a.At.IsZero() || a.ID == "" {
			t.Errorf("entry %+v", a)
		}
	}
	want := []string{
		"agent-ana agent case_claimed", "agent-ana agent reply_queued", "contrib-carla contributor reply_awaits_approval",
		"agent-ana agent reply_approved", "agent-ana agent case_recategorised", "agent-ana agent case_resolved",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the case's trail:\n%v\nwant\n%v", got, want)
	}

	wantError(t, e.as(t, tokenAna, http.MethodGet, "/v1/agents/agent-ana/audit", nil), http.StatusForbidden, "forbidden")
	var ana agentapi.AuditList
	ok(t, e.as(t, tokenSuper, http.MethodGet, "/v1/agents/agent-ana/audit", nil), http.StatusOK, &ana)
	if len(ana.Entries) != 5 || ana.Entries[0].Action != "case_resolved" || ana.Entries[4].Action != "case_claimed" {
		t.Errorf("Ana's trail, newest first: %+v", ana.Entries)
	}
	var sup agentapi.AuditList
	ok(t, e.as(t, tokenSuper, http.MethodGet, "/v1/agents/agent-sup/audit", nil), http.StatusOK, &sup)
	if len(sup.Entries) != 1 || sup.Entries[0].Action != "crisis_set_by_hand" || sup.Entries[0].CaseID != "" || sup.Entries[0].Detail["topic"] != "delays" {
		t.Errorf("the admin's trail: %+v; want the crisis opened, on the team", sup.Entries)
	}
}

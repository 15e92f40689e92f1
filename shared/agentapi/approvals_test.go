package agentapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

// TestContributorReplyWaitsForApproval: a contributor's reply is answered
// 202 awaiting approval and nothing is queued, however often it is sent; an
// agent lists it, and approves it: it goes once, signed by its author, the
// approver recorded. An approval decided is not decided again.
func TestContributorReplyWaitsForApproval(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	body := map[string]string{"draft_id": "c-1", "text": "We're sorry, Ben. We have rebooked you on PJ125."}
	res := e.replied(t, tokenCarla, caseBenPublic, body)
	if res.Approval == nil || res.Approval.State != "pending" || res.Approval.Why != "written by a contributor" ||
		!strings.HasSuffix(res.Reply.Text, "^Carla") || res.Reply.Author != contributor.ID {
		t.Fatalf("a contributor's reply: %+v (approval %+v); want it pending, signed by her", res.Reply, res.Approval)
	}
	if again := e.replied(t, tokenCarla, caseBenPublic, body); again.Approval == nil || again.Approval.State != "pending" {
		t.Errorf("the same draft again: %+v", again.Approval)
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Fatalf("queued %+v before any approval", q)
	}

	wantError(t, e.as(t, tokenCarla, http.MethodGet, "/v1/approvals", nil), http.StatusForbidden, "forbidden")
	var list agentapi.ApprovalList
	ok(t, e.as(t, tokenAna, http.MethodGet, "/v1/approvals", nil), http.StatusOK, &list)
	ben, err := e.store.GetCaseItem(t.Context(), caseBenPublic)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Approvals) != 1 || list.Approvals[0].DraftID != "c-1" || list.Approvals[0].CaseID != caseBenPublic ||
		ben.CustomerHandle == "" || list.Approvals[0].CustomerHandle != ben.CustomerHandle {
		t.Fatalf("approvals %+v; want Carla's reply to @%s", list.Approvals, ben.CustomerHandle)
	}

	approve := "/v1/cases/" + caseBenPublic + "/approvals/c-1/approve"
	wantError(t, e.as(t, tokenCarla, http.MethodPost, approve, map[string]string{}), http.StatusForbidden, "forbidden")
	var sent agentapi.ReplyResult
	ok(t, e.as(t, tokenAna, http.MethodPost, approve, map[string]string{}), http.StatusAccepted, &sent)
	q := e.outbox.queued()
	if len(q) != 1 || q[0].Author != contributor.ID || q[0].ApprovedBy != agentAna.ID || q[0].ApprovedByName != agentAna.Name ||
		q[0].Text != res.Reply.Text || q[0].IdempotencyKey != care.ReplyKey(caseBenPublic, "c-1", care.ReplyAgent) {
		t.Fatalf("queued %+v; want Carla's reply, approved by Ana", q)
	}
	wantError(t, e.as(t, tokenBeto, http.MethodPost, approve, map[string]string{}), http.StatusConflict, "already_decided")
	if again := e.replied(t, tokenCarla, caseBenPublic, body); !again.Duplicate || again.Approval.State != "approved" {
		t.Errorf("the same draft after its approval: %+v", again)
	}
	if q := e.outbox.queued(); len(q) != 1 {
		t.Errorf("%d requests queued, want 1", len(q))
	}
	if list := e.approvals(t); len(list) != 0 {
		t.Errorf("approvals after the decision: %+v", list)
	}
}

func (e *env) approvals(t *testing.T) []agentapi.Approval {
	t.Helper()
	var list agentapi.ApprovalList
	ok(t, e.as(t, tokenAna, http.MethodGet, "/v1/approvals", nil), http.StatusOK, &list)
	return list.Approvals
}

// TestApprovalEditAndReject: an approver's edit goes through the linter
// again and is signed by the author; a rejection's reason reaches the author
// on the case, and nothing is sent.
func TestApprovalEditAndReject(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	e.replied(t, tokenCarla, caseBenPublic, map[string]string{"draft_id": "c-2", "text": "We're sorry, Ben. Rebooked on PJ125."})
	e.replied(t, tokenCarla, caseBenPublic, map[string]string{"draft_id": "c-3", "text": "We're sorry, Ben. Try the app."})
	approve := "/v1/cases/" + caseBenPublic + "/approvals/c-2/approve"
	wantError(t, e.as(t, tokenAna, http.MethodPost, approve, map[string]string{"text": "Rebooked on PJ125."}), http.StatusUnprocessableEntity, "lint_failed")
	var sent agentapi.ReplyResult
	ok(t, e.as(t, tokenAna, http.MethodPost, approve, map[string]string{"text": "We're sorry, Ben: you're rebooked on PJ125, leaving 18:05."}), http.StatusAccepted, &sent)
	if q := e.outbox.queued(); len(q) != 1 || q[0].Text != "We're sorry, Ben: you're rebooked on PJ125, leaving 18:05. ^Carla" ||
		!sent.Approval.Edited || !strings.Contains(sent.Approval.Original, "Rebooked on PJ125.") {
		t.Fatalf("queued %+v, approval %+v; want the edit, signed by Carla, the original kept", q, sent.Approval)
	}

	reject := "/v1/cases/" + caseBenPublic + "/approvals/c-3/reject"
	wantError(t, e.as(t, tokenAna, http.MethodPost, reject, map[string]string{"reason": " "}), http.StatusBadRequest, "bad_reason")
	var rejected agentapi.Approval
	ok(t, e.as(t, tokenAna, http.MethodPost, reject, map[string]string{"reason": "Offer the rebooking, not the app."}), http.StatusOK, &rejected)
	if rejected.State != "rejected" || rejected.DecidedBy != agentAna.ID {
		t.Errorf("rejected %+v", rejected)
	}
	var d agentapi.CaseDetail
	ok(t, e.as(t, tokenCarla, http.MethodGet, "/v1/cases/"+caseBenPublic, nil), http.StatusOK, &d)
	var reason string
	for _, a := range d.Approvals {
		if a.DraftID == "c-3" {
			reason = a.Reason
		}
	}
	if reason != "Offer the rebooking, not the app." || len(d.Approvals) != 2 {
		t.Errorf("the case shows approvals %+v; want both, the rejection with its reason", d.Approvals)
	}
	if q := e.outbox.queued(); len(q) != 1 {
		t.Errorf("%d requests queued, want the approved one only", len(q))
	}
	wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseBenPublic+"/approvals/c-9/approve", map[string]string{}), http.StatusNotFound, "no_such_reply")
}

// TestCrisisRepliesNeedApproval: with the protocol's approval during crises,
// an agent's reply on a case of an open crisis waits for another agent, who
// approves it; nobody approves their own.
func TestCrisisRepliesNeedApproval(t *testing.T) {
	e := seededWith(t, func(c *protocol.Config) { c.Approval.DuringCrisis = true })
	e.complaint(t, caseBenPublic)
	if _, err := e.store.SetTriage(t.Context(), caseBenPublic, care.Triage{CrisisTopic: "delays"}); err != nil {
		t.Fatal(err)
	}
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": true}), http.StatusOK, nil)
	res := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "a-1", "text": "We're sorry, Ben. We're on it."})
	if res.Approval == nil || res.Approval.Why != "a crisis is open on delays" {
		t.Fatalf("an agent's reply during the crisis: %+v", res.Approval)
	}
	approve := "/v1/cases/" + caseBenPublic + "/approvals/a-1/approve"
	wantError(t, e.as(t, tokenAna, http.MethodPost, approve, map[string]string{}), http.StatusForbidden, "own_reply")
	ok(t, e.as(t, tokenBeto, http.MethodPost, approve, map[string]string{}), http.StatusAccepted, nil)
	if q := e.outbox.queued(); len(q) != 1 || q[0].Author != agentAna.ID || q[0].ApprovedBy != agentBeto.ID {
		t.Errorf("queued %+v", q)
	}
}

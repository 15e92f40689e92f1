package agentapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

const statementPath = "/v1/crisis/delays/statement"

// crisis returns topic's crisis as GET /v1/crisis shows it.
func (e *env) crisis(t *testing.T, topic string) agentapi.Crisis {
	t.Helper()
	var list agentapi.CrisisList
	ok(t, e.as(t, tokenCarla, http.MethodGet, "/v1/crisis", nil), http.StatusOK, &list)
	for _, c := range list.Crises {
		if c.Topic == topic {
			return c
		}
	}
	t.Fatalf("no crisis %s in %+v", topic, list)
	return agentapi.Crisis{}
}

// xSent records a queued statement's post as the reply sender does once X
// took it, and returns its X id.
func (e *env) xSent(t *testing.T, req care.ReplyRequest, xid string) {
	t.Helper()
	if _, won, err := e.store.ClaimReply(t.Context(), &req); err != nil || !won {
		t.Fatalf("claim %s: %v, %v", req.TriggerID, won, err)
	}
	if ok, err := e.store.FinishReply(t.Context(), &req, 1, store.ReplyOutcome{State: care.ReplySent, XID: xid, SentAt: clock()}); err != nil || !ok {
		t.Fatalf("finish %s: %v, %v", req.TriggerID, ok, err)
	}
}

// TestCrisisStatement: while a crisis is open an admin writes its statement,
// which starts with an apology and waits for another agent's approval (the
// protocol's approval.during_crisis); approved, it is queued once, as the
// crisis's; an update is written once the statement is out, and an approver
// may edit it. GET /v1/crisis shows the thread.
func TestCrisisStatement(t *testing.T) {
	e := seededWith(t, func(c *protocol.Config) { c.Approval.DuringCrisis = true })
	sorry := map[string]string{"draft_id": "s-1", "text": "We're sorry: boarding in Madrid is delayed since 9:10. We are on it and will post every step here.", "lang": "en"}

	wantError(t, e.as(t, tokenSuper, http.MethodPost, statementPath, sorry), http.StatusConflict, "no_crisis")
	wantError(t, e.as(t, tokenSuper, http.MethodPost, "/v1/crisis/weather/statement", sorry), http.StatusNotFound, "unknown_topic")
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": true}), http.StatusOK, nil)
	for _, tok := range []string{tokenAna, tokenCarla} {
		wantError(t, e.as(t, tok, http.MethodPost, statementPath, sorry), http.StatusForbidden, "forbidden")
	}
	cold := map[string]string{"draft_id": "s-0", "text": "Boarding in Madrid is delayed since 9:10.", "lang": "en"}
	if le := wantError(t, e.as(t, tokenSuper, http.MethodPost, statementPath, cold), http.StatusUnprocessableEntity, "lint_failed"); !slices.Contains(le.Error.Rules, "apology_first") {
		t.Errorf("a statement without an apology: %+v", le)
	}

	var res agentapi.ReplyResult
	ok(t, e.as(t, tokenSuper, http.MethodPost, statementPath, sorry), http.StatusAccepted, &res)
	thread := e.crisis(t, "delays").Statement
	if res.Approval == nil || res.Approval.State != "pending" || res.Reply.Kind != care.ReplyStatement ||
		!strings.HasSuffix(res.Reply.Text, "^Sara") || thread == nil || res.Reply.CaseID != thread.ThreadID {
		t.Fatalf("the statement: %+v (approval %+v, thread %+v); want it pending, signed by Sara, in the crisis's thread", res.Reply, res.Approval, thread)
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Fatalf("queued %+v before its approval", q)
	}
	update := map[string]string{"draft_id": "u-1", "text": "10:05: boarding is back; flights leave about 40 minutes late.", "lang": "en"}
	wantError(t, e.as(t, tokenSuper, http.MethodPost, statementPath, update), http.StatusConflict, "post_in_progress")

	approvals := e.approvals(t)
	if len(approvals) != 1 || approvals[0].CrisisTopic != "delays" || approvals[0].CaseID != thread.ThreadID {
		t.Fatalf("approvals %+v; want the statement, of the delays crisis", approvals)
	}
	approve := "/v1/cases/" + thread.ThreadID + "/approvals/s-1/approve"
	wantError(t, e.as(t, tokenSuper, http.MethodPost, approve, map[string]string{}), http.StatusForbidden, "own_reply")
	ok(t, e.as(t, tokenAna, http.MethodPost, approve, map[string]string{}), http.StatusAccepted, nil)
	q := e.outbox.queued()
	if len(q) != 1 || q[0].Kind != care.ReplyStatement || q[0].Author != agentSuper.ID || q[0].ApprovedBy != agentAna.ID || q[0].InReplyToID != "" {
		t.Fatalf("queued %+v; want Sara's statement, approved by Ana", q)
	}
	if got := e.crisis(t, "delays").Statement.Posts; len(got) != 1 || got[0].Kind != agentapi.PostStatement || got[0].State != store.PostQueued {
		t.Errorf("the thread after the approval: %+v", got)
	}
	wantError(t, e.as(t, tokenSuper, http.MethodPost, statementPath, update), http.StatusConflict, "post_in_progress")

	e.xSent(t, q[0], "1890000000000000001")
	ok(t, e.as(t, tokenSuper, http.MethodPost, statementPath, update), http.StatusAccepted, &res)
	if res.Approval == nil || res.Approval.State != "pending" {
		t.Fatalf("the update: %+v", res.Approval)
	}
	edited := "10:05: boarding is back; flights leave about 40 minutes late. Thank you for your patience."
	ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+thread.ThreadID+"/approvals/u-1/approve", map[string]string{"text": edited}), http.StatusAccepted, nil)
	if q = e.outbox.queued(); len(q) != 2 || q[1].Text != edited+" ^Sara" || q[1].ApprovedBy != agentAna.ID {
		t.Fatalf("queued %+v; want the update as Ana edited it, signed by Sara", q)
	}
	got := e.crisis(t, "delays").Statement.Posts
	if len(got) != 2 || got[0].State != string(care.ReplySent) || got[0].XID != "1890000000000000001" ||
		got[1].Kind != agentapi.PostUpdate || got[1].State != store.PostQueued || got[1].DecidedByName != agentAna.Name {
		t.Errorf("the thread: %+v", got)
	}
	var again agentapi.ReplyResult
	ok(t, e.as(t, tokenSuper, http.MethodPost, statementPath, update), http.StatusAccepted, &again)
	if !again.Duplicate || len(e.outbox.queued()) != 2 {
		t.Errorf("the same update again: %+v; queued %d", again, len(e.outbox.queued()))
	}

	// Once the crisis closed, its statement still takes an update (the last
	// word), but no crisis without a statement gets one.
	e.xSent(t, q[1], "1890000000000000002")
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": false}), http.StatusOK, nil)
	fixed := map[string]string{"draft_id": "u-2", "text": "11:00: it is fixed, and every flight leaves on time.", "lang": "en"}
	ok(t, e.as(t, tokenSuper, http.MethodPost, statementPath, fixed), http.StatusAccepted, &res)
	if res.Reply.CaseID != thread.ThreadID || res.Approval == nil {
		t.Errorf("the update after the close: %+v (approval %+v); want it in the crisis's thread, awaiting approval", res.Reply, res.Approval)
	}
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/baggage", map[string]bool{"active": true}), http.StatusOK, nil)
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/baggage", map[string]bool{"active": false}), http.StatusOK, nil)
	wantError(t, e.as(t, tokenSuper, http.MethodPost, "/v1/crisis/baggage/statement", sorry), http.StatusConflict, "no_crisis")
}

// TestCrisisFollowUpText: an admin writes the text of a crisis's follow-ups
// (checked by the template's rules, 422 otherwise) until they start; GET
// /v1/crisis shows it, and when they start once the crisis closed; others
// may not write it.
func TestCrisisFollowUpText(t *testing.T) {
	e := seeded(t)
	const path = "/v1/crisis/delays/followup"
	good := map[string]map[string]string{"texts": {"en": "We're sorry again, {first_name}: {topic} are back to normal. {signature}"}}
	wantError(t, e.as(t, tokenSuper, http.MethodPut, path, good), http.StatusConflict, "no_crisis")
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": true}), http.StatusOK, nil)
	for _, tok := range []string{tokenAna, tokenCarla} {
		wantError(t, e.as(t, tok, http.MethodPut, path, good), http.StatusForbidden, "forbidden")
	}
	bad := map[string]map[string]string{"texts": {"en": "The problem with {topic} is fixed. {signature}"}}
	if le := wantError(t, e.as(t, tokenSuper, http.MethodPut, path, bad), http.StatusUnprocessableEntity, "bad_followup"); !strings.Contains(le.Error.Message, "apolog") {
		t.Errorf("a follow-up without an apology: %+v", le.Error)
	}
	wantError(t, e.as(t, tokenSuper, http.MethodPut, path, map[string]map[string]string{"texts": {"fr": "Désolés"}}), http.StatusUnprocessableEntity, "bad_followup")
	wantError(t, e.as(t, tokenSuper, http.MethodPut, path, map[string]map[string]string{"texts": {}}), http.StatusBadRequest, "bad_texts")

	var c agentapi.Crisis
	ok(t, e.as(t, tokenSuper, http.MethodPut, path, good), http.StatusOK, &c)
	if c.FollowUp == nil || c.FollowUp.Texts["en"] != good["texts"]["en"] || c.FollowUp.WrittenByName != agentSuper.Name || c.FollowUp.StartsAt != nil {
		t.Fatalf("the crisis after the text: %+v", c.FollowUp)
	}
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": false}), http.StatusOK, nil)
	got := e.crisis(t, "delays")
	if got.FollowUp == nil || got.FollowUp.StartsAt == nil || !got.FollowUp.StartsAt.Equal(got.ClosedAt.Add(10*time.Minute)) || got.FollowUp.Texts["en"] == "" {
		t.Fatalf("the closed crisis's follow-ups: %+v; want them to start 10 minutes after the close, with the text", got.FollowUp)
	}
	if _, err := e.store.StartFollowUps(t.Context(), "delays", got.Since, clock()); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.as(t, tokenSuper, http.MethodPut, path, good), http.StatusConflict, "followups_started")
	if got := e.crisis(t, "delays"); got.FollowUp.StartedAt == nil {
		t.Errorf("the started follow-ups: %+v", got.FollowUp)
	}
}

package agentapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// TestConcurrentClaims has two agents claim the same case at the same moment, many
// times over: one gets 200, the other 409 naming the winner.
func TestConcurrentClaims(t *testing.T) {
	e := seeded(t)
	cases := []string{caseAnaPublic, caseBenPublic, caseCamDM, caseAnaDM, caseBenReply}
	for _, id := range cases {
		t.Run(id, func(t *testing.T) {
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				res   = map[string]response{}
				mu    sync.Mutex
			)
			for _, tok := range []string{tokenAna, tokenBeto} {
				wg.Go(func() {
					<-start
					r := e.as(t, tok, http.MethodPost, "/v1/cases/"+id+"/claim", nil)
					mu.Lock()
					res[tok] = r
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			winner, loser := tokenAna, tokenBeto
			if res[tokenAna].status != http.StatusOK {
				winner, loser = tokenBeto, tokenAna
			}
			var won agentapi.CaseResult
			ok(t, res[winner], http.StatusOK, &won)
			er := wantError(t, res[loser], http.StatusConflict, "case_assigned")
			holder := testTokens[winner]
			if won.Case.Assignee != holder.ID || er.Error.Assignee != holder.ID || er.Error.AssigneeName != holder.Name ||
				!strings.Contains(er.Error.Message, holder.Name) {
				t.Errorf("winner %s: case assignee %q; loser told %+v", holder.ID, won.Case.Assignee, er.Error)
			}
			// Claiming again is harmless for the holder and still refused to the other.
			ok(t, e.as(t, winner, http.MethodPost, "/v1/cases/"+id+"/claim", nil), http.StatusOK, nil)
			wantError(t, e.as(t, loser, http.MethodPost, "/v1/cases/"+id+"/claim", nil), http.StatusConflict, "case_assigned")
		})
	}
}

func TestAssignAndUnassign(t *testing.T) {
	e := seeded(t)
	// Agents exist once they have used the API.
	for _, tok := range []string{tokenAna, tokenBeto, tokenSuper} {
		ok(t, e.as(t, tok, http.MethodGet, "/v1/agents/me", nil), http.StatusOK, nil)
	}
	path := "/v1/cases/" + caseAnaPublic
	steps := []struct {
		name     string
		tok      string
		method   string
		path     string
		body     any
		status   int
		code     string // error code
		assignee string // after the step
	}{
		{"ana claims", tokenAna, http.MethodPost, "/claim", nil, 200, "", agentAna.ID},
		{"assigning away without naming the holder", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": agentBeto.ID}, 409, "case_assigned", agentAna.ID},
		{"naming the wrong holder", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": agentBeto.ID, "replace": agentSuper.ID}, 409, "case_assigned", agentAna.ID},
		{"to an unknown agent", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": "agent-nobody", "replace": agentAna.ID}, 400, "unknown_agent", agentAna.ID},
		{"without agent id", tokenSuper, http.MethodPost, "/assign", map[string]string{"replace": agentAna.ID}, 400, "bad_agent_id", agentAna.ID},
		{"an agent id that cannot be one", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": strings.Repeat("a", 300)}, 400, "bad_agent_id", agentAna.ID},
		{"a replace that cannot be an agent", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": agentBeto.ID, "replace": "a\nb"}, 400, "bad_replace", agentAna.ID},
		{"an assignee that cannot be an agent", tokenSuper, http.MethodPost, "/unassign", map[string]string{"assignee": "\u0000"}, 400, "bad_assignee", agentAna.ID},
		{"the supervisor hands it to beto", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": agentBeto.ID, "replace": agentAna.ID}, 200, "", agentBeto.ID},
		{"ana cannot release beto's case", tokenAna, http.MethodPost, "/unassign", nil, 409, "case_assigned", agentBeto.ID},
		{"beto releases it", tokenBeto, http.MethodPost, "/unassign", nil, 200, "", ""},
		{"releasing again", tokenBeto, http.MethodPost, "/unassign", "{}", 200, "", ""},
		{"the supervisor assigns it to ana", tokenSuper, http.MethodPost, "/assign", map[string]string{"agent_id": agentAna.ID}, 200, "", agentAna.ID},
		{"the supervisor releases it naming ana", tokenSuper, http.MethodPost, "/unassign", map[string]string{"assignee": agentAna.ID}, 200, "", ""},
	}
	for _, st := range steps {
		r := e.as(t, st.tok, st.method, path+st.path, st.body)
		if st.code != "" {
			wantError(t, r, st.status, st.code)
		} else {
			var res agentapi.CaseResult
			ok(t, r, st.status, &res)
			if res.Case.Assignee != st.assignee {
				t.Fatalf("%s: assignee %q, want %q", st.name, res.Case.Assignee, st.assignee)
			}
		}
		c, _, err := e.store.GetCase(t.Context(), caseAnaPublic)
		if err != nil || c.Assignee != st.assignee {
			t.Fatalf("%s: stored assignee %q (%v), want %q", st.name, c.Assignee, err, st.assignee)
		}
	}
	for _, p := range []string{"/claim", "/unassign", "/resolve", "/reopen"} {
		wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/t1"+p, nil), http.StatusNotFound, "case_not_found")
	}
	wantError(t, e.as(t, tokenSuper, http.MethodPost, "/v1/cases/t1/assign", map[string]string{"agent_id": agentAna.ID}), http.StatusNotFound, "case_not_found")
}

func TestNotes(t *testing.T) {
	e := seeded(t)
	path := "/v1/cases/" + caseBenPublic + "/notes"
	var n agentapi.NoteResult
	ok(t, e.as(t, tokenAna, http.MethodPost, path, map[string]string{"text": "VIP: frequent flyer gold"}), http.StatusCreated, &n)
	if n.Note.ID == "" || n.Note.AuthorID != agentAna.ID || n.Note.AuthorName != agentAna.Name || !n.Note.CreatedAt.Equal(clock()) {
		t.Errorf("note %+v", n.Note)
	}
	bad := []struct {
		name string
		body any
	}{
		{"blank", map[string]string{"text": "   "}},
		{"missing", "{}"},
		{"too long", map[string]string{"text": strings.Repeat("n", care.MaxNoteLength+1)}},
	}
	for _, b := range bad {
		wantError(t, e.as(t, tokenAna, http.MethodPost, path, b.body), http.StatusBadRequest, "bad_text")
	}
	wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/t1/notes", map[string]string{"text": "x"}), http.StatusNotFound, "case_not_found")
	// A note is never sent to X, and never becomes a message.
	if q := e.outbox.queued(); len(q) != 0 {
		t.Errorf("a note queued %+v", q)
	}
	var d agentapi.CaseDetail
	ok(t, e.get(t, "/v1/cases/"+caseBenPublic), http.StatusOK, &d)
	if len(d.Notes) != 1 || len(d.Messages) != 1 {
		t.Errorf("%d notes and %d messages, want 1 and 1", len(d.Notes), len(d.Messages))
	}
}

func TestRecategorise(t *testing.T) {
	e := seeded(t)
	ctx := t.Context()
	// The classifier said "question, neutral" about Ana's second post.
	rec := care.DecisionRecord{CaseID: caseAnaPublic, MessageID: "1800000000000000104", DecidedAt: t0,
		Labels: care.Labels{Lang: "en", Intent: "question", Sentiment: "neutral"}, Priority: 500, Department: "social"}
	if err := e.store.RecordDecision(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetTriage(ctx, caseAnaPublic, care.Triage{Intent: "question", Sentiment: "neutral"}); err != nil {
		t.Fatal(err)
	}
	path := "/v1/cases/" + caseAnaPublic + "/labels"
	var res agentapi.LabelsResult
	ok(t, e.as(t, tokenAna, http.MethodPut, path, map[string]string{"intent": "incident", "sentiment": "negative"}), http.StatusOK, &res)
	if res.Case.Intent != "incident" || res.Case.Sentiment != "negative" {
		t.Errorf("case labels %q %q", res.Case.Intent, res.Case.Sentiment)
	}
	c := res.Correction
	if c == nil || c.MessageID != "1800000000000000104" || c.Text == "" || c.Intent != classify.IntentIncident || c.Sentiment != classify.Negative ||
		c.WasIntent != classify.IntentQuestion || c.WasSentiment != classify.Neutral || c.AgentID != agentAna.ID || c.Lang != "en" {
		t.Fatalf("correction %+v", c)
	}
	// The correction is stored for the classifier to learn from.
	stored, err := e.store.ListCorrectionRecords(ctx, 0)
	if err != nil || len(stored) != 1 || stored[0].Intent != classify.IntentIncident || stored[0].CaseID != caseAnaPublic {
		t.Fatalf("stored corrections %+v, %v", stored, err)
	}
	// The protocol's next decision leaves the agent's labels alone.
	if _, err := e.store.SetTriage(ctx, caseAnaPublic, care.Triage{Intent: "praise", Sentiment: "positive"}); err != nil {
		t.Fatal(err)
	}
	var d agentapi.CaseDetail
	ok(t, e.get(t, "/v1/cases/"+caseAnaPublic), http.StatusOK, &d)
	if d.Case.Intent != "incident" || d.Case.Sentiment != "negative" {
		t.Errorf("after the protocol's triage: %q %q", d.Case.Intent, d.Case.Sentiment)
	}

	// A named message, one label.
	res = agentapi.LabelsResult{}
	ok(t, e.as(t, tokenAna, http.MethodPut, path, map[string]string{"sentiment": "positive", "message_id": "1800000000000000101"}), http.StatusOK, &res)
	if res.Correction == nil || res.Correction.MessageID != "1800000000000000101" || res.Correction.Intent != "" || res.Correction.WasSentiment != "" {
		t.Errorf("correction %+v", res.Correction)
	}

	bad := []struct {
		name string
		body any
		code string
	}{
		{"no label", map[string]string{}, "bad_labels"},
		{"unknown intent", map[string]string{"intent": "rant"}, "bad_intent"},
		{"unknown sentiment", map[string]string{"sentiment": "furious"}, "bad_sentiment"},
		{"message of another case", map[string]string{"intent": "spam", "message_id": "1800000000000000201"}, "bad_message_id"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			wantError(t, e.as(t, tokenAna, http.MethodPut, path, b.body), http.StatusBadRequest, b.code)
		})
	}
	// An outbound message is not the classifier's to learn from.
	wantError(t, e.as(t, tokenAna, http.MethodPut, "/v1/cases/"+caseBenReply+"/labels", map[string]string{"intent": "spam", "message_id": "1800000000000000502"}), http.StatusBadRequest, "bad_message_id")
	wantError(t, e.as(t, tokenAna, http.MethodPut, "/v1/cases/t1/labels", map[string]string{"intent": "spam"}), http.StatusNotFound, "case_not_found")
	if stored, _ := e.store.ListCorrectionRecords(ctx, 0); len(stored) != 2 {
		t.Errorf("%d corrections after refused requests, want 2", len(stored))
	}
}

func TestTriage(t *testing.T) {
	e := seeded(t)
	path := "/v1/cases/" + caseCamDM + "/triage"
	var res agentapi.CaseResult
	ok(t, e.as(t, tokenAna, http.MethodPut, path, map[string]any{"priority": 950, "department": "safety"}), http.StatusOK, &res)
	if res.Case.Priority != 950 || res.Case.Department != "safety" {
		t.Errorf("case %+v", res.Case)
	}
	// The queue follows.
	if got := ids(e.list(t, token, nil).Cases); got[0] != caseCamDM {
		t.Errorf("queue %v, want %s first", got, caseCamDM)
	}
	// Priority 0 is a priority.
	ok(t, e.as(t, tokenAna, http.MethodPut, path, map[string]any{"priority": 0}), http.StatusOK, &res)
	if res.Case.Priority != 0 || res.Case.Department != "safety" {
		t.Errorf("case %+v", res.Case)
	}
	bad := []struct {
		name string
		body any
		code string
	}{
		{"nothing", map[string]any{}, "bad_triage"},
		{"priority too high", map[string]any{"priority": 1000}, "bad_priority"},
		{"negative priority", map[string]any{"priority": -5}, "bad_priority"},
		{"priority not a number", map[string]any{"priority": "high"}, "bad_json"},
		{"unknown department", map[string]any{"department": "refunds"}, "bad_department"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			wantError(t, e.as(t, tokenAna, http.MethodPut, path, b.body), http.StatusBadRequest, b.code)
		})
	}
	wantError(t, e.as(t, tokenAna, http.MethodPut, "/v1/cases/t1/triage", map[string]any{"priority": 1}), http.StatusNotFound, "case_not_found")
}

func TestResolveAndReopen(t *testing.T) {
	e := seeded(t)
	id := caseBenPublic
	steps := []struct {
		action string
		want   care.Status
	}{
		{"resolve", care.Resolved},
		{"resolve", care.Resolved}, // again: no change
		{"reopen", care.Open},
		{"reopen", care.Open},
	}
	for _, st := range steps {
		var res agentapi.CaseResult
		ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+id+"/"+st.action, nil), http.StatusOK, &res)
		if res.Case.Status != st.want {
			t.Fatalf("%s: status %s, want %s", st.action, res.Case.Status, st.want)
		}
		if st.want == care.Resolved && (res.Case.ResolvedAt == nil || !res.Case.ResolvedAt.Equal(clock())) {
			t.Errorf("resolved at %v, want %v", res.Case.ResolvedAt, clock())
		}
	}
	// Reopened, the case waits from the reopening.
	c, _, err := e.store.GetCase(t.Context(), id)
	if err != nil || !c.WaitingSince.Equal(clock()) || c.ResolvedAt != nil {
		t.Errorf("reopened case %+v, %v", c, err)
	}
	if got := ids(e.list(t, token, nil).Cases); got[0] != caseBenPublic {
		t.Errorf("queue %v", got)
	}
	wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+id+"/resolve", map[string]string{"reason": "done"}), http.StatusBadRequest, "bad_json")
}

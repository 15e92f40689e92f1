package agentapi_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

// replied sends a reply as tok's agent and decodes the 202.
func (e *env) replied(t *testing.T, tok, caseID string, body map[string]string) agentapi.ReplyResult {
	t.Helper()
	var res agentapi.ReplyResult
	ok(t, e.as(t, tok, http.MethodPost, "/v1/cases/"+caseID+"/replies", body), http.StatusAccepted, &res)
	return res
}

// complaint marks a seeded case as a complaint, as the protocol would.
func (e *env) complaint(t *testing.T, caseID string) {
	t.Helper()
	if _, err := e.store.SetTriage(t.Context(), caseID, care.Triage{Intent: "complaint"}); err != nil {
		t.Fatal(err)
	}
}

func TestReply(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)

	res := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "d-1", "text": "We're sorry, Ben. We have rebooked you on PJ125."})
	r := res.Reply
	if r.Channel != care.Public || r.InReplyToID != "1800000000000000201" || r.RecipientID != "" || r.Kind != care.ReplyAgent ||
		r.Author != agentAna.ID || r.AuthorName != agentAna.Name || r.TriggerID != "d-1" || r.CaseID != caseBenPublic ||
		r.Text != "We're sorry, Ben. We have rebooked you on PJ125. ^Ana" || r.IdempotencyKey != care.ReplyKey(caseBenPublic, "d-1", care.ReplyAgent) {
		t.Errorf("reply %+v", r)
	}
	if res.Duplicate || len(res.Warnings) != 0 {
		t.Errorf("duplicate %v, warnings %v", res.Duplicate, res.Warnings)
	}
	q := e.outbox.queued()
	if len(q) != 1 || q[0].IdempotencyKey != r.IdempotencyKey {
		t.Fatalf("queued %+v", q)
	}
	// Once the sender takes it, the case shows where the reply stands.
	if _, won, err := e.store.ClaimReply(t.Context(), &q[0]); err != nil || !won {
		t.Fatalf("ClaimReply: %v, %v", won, err)
	}
	var d agentapi.CaseDetail
	ok(t, e.get(t, "/v1/cases/"+caseBenPublic), http.StatusOK, &d)
	if len(d.Replies) != 1 || d.Replies[0].Key != r.IdempotencyKey || d.Replies[0].State != care.ReplySending || d.Replies[0].Author != agentAna.ID {
		t.Errorf("replies %+v", d.Replies)
	}

	// The same draft again: the same request, nothing queued.
	again := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "d-1", "text": "We're sorry, Ben. We have rebooked you on PJ125."})
	if !again.Duplicate || again.Reply.IdempotencyKey != r.IdempotencyKey || again.Reply.Text != r.Text {
		t.Errorf("second send %+v", again)
	}
	// The same draft id with another reply is refused.
	wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseBenPublic+"/replies",
		map[string]string{"draft_id": "d-1", "text": "We're sorry. Something else."}), http.StatusConflict, "draft_conflict")
	if q := e.outbox.queued(); len(q) != 1 {
		t.Fatalf("%d requests queued, want 1", len(q))
	}

	t.Run("warnings travel with the reply", func(t *testing.T) {
		res := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "d-link", "text": "We're sorry, Ben. Details: https://example.com/rebook"})
		if len(res.Warnings) != 1 || res.Warnings[0].Rule != protocol.RuleLinkCost || len(res.Reply.Warnings) != 1 {
			t.Errorf("warnings %+v, request warnings %v", res.Warnings, res.Reply.Warnings)
		}
		again := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "d-link", "text": "We're sorry, Ben. Details: https://example.com/rebook"})
		if !again.Duplicate || len(again.Warnings) != 1 || again.Warnings[0].Rule != protocol.RuleLinkCost {
			t.Errorf("warnings of the second send %+v", again.Warnings)
		}
	})

	t.Run("a DM goes to the case's customer", func(t *testing.T) {
		res := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": "d-dm", "text": "We're sorry, Ben. Here is your new booking: QX7Z2P.", "channel": "dm"})
		if res.Reply.Channel != care.DM || res.Reply.RecipientID != ben || res.Reply.InReplyToID != "" {
			t.Errorf("reply %+v", res.Reply)
		}
		res = e.replied(t, tokenBeto, caseCamDM, map[string]string{"draft_id": "d-dm", "text": "Hi Cam, thanks for writing."})
		if res.Reply.Channel != care.DM || res.Reply.RecipientID != cam || res.Reply.Text != "Hi Cam, thanks for writing. ^Beto" {
			t.Errorf("reply on a DM case %+v", res.Reply)
		}
	})

	t.Run("reply to a named post", func(t *testing.T) {
		res := e.replied(t, tokenAna, caseAnaPublic, map[string]string{"draft_id": "d-first", "text": "Hi Ana, which flight?", "reply_to": "1800000000000000101"})
		if res.Reply.InReplyToID != "1800000000000000101" {
			t.Errorf("in reply to %s", res.Reply.InReplyToID)
		}
		// Without reply_to: the latest post of the customer.
		res = e.replied(t, tokenAna, caseAnaPublic, map[string]string{"draft_id": "d-latest", "text": "Hi Ana, which flight?"})
		if res.Reply.InReplyToID != "1800000000000000104" {
			t.Errorf("in reply to %s, want the latest post", res.Reply.InReplyToID)
		}
	})

	t.Run("the profile's signature signs", func(t *testing.T) {
		ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/agents/me", map[string]any{"display_name": "Sara Supervisor", "signature": "^Sara"}), http.StatusOK, nil)
		res := e.replied(t, tokenSuper, caseAnaDM, map[string]string{"draft_id": "d-sig", "text": "Hi, we're on it."})
		if !strings.HasSuffix(res.Reply.Text, " ^Sara") || res.Reply.AuthorName != "Sara Supervisor" {
			t.Errorf("reply %q by %q", res.Reply.Text, res.Reply.AuthorName)
		}
	})
}

func TestReplyLintRefusals(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	tests := []struct {
		name  string
		text  string
		rules []string
	}{
		{"a complaint answered without apology", "Hi Ben, we have rebooked you on PJ125.", []string{protocol.RuleApologyFirst}},
		{"a forbidden word", "Lo sentimos, Ben: ya vemos el problema con tu vuelo.", []string{protocol.RuleForbiddenWord}},
		{"the customer's booking ref in public", "We're sorry, Ben. Your booking QX7Z2P is rebooked.", []string{protocol.RulePII}},
		{"two rules", "Hi Ben, the problema with QX7Z2P is fixed.", []string{protocol.RuleApologyFirst, protocol.RuleForbiddenWord, protocol.RulePII}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draft := "lint-" + strconv.Itoa(i)
			r := e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseBenPublic+"/replies", map[string]string{"draft_id": draft, "text": tt.text})
			er := wantError(t, r, http.StatusUnprocessableEntity, "lint_failed")
			got := slices.Clone(er.Error.Rules)
			slices.Sort(got)
			want := slices.Clone(tt.rules)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("rules %v, want %v", er.Error.Rules, tt.rules)
			}
			for _, rule := range tt.rules {
				if !strings.Contains(er.Error.Message, rule) {
					t.Errorf("message %q does not name %s", er.Error.Message, rule)
				}
			}
			for _, is := range er.Error.Issues {
				if is.Message == "" || is.Rule == "" {
					t.Errorf("issue %+v", is)
				}
			}
			// Nothing is queued or kept: the fixed draft goes out under the same id.
			if q := e.outbox.queued(); len(q) != 0 {
				t.Fatalf("a refused reply was queued: %+v", q)
			}
			res := e.replied(t, tokenAna, caseBenPublic, map[string]string{"draft_id": draft, "text": "We're sorry, Ben. We have rebooked you."})
			if res.Duplicate {
				t.Error("the fixed draft is reported as a duplicate")
			}
			e.outbox.mu.Lock()
			e.outbox.reqs = nil
			e.outbox.mu.Unlock()
		})
	}
}

func TestReplyBadRequests(t *testing.T) {
	e := seeded(t)
	ok(t, e.as(t, tokenBeto, http.MethodPost, "/v1/cases/"+caseAnaPublic+"/claim", nil), http.StatusOK, nil)
	tests := []struct {
		name   string
		caseID string
		body   any
		status int
		code   string
	}{
		{"no draft id", caseBenPublic, map[string]string{"text": "Hi"}, 400, "bad_draft_id"},
		{"bad draft id", caseBenPublic, map[string]string{"draft_id": "a b", "text": "Hi"}, 400, "bad_draft_id"},
		{"long draft id", caseBenPublic, map[string]string{"draft_id": strings.Repeat("d", 65), "text": "Hi"}, 400, "bad_draft_id"},
		{"no text", caseBenPublic, map[string]string{"draft_id": "d"}, 400, "bad_text"},
		{"blank text", caseBenPublic, map[string]string{"draft_id": "d", "text": " \n"}, 400, "bad_text"},
		{"text too long", caseBenPublic, map[string]string{"draft_id": "d", "text": strings.Repeat("x", care.MaxDMLength+1)}, 400, "bad_text"},
		{"unknown channel", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "channel": "email"}, 400, "bad_channel"},
		{"reply_to not an id", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "reply_to": "abc"}, 400, "bad_reply_to"},
		{"reply_to of another case", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "reply_to": "1800000000000000101"}, 400, "bad_reply_to"},
		{"reply_to on a DM", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "channel": "dm", "reply_to": "1800000000000000201"}, 400, "bad_reply_to"},
		{"public reply on a DM case", caseCamDM, map[string]string{"draft_id": "d", "text": "Hi", "channel": "public"}, 400, "bad_reply_to"},
		{"bad language", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "lang": "Spanish"}, 400, "bad_lang"},
		{"unknown field", caseBenPublic, map[string]string{"draft_id": "d", "text": "Hi", "signature": "^X"}, 400, "bad_json"},
		{"a case another agent holds", caseAnaPublic, map[string]string{"draft_id": "d", "text": "Hi"}, 409, "case_assigned"},
		{"unknown case", "t1", map[string]string{"draft_id": "d", "text": "Hi"}, 404, "case_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+tt.caseID+"/replies", tt.body), tt.status, tt.code)
		})
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Errorf("refused replies were queued: %+v", q)
	}
	// The holder may reply.
	e.replied(t, tokenBeto, caseAnaPublic, map[string]string{"draft_id": "d", "text": "Hi Ana"})
}

// TestReplyOutboxDown: when the outbound queue refuses a reply the agent gets 503,
// and sending the same draft again queues it, once.
func TestReplyOutboxDown(t *testing.T) {
	e := seeded(t)
	body := map[string]string{"draft_id": "d-retry", "text": "Hi Cam, on it."}
	e.outbox.fail.Store(true)
	er := wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseCamDM+"/replies", body), http.StatusServiceUnavailable, "outbox_unavailable")
	if strings.Contains(er.Error.Message, "10.0.0.1") {
		t.Errorf("message %q reveals the cause", er.Error.Message)
	}
	e.outbox.fail.Store(false)
	res := e.replied(t, tokenAna, caseCamDM, body)
	if res.Duplicate {
		t.Error("the retry that queued the reply says duplicate")
	}
	again := e.replied(t, tokenAna, caseCamDM, body)
	if !again.Duplicate || again.Reply.IdempotencyKey != res.Reply.IdempotencyKey {
		t.Errorf("third send %+v", again)
	}
	if q := e.outbox.queued(); len(q) != 1 {
		t.Errorf("%d requests queued, want 1", len(q))
	}
}

// TestReplyConcurrentSameDraft sends one draft many times at once: one request is
// queued; the other sends get the same request (202) or are told it is being sent
// (409 draft_in_progress).
func TestReplyConcurrentSameDraft(t *testing.T) {
	e := seeded(t)
	body := map[string]string{"draft_id": "d-burst", "text": "Hi Cam, on it."}
	const n = 6
	var wg sync.WaitGroup
	results := make([]response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseCamDM+"/replies", body)
		})
	}
	close(start)
	wg.Wait()
	accepted := 0
	for _, r := range results {
		switch r.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusConflict:
			wantError(t, r, http.StatusConflict, "draft_in_progress")
			if r.header.Get("Retry-After") == "" {
				t.Error("draft_in_progress without Retry-After")
			}
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	if accepted == 0 {
		t.Error("no send was accepted")
	}
	if q := e.outbox.queued(); len(q) != 1 {
		t.Errorf("%d requests queued, want 1", len(q))
	}
}

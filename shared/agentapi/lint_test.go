package agentapi_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// linted lints a reply as tok's agent and decodes the 200, checking that errors
// and warnings are arrays, never null.
func (e *env) linted(t *testing.T, tok, caseID string, body map[string]string) agentapi.LintResult {
	t.Helper()
	r := e.as(t, tok, http.MethodPost, "/v1/cases/"+caseID+"/lint", body)
	var res agentapi.LintResult
	ok(t, r, http.StatusOK, &res)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"errors", "warnings"} {
		if s := string(raw[f]); !strings.HasPrefix(s, "[") {
			t.Errorf("%s is %s, want an array", f, s)
		}
	}
	return res
}

// ruleNames returns the rules of issues, in order.
func ruleNames(issues []protocol.LintIssue) []string {
	out := []string{}
	for _, i := range issues {
		out = append(out, i.Rule)
	}
	return out
}

// withDraft returns body with draft_id set to draft.
func withDraft(body map[string]string, draft string) map[string]string {
	b := maps.Clone(body)
	b["draft_id"] = draft
	return b
}

// TestLint lints replies and sends each to the reply route too: the lint route's
// verdict is the send's (202 with the same text and warnings, or 422 with the same
// rules and issues).
func TestLint(t *testing.T) {
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	tests := []struct {
		name     string
		caseID   string
		body     map[string]string
		ok       bool
		text     string // signed
		channel  care.Channel
		length   int
		limit    int
		errors   []string
		warnings []string
	}{
		{
			name: "a clean reply", caseID: caseBenPublic,
			body: map[string]string{"text": "We're sorry, Ben. We have rebooked you on PJ125."},
			ok:   true, text: "We're sorry, Ben. We have rebooked you on PJ125. ^Ana", channel: care.Public, length: 53, limit: protocol.MaxPostLength,
		},
		{
			name: "a clean DM on a DM case", caseID: caseCamDM,
			body: map[string]string{"text": "Hi Cam, thanks for writing."},
			ok:   true, text: "Hi Cam, thanks for writing. ^Ana", channel: care.DM, length: 32, limit: care.MaxDMLength,
		},
		{
			name: "a DM on a public case, in Spanish", caseID: caseBenPublic,
			body: map[string]string{"text": "Lo sentimos, Ben. Te escribimos por aquí.", "channel": "dm", "lang": "es"},
			ok:   true, text: "Lo sentimos, Ben. Te escribimos por aquí. ^Ana", channel: care.DM, length: 46, limit: care.MaxDMLength,
		},
		{
			name: "a link: a warning, still sendable", caseID: caseBenPublic,
			body: map[string]string{"text": "We're sorry, Ben. Details: https://example.com/rebook"},
			// 27 characters, the link 23, the signature 5.
			ok: true, text: "We're sorry, Ben. Details: https://example.com/rebook ^Ana", channel: care.Public, length: 55, limit: protocol.MaxPostLength,
			warnings: []string{protocol.RuleLinkCost},
		},
		{
			name: "the draft id is ignored", caseID: caseCamDM,
			body: map[string]string{"draft_id": "not a draft id!", "text": "Hi Cam."},
			ok:   true, text: "Hi Cam. ^Ana", channel: care.DM, length: 12, limit: care.MaxDMLength,
		},
		{
			name: "a complaint answered without apology", caseID: caseBenPublic,
			body: map[string]string{"text": "Hi Ben, we have rebooked you on PJ125."},
			text: "Hi Ben, we have rebooked you on PJ125. ^Ana", channel: care.Public, length: 43, limit: protocol.MaxPostLength,
			errors: []string{protocol.RuleApologyFirst},
		},
		{
			name: "a forbidden word", caseID: caseBenPublic,
			body: map[string]string{"text": "Lo sentimos, Ben: ya vemos el problema con tu vuelo."},
			text: "Lo sentimos, Ben: ya vemos el problema con tu vuelo. ^Ana", channel: care.Public, length: 57, limit: protocol.MaxPostLength,
			errors: []string{protocol.RuleForbiddenWord},
		},
		{
			name: "three rules", caseID: caseBenPublic,
			body: map[string]string{"text": "Hi Ben, the problema with QX7Z2P is fixed."},
			text: "Hi Ben, the problema with QX7Z2P is fixed. ^Ana", channel: care.Public, length: 47, limit: protocol.MaxPostLength,
			errors: []string{protocol.RuleApologyFirst, protocol.RuleForbiddenWord, protocol.RulePII},
		},
		{
			// 144 characters, but CJK counts 2: 139×2 + 5.
			name: "a public reply over 280 weighted characters", caseID: caseAnaPublic,
			body: map[string]string{"text": strings.Repeat("日", 139)},
			text: strings.Repeat("日", 139) + " ^Ana", channel: care.Public, length: 283, limit: protocol.MaxPostLength,
			errors: []string{protocol.RuleLength},
		},
		{
			name: "a DM over the limit once signed", caseID: caseCamDM,
			body: map[string]string{"text": strings.Repeat("a", care.MaxDMLength)},
			text: strings.Repeat("a", care.MaxDMLength) + " ^Ana", channel: care.DM, length: care.MaxDMLength + 5, limit: care.MaxDMLength,
			errors: []string{protocol.RuleLength},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.linted(t, tokenAna, tt.caseID, tt.body)
			if res.OK != tt.ok || res.Text != tt.text || res.Channel != tt.channel || res.Length != tt.length || res.Limit != tt.limit {
				t.Errorf("ok %v, text %q, channel %q, length %d, limit %d; want %v, %q, %q, %d, %d",
					res.OK, shorten(res.Text), res.Channel, res.Length, res.Limit, tt.ok, shorten(tt.text), tt.channel, tt.length, tt.limit)
			}
			if got, want := ruleNames(res.Errors), nonNilStrings(tt.errors); !slices.Equal(got, want) {
				t.Errorf("errors %v, want %v", got, want)
			}
			if got, want := ruleNames(res.Warnings), nonNilStrings(tt.warnings); !slices.Equal(got, want) {
				t.Errorf("warnings %v, want %v", got, want)
			}
			for _, is := range slices.Concat(res.Errors, res.Warnings) {
				if is.Message == "" || is.Messages["es"] == "" || is.Messages["en"] == "" {
					t.Errorf("issue %+v", is)
				}
			}

			// The send of the same reply agrees.
			send := withDraft(tt.body, "agree-"+strconv.Itoa(i))
			r := e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+tt.caseID+"/replies", send)
			if tt.ok {
				var sent agentapi.ReplyResult
				ok(t, r, http.StatusAccepted, &sent)
				if sent.Duplicate || sent.Reply.Text != res.Text || sent.Reply.Channel != res.Channel || !reflect.DeepEqual(sent.Warnings, res.Warnings) {
					t.Errorf("sent %+v, warnings %+v; lint said %+v", sent.Reply, sent.Warnings, res)
				}
				return
			}
			er := wantError(t, r, http.StatusUnprocessableEntity, "lint_failed")
			if want := slices.Compact(ruleNames(res.Errors)); !slices.Equal(er.Error.Rules, want) {
				t.Errorf("the send broke rules %v, the lint %v", er.Error.Rules, want)
			}
			if want := slices.Concat(res.Errors, res.Warnings); !reflect.DeepEqual(er.Error.Issues, want) {
				t.Errorf("the send's issues %+v, the lint's %+v", er.Error.Issues, want)
			}
		})
	}
}

// TestLintKeepsNothing: linting stores no draft, queues nothing and audits
// nothing, so the draft id linted is afterwards sent as a new reply.
func TestLintKeepsNothing(t *testing.T) {
	e := seeded(t)
	body := map[string]string{"draft_id": "d-1", "text": "Hi Cam, on it."}
	e.linted(t, tokenAna, caseCamDM, body)
	// Another text under the same draft id is no conflict: lints have no drafts.
	e.linted(t, tokenAna, caseCamDM, map[string]string{"draft_id": "d-1", "text": "Hi Cam, we're on it."})
	if q := e.outbox.queued(); len(q) != 0 {
		t.Fatalf("linting queued %+v", q)
	}
	if _, err := e.store.GetDraft(t.Context(), caseCamDM, "d-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("draft after linting: %v, want not found", err)
	}
	if logs := e.logs.String(); strings.Contains(logs, "reply queued") {
		t.Errorf("linting audited a reply: %s", logs)
	}

	sent := e.replied(t, tokenAna, caseCamDM, body)
	if sent.Duplicate || sent.Reply.TriggerID != "d-1" || sent.Reply.Text != "Hi Cam, on it. ^Ana" {
		t.Errorf("send after linting %+v", sent)
	}
	// Linting after the send changes nothing either.
	e.linted(t, tokenAna, caseCamDM, map[string]string{"draft_id": "d-1", "text": "Something else."})
	if again := e.replied(t, tokenAna, caseCamDM, body); !again.Duplicate {
		t.Errorf("the draft sent again is not a duplicate: %+v", again)
	}
	if q := e.outbox.queued(); len(q) != 1 {
		t.Errorf("%d requests queued, want 1", len(q))
	}
}

// TestLintBadRequests: the lint route refuses what the reply route refuses, with
// the same status and code.
func TestLintBadRequests(t *testing.T) {
	e := seeded(t)
	tests := []struct {
		name   string
		caseID string
		body   any // a map[string]string is also sent to the reply route, with a draft id
		status int
		code   string
	}{
		{"no text", caseBenPublic, map[string]string{}, 400, "bad_text"},
		{"no body", caseBenPublic, nil, 400, "bad_text"},
		{"blank text", caseBenPublic, map[string]string{"text": " \n"}, 400, "bad_text"},
		{"text too long", caseBenPublic, map[string]string{"text": strings.Repeat("x", care.MaxDMLength+1)}, 400, "bad_text"},
		{"unknown channel", caseBenPublic, map[string]string{"text": "Hi", "channel": "email"}, 400, "bad_channel"},
		{"reply_to not an id", caseBenPublic, map[string]string{"text": "Hi", "reply_to": "abc"}, 400, "bad_reply_to"},
		{"reply_to of another case", caseBenPublic, map[string]string{"text": "Hi", "reply_to": "1800000000000000101"}, 400, "bad_reply_to"},
		{"reply_to on a DM", caseBenPublic, map[string]string{"text": "Hi", "channel": "dm", "reply_to": "1800000000000000201"}, 400, "bad_reply_to"},
		{"public reply on a DM case", caseCamDM, map[string]string{"text": "Hi", "channel": "public"}, 400, "bad_reply_to"},
		{"bad language", caseBenPublic, map[string]string{"text": "Hi", "lang": "Spanish"}, 400, "bad_lang"},
		{"unknown field", caseBenPublic, map[string]string{"text": "Hi", "signature": "^X"}, 400, "bad_json"},
		{"not JSON", caseBenPublic, `{"text":`, 400, "bad_json"},
		{"a number for text", caseBenPublic, `{"text":1}`, 400, "bad_json"},
		{"unknown case", "t1", map[string]string{"text": "Hi"}, 404, "case_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+tt.caseID+"/lint", tt.body), tt.status, tt.code)
			if body, isMap := tt.body.(map[string]string); isMap {
				wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+tt.caseID+"/replies", withDraft(body, "d")), tt.status, tt.code)
			}
		})
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Errorf("refused requests queued %+v", q)
	}
}

// TestLintHeldCase: an agent may lint a reply to a case another agent holds (the
// send is refused).
func TestLintHeldCase(t *testing.T) {
	e := seeded(t)
	ok(t, e.as(t, tokenBeto, http.MethodPost, "/v1/cases/"+caseAnaPublic+"/claim", nil), http.StatusOK, nil)
	body := map[string]string{"draft_id": "d-held", "text": "Hi Ana, which flight?"}

	res := e.linted(t, tokenAna, caseAnaPublic, body)
	if !res.OK || res.Text != "Hi Ana, which flight? ^Ana" || res.Channel != care.Public {
		t.Errorf("Ana's lint of Beto's case %+v", res)
	}
	wantError(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseAnaPublic+"/replies", body), http.StatusConflict, "case_assigned")

	// The holder's lint is signed with the holder's name.
	if res := e.linted(t, tokenBeto, caseAnaPublic, body); !res.OK || res.Text != "Hi Ana, which flight? ^Beto" {
		t.Errorf("Beto's lint %+v", res)
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Errorf("queued %+v", q)
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// shorten keeps long texts out of failure messages.
func shorten(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:40]) + "…" + string(r[len(r)-20:])
	}
	return s
}

// TestLintExample checks that the OpenAPI document's example of LintResult is what
// the route answers.
func TestLintExample(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				LintResult struct {
					Example agentapi.LintResult `json:"example"`
				} `json:"LintResult"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(agentapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	want := doc.Components.Schemas.LintResult.Example
	e := seeded(t)
	e.complaint(t, caseBenPublic)
	got := e.linted(t, tokenAna, caseBenPublic, map[string]string{"text": strings.TrimSuffix(want.Text, " ^Ana")})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the route answers %+v; the example is %+v", got, want)
	}
}

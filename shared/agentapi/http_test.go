package agentapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
)

// bodyRoutes are the routes that read a body, with a valid body each.
var bodyRoutes = []struct {
	method, path string
	valid        string
}{
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/claim", `{}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/assign", `{"agent_id":"local"}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/unassign", `{}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/replies", `{"draft_id":"d1","text":"Hi Ben"}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/lint", `{"text":"Hi Ben"}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/notes", `{"text":"note"}`},
	{http.MethodPut, "/v1/cases/" + caseBenPublic + "/labels", `{"intent":"question"}`},
	{http.MethodPut, "/v1/cases/" + caseBenPublic + "/triage", `{"priority":600}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/resolve", `{}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/reopen", `{}`},
	{http.MethodPut, "/v1/agents/me", `{"display_name":"Local"}`},
	{http.MethodPut, "/v1/crisis/delays", `{"active":false}`},
	{http.MethodPost, "/v1/crisis/delays/statement", `{"draft_id":"s1","text":"We're sorry: boarding is delayed."}`},
	{http.MethodPut, "/v1/crisis/delays/followup", `{"texts":{"en":"We're sorry again, {first_name}: {topic} are back to normal. {signature}"}}`},
	{http.MethodPost, "/v1/quarantine/retry", `{"all":true}`},
	{http.MethodPost, "/v1/dlq/redrive", `{"queue":"all"}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/approvals/d-none/approve", `{}`},
	{http.MethodPost, "/v1/cases/" + caseBenPublic + "/approvals/d-none/reject", `{"reason":"no"}`},
}

// TestBodyRoutesAreTheTable checks bodyRoutes covers every route that is not a GET.
func TestBodyRoutesAreTheTable(t *testing.T) {
	var want, got []string
	for _, rt := range agentapi.Routes() {
		if rt.Method != http.MethodGet {
			want = append(want, rt.Method+" "+concrete(rt.Path))
		}
	}
	for _, b := range bodyRoutes {
		got = append(got, b.method+" "+strings.Replace(b.path, caseBenPublic, caseAnaPublic, 1))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("bodyRoutes %v, want %v", got, want)
	}
}

func TestBadBodies(t *testing.T) {
	e := seeded(t)
	big := `{"text":"` + strings.Repeat("a", agentapi.MaxBodyBytes) + `"}`
	bodies := []struct {
		name        string
		body        func(valid string) string
		contentType string
		status      int
		code        string
	}{
		{"unknown field", func(v string) string { return strings.TrimSuffix(v, "}") + sep(v) + `"colour":"blue"}` }, "application/json", 400, "bad_json"},
		{"not JSON", func(string) string { return `{"text":` }, "application/json", 400, "bad_json"},
		{"an array", func(string) string { return `[1,2]` }, "application/json", 400, "bad_json"},
		{"two values", func(v string) string { return v + v }, "application/json", 400, "bad_json"},
		{"oversized", func(string) string { return big }, "application/json", 413, "too_large"},
		{"text/plain", func(v string) string { return v }, "text/plain", 415, "unsupported_media_type"},
		{"no content type", func(v string) string { return v }, "", 415, "unsupported_media_type"},
	}
	for _, rt := range bodyRoutes {
		for _, b := range bodies {
			t.Run(rt.method+" "+rt.path+" "+b.name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(t.Context(), rt.method, e.base+rt.path, strings.NewReader(b.body(rt.valid)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				if b.contentType != "" {
					req.Header.Set("Content-Type", b.contentType)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				r := response{status: res.StatusCode, header: res.Header}
				r.body = readAll(t, res)
				er := wantError(t, r, b.status, b.code)
				if b.name == "unknown field" && !strings.Contains(er.Error.Message, "colour") {
					t.Errorf("message %q does not name the field", er.Error.Message)
				}
			})
		}
	}
	// Nothing was changed by the refused requests.
	c, _, err := e.store.GetCase(t.Context(), caseBenPublic)
	if err != nil || c.Assignee != "" || c.Status != "open" || c.Priority != 900 || c.Intent != "" {
		t.Errorf("case after refused requests: %+v, %v", c, err)
	}
	if n, _ := e.store.ListNotes(t.Context(), caseBenPublic); len(n) != 0 {
		t.Errorf("notes after refused requests: %+v", n)
	}
	if q := e.outbox.queued(); len(q) != 0 {
		t.Errorf("queued after refused requests: %+v", q)
	}
	// The same routes accept the valid bodies (with a charset too).
	for _, rt := range bodyRoutes {
		req, _ := http.NewRequestWithContext(t.Context(), rt.method, e.base+rt.path, strings.NewReader(rt.valid))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// The approval routes read the body before they look for the reply:
		// their 404 (no such reply) is a body taken; so is the crisis
		// routes' 409 (no crisis is open, or was).
		taken := res.StatusCode < 400 || strings.Contains(rt.path, "/approvals/") && res.StatusCode == http.StatusNotFound ||
			(strings.HasSuffix(rt.path, "/statement") || strings.HasSuffix(rt.path, "/followup")) && res.StatusCode == http.StatusConflict
		if !taken {
			t.Errorf("%s %s with a valid body: %d", rt.method, rt.path, res.StatusCode)
		}
	}
}

func sep(v string) string {
	if v == "{}" {
		return ""
	}
	return ","
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := seeded(t)
	for _, p := range []string{"/v1/nope", "/v1/cases/", "/v1/cases/" + caseAnaPublic + "/messages", "/v1/agents/someone", "/v1/"} {
		wantError(t, e.get(t, p), http.StatusNotFound, "not_found")
	}
	tests := []struct {
		method, path string
		allow        []string
	}{
		{http.MethodPost, "/v1/cases", []string{"GET", "HEAD"}},
		{http.MethodDelete, "/v1/cases/" + caseAnaPublic, []string{"GET", "HEAD"}},
		{http.MethodGet, "/v1/cases/" + caseAnaPublic + "/claim", []string{"POST"}},
		{http.MethodPost, "/v1/cases/" + caseAnaPublic + "/labels", []string{"PUT"}},
		{http.MethodPost, "/v1/customers/" + ana + "/cases", []string{"GET", "HEAD"}},
		{http.MethodPatch, "/v1/agents/me", []string{"GET", "HEAD", "PUT"}},
		{http.MethodPost, "/v1/crisis", []string{"GET", "HEAD"}},
		{http.MethodGet, "/v1/crisis/delays", []string{"PUT"}},
		{http.MethodDelete, "/v1/quarantine", []string{"GET", "HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.as(t, token, tt.method, tt.path, nil)
			wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			got := strings.Split(r.header.Get("Allow"), ", ")
			slices.Sort(got)
			if !slices.Equal(got, tt.allow) {
				t.Errorf("Allow %v, want %v", got, tt.allow)
			}
		})
	}
	// HEAD is served where GET is.
	if r := e.as(t, token, http.MethodHead, "/v1/cases", nil); r.status != http.StatusOK {
		t.Errorf("HEAD /v1/cases: %d", r.status)
	}
}

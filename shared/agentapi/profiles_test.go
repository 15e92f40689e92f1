package agentapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
)

func TestAgentProfiles(t *testing.T) {
	e := seeded(t)
	// The first request creates the profile from the credential.
	var me agentapi.Me
	ok(t, e.as(t, tokenAna, http.MethodGet, "/v1/agents/me", nil), http.StatusOK, &me)
	if me.Agent.ID != agentAna.ID || me.Agent.DisplayName != agentAna.Name || me.SignsAs != "^Ana" || !me.Agent.CreatedAt.Equal(clock()) {
		t.Errorf("me %+v signs as %q", me.Agent, me.SignsAs)
	}
	ok(t, e.as(t, tokenBeto, http.MethodGet, "/v1/cases", nil), http.StatusOK, nil)

	me = agentapi.Me{}
	ok(t, e.as(t, tokenAna, http.MethodPut, "/v1/agents/me", map[string]any{
		"display_name": "  Ana M.  ", "signature": "^Anita", "languages": []string{"es", "en"}, "department": "billing",
	}), http.StatusOK, &me)
	p := me.Agent
	if p.DisplayName != "Ana M." || p.Signature != "^Anita" || !slices.Equal(p.Languages, []string{"es", "en"}) || p.Department != "billing" || me.SignsAs != "^Anita" {
		t.Errorf("after PUT: %+v signs as %q", p, me.SignsAs)
	}
	// The profile, not the credential, names the agent from now on.
	var res agentapi.CaseResult
	ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseBenPublic+"/claim", nil), http.StatusOK, &res)
	if res.Case.AssigneeName != "Ana M." {
		t.Errorf("assignee name %q", res.Case.AssigneeName)
	}

	var list agentapi.AgentList
	ok(t, e.as(t, tokenBeto, http.MethodGet, "/v1/agents", nil), http.StatusOK, &list)
	var names []string
	for _, a := range list.Agents {
		names = append(names, a.ID+"="+a.DisplayName)
	}
	if want := []string{"agent-ana=Ana M.", "agent-beto=Beto"}; !slices.Equal(names, want) {
		t.Errorf("agents %v, want %v", names, want)
	}

	// PUT replaces the profile: fields left out are cleared.
	me = agentapi.Me{}
	ok(t, e.as(t, tokenAna, http.MethodPut, "/v1/agents/me", map[string]any{"display_name": "Ana Martínez"}), http.StatusOK, &me)
	if me.Agent.Signature != "" || me.Agent.Languages != nil || me.Agent.Department != "" || me.SignsAs != "^Ana" {
		t.Errorf("after a bare PUT: %+v signs as %q", me.Agent, me.SignsAs)
	}

	bad := []struct {
		name string
		body map[string]any
		code string
	}{
		{"no display name", map[string]any{"signature": "^Ana"}, "bad_display_name"},
		{"blank display name", map[string]any{"display_name": "   "}, "bad_display_name"},
		{"long display name", map[string]any{"display_name": strings.Repeat("A", agentapi.MaxDisplayName+1)}, "bad_display_name"},
		{"control character", map[string]any{"display_name": "Ana\x07"}, "bad_display_name"},
		{"signature of another form", map[string]any{"display_name": "Ana", "signature": "-- Ana"}, "bad_signature"},
		{"signature with a full name", map[string]any{"display_name": "Ana", "signature": "^Ana Martínez"}, "bad_signature"},
		{"unknown department", map[string]any{"display_name": "Ana", "department": "refunds"}, "bad_department"},
		{"bad language", map[string]any{"display_name": "Ana", "languages": []string{"Spanish"}}, "bad_languages"},
		{"language twice", map[string]any{"display_name": "Ana", "languages": []string{"es", "es"}}, "bad_languages"},
		{"languages not a list", map[string]any{"display_name": "Ana", "languages": "es"}, "bad_json"},
		{"id is not editable", map[string]any{"display_name": "Ana", "id": "agent-beto"}, "bad_json"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			er := wantError(t, e.as(t, tokenAna, http.MethodPut, "/v1/agents/me", b.body), http.StatusBadRequest, b.code)
			if b.code == "bad_signature" && !strings.Contains(er.Error.Message, "^{agent}") {
				t.Errorf("message %q does not show the protocol's form", er.Error.Message)
			}
		})
	}
	stored, err := e.store.GetAgent(t.Context(), agentAna.ID)
	if err != nil || stored.DisplayName != "Ana Martínez" {
		t.Errorf("profile after refused PUTs: %+v, %v", stored, err)
	}
}

func TestCrisis(t *testing.T) {
	e := seeded(t)
	var list agentapi.CrisisList
	ok(t, e.get(t, "/v1/crisis"), http.StatusOK, &list)
	if len(list.Crises) != 2 || list.Crises[0].Topic != "delays" || list.Crises[1].Topic != "baggage" || list.Crises[0].Active || list.Crises[1].Active {
		t.Fatalf("crises %+v", list.Crises)
	}

	steps := []struct {
		active, changed, want bool
	}{
		{active: true, changed: true, want: true},
		{active: true, changed: false, want: true}, // open already
		{active: false, changed: true, want: false},
		{active: false, changed: false, want: false},
	}
	for _, st := range steps {
		var res agentapi.CrisisResult
		ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]bool{"active": st.active}), http.StatusOK, &res)
		c := res.Crisis
		if res.Changed != st.changed || c.Topic != "delays" || c.Active != st.want {
			t.Fatalf("active %v: %+v", st.active, res)
		}
		if st.want && (!c.Manual || c.OpenedBy != agentSuper.ID || !c.Since.Equal(clock())) {
			t.Errorf("opened by hand: %+v", c)
		}
		if !st.want && st.changed && (c.ClosedBy != agentSuper.ID || !c.QuietUntil.After(clock())) {
			t.Errorf("closed by hand: %+v", c)
		}
	}
	ok(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/baggage", map[string]bool{"active": true}), http.StatusOK, nil)
	list = agentapi.CrisisList{}
	ok(t, e.get(t, "/v1/crisis"), http.StatusOK, &list)
	if !list.Crises[1].Active || list.Crises[0].Active {
		t.Errorf("crises %+v", list.Crises)
	}
	wantError(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/volcano", map[string]bool{"active": true}), http.StatusNotFound, "unknown_topic")
	wantError(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]any{}), http.StatusBadRequest, "bad_active")
	wantError(t, e.as(t, tokenSuper, http.MethodPut, "/v1/crisis/delays", map[string]any{"active": "yes"}), http.StatusBadRequest, "bad_json")
}

func TestTemplates(t *testing.T) {
	e := seeded(t)
	var all agentapi.TemplateList
	ok(t, e.get(t, "/v1/templates"), http.StatusOK, &all)
	if len(all.Templates) != len(e.engine.Templates()) || len(all.Templates) == 0 || !slices.Contains(all.Placeholders, "{first_name}") {
		t.Fatalf("%d templates (engine has %d), placeholders %v", len(all.Templates), len(e.engine.Templates()), all.Placeholders)
	}
	tests := []struct {
		query string
		keep  func(kind, lang string) bool
	}{
		{"kind=complaint", func(k, _ string) bool { return k == "complaint" }},
		{"lang=es", func(_, l string) bool { return l == "es" }},
		{"kind=praise&lang=en", func(k, l string) bool { return k == "praise" && l == "en" }},
		{"kind=nothing", func(string, string) bool { return false }},
	}
	for _, tt := range tests {
		var got agentapi.TemplateList
		ok(t, e.get(t, "/v1/templates?"+tt.query), http.StatusOK, &got)
		want := 0
		for _, x := range all.Templates {
			if tt.keep(x.Kind, x.Lang) {
				want++
			}
		}
		if len(got.Templates) != want {
			t.Errorf("%s: %d templates, want %d", tt.query, len(got.Templates), want)
		}
		for _, x := range got.Templates {
			if !tt.keep(x.Kind, x.Lang) {
				t.Errorf("%s: template %s", tt.query, x.ID)
			}
		}
	}
	wantError(t, e.get(t, "/v1/templates?tone=apology"), http.StatusBadRequest, "bad_query")
}
